//! The OpenAPI document: every path and schema, listed in one place. `helhed openapi` prints
//! it; `openapi/openapi.json` in the repository is its committed output.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Helhed",
        description = "Holistic, cross-departmental case handling (helhedsorienteret og tværgående sagsbehandling) \
for citizens with complex problems: referral, screening, one committee per age track, one plan per citizen, \
one coordinating caseworker and one budget frame. Every call under /api/v1 needs a bearer token from a \
trusted departmental issuer; errors are RFC 9457 problem details with a stable `code`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        version = "1.0.0"
    ),
    paths(
        api::citizens::register, api::citizens::get,
        api::cases::refer, api::cases::list, api::cases::get, api::cases::edit, api::cases::screen, api::cases::history,
        api::cases::participation, api::cases::close,
        api::plans::current, api::plans::versions, api::plans::version, api::plans::add_intervention,
        api::plans::change_intervention,
        api::meetings::create, api::meetings::list, api::meetings::get, api::meetings::add_to_agenda,
        api::meetings::decide, api::meetings::minutes,
        api::follow_ups::list,
        api::budget::get, api::budget::spend, api::budget::reverse,
        api::events::list,
        api::stats::flow,
        api::offers::list, api::offers::get, api::offers::create, api::offers::update,
        api::subscriptions::create, api::subscriptions::list, api::subscriptions::remove,
        api::committees::list, api::committees::create, api::committees::get, api::committees::update,
        api::committees::set_members,
        api::audit::list,
        api::ops::live, api::ops::ready, api::ops::metrics,
    ),
    components(schemas(crate::error::Problem, crate::domain::FieldError)),
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "citizens", description = "Citizens, registered by CPR number"),
        (name = "cases", description = "Referrals, screening and cases"),
        (name = "committees", description = "The coordination and referral committees"),
        (name = "meetings", description = "Committee meetings: agenda, decisions, minutes, follow-ups"),
        (name = "plans", description = "Plans and the coordinator's amendments"),
        (name = "budget", description = "The coordinator's budget frame and its ledger"),
        (name = "offers", description = "The catalog of offers plans can point to"),
        (name = "statistics", description = "Flow statistics: is the committee a bottleneck?"),
        (name = "integration", description = "The event feed for departmental systems"),
        (name = "audit", description = "The audit log (auditor only)"),
        (name = "operations", description = "Health and metrics, without authentication"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A token from a trusted departmental issuer; `helhed token` mints one."))
                    .build(),
            ),
        );
    }
}

/// Errors are `application/problem+json`, and every call under `/api/v1` may be answered 401,
/// 403, 422 or 503 — with a path id also 404, with a body also 400, 413 and 415: the document
/// says so for every operation.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, response) in responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    if status.starts_with('4') || status.starts_with('5') {
                        if let Some(json) = response.content.shift_remove("application/json") {
                            response.content.insert("application/problem+json".to_string(), json);
                        }
                    }
                }
                if !path.starts_with("/api/v1/") {
                    continue;
                }
                let mut general = vec![
                    ("401", "No valid bearer token"),
                    ("403", "The caller's role does not allow this operation"),
                    ("422", "validation_failed: a parameter or the body breaks a rule (see errors)"),
                    ("503", "The database is unreachable; retry after Retry-After seconds"),
                ];
                if path.contains('{') {
                    general.push(("404", "No such resource, or the caller does not take part in it"));
                }
                if operation.request_body.is_some() {
                    general.push(("400", "malformed_json: the body is not JSON"));
                    general.push(("413", "payload_too_large: the body is over 256 KiB"));
                    general.push(("415", "unsupported_media_type: the body is not application/json"));
                }
                for (status, description) in general {
                    responses.entry(status.into()).or_insert_with(|| problem(description));
                }
            }
        }
    }
}

/// The document as the committed `openapi/openapi.json` holds it.
pub fn document() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

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
    modifiers(&BearerAuth),
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

/// The document as the committed `openapi/openapi.json` holds it.
pub fn document() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

//! The OpenAPI document: every path and schema, listed in one place. `helhed openapi` prints
//! it; `openapi/openapi.json` in the repository is its committed output.

use std::sync::LazyLock;

use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::api::kit::contract::{refs, DATE_PATTERN, DATE_TIME_PATTERN, NOT_BLANK_PATTERN, NO_NUL_PATTERN};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Helhed",
        description = "Holistic, cross-departmental case handling (helhedsorienteret og tværgående sagsbehandling) \
for citizens with complex problems: referral, screening, one committee per age track, one plan per citizen, \
one coordinating caseworker and one budget frame. Every call under /api/v1 needs a bearer token from a \
trusted departmental issuer; errors are RFC 9457 problem details with a stable `code`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        contact(name = "Helhed, Norddjurs Kommune"),
        version = "1.0.0"
    ),
    paths(
        api::citizens::register, api::citizens::get, api::citizens::export,
        api::cases::referral::refer, api::cases::reading::list, api::cases::reading::get, api::cases::referral::edit,
        api::cases::screening::screen, api::cases::reading::history, api::cases::participation::participation,
        api::cases::closure::close,
        api::consents::give, api::consents::list, api::consents::withdraw,
        api::plans::current, api::plans::versions, api::plans::version, api::plans::add_intervention,
        api::plans::change_intervention,
        api::meetings::schedule::create, api::meetings::schedule::list, api::meetings::schedule::get,
        api::meetings::agenda::add_to_agenda, api::meetings::decisions::decide, api::meetings::minutes::minutes,
        api::follow_ups::list,
        api::transitions::list,
        api::tasks::list,
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
        (name = "consents", description = "The citizen's consent to the plan and to sharing data between departments"),
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

/// The document as the committed `openapi/openapi.json` holds it and `/openapi.json` serves it:
/// utoipa's output, finished by [`finish`]. Built once.
pub fn document_value() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
        finish(&mut doc);
        doc
    });
    &DOCUMENT
}

/// The document as the committed `openapi/openapi.json` holds it and `/openapi.json` serves it.
/// Keys are sorted, except that where a response or request offers several media types,
/// `application/json` comes first: a client generator that reads one JSON answer per status
/// (openapi-python-client among them) takes the first it finds, and an API's JSON is what a
/// generated client is for (the plan's FHIR bundle sorts before it otherwise).
pub fn document() -> String {
    static TEXT: LazyLock<String> = LazyLock::new(|| {
        let mut json =
            serde_json::to_string_pretty(&JsonFirst(document_value())).expect("the OpenAPI document serialises");
        json.push('\n');
        json
    });
    TEXT.clone()
}

/// A JSON value serialised with `application/json` first among the keys of every map.
struct JsonFirst<'a>(&'a Value);

impl serde::Serialize for JsonFirst<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                let first = map.get_key_value("application/json");
                for (key, value) in first.into_iter().chain(map.iter().filter(|(k, _)| *k != "application/json")) {
                    out.serialize_entry(key, &JsonFirst(value))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&JsonFirst(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// Response fields that are left out when they have no value (`skip_serializing_if`); every
/// other field of a response-only schema is always sent, and so `required`.
const SOMETIMES_SENT: &[(&str, &str)] = &[
    ("Problem", "detail"),
    ("Problem", "errors"),
    ("Problem", "remaining_ore"),
    ("SubscriptionView", "secret"),
    ("AuditPage", "consultations"),
];

/// What utoipa's derive cannot say, said once for the whole document:
/// - every response has a description, and every response declares the headers the service
///   sends with it: `X-Request-Id` always, `Retry-After` with a 503, `Idempotent-Replayed` with
///   the success of an operation that takes an `Idempotency-Key`, `ETag` and `Location` as shared
///   header components;
/// - optional header parameters are plain strings (not nullable), with their formats, and every
///   operation takes a W3C `traceparent` (ignored when invalid, so not refused by a pattern);
/// - every date and date-time carries the bounds the service enforces (1900–9999) as a pattern;
/// - a list page refers to its item schema instead of copying it;
/// - a field a response always sends is `required`;
/// - a PATCH body names at least one field, and none as `null`;
/// - a cursor is never empty.
fn finish(doc: &mut Value) {
    doc["servers"] = json!([{"url": "/", "description": "This service"}]);
    let components = doc["components"].as_object_mut().expect("components");
    components.insert(
        "headers".into(),
        json!({
            "X-Request-Id": {
                "description": "The request's id: the caller's own when it was 1–64 characters of [A-Za-z0-9._-] holding nothing CPR-shaped, otherwise a new one. Quote it when reporting a problem.",
                "required": true,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}
            },
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "required": true,
                "schema": {"type": "integer", "minimum": 1}
            },
            "Idempotent-Replayed": {
                "description": "Present (`true`) when the answer repeats the first answer to this Idempotency-Key.",
                "schema": {"type": "string", "enum": ["true"]}
            },
            "ETag": {
                "description": "The resource's version; send it as If-Match to change it.",
                "required": true,
                "schema": {"type": "string"}
            },
            "Location": {
                "description": "Where the created resource is read.",
                "required": true,
                "schema": {"type": "string", "format": "uri-reference"}
            }
        }),
    );
    let header = |name: &str| json!({"$ref": format!("#/components/headers/{name}")});

    let mut patch_bodies = Vec::new();
    for (path, item) in doc["paths"].as_object_mut().expect("paths") {
        for (method, op) in item.as_object_mut().expect("a path item") {
            let Some(op) = op.as_object_mut() else { continue };
            let params = op.entry("parameters").or_insert_with(|| json!([]));
            params.as_array_mut().expect("parameters").push(traceparent());
            let mut keyed = false;
            for param in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                let name = param["name"].as_str().unwrap_or_default().to_string();
                if param["in"] == "header" {
                    strip_null(&mut param["schema"]);
                }
                match name.as_str() {
                    "Idempotency-Key" => {
                        keyed = true;
                        param["schema"] = json!({"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN});
                    }
                    "cursor" | "after" => param["schema"]["minLength"] = json!(1),
                    _ => {}
                }
            }
            if method == "patch" {
                if let Some(name) = op
                    .get("requestBody")
                    .and_then(|b| b["content"]["application/json"]["schema"]["$ref"].as_str())
                    .and_then(|r| r.rsplit('/').next())
                {
                    patch_bodies.push(name.to_string());
                }
            }
            let creates_at = creates_at(path);
            for (status, response) in op["responses"].as_object_mut().expect("responses") {
                let response = response.as_object_mut().expect("a response");
                if !response.contains_key("description") {
                    response.insert("description".into(), json!(describe_status(status)));
                }
                let headers = response.entry("headers").or_insert_with(|| json!({}));
                let headers = headers.as_object_mut().expect("headers");
                headers.insert("X-Request-Id".into(), header("X-Request-Id"));
                if status == "503" {
                    headers.insert("Retry-After".into(), header("Retry-After"));
                }
                if headers.contains_key("ETag") {
                    headers.insert("ETag".into(), header("ETag"));
                }
                if keyed && status.starts_with('2') {
                    headers.insert("Idempotent-Replayed".into(), header("Idempotent-Replayed"));
                }
                if status == "201" && method == "post" && creates_at.is_some() {
                    headers.insert("Location".into(), header("Location"));
                }
            }
        }
    }

    // A body that is a bare list has no struct to carry its bound (`MembersRequest`: 50 seats).
    if let Some(seats) =
        doc.pointer_mut("/paths/~1api~1v1~1committees~1{id}~1members/put/requestBody/content/application~1json/schema")
    {
        seats["maxItems"] = json!(50);
    }
    let schemas = doc["components"]["schemas"].as_object_mut().expect("schemas");
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in &names {
        if let Some(item) = name.strip_prefix("Page_") {
            if schemas.contains_key(item) {
                schemas[name]["properties"]["items"]["items"] = json!({"$ref": format!("#/components/schemas/{item}")});
            }
        }
    }
    for name in patch_bodies {
        let schema = &mut schemas[&name];
        schema["minProperties"] = json!(1);
        for property in schema["properties"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
            strip_null(property);
        }
    }
    let request_only = reachable(doc);
    let schemas = doc["components"]["schemas"].as_object_mut().expect("schemas");
    for (name, schema) in schemas.iter_mut() {
        if request_only.contains(name) || !schema["properties"].is_object() {
            continue;
        }
        let required: Vec<Value> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .filter(|field| !SOMETIMES_SENT.contains(&(name.as_str(), field.as_str())))
            .map(|field| json!(field))
            .collect();
        schema["required"] = Value::Array(required);
    }
    schemas["Problem"]["properties"]["code"]["enum"] = json!(crate::error::CODES);
    for name in &request_only_or_shared(doc) {
        text_without_nul(&mut doc["components"]["schemas"][name]);
    }
    for item in doc["paths"].as_object_mut().expect("paths").values_mut() {
        for op in item.as_object_mut().expect("a path item").values_mut() {
            for param in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                text_without_nul(&mut param["schema"]);
            }
            if let Some(body) = op.pointer_mut("/requestBody/content/application~1json/schema") {
                text_without_nul(body);
            }
        }
    }
    bound_dates(doc);
    // An operation's description is its summary when its doc comment has only one paragraph.
    for item in doc["paths"].as_object_mut().expect("paths").values_mut() {
        for op in item.as_object_mut().expect("a path item").values_mut() {
            if op.get("description").is_none() {
                if let Some(summary) = op.get("summary").cloned() {
                    op["description"] = summary;
                }
            }
        }
    }
}

/// The `traceparent` header every operation takes (W3C Trace Context). An invalid one is
/// ignored, not refused, as the Recommendation asks: no pattern holds it back.
fn traceparent() -> Value {
    json!({
        "name": "traceparent",
        "in": "header",
        "required": false,
        "description": "W3C Trace Context: `00-<32 lowercase hex trace id>-<16 lowercase hex parent id>-<2 hex flags>`. Its trace id goes on the request's log line and with every event the request writes, and each webhook delivery of such an event carries it on (`traceparent: 00-<trace id>-<new span id>-<the sampled flag as received>`). Without a valid one (or with one whose trace id holds a CPR number) Helhed starts a new, sampled trace.",
        "schema": {"type": "string"}
    })
}

/// The schemas a request body or parameter can reach (those a client sends), by name.
fn reachable(doc: &Value) -> std::collections::HashSet<String> {
    let mut todo = Vec::new();
    for item in doc["paths"].as_object().into_iter().flat_map(|p| p.values()) {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&op["requestBody"], &mut todo);
            refs(&op["parameters"], &mut todo);
        }
    }
    let mut seen = std::collections::HashSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            refs(&doc["components"]["schemas"][&name], &mut todo);
        }
    }
    seen
}

/// The schemas a client sends (alone or also in answers).
fn request_only_or_shared(doc: &Value) -> Vec<String> {
    let mut names: Vec<String> = reachable(doc).into_iter().collect();
    names.sort();
    names
}

/// Every plain text of a schema a client sends says that NUL is not text (`"\\S"`, not blank,
/// becomes not blank and no NUL). Stops at `$ref`: the schema named is walked on its own.
fn text_without_nul(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    let is_text = match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_text && !map.contains_key("format") && !map.contains_key("enum") {
        let pattern = match map.get("pattern").and_then(Value::as_str) {
            None => Some(NO_NUL_PATTERN),
            Some("\\S") => Some(NOT_BLANK_PATTERN),
            Some(_) => None,
        };
        if let Some(pattern) = pattern {
            map.insert("pattern".into(), json!(pattern));
        }
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" => value.as_object_mut().into_iter().flat_map(|p| p.values_mut()).for_each(text_without_nul),
            "items" | "additionalProperties" => text_without_nul(value),
            "oneOf" | "anyOf" | "allOf" => value.as_array_mut().into_iter().flatten().for_each(text_without_nul),
            _ => {}
        }
    }
}

/// Removes `null` from a schema's type (`["string", "null"]` → `"string"`, `oneOf [X, null]` → X).
fn strip_null(schema: &mut Value) {
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = if kept.len() == 1 { kept[0].clone() } else { Value::Array(kept) };
    }
    if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
        let kept: Vec<Value> = one_of.iter().filter(|s| s.get("type") != Some(&json!("null"))).cloned().collect();
        if kept.len() == 1 {
            let mut only = kept[0].clone();
            if let (Some(map), Some(description)) = (only.as_object_mut(), schema.get("description")) {
                map.entry("description").or_insert(description.clone());
            }
            *schema = only;
        }
    }
}

/// Every `format: date` and `format: date-time` gets the pattern of the years the service takes.
fn bound_dates(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let pattern = match map.get("format").and_then(Value::as_str) {
                Some("date") => Some(DATE_PATTERN),
                Some("date-time") => Some(DATE_TIME_PATTERN),
                _ => None,
            };
            if let Some(pattern) = pattern {
                map.insert("pattern".into(), json!(pattern));
            }
            map.values_mut().for_each(bound_dates);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_dates),
        _ => {}
    }
}

/// The resource a successful POST to `path` creates, when it can be read back by its id.
pub fn creates_at(path: &str) -> Option<&'static str> {
    match path {
        "/api/v1/citizens" => Some("/api/v1/citizens/"),
        "/api/v1/cases" => Some("/api/v1/cases/"),
        "/api/v1/committees" => Some("/api/v1/committees/"),
        "/api/v1/committees/{id}/meetings" => Some("/api/v1/meetings/"),
        "/api/v1/offers" => Some("/api/v1/offers/"),
        _ => None,
    }
}

fn describe_status(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "Done; no content",
        "400" => "malformed_json: the body is not JSON",
        "401" => "No valid bearer token",
        "403" => "forbidden: the caller's role does not allow this operation",
        "404" => "not_found: no such resource, or the caller does not take part in it",
        "405" => "method_not_allowed",
        "409" => "The resource's state does not allow this (see code)",
        "412" => "precondition_failed: If-Match does not match the current ETag",
        "413" => "payload_too_large: the body is over 256 KiB",
        "415" => "unsupported_media_type: the body is not application/json",
        "422" => "validation_failed (the request breaks this document), or a domain rule refused it (see code)",
        "503" => "service_unavailable: retry after Retry-After seconds",
        _ => "See the problem's code",
    }
}

#[cfg(test)]
mod contract_tests {
    //! The request contract as this document makes it (`crate::api::kit::contract`).
    use serde_json::json;

    use super::document_value;
    use crate::api::kit::contract::{install, Contract};
    use crate::error::AppError;

    fn contract() -> &'static Contract {
        install(document_value());
        crate::api::kit::contract::contract()
    }

    #[test]
    fn every_wrong_field_is_named_and_no_value_repeated() {
        let c = contract();
        let body = json!({
            "citizen_id": "0101901234",
            "problem_areas": ["flying"],
            "description": 7,
            "involved_caseworkers": [{"sub": "", "name": "x", "department": "nowhere"}],
            "exclusions": {"disability_pension": "0101901234"},
            "surprise": true
        });
        let Err(AppError::Validation(errors)) = c.check_body("POST", "/api/v1/cases", &body) else {
            panic!("the referral should be refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "citizen_id",
            "problem_areas[0]",
            "description",
            "involved_caseworkers[0].sub",
            "involved_caseworkers[0].department",
            "exclusions.disability_pension",
            "surprise",
        ] {
            assert!(fields.contains(&expected), "{expected} not in {fields:?}");
        }
        let text = format!("{errors:?}");
        assert!(!text.contains("0101901234"), "{text}");
    }

    #[test]
    fn dates_outside_1900_to_9999_are_refused_in_bodies_and_queries() {
        let c = contract();
        for on in ["-4714-01-01", "0001-01-01", "1899-12-31", "+10000-01-01", "2026-02-30"] {
            let body = json!({"on": on, "form": "phone"});
            assert!(c.check_body("POST", "/api/v1/cases/{id}/participation", &body).is_err(), "{on}");
        }
        assert!(c
            .check_body("POST", "/api/v1/cases/{id}/participation", &json!({"on": "1900-01-01", "form": "phone"}))
            .is_ok());
        assert!(c.check_query("GET", "/api/v1/cases", "follow_up_before=-4714-01-01").is_err());
        // Instants in UTC only: an offset could carry a written 9999 into the year 10000.
        let meeting = |at: &str| json!({"scheduled_at": at});
        let path = "/api/v1/committees/{id}/meetings";
        for at in ["9999-12-31T23:59:59-01:00", "1900-01-01T00:00:00+01:00", "2027-01-15T09:30:00"] {
            assert!(c.check_body("POST", path, &meeting(at)).is_err(), "{at}");
        }
        for at in ["2027-01-15T09:30:00Z", "2027-01-15T09:30:00.123456Z", "2027-01-15t09:30:00+00:00"] {
            assert!(c.check_body("POST", path, &meeting(at)).is_ok(), "{at}");
        }
        assert!(c.check_query("GET", "/api/v1/cases", "follow_up_before=2027-01-01&limit=5").is_ok());
        assert!(c.check_query("GET", "/api/v1/cases", "limit=0").is_err());
        assert!(matches!(
            c.check_query("GET", "/api/v1/cases", "limit=5&limit=6"),
            Err(AppError::UnexpectedParameter(_))
        ));
        let Err(AppError::UnexpectedParameter(errors)) = c.check_query("GET", "/api/v1/cases", "0101901234=x") else {
            panic!("an unknown parameter passed")
        };
        assert_eq!(errors[0].field, "query", "a name that could be a CPR number is not repeated");
    }

    #[test]
    fn nul_and_blank_text_is_refused_by_the_document() {
        let c = contract();
        let citizen = |name: &str| json!({"cpr": "0101901234", "name": name});
        assert!(c.check_body("POST", "/api/v1/citizens", &citizen("Anne Berg")).is_ok());
        assert!(c.check_body("POST", "/api/v1/citizens", &citizen("\u{feff}")).is_ok(), "not blank to trim()");
        for bad in ["a\u{0}b", "   ", "\t\n", "\u{85}", "\u{3000}\u{a0}"] {
            let Err(AppError::Validation(errors)) = c.check_body("POST", "/api/v1/citizens", &citizen(bad)) else {
                panic!("{bad:?} accepted")
            };
            assert_eq!(errors[0].field, "name");
        }
        assert!(c.check_query("GET", "/api/v1/offers", "category=a%00b").is_err());
        assert!(c.check_query("GET", "/api/v1/offers", "category=transport").is_ok());
    }
}

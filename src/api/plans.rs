//! Plans (*indsatsplan* / *ungeplan*): adopted by committee decisions in versions; between
//! meetings the current coordinator adds interventions and changes their status or end date,
//! as amendments of the current version.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::PgConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::kit;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::decision::ClosureReason;
use crate::domain::plan::{self, Intervention, InterventionStatus};
use crate::domain::{CaseStatus, Department, FieldError, Role};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::render;
use crate::store;
use crate::store::cases::CaseRow;
use crate::store::events::{self, EventType};
use crate::store::plans::NewAmendment;
use crate::views::plan::{check_offers, load, InterventionInput, PlanView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(web::resource("/cases/{id}/plan").route(web::get().to(current)).default_service(not_allowed("GET")));
    cfg.service(
        web::resource("/cases/{id}/plan/versions").route(web::get().to(versions)).default_service(not_allowed("GET")),
    );
    cfg.service(
        web::resource("/cases/{id}/plan/versions/{n}")
            .route(web::get().to(version))
            .default_service(not_allowed("GET")),
    );
    cfg.service(
        web::resource("/cases/{id}/plan/interventions")
            .route(web::post().to(add_intervention))
            .default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/cases/{id}/plan/interventions/{iid}")
            .route(web::patch().to(change_intervention))
            .default_service(not_allowed("PATCH")),
    );
}

/// An intervention the coordinator adds between meetings, and why. The fields repeat
/// `InterventionInput`'s because serde cannot combine `flatten` with `deny_unknown_fields`, and
/// unknown fields must be refused.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewIntervention {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub title: String,
    pub offer_id: Option<Uuid>,
    pub responsible_department: Department,
    pub start_on: Option<NaiveDate>,
    pub end_on: Option<NaiveDate>,
    /// Default `planned`.
    pub status: Option<InterventionStatus>,
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000i64)]
    pub cost_estimate_ore: Option<i64>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub external_ref: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

impl NewIntervention {
    fn into_parts(self) -> (Intervention, Option<String>) {
        let input = InterventionInput {
            id: None,
            title: self.title,
            offer_id: self.offer_id,
            responsible_department: self.responsible_department,
            start_on: self.start_on,
            end_on: self.end_on,
            status: self.status,
            cost_estimate_ore: self.cost_estimate_ore,
            external_ref: self.external_ref,
        };
        (input.into_intervention(), self.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()))
    }
}

/// The coordinator's minor adjustment of an intervention.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct InterventionChange {
    pub status: Option<InterventionStatus>,
    pub end_on: Option<NaiveDate>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

fn no_plan() -> AppError {
    AppError::NotFound
}

/// The most interventions a plan version holds, amendments included: as many as a decision may
/// adopt. Beyond it the committee revises the plan.
pub const MAX_INTERVENTIONS: usize = 100;
/// The most amendments of one version: the coordinator's adjustments between two meetings.
pub const MAX_AMENDMENTS: usize = 1000;

/// Whether the current version takes one more amendment (and, `adding`, one more intervention):
/// a plan every reader, the citizen's copy included, can still read at once.
fn check_room(conn: &mut PgConnection, case_id: Uuid, version: i32, adding: bool) -> Result<(), AppError> {
    let amendments = store::plans::amendments(conn, case_id, version)?.len();
    let full = |why: String| AppError::InconsistentRequest(vec![FieldError::new("plan", why)]);
    if amendments >= MAX_AMENDMENTS {
        return Err(full(format!(
            "version {version} holds {MAX_AMENDMENTS} amendments, the most it may: the committee revises the plan"
        )));
    }
    if adding {
        let plan = load(conn, case_id, version)?.ok_or_else(no_plan)?;
        if plan.interventions.len() >= MAX_INTERVENTIONS {
            return Err(full(format!(
                "the plan holds {MAX_INTERVENTIONS} interventions, the most a plan may: the committee revises the plan"
            )));
        }
    }
    Ok(())
}

/// Reads a case the caller sees (a recorded 404 otherwise) and audits the plan read.
fn read_case(conn: &mut PgConnection, p: &Principal, id: Uuid, resource: &'static str) -> Result<CaseRow, AppError> {
    let case = store::cases::find_visible(conn, p, id)?
        .ok_or_else(|| audit::deny(p, resource, id, audit::purpose_for(p, None)))?;
    let purpose = audit::purpose_for(p, CaseStatus::parse(&case.status));
    audit::record(conn, p, Entry::case(Action::Read, purpose, id, case.citizen_id, 200).resource(resource, id))?;
    Ok(case)
}

/// The media types the current plan is answered in, the default first.
const PLAN_MEDIA: [&str; 4] = ["application/json", "text/html", "application/pdf", "application/fhir+json"];

/// The current plan, with the coordinator's amendments: as JSON, as the citizen's own copy
/// (HTML or PDF), or as a FHIR R4 bundle, by the request's `Accept`.
#[utoipa::path(get, operation_id = "plans_current", path = "/api/v1/cases/{id}/plan", tag = "plans", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The current plan. With `Accept: text/html` or `Accept: application/pdf`: the \
            citizen's own copy (\"Din plan\"), in plain Danish, printable, with no external asset, audited as \
            `citizen_copy`. With `Accept: application/fhir+json`: a FHIR R4 `Bundle` (`type: collection`) with a \
            `CarePlan`, its `Goal`s, a `CareTeam`, the coordinator as a `Practitioner` and a `Patient` without CPR.",
            headers(("Vary" = String, description = "`Accept`: the answer depends on it")),
            content((PlanView = "application/json"), (String = "text/html"), (PdfFile = "application/pdf"),
                (FhirBundle = "application/fhir+json"))),
        (status = 404, description = "No such case, or no plan adopted yet", body = Problem),
        (status = 406, description = "`Accept` admits none of the plan's media types", body = Problem)),
    security(("bearer" = [])))]
pub async fn current(p: Principal, id: Id, req: HttpRequest, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let id = id.0;
    let media = kit::negotiate(&req, &PLAN_MEDIA)
        .ok_or(AppError::NotAcceptable("application/json, text/html, application/pdf or application/fhir+json"))?;
    let copy = matches!(media, "text/html" | "application/pdf");
    // A person who makes the citizen's copy makes it for the citizen; a departmental system that
    // fetches it does its own work, and the citizen's consultation report must say so.
    let for_the_citizen = copy && !p.has(Role::System);
    let answer = db
        .tx(move |conn| {
            let purpose = if for_the_citizen { Purpose::CitizenCopy } else { audit::purpose_for(&p, None) };
            audit::on_case(conn, &p, id, purpose, |conn| {
                access::require_case_role(&p)?;
                let case =
                    store::cases::find_visible(conn, &p, id)?.ok_or_else(|| audit::deny(&p, "plan", id, purpose))?;
                let status = crate::views::case::status_of(&case)?;
                let purpose = if for_the_citizen { purpose } else { audit::purpose_for(&p, Some(status)) };
                audit::record(
                    conn,
                    &p,
                    Entry::case(Action::Read, purpose, id, case.citizen_id, 200).resource("plan", id),
                )?;
                let latest = store::plans::latest_version(conn, id)?.ok_or_else(no_plan)?;
                let plan = load(conn, id, latest)?.ok_or_else(no_plan)?;
                if media == "application/json" {
                    return Ok(PlanAnswer::Json(plan));
                }
                let citizen = store::citizens::find(conn, case.citizen_id)?
                    .ok_or_else(|| AppError::Internal("case without citizen".into()))?;
                let coordinator = crate::views::case::coordinator(&case);
                if copy {
                    let copy = render::citizen_copy::CitizenCopy {
                        citizen_name: &citizen.name,
                        plan: &plan,
                        coordinator: coordinator.as_ref(),
                        follow_up_on: case.follow_up_on,
                        closed: status == CaseStatus::Closed,
                        printed_on: render::danish::today(),
                    };
                    return Ok(PlanAnswer::Copy(render::citizen_copy::document(&copy)));
                }
                let background_group = crate::views::case::background_group(conn, id)?;
                Ok(PlanAnswer::Fhir(render::fhir::bundle(&render::fhir::CarePlanBundle {
                    case_id: id,
                    status,
                    closure_reason: case.closure_reason.as_deref().and_then(ClosureReason::parse),
                    citizen_id: citizen.id,
                    citizen_name: &citizen.name,
                    plan: &plan,
                    coordinator: coordinator.as_ref(),
                    background_group: &background_group,
                    now: Utc::now(),
                })))
            })
        })
        .await?;
    let mut response = HttpResponse::Ok();
    // Personal data in every form: kept by no cache.
    response.insert_header((header::VARY, "Accept")).insert_header((header::CACHE_CONTROL, "no-store"));
    match answer {
        PlanAnswer::Json(plan) => Ok(response.json(plan)),
        PlanAnswer::Fhir(bundle) => Ok(response.content_type("application/fhir+json; fhirVersion=4.0").json(bundle)),
        PlanAnswer::Copy(document) => {
            // A page of personal data: shown by no other site.
            response
                .insert_header(("X-Content-Type-Options", "nosniff"))
                .insert_header(("Referrer-Policy", "no-referrer"));
            if media == "text/html" {
                Ok(response
                    .insert_header((
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                    ))
                    .content_type("text/html; charset=utf-8")
                    .body(document.to_html()))
            } else {
                // Laying out and subsetting the font is work for the blocking pool, not a worker.
                let pdf = web::block(move || render::pdf::to_pdf(&document, Utc::now(), render::citizen_copy::page_of))
                    .await
                    .map_err(|_| AppError::Internal("PDF rendering was cancelled".into()))?
                    .map_err(AppError::Internal)?;
                Ok(response
                    .insert_header((header::CONTENT_DISPOSITION, "inline; filename=\"din-plan.pdf\""))
                    .content_type("application/pdf")
                    .body(pdf))
            }
        }
    }
}

/// What the current plan is answered with, read in the transaction and rendered after it.
enum PlanAnswer {
    Json(PlanView),
    /// The citizen's copy, as a document to render as HTML or PDF.
    Copy(render::document::Document),
    Fhir(serde_json::Value),
}

/// The citizen's PDF copy, as the OpenAPI document describes it.
pub struct PdfFile;

impl utoipa::PartialSchema for PdfFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .content_media_type("application/pdf")
            .description(Some("A PDF/A-2b file, A4, with its font embedded"))
            .into()
    }
}

impl utoipa::ToSchema for PdfFile {}

/// A FHIR R4 `Bundle`, as the OpenAPI document describes it: its resources are FHIR's own
/// (CarePlan, Goal, CareTeam, Practitioner, Patient), defined by the FHIR specification.
pub struct FhirBundle;

impl utoipa::PartialSchema for FhirBundle {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .description(Some("A FHIR R4 Bundle of type collection"))
            .property("resourceType", text().enum_values(Some(["Bundle"])))
            .property("id", text())
            .property("type", text().enum_values(Some(["collection"])))
            .property("timestamp", text())
            .property(
                "entry",
                ArrayBuilder::new().items(
                    ObjectBuilder::new()
                        .property("fullUrl", text())
                        .property(
                            "resource",
                            ObjectBuilder::new()
                                .property("resourceType", text())
                                .property("id", text())
                                .required("resourceType"),
                        )
                        .required("fullUrl")
                        .required("resource"),
                ),
            )
            .required("resourceType")
            .required("type")
            .required("entry")
            .into()
    }
}

impl utoipa::ToSchema for FhirBundle {}

/// Every adopted version of the plan, oldest first; old versions stay readable.
#[utoipa::path(get, operation_id = "plans_versions", path = "/api/v1/cases/{id}/plan/versions", tag = "plans", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PlanView>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn versions(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<Vec<PlanView>>, AppError> {
    let id = id.0;
    let plans = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, audit::purpose_for(&p, None), |conn| {
                access::require_case_role(&p)?;
                read_case(conn, &p, id, "plan")?;
                let mut plans = Vec::new();
                for v in store::plans::versions(conn, id)? {
                    plans.extend(load(conn, id, v.version)?);
                }
                Ok(plans)
            })
        })
        .await?;
    Ok(web::Json(plans))
}

/// One version of the plan.
#[utoipa::path(get, operation_id = "plans_version", path = "/api/v1/cases/{id}/plan/versions/{n}", tag = "plans",
    params(("id" = Uuid, Path), ("n" = i32, Path, description = "The version number, from 1")),
    responses((status = 200, body = PlanView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn version(
    p: Principal,
    id: Id,
    req: actix_web::HttpRequest,
    db: web::Data<Db>,
) -> Result<web::Json<PlanView>, AppError> {
    let id = id.0;
    let n: i32 = req.match_info().get("n").and_then(|n| n.parse().ok()).ok_or(AppError::NotFound)?;
    let plan = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, audit::purpose_for(&p, None), |conn| {
                access::require_case_role(&p)?;
                read_case(conn, &p, id, "plan")?;
                load(conn, id, n)?.ok_or_else(no_plan)
            })
        })
        .await?;
    Ok(web::Json(plan))
}

/// Locks an active case for the coordinator's change of its plan.
fn coordinator_case(conn: &mut PgConnection, p: &Principal, id: Uuid) -> Result<(CaseRow, i32), AppError> {
    let case =
        store::cases::lock_visible(conn, p, id)?.ok_or_else(|| audit::deny(p, "plan", id, Purpose::Coordination))?;
    access::require_coordinator(p, case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref())?;
    if case.status != CaseStatus::Active.as_str() {
        return Err(AppError::InvalidTransition(format!("the plan of a {} case cannot change", case.status)));
    }
    store::consents::require_current_plan(conn, id)?;
    let version = store::plans::latest_version(conn, id)?.ok_or_else(no_plan)?;
    Ok((case, version))
}

/// Add an intervention to the current plan (the coordinator, between meetings).
#[utoipa::path(post, operation_id = "plans_add_intervention", path = "/api/v1/cases/{id}/plan/interventions", tag = "plans", request_body = NewIntervention,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = Intervention), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The case is not active", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_intervention(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<NewIntervention>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let id = id.0;
    let (intervention, note) = body.into_inner().into_parts();
    if let Some(error) = plan::check_dates(intervention.start_on, intervention.end_on) {
        return Err(AppError::InconsistentRequest(vec![FieldError::new("end_on", error)]));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Coordination, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let (case, version) = coordinator_case(conn, &p, id)?;
                    check_room(conn, id, version, true)?;
                    check_offers(conn, std::slice::from_ref(&intervention), "interventions").map_err(|_| {
                        AppError::UnknownReference(vec![FieldError::new(
                            "offer_id",
                            "no offer in the catalog has this id",
                        )])
                    })?;
                    let value = serde_json::to_value(&intervention).expect("serialisable");
                    let amendment = NewAmendment {
                        case_id: id,
                        version,
                        kind: "intervention_added",
                        intervention_id: intervention.id,
                        intervention: &value,
                        note: note.as_deref(),
                    };
                    store::plans::amend(conn, &p, &amendment)?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::PlanAmended,
                        json!({"version": version, "intervention_id": intervention.id, "change": "added"}),
                    )?;
                    let entry = Entry::case(Action::Update, Purpose::Coordination, id, case.citizen_id, 201)
                        .resource("plan", id);
                    Ok(Answer::disclosing(StatusCode::CREATED, &intervention, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Change an intervention's status or end date (the coordinator, between meetings).
#[utoipa::path(patch, operation_id = "plans_change_intervention", path = "/api/v1/cases/{id}/plan/interventions/{iid}", tag = "plans", request_body = InterventionChange,
    params(("id" = Uuid, Path), ("iid" = Uuid, Path)),
    responses(
        (status = 200, body = Intervention), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The case is not active", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn change_intervention(
    p: Principal,
    id: Id,
    req: actix_web::HttpRequest,
    body: Json<InterventionChange>,
    db: web::Data<Db>,
) -> Result<web::Json<Intervention>, AppError> {
    let iid: Uuid = req.match_info().get("iid").and_then(|s| Uuid::parse_str(s).ok()).ok_or(AppError::NotFound)?;
    let (id, change) = (id.0, body.into_inner());
    if change.status.is_none() && change.end_on.is_none() && change.note.is_none() {
        return Err(AppError::validation("body", "name a status, an end_on or a note"));
    }
    let changed = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Coordination, |conn| {
                access::require_case_role(&p)?;
                let (case, version) = coordinator_case(conn, &p, id)?;
                check_room(conn, id, version, false)?;
                let current = load(conn, id, version)?.ok_or_else(no_plan)?;
                let mut intervention =
                    current.interventions.into_iter().find(|i| i.id == iid).ok_or(AppError::NotFound)?;
                if let Some(status) = change.status {
                    intervention.status = status;
                }
                if let Some(end_on) = change.end_on {
                    intervention.end_on = Some(end_on);
                }
                if let Some(error) = plan::check_dates(intervention.start_on, intervention.end_on) {
                    return Err(AppError::InconsistentRequest(vec![FieldError::new("end_on", error)]));
                }
                let note = change.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
                let value = serde_json::to_value(&intervention).expect("serialisable");
                let amendment = NewAmendment {
                    case_id: id,
                    version,
                    kind: "intervention_changed",
                    intervention_id: iid,
                    intervention: &value,
                    note: note.as_deref(),
                };
                store::plans::amend(conn, &p, &amendment)?;
                events::emit(
                    conn,
                    &p,
                    id,
                    EventType::PlanAmended,
                    json!({"version": version, "intervention_id": iid, "change": "changed"}),
                )?;
                audit::record(
                    conn,
                    &p,
                    Entry::case(Action::Update, Purpose::Coordination, id, case.citizen_id, 200).resource("plan", id),
                )?;
                Ok(intervention)
            })
        })
        .await?;
    Ok(web::Json(changed))
}

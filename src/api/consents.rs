//! Consents (*samtykke*): the citizen's (and, under 18, a custody holder's) consent to the plan as
//! an offer, and to the named departments sharing what they know of the citizen in this case.
//! Recorded by the case's referrer, its coordinator or a leader who sees it; withdrawn once.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::PgConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Parties};
use crate::api::kit::dedup;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::consent::{self, ConsentForm, ConsentKind, GivenBy};
use crate::domain::{CaseStatus, Department, FieldError};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::cases::CaseRow;
use crate::store::consents::NewConsent;
use crate::store::events::{self, EventType};
use crate::store::{self};
use crate::views::consent::{view, ConsentView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/cases/{id}/consents")
            .route(web::get().to(list))
            .route(web::post().to(give))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/cases/{id}/consents/{consent_id}/withdrawal")
            .route(web::post().to(withdraw))
            .default_service(not_allowed("POST")),
    );
}

/// A consent as the citizen (or a custody holder) gave it.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub kind: ConsentKind,
    pub given_by: GivenBy,
    pub form: ConsentForm,
    /// Not in the future.
    pub given_on: NaiveDate,
    /// After `given_on`; without it the consent holds until withdrawn.
    pub expires_on: Option<NaiveDate>,
    /// `data_sharing`: the departments that may exchange information about the citizen in this
    /// case (at least one). `plan`: none.
    #[serde(default)]
    #[validate(length(max = 5))]
    #[schema(max_items = 5)]
    pub departments: Vec<Department>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// The withdrawal of a consent: effective at once.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    /// The day the citizen withdrew it: not in the future, not before it was given.
    pub on: NaiveDate,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// The case a consent is recorded on, locked, and the caller's right to record it.
fn recording_case(conn: &mut PgConnection, p: &Principal, id: Uuid) -> Result<CaseRow, AppError> {
    access::require_case_role(p)?;
    let case = store::cases::lock_visible(conn, p, id)?.ok_or_else(|| audit::deny(p, "case", id, purpose(p)))?;
    let coordinator = (case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref());
    let referrer = (case.referrer_sub.as_str(), case.referrer_dept.as_str());
    access::require_consent_recorder(p, &Parties { referrer, committee_departments: &[] }, coordinator)?;
    let named =
        (p.sub.as_str(), p.dept.as_str()) == referrer || access::is_coordinator(p, coordinator.0, coordinator.1);
    if !named && !store::cases::sees_without_consent(conn, p, id)? {
        return Err(AppError::Forbidden(
            "a department that sees the case only by the citizen's data-sharing consent does not record consents"
                .into(),
        ));
    }
    Ok(case)
}

fn purpose(p: &Principal) -> Purpose {
    audit::purpose_for(p, None)
}

/// Record a consent (the case's referrer, its coordinator, or a leader who sees the case).
#[utoipa::path(post, operation_id = "consents_give", path = "/api/v1/cases/{id}/consents", tag = "consents", request_body = ConsentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = ConsentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The case is closed or declined", body = Problem),
        (status = 422, description = "A date in the future (`date_not_allowed`), an expiry before the consent was given or departments that do not fit its kind (`inconsistent_request`)", body = Problem)),
    security(("bearer" = [])))]
pub async fn give(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    body: Json<ConsentRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, c) = (id.0, body.into_inner());
    if let Some(e) = consent::check_not_future("given_on", c.given_on, Utc::now().date_naive()) {
        return Err(AppError::DateNotAllowed(vec![e]));
    }
    let mut inconsistent: Vec<FieldError> = consent::check_expiry(c.given_on, c.expires_on).into_iter().collect();
    match (c.kind, c.departments.is_empty()) {
        (ConsentKind::DataSharing, true) => {
            inconsistent.push(FieldError::new("departments", "a data_sharing consent names at least one department"))
        }
        (ConsentKind::Plan, false) => {
            inconsistent.push(FieldError::new("departments", "a plan consent names no departments"))
        }
        _ => {}
    }
    if !inconsistent.is_empty() {
        return Err(AppError::InconsistentRequest(inconsistent));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, purpose(&p), |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = recording_case(conn, &p, id)?;
                    if c.given_by == GivenBy::CustodyHolder {
                        let adult = !store::consents::under_18_on(conn, id, c.given_on)?;
                        if adult {
                            return Err(AppError::InconsistentRequest(vec![FieldError::new(
                                "given_by",
                                "a custody holder consents only while the citizen is under 18",
                            )]));
                        }
                    }
                    let status = CaseStatus::parse(&case.status);
                    if matches!(status, Some(CaseStatus::Closed | CaseStatus::Declined)) {
                        return Err(AppError::InvalidTransition(format!("a {} case takes no consents", case.status)));
                    }
                    let departments: Vec<String> = dedup(&c.departments).iter().map(|d| d.as_str().to_string()).collect();
                    let note = trimmed(c.note);
                    let row = store::consents::insert(
                        conn,
                        &p,
                        &NewConsent {
                            case_id: id,
                            kind: c.kind,
                            given_by: c.given_by,
                            form: c.form.as_str(),
                            given_on: c.given_on,
                            expires_on: c.expires_on,
                            departments: departments.clone(),
                            note: note.as_deref(),
                        },
                    )?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::ConsentGiven,
                        json!({"consent_id": row.id, "kind": c.kind, "given_by": c.given_by, "departments": departments}),
                    )?;
                    let purpose = audit::purpose_for(&p, status);
                    let entry = Entry::case(Action::Create, purpose, id, case.citizen_id, 201).resource("consent", row.id);
                    Ok(Answer::disclosing(StatusCode::CREATED, &view(row)?, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Every consent of the case, withdrawn ones too, oldest first.
#[utoipa::path(get, operation_id = "consents_list", path = "/api/v1/cases/{id}/consents", tag = "consents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ConsentView>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<Vec<ConsentView>>, AppError> {
    let id = id.0;
    let consents = db
        .read(move |conn| {
            audit::on_case(conn, &p, id, purpose(&p), |conn| {
                access::require_case_role(&p)?;
                let case = store::cases::find_visible(conn, &p, id)?
                    .ok_or_else(|| audit::deny(&p, "case", id, purpose(&p)))?;
                let consents =
                    store::consents::of_case(conn, id)?.into_iter().map(view).collect::<Result<Vec<_>, _>>()?;
                let purpose = audit::purpose_for(&p, CaseStatus::parse(&case.status));
                audit::record(
                    conn,
                    &p,
                    Entry::case(Action::Read, purpose, id, case.citizen_id, 200).resource("consents", id),
                )?;
                Ok(consents)
            })
        })
        .await?;
    Ok(web::Json(consents))
}

/// Withdraw a consent: effective at once, and only once.
#[utoipa::path(post, operation_id = "consents_withdraw", path = "/api/v1/cases/{id}/consents/{consent_id}/withdrawal", tag = "consents", request_body = WithdrawalRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path), ("consent_id" = Uuid, Path)),
    responses(
        (status = 200, body = ConsentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already withdrawn (`conflict`)", body = Problem),
        (status = 422, description = "A date in the future (`date_not_allowed`) or before the consent was given (`inconsistent_request`)", body = Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    req: HttpRequest,
    body: Json<WithdrawalRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let consent_id: Uuid =
        req.match_info().get("consent_id").and_then(|s| Uuid::parse_str(s).ok()).ok_or(AppError::NotFound)?;
    let digest = *body.digest();
    let id = id.0;
    let w = body.into_inner();
    if let Some(e) = consent::check_not_future("on", w.on, Utc::now().date_naive()) {
        return Err(AppError::DateNotAllowed(vec![e]));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, purpose(&p), |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = recording_case(conn, &p, id)?;
                    let consent = store::consents::find_for_update(conn, id, consent_id)?.ok_or(AppError::NotFound)?;
                    if consent.withdrawn_on.is_some() {
                        return Err(AppError::Conflict("this consent was withdrawn already".into()));
                    }
                    if w.on < consent.given_on {
                        return Err(AppError::InconsistentRequest(vec![FieldError::new(
                            "on",
                            "must not be before the consent was given",
                        )]));
                    }
                    let note = trimmed(w.note);
                    let row = store::consents::withdraw(conn, &p, consent_id, w.on, note.as_deref())?
                        .ok_or_else(|| AppError::Conflict("this consent was withdrawn already".into()))?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::ConsentWithdrawn,
                        json!({"consent_id": row.id, "kind": row.kind}),
                    )?;
                    let purpose = audit::purpose_for(&p, CaseStatus::parse(&case.status));
                    let entry =
                        Entry::case(Action::Update, purpose, id, case.citizen_id, 200).resource("consent", row.id);
                    Ok(Answer::disclosing(StatusCode::OK, &view(row)?, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

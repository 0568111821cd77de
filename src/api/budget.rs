//! The coordinator's budget: the frame the committee set, what is spent from it, and the
//! append-only ledger of spends and reversals. Only the current coordinator spends; a spend
//! over what remains goes to the committee instead (409 `budget_exceeded`).
//!
//! Concurrency: every spend and reversal locks its case row (`SELECT … FOR UPDATE`) before it
//! checks what remains, so spends on one case apply one at a time and never take the total past
//! the frame; spends on different cases lock different rows and do not wait for each other. The
//! CHECK `spent_ore <= frame_ore` on the case row is the last guard behind the lock.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::budget::{self, SpendCategory};
use crate::domain::{CaseStatus, FieldError};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store;
use crate::store::cases::CaseRow;
use crate::store::events::{self, EventType};
use crate::store::ledger::NewEntry;
use crate::views::ledger::{self, LedgerEntry};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(web::resource("/cases/{id}/budget").route(web::get().to(get)).default_service(not_allowed("GET")));
    cfg.service(
        web::resource("/cases/{id}/budget/spends").route(web::post().to(spend)).default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/cases/{id}/budget/spends/{entry_id}/reversal")
            .route(web::post().to(reverse))
            .default_service(not_allowed("POST")),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SpendRequest {
    /// A positive whole number of øre (100 øre = 1 DKK); more than remains of the frame is 409
    /// `budget_exceeded`.
    #[schema(minimum = 1, maximum = 100_000_000_000i64)]
    pub amount_ore: i64,
    pub category: SpendCategory,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub description: String,
    /// The plan intervention the spend serves, if any.
    pub intervention_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    pub frame_ore: i64,
    pub spent_ore: i64,
    pub remaining_ore: i64,
    /// The ledger, oldest first.
    pub entries: Vec<LedgerEntry>,
}

/// The answer to a spend or a reversal: the new entry and the frame afterwards.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    pub entry: LedgerEntry,
    pub frame_ore: i64,
    pub spent_ore: i64,
    pub remaining_ore: i64,
}

/// Locks a case the caller sees for a change of its ledger: its current coordinator, while
/// the case is active.
fn ledger_case(conn: &mut PgConnection, p: &Principal, id: Uuid) -> Result<CaseRow, AppError> {
    let case = store::cases::lock_visible(conn, p, id)?.ok_or_else(|| audit::deny(p, "budget", id, Purpose::Budget))?;
    access::require_coordinator(p, case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref())?;
    if case.status != CaseStatus::Active.as_str() {
        return Err(AppError::InvalidTransition(format!("a {} case takes no spends or reversals", case.status)));
    }
    Ok(case)
}

fn receipt(case: &CaseRow, entry: LedgerEntry) -> Receipt {
    let spent_ore = case.spent_ore + entry.amount_ore;
    Receipt { entry, frame_ore: case.frame_ore, spent_ore, remaining_ore: budget::remaining(case.frame_ore, spent_ore) }
}

/// The frame, what is spent and what remains, with the ledger.
#[utoipa::path(get, operation_id = "budget_get", path = "/api/v1/cases/{id}/budget", tag = "budget", params(("id" = Uuid, Path)),
    responses((status = 200, body = Budget), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<Budget>, AppError> {
    let id = id.0;
    let budget = db
        .read(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Budget, |conn| {
                access::require_case_role(&p)?;
                let case = store::cases::find_visible(conn, &p, id)?
                    .ok_or_else(|| audit::deny(&p, "budget", id, Purpose::Budget))?;
                let entries = ledger::entries(conn, id)?;
                audit::record(
                    conn,
                    &p,
                    Entry::case(Action::Read, Purpose::Budget, id, case.citizen_id, 200).resource("budget", id),
                )?;
                Ok(Budget {
                    frame_ore: case.frame_ore,
                    spent_ore: case.spent_ore,
                    remaining_ore: budget::remaining(case.frame_ore, case.spent_ore),
                    entries,
                })
            })
        })
        .await?;
    Ok(web::Json(budget))
}

/// Spend from the frame (the current coordinator). Over what remains → 409 `budget_exceeded`
/// with `remaining_ore`: a larger spend is for the committee to decide.
#[utoipa::path(post, operation_id = "budget_spend", path = "/api/v1/cases/{id}/budget/spends", tag = "budget", request_body = SpendRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = Receipt), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "budget_exceeded (with remaining_ore), or invalid_transition for a case that is not active", body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn spend(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<SpendRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, s) = (id.0, body.into_inner());
    if let Some(error) = budget::check_amount(s.amount_ore) {
        return Err(AppError::Validation(vec![error]));
    }
    let description = s.description.trim().to_string();
    if description.is_empty() {
        return Err(AppError::validation("description", "is required"));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Budget, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = ledger_case(conn, &p, id)?;
                    store::consents::require_current_plan(conn, id)?;
                    if let Some(intervention) = s.intervention_id {
                        let version = store::plans::latest_version(conn, id)?.unwrap_or(0);
                        let plan = crate::views::plan::load(conn, id, version)?;
                        if !plan.is_some_and(|plan| plan.interventions.iter().any(|i| i.id == intervention)) {
                            return Err(AppError::UnknownReference(vec![FieldError::new(
                                "intervention_id",
                                "the case's plan has no such intervention",
                            )]));
                        }
                    }
                    if !budget::fits(case.frame_ore, case.spent_ore, s.amount_ore) {
                        return Err(AppError::BudgetExceeded {
                            remaining_ore: budget::remaining(case.frame_ore, case.spent_ore),
                        });
                    }
                    let entry = store::ledger::append(
                        conn,
                        &p,
                        &NewEntry {
                            case_id: id,
                            kind: "spend",
                            amount_ore: s.amount_ore,
                            category: s.category.as_str(),
                            description: &description,
                            intervention_id: s.intervention_id,
                            reverses: None,
                            reason: None,
                        },
                    )?;
                    events::emit(conn, &p, id, EventType::BudgetSpent, json!({"entry_id": entry.id}))?;
                    let record = Entry::case(Action::Create, Purpose::Budget, id, case.citizen_id, 201)
                        .resource("ledger_entry", entry.id);
                    Ok(Answer::disclosing(StatusCode::CREATED, &receipt(&case, ledger::view(entry, None)?), record))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Reverse a spend with a counter-entry (the current coordinator); once per spend.
#[utoipa::path(post, operation_id = "budget_reverse", path = "/api/v1/cases/{id}/budget/spends/{entry_id}/reversal", tag = "budget", request_body = ReversalRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path), ("entry_id" = Uuid, Path)),
    responses(
        (status = 201, body = Receipt), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already reversed, not a spend, or the case is not active", body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reverse(
    p: Principal,
    id: Id,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<ReversalRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let entry_id: Uuid =
        req.match_info().get("entry_id").and_then(|s| Uuid::parse_str(s).ok()).ok_or(AppError::NotFound)?;
    let digest = *body.digest();
    let (id, reason) = (id.0, body.into_inner().reason.trim().to_string());
    if reason.is_empty() {
        return Err(AppError::validation("reason", "is required"));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Budget, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = ledger_case(conn, &p, id)?;
                    let spend = store::ledger::find(conn, id, entry_id)?.ok_or(AppError::NotFound)?;
                    if spend.kind != "spend" {
                        return Err(AppError::Conflict("only a spend can be reversed".into()));
                    }
                    if store::ledger::reversal_of(conn, entry_id)?.is_some() {
                        return Err(AppError::Conflict("this spend is already reversed".into()));
                    }
                    let entry = store::ledger::append(
                        conn,
                        &p,
                        &NewEntry {
                            case_id: id,
                            kind: "reversal",
                            amount_ore: -spend.amount_ore,
                            category: &spend.category,
                            description: &spend.description,
                            intervention_id: spend.intervention_id,
                            reverses: Some(entry_id),
                            reason: Some(&reason),
                        },
                    )?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::BudgetReversed,
                        json!({"entry_id": entry.id, "reverses": entry_id}),
                    )?;
                    let record = Entry::case(Action::Create, Purpose::Budget, id, case.citizen_id, 201)
                        .resource("ledger_entry", entry.id);
                    Ok(Answer::disclosing(StatusCode::CREATED, &receipt(&case, ledger::view(entry, None)?), record))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

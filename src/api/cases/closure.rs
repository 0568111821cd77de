//! Closing a case: no further spends, decisions or adjustments.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::view::{answer, lock_for_change, trimmed, CaseView};
use crate::access::{self};
use crate::api::kit::check_if_match;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::decision::ClosureReason;
use crate::domain::{status, CaseStatus, MemberRole};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, IdempotencyKey};
use crate::store::events::{self, EventType};
use crate::store::{self};
use crate::views::case::status_of;

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClosureRequest {
    pub reason: ClosureReason,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// Close a case (its coordinator, or a leader member of its committee). A closed case takes
/// no further spends, decisions or adjustments.
#[utoipa::path(post, operation_id = "cases_close", path = "/api/v1/cases/{id}/closure", tag = "cases", request_body = ClosureRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The case's ETag")),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "invalid_transition", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    req: HttpRequest,
    body: Json<ClosureRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, closure, headers) = (id.0, body.into_inner(), req.headers().clone());
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Coordination, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = lock_for_change(conn, &p, id, Purpose::Coordination)?;
                    let seat = store::committees::seat(conn, case.committee_id, &p.sub, p.dept.as_str())?;
                    let seat = seat.and_then(|m| MemberRole::parse(&m.role));
                    let coordinator =
                        access::is_coordinator(&p, case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref());
                    if !coordinator && !access::is_leader_member(&p, seat.as_ref()) {
                        return Err(AppError::Forbidden(
                            "a case is closed by its coordinator or a leader member of its committee".into(),
                        ));
                    }
                    check_if_match(&headers, case.version)?;
                    status::check_move(status_of(&case)?, CaseStatus::Closed).map_err(AppError::InvalidTransition)?;
                    let note = trimmed(closure.note);
                    let effects = store::cases::DecisionEffects {
                        status: Some(CaseStatus::Closed.as_str().to_string()),
                        closed_at: Some(Utc::now()),
                        closure_reason: Some(closure.reason.as_str().to_string()),
                        ..Default::default()
                    };
                    let case = store::cases::apply(conn, id, &effects)?;
                    events::emit(conn, &p, id, EventType::CaseClosed, json!({"reason": closure.reason, "note": note}))?;
                    let entry = Entry::case(Action::Update, Purpose::Coordination, id, case.citizen_id, 200);
                    CaseView::load(conn, case).map(|v| answer(StatusCode::OK, &v, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

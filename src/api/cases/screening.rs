//! Screening (*visitation*): a leader of the committee's departments decides whether a referred
//! case goes to the committee.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::view::{answer, lock_for_change, trimmed, CaseView};
use crate::access::{self, Parties};
use crate::api::kit::check_if_match;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::referral::{self, ReferralContent};
use crate::domain::{status, CaseStatus, DeclineReason, ProblemArea, ScreeningOutcome};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, IdempotencyKey};
use crate::store::events::{self, EventType};
use crate::store::{self};
use crate::views::case::{departments, status_of};

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRequest {
    pub outcome: ScreeningOutcome,
    /// Required when declined.
    pub reason: Option<DeclineReason>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// Screen a referral: a leader whose department is on the committee of the case's track
/// decides whether the case goes to the committee.
#[utoipa::path(post, operation_id = "cases_screen", path = "/api/v1/cases/{id}/screening", tag = "cases", request_body = ScreeningRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The case's ETag")),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "invalid_transition", body = Problem),
        (status = 412, body = Problem),
        (status = 422, description = "referral_incomplete, validation_failed", body = Problem)),
    security(("bearer" = [])))]
pub async fn screen(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    req: HttpRequest,
    body: Json<ScreeningRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, s, headers) = (id.0, body.into_inner(), req.headers().clone());
    referral::check_screening(s.outcome, s.reason).map_err(|e| AppError::InconsistentRequest(vec![e]))?;
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Screening, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = lock_for_change(conn, &p, id, Purpose::Screening)?;
                    check_if_match(&headers, case.version)?;
                    let committee = store::committees::find(conn, case.committee_id)?.ok_or(AppError::NotFound)?;
                    let committee_departments = departments(&committee.departments);
                    access::require_screener(
                        &p,
                        &Parties {
                            referrer: (&case.referrer_sub, &case.referrer_dept),
                            committee_departments: &committee_departments,
                        },
                    )?;
                    let to = match s.outcome {
                        ScreeningOutcome::Accepted => CaseStatus::AwaitingCommittee,
                        ScreeningOutcome::Declined => CaseStatus::Declined,
                    };
                    status::check_move(status_of(&case)?, to).map_err(AppError::InvalidTransition)?;
                    let problem_areas: Vec<_> =
                        case.problem_areas.iter().filter_map(|a| ProblemArea::parse(a)).collect();
                    let involved = departments(&case.involved_departments);
                    let missing = referral::missing_for_screening(&ReferralContent {
                        problem_areas: &problem_areas,
                        description: case.description.as_deref(),
                        involved_departments: &involved,
                        citizen_view: case.citizen_view.as_deref(),
                    });
                    if !missing.is_empty() {
                        return Err(AppError::ReferralIncomplete(missing));
                    }
                    let note = trimmed(s.note);
                    let case = store::cases::apply_screening(
                        conn,
                        &p,
                        id,
                        &store::cases::Screening {
                            status: to.as_str(),
                            outcome: s.outcome.as_str(),
                            reason: s.reason.map(DeclineReason::as_str),
                            note: note.as_deref(),
                        },
                    )?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::CaseScreened,
                        json!({"outcome": s.outcome, "reason": s.reason}),
                    )?;
                    let entry = Entry::case(Action::Update, Purpose::Screening, id, case.citizen_id, 200);
                    CaseView::load(conn, case).map(|v| answer(StatusCode::OK, &v, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

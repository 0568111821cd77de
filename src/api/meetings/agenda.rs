//! The agenda: a case awaiting the committee (or due for follow-up) put on a meeting.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::view::{seat_of, AgendaCase, AgendaItemView, NamedCitizen};
use crate::access;
use crate::api::kit::dedup;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{CaseStatus, FieldError, Track};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::events::{self, EventType};
use crate::store::meetings::Presenter;
use crate::store::{self};
use crate::views::PersonRef;

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AgendaRequest {
    pub case_id: Uuid,
    /// The caseworkers who bring the case; they sit in for it and take part in it from now on.
    #[serde(default)]
    #[validate(length(max = 10), nested)]
    #[schema(max_items = 10)]
    pub presenting_caseworkers: Vec<PersonRef>,
}

/// Put a case on the agenda (admin, or a leader member): an `awaiting_committee` or `active`
/// case of this committee.
#[utoipa::path(post, operation_id = "meetings_add_to_agenda", path = "/api/v1/meetings/{id}/agenda", tag = "meetings", request_body = AgendaRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses((status = 201, body = AgendaItemView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "invalid_transition: the case's status; conflict: already on the agenda", body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_to_agenda(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<AgendaRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (meeting_id, body) = (id.0, body.into_inner());
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, body.case_id, Purpose::Committee, |conn| {
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let meeting = store::meetings::lock(conn, meeting_id)?.ok_or(AppError::NotFound)?;
                    let seat = seat_of(conn, &p, meeting.committee_id)?;
                    access::require_meeting_organiser(&p, seat.as_ref())?;
                    let case = store::cases::lock_visible(conn, &p, body.case_id)?
                        .ok_or_else(|| audit::deny(&p, "case", body.case_id, Purpose::Committee))?;
                    if case.committee_id != meeting.committee_id {
                        return Err(AppError::InconsistentRequest(vec![FieldError::new(
                            "case_id",
                            "the case belongs to another committee's track",
                        )]));
                    }
                    let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Closed);
                    if !matches!(status, CaseStatus::AwaitingCommittee | CaseStatus::Active) {
                        return Err(AppError::InvalidTransition(format!(
                            "only awaiting_committee or active cases go on an agenda; this one is {status}"
                        )));
                    }
                    if store::meetings::on_agenda(conn, meeting_id, case.id)? {
                        return Err(AppError::Conflict("the case is already on this meeting's agenda".into()));
                    }
                    let presenters = dedup(&body.presenting_caseworkers);
                    let stored: Vec<Presenter> = presenters
                        .iter()
                        .map(|c| Presenter { sub: &c.sub, name: &c.name, department: c.department.as_str() })
                        .collect();
                    let item = store::meetings::add_to_agenda(
                        conn,
                        &p,
                        meeting_id,
                        case.id,
                        &stored,
                        &serde_json::to_value(&presenters).expect("serialisable"),
                    )?;
                    events::emit(
                        conn,
                        &p,
                        case.id,
                        EventType::CaseUpdated,
                        json!({"part": "agenda", "meeting_id": meeting_id}),
                    )?;
                    let entry = Entry::case(Action::Update, Purpose::Committee, case.id, case.citizen_id, 201);
                    let citizen = store::citizens::find(conn, case.citizen_id)?.ok_or(AppError::NotFound)?;
                    let view = AgendaItemView {
                        id: item.id,
                        position: item.position,
                        case: AgendaCase {
                            id: case.id,
                            status,
                            track: Track::parse(&case.track).unwrap_or(Track::Adult),
                            citizen: NamedCitizen { id: citizen.id, name: citizen.name },
                            follow_up_on: case.follow_up_on,
                        },
                        presenting_caseworkers: presenters,
                        added_at: item.added_at,
                    };
                    Ok(Answer::disclosing(StatusCode::CREATED, &view, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

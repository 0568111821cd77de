//! The citizen's participation between meetings, noted by the coordinator.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::view::{lock_for_change, trimmed, ParticipationNoteView};
use crate::access::{self};
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::decision::ParticipationForm;
use crate::domain::CaseStatus;
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::events::{self, EventType};
use crate::store::{self};
use crate::views::case::status_of;

/// A note of the citizen's participation between meetings.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ParticipationRequest {
    pub on: NaiveDate,
    pub form: ParticipationForm,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
}

/// Note how the citizen took part between meetings (the current coordinator).
#[utoipa::path(post, operation_id = "cases_participation", path = "/api/v1/cases/{id}/participation", tag = "cases", request_body = ParticipationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = ParticipationNoteView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The case is not active", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn participation(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    body: Json<ParticipationRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, note) = (id.0, body.into_inner());
    if note.on > Utc::now().date_naive() {
        return Err(AppError::DateNotAllowed(vec![crate::domain::FieldError::new("on", "must not be in the future")]));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Coordination, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = lock_for_change(conn, &p, id, Purpose::Coordination)?;
                    access::require_coordinator(&p, case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref())?;
                    if status_of(&case)? != CaseStatus::Active {
                        return Err(AppError::InvalidTransition(format!(
                            "a {} case takes no participation notes",
                            case.status
                        )));
                    }
                    let view_text = trimmed(note.citizen_view);
                    let n = store::plans::add_participation(
                        conn,
                        &p,
                        id,
                        note.on,
                        note.form.as_str(),
                        view_text.as_deref(),
                    )?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::CaseUpdated,
                        json!({"part": "participation", "form": note.form}),
                    )?;
                    let entry = Entry::case(Action::Create, Purpose::Coordination, id, case.citizen_id, 201)
                        .resource("participation_note", n.id);
                    let note = ParticipationNoteView::from_row(n)
                        .ok_or_else(|| AppError::Internal("stored participation note unreadable".into()))?;
                    Ok(Answer::disclosing(StatusCode::CREATED, &note, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

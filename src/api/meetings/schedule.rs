//! A committee's meetings: creating one, the list, and one meeting with its agenda.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::view::{
    departments, readable_meeting, record_list_read, seat_of, summary, visible_cases, AgendaCase, AgendaItemView,
    MeetingSummary, MeetingView, NamedCitizen,
};
use crate::access;
use crate::api::kit::extract::{Id, Json, Query};
use crate::api::kit::paging::PageQuery;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{CaseStatus, Track};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::{self, cursor};

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MeetingRequest {
    pub scheduled_at: DateTime<Utc>,
}

/// Plan a meeting of a committee (admin, or a leader member).
#[utoipa::path(post, operation_id = "meetings_create", path = "/api/v1/committees/{id}/meetings", tag = "meetings", request_body = MeetingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses((status = 201, body = MeetingSummary), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<MeetingRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (committee_id, scheduled_at) = (id.0, body.into_inner().scheduled_at);
    let answer = db
        .tx(move |conn| {
            store::committees::find(conn, committee_id)?.ok_or(AppError::NotFound)?;
            let seat = seat_of(conn, &p, committee_id)?;
            access::require_meeting_organiser(&p, seat.as_ref())?;
            idempotency::once(conn, &p, &key, &digest, |conn| {
                let meeting = store::meetings::create(conn, &p, committee_id, scheduled_at)?;
                Ok(Answer::json(StatusCode::CREATED, &summary(&meeting)))
            })
        })
        .await?;
    Ok(answer.respond_at("/api/v1/meetings/"))
}

/// A committee's meetings.
#[utoipa::path(get, operation_id = "meetings_list", path = "/api/v1/committees/{id}/meetings", tag = "meetings", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Page<MeetingSummary>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    id: Id,
    q: Query<PageQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<MeetingSummary>>, AppError> {
    let committee_id = id.0;
    let limit = page_limit(q.0.limit)?;
    let after = q.0.cursor.as_deref().map(cursor::decode).transpose()?;
    let page = db
        .run(move |conn| {
            let committee = store::committees::find(conn, committee_id)?.ok_or(AppError::NotFound)?;
            let seat = seat_of(conn, &p, committee_id)?;
            access::require_meeting_reader(&p, seat.as_ref(), &departments(&committee))?;
            let rows = store::meetings::list(conn, committee_id, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |m| cursor::encode(m.id));
            Ok(Page { items: rows.iter().map(summary).collect(), next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

/// A meeting with its agenda.
#[utoipa::path(get, operation_id = "meetings_get", path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<MeetingView>, AppError> {
    let id = id.0;
    let view = db
        .tx(move |conn| {
            let (meeting, _) = readable_meeting(conn, &p, id)?;
            let items = store::meetings::agenda(conn, id)?;
            let ids: Vec<Uuid> = items.iter().map(|i| i.case_id).collect();
            let (cases, citizens) = visible_cases(conn, &p, &ids)?;
            record_list_read(conn, &p, "meeting", id, &cases)?;
            let mut agenda = Vec::new();
            for item in items {
                let Some(case) = cases.get(&item.case_id) else { continue };
                let citizen = &citizens[&case.citizen_id];
                agenda.push(AgendaItemView {
                    id: item.id,
                    position: item.position,
                    case: AgendaCase {
                        id: case.id,
                        status: CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Active),
                        track: Track::parse(&case.track).unwrap_or(Track::Adult),
                        citizen: NamedCitizen { id: citizen.id, name: citizen.name.clone() },
                        follow_up_on: case.follow_up_on,
                    },
                    presenting_caseworkers: serde_json::from_value(item.presenting_caseworkers).unwrap_or_default(),
                    added_at: item.added_at,
                });
            }
            Ok(MeetingView {
                id: meeting.id,
                committee_id: meeting.committee_id,
                scheduled_at: meeting.scheduled_at,
                created_at: meeting.created_at,
                agenda,
            })
        })
        .await?;
    Ok(web::Json(view))
}

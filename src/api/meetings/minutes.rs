//! The minutes of a meeting, as JSON or as Markdown (rendered by `crate::render::minutes`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::view::{
    decision_view, readable_meeting, record_list_read, summary, visible_cases, Minutes, MinutesCommittee, MinutesItem,
    MinutesMember, NamedCitizen,
};
use crate::api::kit::extract::Id;
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{Department, MemberRole, Track};
use crate::error::{AppError, Problem};
use crate::store::{self};
use crate::views::plan::{self};

/// The meeting's minutes, as JSON or (with `Accept: text/markdown`) as a document to file.
#[utoipa::path(get, operation_id = "meetings_minutes", path = "/api/v1/meetings/{id}/minutes", tag = "meetings", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The minutes: as JSON, or as Markdown (in Danish) with `Accept: text/markdown`",
            content((Minutes = "application/json"), (String = "text/markdown"))),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn minutes(p: Principal, id: Id, req: HttpRequest, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let id = id.0;
    let markdown = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/markdown"));
    let minutes = db
        .tx(move |conn| {
            let (meeting, committee) = readable_meeting(conn, &p, id)?;
            let decisions = store::decisions::of_meeting(conn, id)?;
            let ids: Vec<Uuid> = decisions.iter().map(|d| d.case_id).collect();
            let (cases, citizens) = visible_cases(conn, &p, &ids)?;
            record_list_read(conn, &p, "minutes", id, &cases)?;
            let members = store::committees::members(conn, &[committee.id])?;
            let mut present: Vec<String> = Vec::new();
            let mut items = Vec::new();
            for d in decisions {
                let Some(case) = cases.get(&d.case_id) else { continue };
                for sub in &d.members_present {
                    if !present.contains(sub) {
                        present.push(sub.clone());
                    }
                }
                let citizen = &citizens[&case.citizen_id];
                let plan = match d.plan_version {
                    Some(v) => plan::load(conn, case.id, v)?,
                    None => None,
                };
                items.push(MinutesItem {
                    citizen: NamedCitizen { id: citizen.id, name: citizen.name.clone() },
                    decision: decision_view(d),
                    plan,
                });
            }
            let members_present = members
                .iter()
                .filter(|m| present.contains(&m.sub))
                .filter_map(|m| {
                    Some(MinutesMember {
                        sub: m.sub.clone(),
                        name: m.name.clone(),
                        department: Department::parse(&m.department)?,
                        role: MemberRole::parse(&m.role)?,
                    })
                })
                .collect();
            Ok(Minutes {
                meeting: summary(&meeting),
                committee: MinutesCommittee {
                    id: committee.id,
                    name: committee.name.clone(),
                    track: Track::parse(&committee.track).unwrap_or(Track::Adult),
                },
                members_present,
                items,
            })
        })
        .await?;
    if markdown {
        Ok(HttpResponse::Ok()
            .content_type("text/markdown; charset=utf-8")
            .body(crate::render::minutes::render_markdown(&minutes)))
    } else {
        Ok(HttpResponse::Ok().json(minutes))
    }
}

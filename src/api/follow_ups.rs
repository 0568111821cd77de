//! Follow-ups: the active cases due to return to their committee, overdue ones flagged.

use actix_web::web;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access;
use crate::api::kit::extract::Query;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::error::{AppError, Problem};
use crate::store::{self, cursor};
use crate::views::case::CaseSummary;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/follow-ups")
            .route(web::get().to(list))
            .default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    pub committee_id: Option<Uuid>,
    /// Only follow-ups due before this date; without it, every active case with a follow-up date.
    pub due_before: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FollowUp {
    pub case: CaseSummary,
    pub follow_up_on: NaiveDate,
    /// The follow-up date has passed.
    pub overdue: bool,
    /// Days past the follow-up date (0 when not overdue).
    pub days_overdue: i64,
}

/// Active cases due for follow-up, earliest first, among the cases the caller sees.
#[utoipa::path(get, operation_id = "follow_ups_list", path = "/api/v1/follow-ups", tag = "meetings", params(FollowUpQuery),
    responses((status = 200, body = Page<FollowUp>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<FollowUpQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<FollowUp>>, AppError> {
    access::require_case_role(&p)?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode_follow_up).transpose()?;
    let page = db
        .read(move |conn| {
            let rows = store::cases::follow_ups(conn, &p, q.committee_id, q.due_before, after, limit + 1)?;
            let (rows, next_cursor) =
                paginate(rows, limit, |c| cursor::encode_follow_up(c.follow_up_on.unwrap_or_default(), c.id));
            audit::record(
                conn,
                &p,
                Entry {
                    action: Action::Read,
                    resource: "follow_ups".into(),
                    resource_id: None,
                    case_id: None,
                    citizen_id: None,
                    purpose: if p.has(crate::domain::Role::System) { Purpose::Integration } else { Purpose::Committee },
                    status: 200,
                    filters: Some(json!({"committee_id": q.committee_id, "due_before": q.due_before, "limit": limit})),
                    case_ids: rows.iter().map(|c| c.id).collect(),
                    citizen_ids: rows.iter().map(|c| c.citizen_id).collect(),
                },
            )?;
            let today = Utc::now().date_naive();
            let mut items = Vec::new();
            for row in &rows {
                let follow_up_on = row.follow_up_on.unwrap_or(today);
                let days_overdue = (today - follow_up_on).num_days().max(0);
                items.push(FollowUp {
                    case: CaseSummary::from_row(row)?,
                    follow_up_on,
                    overdue: days_overdue > 0,
                    days_overdue,
                });
            }
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

//! Youth to adult: the active youth cases whose citizen turns 30 soon (or already has), for the
//! committee to decide their `transfer` to the adult committee in time.

use actix_web::web;
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::api::kit::extract::Query;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::eligibility::ADULT_FROM;
use crate::domain::{cpr, FieldError, Role};
use crate::error::{AppError, Problem};
use crate::store::{self, cursor};
use crate::views::case::CaseSummary;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/transitions")
            .route(web::get().to(list))
            .default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransitionQuery {
    /// Cases whose citizen turns 30 within this many days from today, or already has: 1–365,
    /// default 90.
    #[param(minimum = 1, maximum = 365)]
    pub within_days: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A youth case due to move to the adult track.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Transition {
    pub case: CaseSummary,
    /// The citizen's 30th birthday: the youth track ends that day.
    pub turns_30_on: NaiveDate,
    /// The citizen is 30 already and the case is still on the youth track.
    pub overdue: bool,
}

/// The active youth cases the caller sees whose citizen turns 30 within `within_days`, or
/// already has, the soonest first (`leader`, `admin`).
#[utoipa::path(get, operation_id = "transitions_list", path = "/api/v1/transitions", tag = "cases", params(TransitionQuery),
    responses((status = 200, body = Page<Transition>), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<TransitionQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<Transition>>, AppError> {
    p.require_any(&[Role::Leader, Role::Admin], "the transitions list")?;
    let q = q.0;
    let within_days = q.within_days.unwrap_or(90);
    if !(1..=365).contains(&within_days) {
        return Err(AppError::Validation(vec![FieldError::new("within_days", "must be from 1 to 365")]));
    }
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode_follow_up).transpose()?;
    let page = db
        .read(move |conn| {
            let today = Utc::now().date_naive();
            let horizon = today + Duration::days(within_days);
            // Turning 30 by the horizon: born on or before the same date 30 years earlier.
            let born_by = cpr::birthday(horizon, -ADULT_FROM);
            let born_by = if cpr::birthday(born_by, ADULT_FROM) > horizon {
                born_by.pred_opt().unwrap_or(born_by)
            } else {
                born_by
            };
            let rows = store::cases::transitions(conn, &p, born_by, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |(c, born)| cursor::encode_follow_up(*born, c.id));
            audit::record(
                conn,
                &p,
                Entry {
                    action: Action::Read,
                    resource: "transitions".into(),
                    resource_id: None,
                    case_id: None,
                    citizen_id: None,
                    purpose: Purpose::Committee,
                    status: 200,
                    filters: Some(json!({"within_days": within_days, "limit": limit})),
                    case_ids: rows.iter().map(|(c, _)| c.id).collect(),
                    citizen_ids: rows.iter().map(|(c, _)| c.citizen_id).collect(),
                },
            )?;
            let mut items = Vec::new();
            for (row, born) in &rows {
                let turns_30_on = cpr::birthday(*born, ADULT_FROM);
                items.push(Transition {
                    case: CaseSummary::from_row(row)?,
                    turns_30_on,
                    overdue: turns_30_on <= today,
                });
            }
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

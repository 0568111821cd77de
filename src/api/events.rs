//! The integration feed: every change of the cases a department is involved in, in an order a
//! reader can resume from with a cursor and never miss or see twice. Events carry no personal
//! data; details come through the API.

use actix_web::web;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::kit::extract::Query;
use crate::api::kit::paging::page_limit;
use crate::audit;
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::Role;
use crate::error::{AppError, Problem};
use crate::store::cursor;
use crate::views::event::{cloud_event, Event};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/events").route(web::get().to(list)).default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `next_cursor` of the previous answer; without it, the feed starts at the beginning.
    pub after: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Feed {
    /// CloudEvents 1.0 events, oldest first.
    pub items: Vec<Event>,
    /// Where to resume: pass it as `after`. Present even when there was nothing new.
    pub next_cursor: Option<String>,
}

/// The caller's department's events, oldest first (`system`, `admin`).
#[utoipa::path(get, operation_id = "events_list", path = "/api/v1/events", tag = "integration", params(FeedQuery),
    responses((status = 200, body = Feed), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<FeedQuery>,
    db: web::Data<Db>,
    state: web::Data<crate::state::State>,
) -> Result<web::Json<Feed>, AppError> {
    p.require_any(&[Role::System, Role::Admin], "reading the event feed")?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.after.as_deref().map(cursor::decode_feed).transpose()?;
    let feed = db
        .read(move |conn| {
            let filters = serde_json::json!({"after": q.after, "limit": limit});
            let rows = audit::read_feed_page(conn, &p, filters, after.unwrap_or((0, 0)), limit)?;
            let next_cursor = match rows.last() {
                Some(last) => Some(cursor::encode_feed(last.txid, last.id)),
                None => q.after.clone(),
            };
            let items = rows.iter().map(|r| cloud_event(r, &state.event_source)).collect();
            Ok(Feed { items, next_cursor })
        })
        .await?;
    Ok(web::Json(feed))
}

//! Reading cases: one case, the list of the cases a caller sees, and a case's history.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use super::view::{with_etag, CaseView};
use crate::access::{self};
use crate::api::kit::extract::{Id, Query};
use crate::api::kit::paging::PageQuery;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::audit::{self, Action, Entry};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{CaseStatus, Department, Track};
use crate::error::{AppError, Problem};
use crate::store::cases::ListFilter;
use crate::store::events::{self};
use crate::store::{self, cursor};
use crate::views::case::HistoryEvent;
use crate::views::case::{status_of, CaseSummary};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    pub status: Option<CaseStatus>,
    pub track: Option<Track>,
    pub committee_id: Option<Uuid>,
    /// The coordinator's `sub`.
    #[param(min_length = 1, max_length = 255)]
    pub coordinator: Option<String>,
    pub involved_department: Option<Department>,
    /// Cases whose follow-up date is before this date.
    pub follow_up_before: Option<NaiveDate>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One case, for those who take part in it.
#[utoipa::path(get, operation_id = "cases_get", path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = CaseView, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let id = id.0;
    let view = db
        .read(move |conn| {
            audit::on_case(conn, &p, id, audit::purpose_for(&p, None), |conn| {
                access::require_case_role(&p)?;
                // One statement reads the case through the access rule, with everything its
                // view shows, and writes the read's audit row.
                let whole = audit::read_whole_case(conn, &p, id)?
                    .ok_or_else(|| audit::deny(&p, "case", id, audit::purpose_for(&p, None)))?;
                CaseView::of(whole)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &view))
}

/// The cases the caller sees, in referral order.
#[utoipa::path(get, operation_id = "cases_list", path = "/api/v1/cases", tag = "cases", params(CaseListQuery),
    responses((status = 200, body = Page<CaseSummary>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<CaseListQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<CaseSummary>>, AppError> {
    access::require_case_role(&p)?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let filter = ListFilter {
        status: q.status.map(|s| s.as_str().to_string()),
        track: q.track.map(|t| t.as_str().to_string()),
        committee_id: q.committee_id,
        coordinator: q.coordinator,
        involved_department: q.involved_department.map(|d| d.as_str().to_string()),
        follow_up_before: q.follow_up_before,
    };
    let page = db
        .read(move |conn| {
            let rows = store::cases::list_visible(conn, &p, &filter, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |c| cursor::encode(c.id));
            audit::record(
                conn,
                &p,
                Entry {
                    action: Action::Read,
                    resource: "case_list".into(),
                    resource_id: None,
                    case_id: None,
                    citizen_id: None,
                    purpose: audit::purpose_for(&p, q.status),
                    status: 200,
                    filters: Some(json!({"filters": filter, "limit": limit, "after": after})),
                    case_ids: rows.iter().map(|c| c.id).collect(),
                    citizen_ids: rows.iter().map(|c| c.citizen_id).collect(),
                },
            )?;
            let items = rows.iter().map(CaseSummary::from_row).collect::<Result<_, _>>()?;
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

/// Every event of a case, oldest first.
#[utoipa::path(get, operation_id = "cases_history", path = "/api/v1/cases/{id}/history", tag = "cases", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Page<HistoryEvent>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    p: Principal,
    id: Id,
    q: Query<PageQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<HistoryEvent>>, AppError> {
    let id = id.0;
    let limit = page_limit(q.0.limit)?;
    let after = q.0.cursor.as_deref().map(cursor::decode_seq).transpose()?;
    let page = db
        .read(move |conn| {
            audit::on_case(conn, &p, id, audit::purpose_for(&p, None), |conn| {
                access::require_case_role(&p)?;
                let case = store::cases::find_visible(conn, &p, id)?
                    .ok_or_else(|| audit::deny(&p, "case_history", id, audit::purpose_for(&p, None)))?;
                let purpose = audit::purpose_for(&p, Some(status_of(&case)?));
                let rows = events::history(conn, id, after, limit + 1)?;
                let (rows, next_cursor) = paginate(rows, limit, |e| cursor::encode_seq(e.id));
                audit::record(
                    conn,
                    &p,
                    Entry::case(Action::Read, purpose, id, case.citizen_id, 200).resource("case_history", id),
                )?;
                let items = rows.into_iter().map(HistoryEvent::from_row).collect();
                Ok(Page { items, next_cursor })
            })
        })
        .await?;
    Ok(web::Json(page))
}

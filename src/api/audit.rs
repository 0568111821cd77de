//! The audit log for the `auditor` role: who read or wrote which personal data, when and why.
//! Asked about one citizen, it is also that citizen's consultation report (GDPR art. 15).

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::kit::extract::Query;
use crate::api::kit::paging::{page_limit, paginate};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::Role;
use crate::error::{AppError, Problem};
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::{self, cursor};
use crate::views::audit::{report, Consultation};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/audit").route(web::get().to(list)).default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub case_id: Option<Uuid>,
    /// With a citizen, the answer carries the citizen's consultation report.
    pub citizen_id: Option<Uuid>,
    /// The actor's `sub`.
    pub actor: Option<String>,
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditActor {
    pub iss: String,
    pub sub: String,
    pub dept: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: Action,
    pub resource: String,
    pub resource_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub citizen_id: Option<Uuid>,
    pub purpose: Purpose,
    pub status: i16,
    pub request_id: String,
    /// A list read: the filters it used.
    pub filters: Option<serde_json::Value>,
    /// A list read: the cases it returned.
    pub case_ids: Vec<Uuid>,
    pub citizen_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
    /// With `citizen_id`: every date on which the citizen's data was read or written, and for
    /// which purposes (the consultation report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultations: Option<Vec<Consultation>>,
}

fn entry(row: AuditRow) -> Result<AuditEntry, AppError> {
    let unreadable = || AppError::Internal("stored audit entry unreadable".into());
    Ok(AuditEntry {
        id: row.id,
        at: row.at,
        actor: AuditActor { iss: row.actor_iss, sub: row.actor_sub, dept: row.actor_dept },
        action: Action::parse(&row.action).ok_or_else(unreadable)?,
        resource: row.resource,
        resource_id: row.resource_id,
        case_id: row.case_id,
        citizen_id: row.citizen_id,
        purpose: Purpose::parse(&row.purpose).ok_or_else(unreadable)?,
        status: row.status,
        request_id: row.request_id,
        filters: row.filters,
        case_ids: row.case_ids,
        citizen_ids: row.citizen_ids,
    })
}

/// The audit log, oldest first. Reading it is itself recorded.
#[utoipa::path(get, operation_id = "audit_list", path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(p: Principal, q: Query<AuditQuery>, db: web::Data<Db>) -> Result<web::Json<AuditPage>, AppError> {
    p.require_any(&[Role::Auditor], "reading the audit log")?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode_seq).transpose()?;
    let filter = AuditFilter { case_id: q.case_id, citizen_id: q.citizen_id, actor: q.actor, from: q.from, to: q.to };
    let page = db
        .read(move |conn| {
            let rows = store::audit::list(conn, &filter, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |r| cursor::encode_seq(r.id));
            let consultations = match filter.citizen_id {
                None => None,
                Some(citizen_id) => Some(report(store::audit::consultations(conn, citizen_id, &filter)?)),
            };
            audit::record(
                conn,
                &p,
                Entry {
                    action: Action::Read,
                    resource: "audit_log".into(),
                    resource_id: None,
                    case_id: filter.case_id,
                    citizen_id: filter.citizen_id,
                    purpose: Purpose::Audit,
                    status: 200,
                    filters: Some(serde_json::to_value(&filter).expect("serialisable")),
                    case_ids: vec![],
                    citizen_ids: vec![],
                },
            )?;
            let items = rows.into_iter().map(entry).collect::<Result<_, _>>()?;
            Ok(AuditPage { items, next_cursor, consultations })
        })
        .await?;
    Ok(web::Json(page))
}

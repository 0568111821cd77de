//! Operations endpoints outside `/api/v1`, without authentication: liveness, readiness and
//! Prometheus metrics.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{AppError, Problem};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(web::resource("/health/live").route(web::get().to(live)).default_service(not_allowed("GET")));
    cfg.service(web::resource("/health/ready").route(web::get().to(ready)).default_service(not_allowed("GET")));
    cfg.service(web::resource("/metrics").route(web::get().to(metrics)).default_service(not_allowed("GET")));
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// Readiness: the database answers; and each issuer's keys, so that an operator sees an
/// identity provider that has not answered (its tokens get 401 until it does).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    pub issuers: Vec<crate::auth::keys::KeyState>,
}

/// The process is up. Never touches the database.
#[utoipa::path(get, operation_id = "ops_live", path = "/health/live", tag = "operations",
    responses((status = 200, body = Health), (status = 406, description = "not_acceptable: Accept names no JSON", body = Problem)),
    security(()))]
pub async fn live(req: HttpRequest) -> Result<web::Json<Health>, AppError> {
    crate::api::kit::require_accepts(&req, "application/json")?;
    Ok(web::Json(Health { status: "live".into() }))
}

/// The database answers; 503 while it does not. The body shows each issuer's key state: an
/// issuer whose identity provider has not answered yet is `not_loaded` (its tokens get 401),
/// which does not make the instance unready for the others.
#[utoipa::path(get, operation_id = "ops_ready", path = "/health/ready", tag = "operations",
    responses((status = 200, body = Readiness), (status = 406, description = "not_acceptable: Accept names no JSON", body = Problem),
        (status = 503, body = Problem)),
    security(()))]
pub async fn ready(
    req: HttpRequest,
    db: web::Data<Db>,
    issuers: web::Data<crate::auth::Issuers>,
) -> Result<web::Json<Readiness>, AppError> {
    crate::api::kit::require_accepts(&req, "application/json")?;
    if db.ready().await {
        Ok(web::Json(Readiness { status: "ready".into(), issuers: issuers.key_states() }))
    } else {
        Err(AppError::ServiceUnavailable("the database does not answer".into()))
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, operation_id = "ops_metrics", path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 406, description = "not_acceptable: Accept names no plain text", body = Problem)),
    security(()))]
pub async fn metrics(req: HttpRequest, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    crate::api::kit::require_accepts(&req, "text/plain")?;
    let state = db.pool().state();
    let domain = db.run(|conn| Ok(crate::store::cases::gauges(conn)?)).await.ok();
    let body = crate::metrics::global().render((state.connections, state.idle_connections), domain.as_ref());
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body))
}

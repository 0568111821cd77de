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

/// The process is up. Never touches the database.
#[utoipa::path(get, operation_id = "ops_live", path = "/health/live", tag = "operations",
    responses((status = 200, body = Health), (status = 406, description = "not_acceptable: Accept names no JSON", body = Problem)),
    security(()))]
pub async fn live(req: HttpRequest) -> Result<web::Json<Health>, AppError> {
    crate::api::kit::require_accepts(&req, "application/json")?;
    Ok(web::Json(Health { status: "live".into() }))
}

/// The database answers; 503 while it does not.
#[utoipa::path(get, operation_id = "ops_ready", path = "/health/ready", tag = "operations",
    responses((status = 200, body = Health), (status = 406, description = "not_acceptable: Accept names no JSON", body = Problem),
        (status = 503, body = Problem)),
    security(()))]
pub async fn ready(req: HttpRequest, db: web::Data<Db>) -> Result<web::Json<Health>, AppError> {
    crate::api::kit::require_accepts(&req, "application/json")?;
    if db.ready().await {
        Ok(web::Json(Health { status: "ready".into() }))
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

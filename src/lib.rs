//! Helhed: holistic, cross-departmental case handling. This crate builds the actix-web
//! application; `main.rs` and the tests both start it through [`server`].

pub mod access;
pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod render;
pub mod request_id;
pub mod retention;
pub mod schema;
pub mod seed;
pub mod state;
pub mod store;
pub mod trace;
pub mod views;
pub mod webhooks;

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::AppError;
pub use crate::state::State;

/// The whole application: operations endpoints, Swagger UI, and the authenticated API.
pub fn app(
    state: State,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    api::kit::contract::install(openapi::document_value());
    App::new()
        .app_data(web::Data::new(state.db.clone()))
        .app_data(web::Data::from(state.issuers.clone()))
        .app_data(web::Data::new(state.clone()))
        .app_data(api::kit::extract::path_config())
        .wrap(from_fn(request_id::request_context))
        .configure(api::ops::configure)
        // The document as committed, byte for byte; Swagger UI reads it from there.
        .route(
            "/openapi.json",
            web::get().to(|| async { HttpResponse::Ok().content_type("application/json").body(openapi::document()) }),
        )
        .service(SwaggerUi::new("/swagger-ui/{_:.*}").config(utoipa_swagger_ui::Config::new(["/openapi.json"])))
        .route(
            "/swagger-ui",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect().insert_header(("Location", "/swagger-ui/")).finish()
            }),
        )
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(auth::authenticate))
                .configure(api::configure)
                .default_service(web::to(not_found)),
        )
        .default_service(web::to(not_found))
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Binds the application to `listener` with graceful shutdown on SIGTERM / Ctrl-C: in-flight
/// requests finish, new connections are refused.
pub fn server(state: State, listener: TcpListener, workers: Option<usize>) -> std::io::Result<Server> {
    // The contract is compiled before the first request, not by it.
    api::kit::contract::install(openapi::document_value());
    let mut server = HttpServer::new(move || app(state.clone())).shutdown_timeout(30);
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}

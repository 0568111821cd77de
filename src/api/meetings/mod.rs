//! Committee meetings: scheduling them, the agenda, the decisions taken with the citizen's
//! participation, and the minutes. A decision at a meeting is final (members come with full
//! authority), so decisions are never changed. `view` is what the handlers share.

pub mod agenda;
pub mod decisions;
pub mod minutes;
pub mod schedule;
pub mod view;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/committees/{id}/meetings")
            .route(web::get().to(schedule::list))
            .route(web::post().to(schedule::create))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/meetings/{id}").route(web::get().to(schedule::get)).default_service(not_allowed("GET")),
    );
    cfg.service(
        web::resource("/meetings/{id}/agenda")
            .route(web::post().to(agenda::add_to_agenda))
            .default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/meetings/{id}/decisions")
            .route(web::post().to(decisions::decide))
            .default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/meetings/{id}/minutes")
            .route(web::get().to(minutes::minutes))
            .default_service(not_allowed("GET")),
    );
}

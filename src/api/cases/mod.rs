//! Cases: the referral (*indstilling*) and its corrections, its screening (*visitation*), reading
//! one case, the list of the cases a caller sees and a case's history, the citizen's participation
//! between meetings, and closure. `view` is what the handlers share: the case as it is answered.

pub mod closure;
pub mod participation;
pub mod reading;
pub mod referral;
pub mod screening;
pub mod view;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/cases")
            .route(web::get().to(reading::list))
            .route(web::post().to(referral::refer))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/cases/{id}")
            .route(web::get().to(reading::get))
            .route(web::patch().to(referral::edit))
            .default_service(not_allowed("GET, PATCH")),
    );
    cfg.service(
        web::resource("/cases/{id}/screening")
            .route(web::post().to(screening::screen))
            .default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/cases/{id}/history").route(web::get().to(reading::history)).default_service(not_allowed("GET")),
    );
    cfg.service(
        web::resource("/cases/{id}/participation")
            .route(web::post().to(participation::participation))
            .default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/cases/{id}/closure").route(web::post().to(closure::close)).default_service(not_allowed("POST")),
    );
}

//! The HTTP API under `/api/v1`: one module (or folder) per resource, each with its request and
//! response types and thin handlers, and a `configure` that mounts its routes. What handlers are
//! built from is below them: `kit` (extractors, the request contract, paging, HTTP helpers), and
//! `crate::views` (request and response shapes more than one resource uses). No handler module
//! imports another.

pub mod audit;
pub mod budget;
pub mod cases;
pub mod citizens;
pub mod committees;
pub mod consents;
pub mod events;
pub mod follow_ups;
pub mod kit;
pub mod meetings;
pub mod offers;
pub mod ops;
pub mod plans;
pub mod stats;
pub mod subscriptions;
pub mod tasks;
pub mod transitions;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    citizens::configure(cfg);
    cases::configure(cfg);
    consents::configure(cfg);
    committees::configure(cfg);
    meetings::configure(cfg);
    plans::configure(cfg);
    budget::configure(cfg);
    events::configure(cfg);
    subscriptions::configure(cfg);
    stats::configure(cfg);
    offers::configure(cfg);
    follow_ups::configure(cfg);
    transitions::configure(cfg);
    tasks::configure(cfg);
    audit::configure(cfg);
}

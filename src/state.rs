//! What every request may use, built once at start-up and shared by all workers.

use std::sync::Arc;

use crate::auth::Issuers;
use crate::db::Db;
use crate::webhooks;

/// What every request may use: built once, shared by all workers.
#[derive(Clone)]
pub struct State {
    pub db: Db,
    pub issuers: Arc<Issuers>,
    pub max_frame_ore: i64,
    /// `HELHED_WEBHOOK_ALLOW`, for checking a subscription's destination.
    pub webhook_allow: webhooks::destination::Allow,
    /// Every event's CloudEvents `source`: `urn:helhed:<HELHED_INSTANCE>`.
    pub event_source: String,
}

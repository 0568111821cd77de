//! How the case handlers answer with a case (its view is `crate::views::case`), and the case a
//! change is made to, locked.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::api::kit::etag;
use crate::audit::{self, Entry, Purpose};
use crate::auth::Principal;
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::store::cases::CaseRow;
use crate::store::{self};

pub(super) fn with_etag(mut response: actix_web::HttpResponseBuilder, view: &CaseView) -> HttpResponse {
    response.insert_header((actix_web::http::header::ETAG, etag(view.version))).json(view)
}

/// A case view as a storable answer, with its ETag and the audit entry that records it.
pub(super) fn answer(status: StatusCode, view: &CaseView, entry: Entry) -> Answer {
    Answer::disclosing(status, view, entry).with_etag(etag(view.version))
}

pub(super) fn texts(items: &[String]) -> Vec<String> {
    items.iter().map(|t| t.trim().to_string()).collect()
}

pub(super) fn strings<T: Copy>(items: &[T], as_str: impl Fn(T) -> &'static str) -> Vec<String> {
    items.iter().map(|i| as_str(*i).to_string()).collect()
}

pub(super) fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// Loads a case the caller sees for a change, locked; a case they do not see is a recorded 404.
pub(super) fn lock_for_change(
    conn: &mut diesel::PgConnection,
    p: &Principal,
    id: Uuid,
    purpose: Purpose,
) -> Result<CaseRow, AppError> {
    store::cases::lock_visible(conn, p, id)?.ok_or_else(|| audit::deny(p, "case", id, purpose))
}

pub use crate::views::case::{
    Actor, BudgetSummary, CaseCitizen, CaseView, CommitteeRef, ConsentSummary, HistoryActor, ParticipationNoteView,
    PlanRef, Referral, Screening,
};

//! The HTTP API under `/api/v1`: one module per resource, each with its request and response
//! types and thin handlers, and a `configure` that mounts its routes.

pub mod audit;
pub mod budget;
pub mod cases;
pub mod citizens;
pub mod committees;
pub mod contract;
pub mod events;
pub mod extract;
pub mod follow_ups;
pub mod meetings;
pub mod offers;
pub mod ops;
pub mod plans;
pub mod stats;
pub mod subscriptions;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::Department;
use crate::error::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    citizens::configure(cfg);
    cases::configure(cfg);
    committees::configure(cfg);
    meetings::configure(cfg);
    plans::configure(cfg);
    budget::configure(cfg);
    events::configure(cfg);
    subscriptions::configure(cfg);
    stats::configure(cfg);
    offers::configure(cfg);
    follow_ups::configure(cfg);
    audit::configure(cfg);
}

/// A resource's answer to a method it does not have: 405 with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::route().to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(allow)) })
}

/// Whether the request's `Accept` admits `media` (`type/subtype`): no `Accept` admits anything;
/// otherwise an entry of that type, `type/*` or `*/*` with a non-zero `q`.
pub fn accepts(req: &actix_web::HttpRequest, media: &str) -> bool {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    accept.split(',').any(|entry| {
        let mut parts = entry.split(';').map(str::trim);
        let range = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .filter_map(|q| q.parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        q > 0.0 && (range == "*/*" || range == media || range == format!("{kind}/*"))
    })
}

/// 406 `not_acceptable` unless the request's `Accept` admits `media`.
pub fn require_accepts(req: &actix_web::HttpRequest, media: &'static str) -> Result<(), AppError> {
    if accepts(req, media) {
        Ok(())
    } else {
        Err(AppError::NotAcceptable(media))
    }
}

/// A person named in a request or a response: a caseworker, leader or staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PersonRef {
    /// The person's subject in their department's system (the token's `sub`).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sub: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub department: Department,
}

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `limit` of a list: default 50, at most 200.
pub fn page_limit(limit: Option<i64>) -> Result<i64, AppError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(AppError::validation("limit", "must be from 1 to 200")),
    }
}

/// Cuts a page fetched with `limit + 1` rows down to `limit`, returning the cursor of the
/// next page if there is one.
pub fn paginate<T>(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(&cursor);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The ETag of a versioned resource.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Checks `If-Match` against the current version: 412 when it names another one.
pub fn check_if_match(headers: &HeaderMap, version: i32) -> Result<(), AppError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let value = value.to_str().map_err(|_| AppError::PreconditionFailed)?;
    let current = etag(version);
    // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
    let matches = value.split(',').map(str::trim).any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

/// A short text in a list (e.g. a current intervention): 1–1000 characters, not blank. Only
/// the OpenAPI document's view of such an item; the Rust type stays `String`.
pub struct ShortText;

impl utoipa::PartialSchema for ShortText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(1000))
            .pattern(Some("\\S"))
            .into()
    }
}

impl utoipa::ToSchema for ShortText {}

/// A person's `sub` in a list (e.g. the members present): 1–255 characters.
pub struct SubText;

impl utoipa::PartialSchema for SubText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .into()
    }
}

impl utoipa::ToSchema for SubText {}

/// Each text of a list is non-empty and at most 1000 characters.
pub fn short_texts(items: &[String]) -> Result<(), ValidationError> {
    if items.iter().all(|t| !t.trim().is_empty() && t.chars().count() <= 1000) {
        Ok(())
    } else {
        Err(ValidationError::new("texts").with_message("each entry must be 1 to 1000 characters".into()))
    }
}

/// Keeps the first of each repeated value, in order.
pub fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

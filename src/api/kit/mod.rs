//! What every handler is built from, and nothing of any one resource: the extractors, the
//! request contract, paging, and the HTTP helpers below.

pub mod contract;
pub mod extract;
pub mod paging;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, HttpResponse};

use crate::error::AppError;

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

/// The media type to answer with, of those `offered` (the first is the default): the one the
/// request's `Accept` gives the highest `q`, each judged by the most specific range that names it
/// (`type/subtype` over `type/*` over `*/*`, RFC 9110 §12.5.1); a tie goes to the earlier one.
/// `None` when `Accept` admits none of them.
pub fn negotiate(req: &actix_web::HttpRequest, offered: &[&'static str]) -> Option<&'static str> {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return offered.first().copied();
    };
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let range = parts.next()?.to_ascii_lowercase();
            // A weight is 0 to 1 with at most three decimals (RFC 9110 §12.4.2); one that is not
            // refuses the range rather than being read as 1.
            let q = match parts.find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))) {
                None => 1.0,
                Some(q) if is_qvalue(q) => q.parse::<f32>().unwrap_or(0.0),
                Some(_) => 0.0,
            };
            (!range.is_empty()).then_some((range, q))
        })
        .collect();
    if ranges.is_empty() {
        return offered.first().copied();
    }
    let quality = |media: &str| -> f32 {
        let kind = media.split_once('/').map_or(media, |(k, _)| k);
        let wildcard = format!("{kind}/*");
        [media, wildcard.as_str(), "*/*"]
            .iter()
            .find_map(|r| ranges.iter().filter(|(range, _)| range == r).map(|(_, q)| *q).reduce(f32::max))
            .unwrap_or(0.0)
    };
    let mut best: Option<(&'static str, f32)> = None;
    for media in offered {
        let q = quality(media);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((media, q));
        }
    }
    best.map(|(media, _)| media)
}

/// `0`, `0.5`, `1.000`: a weight as RFC 9110 writes it.
fn is_qvalue(q: &str) -> bool {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    let digits = frac.len() <= 3 && frac.bytes().all(|b| b.is_ascii_digit());
    match int {
        "0" => digits,
        "1" => digits && frac.bytes().all(|b| b == b'0'),
        _ => false,
    }
}

/// 406 `not_acceptable` unless the request's `Accept` admits `media`.
pub fn require_accepts(req: &actix_web::HttpRequest, media: &'static str) -> Result<(), AppError> {
    if accepts(req, media) {
        Ok(())
    } else {
        Err(AppError::NotAcceptable(media))
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

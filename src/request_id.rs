//! The outermost middleware: gives every request an id (the caller's `X-Request-Id` when it is
//! safe to log, else a new one) and a W3C trace (the caller's `traceparent` when it is valid,
//! else a new one), writes one log line per request, and makes sure every error leaves as
//! problem+json.
//!
//! The log line carries method, route template, status, duration, request id, trace id and
//! `sub` — never the query string, a body or a token, since those can carry CPR numbers.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};

use crate::error::{AppError, ErrorCause};
use crate::logging;
use crate::trace::Trace;

pub const HEADER: &str = "x-request-id";
/// The W3C Trace Context header a caller may send.
pub const TRACEPARENT: &str = "traceparent";

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The `sub` of an authenticated caller, for the request's log line: set by whoever
/// authenticated the request.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// A caller's id is reused only if it is 1–64 characters of `[A-Za-z0-9._-]` and holds nothing
/// CPR-shaped, so it can neither forge a log line nor carry a CPR number into one.
pub fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !crate::logging::has_cpr(id)
}

/// A fresh request id: a random (version 4) UUID, drawn from the thread's generator, which
/// `Uuid::new_v4` is not: it asks the kernel (`getrandom`) on every call, a system call on
/// every request that brings no id of its own (docs/performance.md, seventh run).
fn new_id() -> String {
    use rand::Rng;
    uuid::Builder::from_random_bytes(rand::rng().random()).into_uuid().to_string()
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(new_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let trace = Trace::of_request(req.headers().get_all(TRACEPARENT).map(|v| v.as_bytes()));
    req.extensions_mut().insert(trace);
    let trace_id = trace.id();
    let method = req.method().clone();

    // Inner middleware answers with responses, not errors, so that every request is logged here.
    let mut res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            log::error!(
                "{} - error outside a response request_id={id} trace_id={trace_id}: {}",
                logging::value(method.as_str()),
                logging::value(&err.to_string())
            );
            return Err(err);
        }
    };
    res = as_problem(res);
    let route = res.request().match_pattern().map(|r| logging::value(&r)).unwrap_or_else(|| "-".to_string());
    let status = res.status();
    let sub = res.request().extensions().get::<Caller>().map(|c| logging::value(&c.0)).unwrap_or_else(|| "-".into());
    let method = logging::value(method.as_str());
    let elapsed = started.elapsed();
    let millis = elapsed.as_secs_f64() * 1000.0;
    // Unmatched paths share one label, so arbitrary URLs cannot grow the metrics.
    let template = if route == "-" { "unmatched" } else { route.as_str() };
    crate::metrics::global().observe(metric_method(&method), template, status.as_u16(), elapsed);
    let cause = res.response().extensions().get::<ErrorCause>().map(|c| logging::value(&c.0));
    if status.is_server_error() {
        log::error!(
            "{method} {route} {} {millis:.1}ms request_id={id} trace_id={trace_id} sub={sub} cause={}",
            status.as_u16(),
            cause.as_deref().unwrap_or("-")
        );
    } else {
        log::info!("{method} {route} {} {millis:.1}ms request_id={id} trace_id={trace_id} sub={sub}", status.as_u16());
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}

/// The method as a metrics label: any method we do not serve shares one label, so arbitrary
/// method names cannot grow the metrics either.
fn metric_method(method: &str) -> &str {
    match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "other",
    }
}

/// Any error response not already problem+json (from actix itself, or a library) is replaced
/// by the problem for its status, so clients see one error format.
fn as_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return res;
    }
    let error = match status.as_u16() {
        400 => AppError::MalformedJson("the request could not be read".into()),
        401 => AppError::NoCredentials,
        403 => AppError::Forbidden("not allowed".into()),
        404 => AppError::NotFound,
        405 => AppError::MethodNotAllowed("other methods"),
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType,
        412 => AppError::PreconditionFailed,
        422 => AppError::Validation(vec![]),
        503 => AppError::ServiceUnavailable("unavailable".into()),
        s if s >= 500 => AppError::Internal(format!("status {s} without a problem body")),
        _ => AppError::Validation(vec![]),
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response: HttpResponse = error.error_response();
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    ServiceResponse::new(req, response)
}

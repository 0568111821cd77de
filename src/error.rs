//! One error type for the whole service, answered as RFC 9457 problem details with a stable
//! `code`. Details are written by us, never copied from user input or the database, so no
//! CPR number or SQL can reach a response.
//!
//! The ground floor: it knows HTTP and the domain's field errors, nothing else of the service.
//! A database error becomes an `AppError` in `db`, a refused access is put on record by `audit`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::FieldError;

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; one per `code`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Stable and machine-readable, e.g. `validation_failed`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Each field that is wrong, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `budget_exceeded`: what is left of the frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_ore: Option<i64>,
}

/// An access the rules refused: answered 404 (the caller does not take part) or 403 (they may
/// not do this to the case), or with the domain's own answer to a caller who sees the case.
/// The layer that refused it puts it on record once the refused transaction rolled back; what
/// it writes travels in `record`, which this type does not look into.
pub struct Refusal {
    /// For a 403: the rule that refused it. `None`: a 404.
    pub forbidden: Option<String>,
    /// A refusal of the domain to a caller who does see the case (409 `invalid_transition`, 409
    /// `budget_exceeded` with what remains, 404 for a plan not adopted yet …): its answer tells
    /// something of the case, so it is on record as a read of the case with the answer's status.
    /// When set, the caller gets this answer, not a 403 or 404.
    pub answer: Option<Box<AppError>>,
    /// What goes on record, for the layer that made the refusal.
    pub record: Box<dyn std::any::Any + Send + Sync>,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match (&self.answer, &self.forbidden) {
            (Some(answer), _) => answer.status_code().as_u16(),
            (None, Some(_)) => 403,
            (None, None) => 404,
        }
    }
}

impl std::fmt::Debug for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refusal").field("forbidden", &self.forbidden).field("answer", &self.answer).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("malformed JSON")]
    MalformedJson(String),
    /// No credentials came at all (RFC 6750: the challenge then has no `error` attribute).
    #[error("unauthorized: no credentials")]
    NoCredentials,
    /// Credentials came and are not valid, for the reason given.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("not found (denied)")]
    Denied(Box<Refusal>),
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    #[error("conflict")]
    Conflict(String),
    #[error("invalid transition")]
    InvalidTransition(String),
    /// An initial decision lacks the plan consents it needs, each named.
    #[error("consent missing")]
    ConsentMissing(Vec<FieldError>),
    /// The active case's plan consent is withdrawn or expired: only closure is possible.
    #[error("consent withdrawn")]
    ConsentWithdrawn,
    /// A transfer to the adult committee more than a year before the citizen turns 30.
    #[error("transfer not due")]
    TransferNotDue(Vec<FieldError>),
    #[error("budget exceeded")]
    BudgetExceeded { remaining_ore: i64 },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The caller's `Accept` admits none of the media types the resource has (the one named).
    #[error("not acceptable")]
    NotAcceptable(&'static str),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("outside target group")]
    OutsideTargetGroup(Vec<FieldError>),
    #[error("referral incomplete")]
    ReferralIncomplete(Vec<FieldError>),
    #[error("quorum not met")]
    QuorumNotMet(Vec<FieldError>),
    #[error("composition invalid")]
    CompositionInvalid(Vec<FieldError>),
    #[error("not on agenda")]
    NotOnAgenda,
    #[error("unknown reference")]
    UnknownReference(Vec<FieldError>),
    #[error("inconsistent request")]
    InconsistentRequest(Vec<FieldError>),
    #[error("date not allowed")]
    DateNotAllowed(Vec<FieldError>),
    #[error("frame above maximum")]
    FrameAboveMaximum(Vec<FieldError>),
    #[error("cpr invalid")]
    CprInvalid(Vec<FieldError>),
    #[error("invalid cursor")]
    InvalidCursor(Vec<FieldError>),
    /// A query parameter the operation does not have, or one given twice: the document cannot
    /// forbid them, so this is not `validation_failed`; a typo of a filter is still refused
    /// rather than silently ignored.
    #[error("unexpected parameter")]
    UnexpectedParameter(Vec<FieldError>),
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// A webhook destination the rule refuses; the reason repeats nothing the caller sent.
    #[error("destination not allowed")]
    DestinationNotAllowed(&'static str),
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// The cause is for the log only (it must carry no personal data); the caller sees a
    /// generic 500.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Every `code` a problem can carry, for the OpenAPI document's enum.
pub const CODES: &[&str] = &[
    "malformed_json",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "conflict",
    "invalid_transition",
    "budget_exceeded",
    "consent_missing",
    "consent_withdrawn",
    "transfer_not_due",
    "precondition_failed",
    "payload_too_large",
    "unsupported_media_type",
    "validation_failed",
    "outside_target_group",
    "referral_incomplete",
    "quorum_not_met",
    "composition_invalid",
    "not_on_agenda",
    "unknown_reference",
    "inconsistent_request",
    "date_not_allowed",
    "frame_above_maximum",
    "cpr_invalid",
    "invalid_cursor",
    "unexpected_parameter",
    "idempotency_key_reused",
    "destination_not_allowed",
    "service_unavailable",
    "internal_error",
];

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn code(&self) -> &'static str {
        if let AppError::Denied(d) = self {
            if let Some(answer) = &d.answer {
                return answer.code();
            }
        }
        match self {
            AppError::MalformedJson(_) => "malformed_json",
            AppError::NoCredentials | AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Denied(d) if d.forbidden.is_some() => "forbidden",
            AppError::NotFound | AppError::Denied(_) => "not_found",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::InvalidTransition(_) => "invalid_transition",
            AppError::BudgetExceeded { .. } => "budget_exceeded",
            AppError::ConsentMissing(_) => "consent_missing",
            AppError::ConsentWithdrawn => "consent_withdrawn",
            AppError::TransferNotDue(_) => "transfer_not_due",
            AppError::PreconditionFailed => "precondition_failed",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::NotAcceptable(_) => "not_acceptable",
            AppError::Validation(_) => "validation_failed",
            AppError::OutsideTargetGroup(_) => "outside_target_group",
            AppError::ReferralIncomplete(_) => "referral_incomplete",
            AppError::QuorumNotMet(_) => "quorum_not_met",
            AppError::CompositionInvalid(_) => "composition_invalid",
            AppError::NotOnAgenda => "not_on_agenda",
            AppError::UnknownReference(_) => "unknown_reference",
            AppError::InconsistentRequest(_) => "inconsistent_request",
            AppError::DateNotAllowed(_) => "date_not_allowed",
            AppError::FrameAboveMaximum(_) => "frame_above_maximum",
            AppError::CprInvalid(_) => "cpr_invalid",
            AppError::InvalidCursor(_) => "invalid_cursor",
            AppError::UnexpectedParameter(_) => "unexpected_parameter",
            AppError::IdempotencyKeyReused => "idempotency_key_reused",
            AppError::DestinationNotAllowed(_) => "destination_not_allowed",
            AppError::ServiceUnavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::MalformedJson(_) => "The request body is not valid JSON",
            AppError::NoCredentials | AppError::Unauthorized(_) => "A valid bearer token is required",
            AppError::Forbidden(_) => "Your role does not allow this operation",
            AppError::Denied(d) if d.forbidden.is_some() => "Your role does not allow this operation",
            AppError::NotFound | AppError::Denied(_) => "Not found",
            AppError::MethodNotAllowed(_) => "Method not allowed",
            AppError::Conflict(_) => "Conflict with the current state",
            AppError::InvalidTransition(_) => "The case cannot make this move",
            AppError::BudgetExceeded { .. } => "The spend exceeds the remaining budget frame",
            AppError::ConsentMissing(_) => "The citizen's consent to the plan is missing",
            AppError::ConsentWithdrawn => "The citizen's consent to the plan is withdrawn or expired",
            AppError::TransferNotDue(_) => "The citizen does not turn 30 within a year",
            AppError::PreconditionFailed => "The resource has changed",
            AppError::PayloadTooLarge => "The request body is too large",
            AppError::UnsupportedMediaType => "The request body must be application/json",
            AppError::NotAcceptable(_) => "None of the accepted media types is available",
            AppError::Validation(_) => "The request is not valid",
            AppError::OutsideTargetGroup(_) => "The citizen is outside the target group",
            AppError::ReferralIncomplete(_) => "The referral is incomplete",
            AppError::QuorumNotMet(_) => "The committee is not quorate",
            AppError::CompositionInvalid(_) => "The committee's composition breaks the rules",
            AppError::NotOnAgenda => "The case is not on this meeting's agenda",
            AppError::UnknownReference(_) => "An id in the request names nothing that exists",
            AppError::InconsistentRequest(_) => "The request contradicts itself or the resource",
            AppError::DateNotAllowed(_) => "A date is not allowed here",
            AppError::FrameAboveMaximum(_) => "The budget frame is above the municipality's maximum",
            AppError::CprInvalid(_) => "The CPR number is not a valid one",
            AppError::InvalidCursor(_) => "The cursor is not one this API returned",
            AppError::UnexpectedParameter(_) => "The query string names a parameter this operation does not have",
            AppError::IdempotencyKeyReused => "The idempotency key was used with another request",
            AppError::DestinationNotAllowed(_) => "Webhooks may not be delivered there",
            AppError::ServiceUnavailable(_) => "The service is temporarily unavailable",
            AppError::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> Option<String> {
        Some(match self {
            AppError::MalformedJson(d) | AppError::Forbidden(d) | AppError::Conflict(d) => d.clone(),
            AppError::InvalidTransition(d) => d.clone(),
            AppError::NoCredentials => "send Authorization: Bearer <token>".to_string(),
            AppError::Unauthorized(why) => (*why).to_string(),
            AppError::Denied(d) if d.forbidden.is_some() => d.forbidden.clone().unwrap_or_default(),
            AppError::NotFound | AppError::Denied(_) => "no such resource, or you do not take part in it".to_string(),
            AppError::MethodNotAllowed(allow) => format!("this resource allows {allow}"),
            AppError::BudgetExceeded { remaining_ore } => {
                format!("only {remaining_ore} øre remain of the budget frame; a larger spend must go to the committee")
            }
            AppError::ConsentMissing(_) => "see errors for each consent the decision needs".to_string(),
            AppError::TransferNotDue(_) => {
                "a youth case moves to the adult committee within a year of the 30th birthday".to_string()
            }
            AppError::ConsentWithdrawn => {
                "without a current plan consent the case can only be closed; record a new consent first".to_string()
            }
            AppError::PreconditionFailed => {
                "If-Match does not match the current ETag; fetch the resource again".to_string()
            }
            AppError::PayloadTooLarge => "request bodies are limited to 256 KiB".to_string(),
            AppError::UnsupportedMediaType => "send the body with Content-Type: application/json".to_string(),
            AppError::NotAcceptable(media) => format!("this resource is answered as {media}"),
            AppError::Validation(_) => "see errors for each field".to_string(),
            AppError::OutsideTargetGroup(_) => "see errors for the rule that excludes the citizen".to_string(),
            AppError::ReferralIncomplete(_) => "see errors for what the referral lacks".to_string(),
            AppError::QuorumNotMet(_) | AppError::CompositionInvalid(_) => {
                "see errors for each broken rule".to_string()
            }
            AppError::NotOnAgenda => "put the case on the meeting's agenda first".to_string(),
            AppError::UnknownReference(_) => "see errors for each id that names nothing".to_string(),
            AppError::InconsistentRequest(_) => "see errors for each rule the fields break together".to_string(),
            AppError::DateNotAllowed(_) => "see errors for each date the rules refuse".to_string(),
            AppError::FrameAboveMaximum(_) => "see errors; the maximum is HELHED_MAX_FRAME_ORE".to_string(),
            AppError::CprInvalid(_) => "see errors".to_string(),
            AppError::InvalidCursor(_) => "start again without a cursor, or pass the next_cursor of a page".to_string(),
            AppError::UnexpectedParameter(_) => {
                "see errors; each parameter once, and only those the operation documents".to_string()
            }
            AppError::IdempotencyKeyReused => {
                "this Idempotency-Key was first used with a different request body".to_string()
            }
            AppError::DestinationNotAllowed(why) => (*why).to_string(),
            AppError::ServiceUnavailable(_) => "try again shortly".to_string(),
            AppError::Internal(_) => "the error has been logged; quote the X-Request-Id response header".to_string(),
        })
    }

    fn errors(&self) -> Vec<FieldError> {
        match self {
            AppError::Validation(e)
            | AppError::OutsideTargetGroup(e)
            | AppError::ReferralIncomplete(e)
            | AppError::QuorumNotMet(e)
            | AppError::CompositionInvalid(e)
            | AppError::ConsentMissing(e)
            | AppError::TransferNotDue(e)
            | AppError::UnknownReference(e)
            | AppError::InconsistentRequest(e)
            | AppError::DateNotAllowed(e)
            | AppError::FrameAboveMaximum(e)
            | AppError::CprInvalid(e)
            | AppError::InvalidCursor(e)
            | AppError::UnexpectedParameter(e) => e.clone(),
            _ => Vec::new(),
        }
    }

    pub fn problem(&self) -> Problem {
        if let AppError::Denied(d) = self {
            if let Some(answer) = &d.answer {
                return answer.problem();
            }
        }
        let code = self.code();
        Problem {
            type_: format!("urn:helhed:problem:{code}"),
            title: self.title().to_string(),
            status: self.status_code().as_u16(),
            code: code.to_string(),
            detail: self.detail(),
            errors: self.errors(),
            remaining_ore: match self {
                AppError::BudgetExceeded { remaining_ore } => Some(*remaining_ore),
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        if let AppError::Denied(d) = self {
            if let Some(answer) = &d.answer {
                return answer.status_code();
            }
        }
        match self {
            AppError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            AppError::NoCredentials | AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Denied(d) if d.forbidden.is_some() => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::Denied(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_)
            | AppError::InvalidTransition(_)
            | AppError::BudgetExceeded { .. }
            | AppError::ConsentWithdrawn => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::Validation(_)
            | AppError::OutsideTargetGroup(_)
            | AppError::ReferralIncomplete(_)
            | AppError::QuorumNotMet(_)
            | AppError::CompositionInvalid(_)
            | AppError::ConsentMissing(_)
            | AppError::TransferNotDue(_)
            | AppError::NotOnAgenda
            | AppError::UnknownReference(_)
            | AppError::InconsistentRequest(_)
            | AppError::DateNotAllowed(_)
            | AppError::FrameAboveMaximum(_)
            | AppError::CprInvalid(_)
            | AppError::InvalidCursor(_)
            | AppError::UnexpectedParameter(_)
            | AppError::IdempotencyKeyReused
            | AppError::DestinationNotAllowed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            AppError::NoCredentials => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"helhed\""));
            }
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"helhed\", error=\"invalid_token\""));
            }
            AppError::ServiceUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "2"));
            }
            AppError::MethodNotAllowed(allow) => {
                response.insert_header((header::ALLOW, *allow));
            }
            _ => {}
        }
        // The request id is added by the request middleware, which also logs internal causes.
        response.extensions_mut().insert(ErrorCause(self.to_string()));
        response.body(serde_json::to_string(&self.problem()).expect("a problem serialises"))
    }
}

/// The internal description of an error, carried on the response for the request log.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each kind; the match below has no wildcard, so a new variant does not
    /// compile until it is listed here (and its code in `CODES`).
    fn one_of_each() -> Vec<AppError> {
        let e = || vec![FieldError::new("f", "m")];
        let all = vec![
            AppError::MalformedJson("x".into()),
            AppError::NoCredentials,
            AppError::Unauthorized("x"),
            AppError::Forbidden("x".into()),
            AppError::NotFound,
            AppError::MethodNotAllowed("GET"),
            AppError::Conflict("x".into()),
            AppError::InvalidTransition("x".into()),
            AppError::BudgetExceeded { remaining_ore: 1 },
            AppError::ConsentMissing(e()),
            AppError::ConsentWithdrawn,
            AppError::TransferNotDue(e()),
            AppError::PreconditionFailed,
            AppError::PayloadTooLarge,
            AppError::UnsupportedMediaType,
            AppError::NotAcceptable("text/plain"),
            AppError::Validation(e()),
            AppError::OutsideTargetGroup(e()),
            AppError::ReferralIncomplete(e()),
            AppError::QuorumNotMet(e()),
            AppError::CompositionInvalid(e()),
            AppError::NotOnAgenda,
            AppError::UnknownReference(e()),
            AppError::InconsistentRequest(e()),
            AppError::DateNotAllowed(e()),
            AppError::FrameAboveMaximum(e()),
            AppError::CprInvalid(e()),
            AppError::InvalidCursor(e()),
            AppError::UnexpectedParameter(e()),
            AppError::IdempotencyKeyReused,
            AppError::DestinationNotAllowed("x"),
            AppError::ServiceUnavailable("x".into()),
            AppError::Internal("x".into()),
        ];
        for error in &all {
            match error {
                AppError::MalformedJson(_)
                | AppError::NoCredentials
                | AppError::Unauthorized(_)
                | AppError::Forbidden(_)
                | AppError::NotFound
                | AppError::Denied(_)
                | AppError::MethodNotAllowed(_)
                | AppError::Conflict(_)
                | AppError::InvalidTransition(_)
                | AppError::BudgetExceeded { .. }
                | AppError::ConsentMissing(_)
                | AppError::ConsentWithdrawn
                | AppError::TransferNotDue(_)
                | AppError::PreconditionFailed
                | AppError::PayloadTooLarge
                | AppError::UnsupportedMediaType
                | AppError::NotAcceptable(_)
                | AppError::Validation(_)
                | AppError::OutsideTargetGroup(_)
                | AppError::ReferralIncomplete(_)
                | AppError::QuorumNotMet(_)
                | AppError::CompositionInvalid(_)
                | AppError::NotOnAgenda
                | AppError::UnknownReference(_)
                | AppError::InconsistentRequest(_)
                | AppError::DateNotAllowed(_)
                | AppError::FrameAboveMaximum(_)
                | AppError::CprInvalid(_)
                | AppError::InvalidCursor(_)
                | AppError::UnexpectedParameter(_)
                | AppError::IdempotencyKeyReused
                | AppError::DestinationNotAllowed(_)
                | AppError::ServiceUnavailable(_)
                | AppError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_code_is_listed_for_the_document() {
        for error in one_of_each() {
            assert!(CODES.contains(&error.code()), "{} is not in CODES", error.code());
            let problem = error.problem();
            assert_eq!(problem.status, error.status_code().as_u16());
            assert_eq!(problem.type_, format!("urn:helhed:problem:{}", error.code()));
        }
    }
}

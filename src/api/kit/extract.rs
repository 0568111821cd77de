//! Request extractors that answer every failure as problem+json: a JSON body (415 wrong content
//! type, 413 over 256 KiB, 400 malformed, 422 unknown fields, wrong types, NUL characters or
//! validation rules) and query strings. No rejected value is ever echoed back or logged.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use sha2::Digest;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::domain::FieldError;
use crate::error::AppError;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 256 * 1024;

/// A JSON request body, deserialised strictly and validated, with a digest of its canonical
/// form (for `Idempotency-Key`).
pub struct Json<T> {
    value: T,
    digest: [u8; 32],
}

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.value
    }

    /// SHA-256 of the body with object keys sorted: the same request however it is spaced.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

fn canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(key).expect("a string serialises"));
                out.push(b':');
                canonical(&map[key], out);
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        other => out.extend(serde_json::to_vec(other).expect("a value serialises")),
    }
}

/// `application/json`, in UTF-8 (the only charset JSON has, RFC 8259 §8.1): a body that says
/// it is UTF-16 or Latin-1 would be read as something it is not.
fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == "application"
                && mime.subtype() == "json"
                && mime.suffix().is_none()
                && mime.get_param("charset").is_none_or(|c| c.as_str().eq_ignore_ascii_case("utf-8"))
        }
        _ => false,
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Json<T>, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let operation = (req.method().to_string(), req.match_pattern().unwrap_or_default());
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > BODY_LIMIT) {
                return Err(AppError::PayloadTooLarge);
            }
            if !json {
                return Err(AppError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| AppError::MalformedJson("the request body could not be read".into()))?;
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(AppError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            parse(&operation.0, &operation.1, &body)
        })
    }
}

/// Parses a JSON body and validates it: against the OpenAPI document's schema of the operation
/// (`method`, route template) first, so every wrong field is listed, then by serde and the
/// type's own rules, which the document repeats and so should never be the ones to refuse.
pub fn parse<T: DeserializeOwned + Validate>(method: &str, template: &str, body: &[u8]) -> Result<Json<T>, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::MalformedJson(format!("not valid JSON (line {}, column {})", e.line(), e.column())))?;
    super::contract::contract().check_body(method, template, &value)?;
    // The document refuses NUL in every text; this catches any it does not describe (a key).
    if let Some(path) = find_nul(&value, String::new()) {
        return Err(AppError::validation(path, "text may not contain the NUL character (\\u0000)"));
    }
    // JSON Schema counts 100.0 as the integer 100; so does the digest, and so does serde.
    let value = integral(value);
    let mut bytes = Vec::with_capacity(body.len());
    canonical(&value, &mut bytes);
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let value: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let (path, message) = describe(&path, &e.inner().to_string());
        AppError::validation(path, message)
    })?;
    value.validate().map_err(|e| AppError::Validation(flatten(&e, "")))?;
    Ok(Json { value, digest })
}

/// Every number with no fraction, written as a float (`100.0`), as the integer it is.
fn integral(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, integral(v))).collect()),
        other => other,
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() { "body".into() } else { path }),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| find_nul(v, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => {
            map.iter().find_map(
                |(k, v)| {
                    if k.contains('\0') {
                        Some(join(&path, "(key)"))
                    } else {
                        find_nul(v, join(&path, k))
                    }
                },
            )
        }
        _ => None,
    }
}

/// A name we may repeat in an error: a plain identifier that cannot hold a CPR number.
fn safe_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// A path segment we may repeat: a field name of ours, optionally indexed (`goals[0]`).
fn safe_segment(segment: &str) -> bool {
    let name = segment.split('[').next().unwrap_or(segment);
    let indexes = &segment[name.len()..];
    safe_name(name) && indexes.bytes().all(|b| b.is_ascii_digit() || b == b'[' || b == b']')
}

/// The request's path of a field, cut before the first segment that is not one of ours (an
/// unknown key is the caller's text and could hold anything).
fn safe_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        return String::new();
    }
    path.split('.').take_while(|s| safe_segment(s)).collect::<Vec<_>>().join(".")
}

/// Rewrites a serde message so it keeps what was expected and drops what was sent.
pub fn describe(path: &str, message: &str) -> (String, String) {
    let path = safe_path(path);
    let or_body = |p: String| if p.is_empty() { "body".to_string() } else { p };
    if message.starts_with("unknown field") {
        // serde_path_to_error's path ends with the unknown key; it is named only if harmless.
        return (or_body(path), "unknown field: the request names a field this API does not have".into());
    }
    if message.starts_with("missing field") {
        let field = message.split('`').nth(1).filter(|f| safe_name(f)).unwrap_or_default();
        return (or_body(join(&path, field)), "is required".into());
    }
    let at = or_body(path);
    if let Some((_, expected)) = message.split_once(", expected ") {
        let expected = expected.split(" at line ").next().unwrap_or(expected).replace('`', "");
        let expected = match expected.as_str() {
            "i64" | "i32" | "i16" | "u64" | "u32" | "u16" => "a whole number in range".to_string(),
            _ => expected,
        };
        return (at, format!("must be {expected}"));
    }
    (at, "is not valid".into())
}

/// Flattens validator's errors into field paths, using our messages, never the value.
pub fn flatten(errors: &ValidationErrors, prefix: &str) -> Vec<FieldError> {
    let mut out = Vec::new();
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by_key(|(name, _)| name.to_string());
    for (field, kind) in fields {
        let path = join(prefix, field);
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = match &e.message {
                        Some(m) => m.to_string(),
                        None => rule_message(e),
                    };
                    out.push(FieldError::new(path.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => out.extend(flatten(inner, &path)),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &format!("{path}[{i}]")));
                }
            }
        }
    }
    out
}

fn rule_message(e: &validator::ValidationError) -> String {
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be from {min} to {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "length is not valid".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be from {min} to {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        code => format!("is not valid ({code})"),
    }
}

/// Strict query strings: unknown parameters and bad values are answered 422 naming the
/// parameter, never its value.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Query<T>, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let template = req.match_pattern().unwrap_or_default();
        if let Err(e) = super::contract::contract().check_query(req.method().as_str(), &template, req.query_string()) {
            return std::future::ready(Err(e));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(req.query_string().as_bytes()));
        std::future::ready(serde_path_to_error::deserialize(deserializer).map(Query).map_err(|e| {
            let path = e.path().to_string();
            let (field, message) = describe(&path, &e.inner().to_string());
            AppError::validation(field, message)
        }))
    }
}

/// Path segments that do not parse (a malformed id) mean the resource does not exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into())
}

/// The `{id}` of a path. actix's own `Path` extractor logs the raw path when it fails to parse,
/// and a path can carry anything (a CPR number pasted by mistake), so ids are read here: an id
/// that is not a UUID simply names nothing.
pub struct Id(pub uuid::Uuid);

impl FromRequest for Id {
    type Error = AppError;
    type Future = std::future::Ready<Result<Id, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.match_info().get("id").and_then(|s| uuid::Uuid::parse_str(s).ok());
        std::future::ready(id.map(Id).ok_or(AppError::NotFound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_never_echoes_values() {
        let (f, m) = describe("cpr", "invalid type: integer `1234567890`, expected a string");
        assert_eq!((f.as_str(), m.as_str()), ("cpr", "must be a string"));
        let (f, m) = describe("outcome", "unknown variant `0101901234`, expected `accepted` or `declined`");
        assert_eq!(f, "outcome");
        assert!(!m.contains("0101901234"));
        let (f, _) = describe("exclusions.foo", "unknown field `foo`, expected one of `a`");
        assert_eq!(f, "exclusions.foo");
        let (f, _) = describe("0101901234", "unknown field `0101901234`, expected one of `a`");
        assert_eq!(f, "body");
        let (f, _) = describe("exclusions.x0101901234", "unknown field `x0101901234`, expected one of `a`");
        assert_eq!(f, "exclusions");
        let (f, m) = describe(".", "missing field `name`");
        assert_eq!((f.as_str(), m.as_str()), ("name", "is required"));
    }
}

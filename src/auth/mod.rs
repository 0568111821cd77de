//! Who is calling: bearer tokens from the departmental systems, verified against their issuer's
//! keys, become a [`Principal`]. Every path under `/api/v1` passes through [`authenticate`], so
//! no handler can forget it.

pub mod cache;
pub mod issuers;
pub mod keys;

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use jsonwebtoken::errors::ErrorKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use issuers::Issuers;
use issuers::Lookup;
use keys::RemoteKeys;

use crate::domain::{Department, Role};
use crate::error::AppError;
use crate::request_id::{Caller, RequestId};

/// The claims Helhed reads. Registered claims are checked by the validation of the issuer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    pub dept: String,
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An authenticated caller: a person or a system account of a department.
#[derive(Debug, Clone)]
pub struct Principal {
    pub iss: String,
    pub sub: String,
    pub dept: Department,
    pub roles: Vec<Role>,
    pub name: Option<String>,
    /// The request this principal made, for the audit log.
    pub request_id: String,
    /// The request's W3C trace, recorded with every event it emits (set by [`authenticate`]).
    pub trace: Option<crate::trace::Trace>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// 403 unless the principal holds one of `roles`.
    pub fn require_any(&self, roles: &[Role], operation: &str) -> Result<(), AppError> {
        if self.has_any(roles) {
            Ok(())
        } else {
            let names: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::Forbidden(format!("{operation} needs the role {}", names.join(" or "))))
        }
    }
}

/// The longest `sub` accepted, in bytes: it is stored and indexed with every case it touches.
pub const MAX_SUB_BYTES: usize = 255;
/// The longest `name` accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Whether the token's protected header has a `crit` member (read from the header itself:
/// the JWT library's header type drops members it does not know).
fn names_critical_extensions(token: &str) -> bool {
    use base64::Engine;
    let Some(encoded) = token.split('.').next() else { return false };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok())
        .is_some_and(|header| header.contains_key("crit"))
}

/// Why a token was refused (the 401's detail), and whether fetching its issuer's keys again
/// might change that.
pub struct Refused {
    pub reason: &'static str,
    /// The token names a key its identity provider's set does not hold (yet).
    pub fetch: Option<Arc<RemoteKeys>>,
}

impl From<&'static str> for Refused {
    fn from(reason: &'static str) -> Refused {
        Refused { reason, fetch: None }
    }
}

/// A claim by its configured name: a top-level claim, or, when there is none of that name and
/// the name has dots, the path into nested objects.
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    claims.get(name).or_else(|| {
        let mut path = name.split('.');
        let first = claims.get(path.next()?)?;
        name.contains('.').then_some(())?;
        path.try_fold(first, |v, part| v.get(part))
    })
}

/// Verifies a bearer token and returns the principal, or the reason for a 401. A token verified
/// lately under the same keys is not checked again ([`cache`]).
pub fn verify(issuers: &Issuers, token: &str, request_id: &str) -> Result<Principal, Refused> {
    let key = cache::key(token);
    let now = std::time::Instant::now();
    let keys_now = |iss: &str| issuers.get(iss).map(issuers::Issuer::key_generation);
    if let Some(mut principal) = issuers.verified.get(&key, now, keys_now) {
        principal.request_id = request_id.to_string();
        return Ok(principal);
    }
    let (principal, exp, generation) = verify_token(issuers, token, request_id)?;
    issuers.verified.put(key, &principal, exp, generation, now);
    Ok(principal)
}

/// Every check of a token: the principal, the token's `exp`, and the key generation of its
/// issuer read before its key was.
fn verify_token(issuers: &Issuers, token: &str, request_id: &str) -> Result<(Principal, i64, u64), Refused> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| "the token is malformed or its algorithm is not allowed")?;
    if names_critical_extensions(token) {
        // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject
        // the token, and this service understands none.
        return Err("the token names critical header extensions (crit), which this service does not support".into());
    }
    // The issuer is read before the signature is checked, only to choose the key; nothing
    // else from the unverified claims is used.
    #[derive(Deserialize)]
    struct Unverified {
        iss: Option<String>,
    }
    let unverified: Unverified =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| "the token is malformed")?;
    let issuer = unverified.iss.as_deref().and_then(|iss| issuers.get(iss)).ok_or("unknown issuer")?;
    if header.alg != issuer.algorithm {
        return Err("the token's algorithm is not its issuer's".into());
    }
    let generation = issuer.key_generation();
    let key = match issuer.key_for(header.kid.as_deref()) {
        Lookup::Found(key) => key,
        Lookup::Missing => return Err("the issuer holds no such key (kid)".into()),
        Lookup::NotYet(remote) => {
            let reason = if remote.keys().is_empty() {
                "the issuer's keys are not loaded: its identity provider has not answered yet"
            } else {
                "the issuer holds no such key (kid)"
            };
            return Err(Refused { reason, fetch: Some(remote) });
        }
    };
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &issuer.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => "the token has expired",
            ErrorKind::ImmatureSignature => "the token is not yet valid",
            ErrorKind::InvalidAudience => "the token is for another audience",
            ErrorKind::InvalidIssuer => "unknown issuer",
            ErrorKind::InvalidSignature => "the token's signature is not valid",
            ErrorKind::InvalidAlgorithm => "the token's algorithm is not its issuer's",
            ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp, iss, aud, sub)",
            _ => "the token is malformed",
        })?;
    let claims = data.claims;
    // An OpenID Connect ID token says who signed in to some client; it is no access token for
    // this service (Keycloak marks it `typ: ID`; a header `typ` of `id_token+jwt` says the same).
    let id_token = claims.get("typ").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("id"))
        || header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("id_token+jwt"));
    if id_token {
        return Err("the token is an ID token, not an access token".into());
    }
    let names = &issuer.claims;
    let sub = match claim(&claims, &names.sub) {
        None => return Err("the token lacks a required claim (exp, iss, aud, sub)".into()),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(_) => return Err("the token's sub is missing or empty".into()),
    };
    if sub.len() > MAX_SUB_BYTES || sub.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
        return Err("the token's sub is longer than 255 bytes or holds control characters".into());
    }
    let name = match claims.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err("the token is malformed".into()),
    };
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err("the token's name is longer than 255 characters".into());
    }
    let dept = match issuer.department {
        Some(fixed) => fixed,
        None => {
            let dept = claim(&claims, &names.dept).and_then(Value::as_str).ok_or("the token has no dept")?;
            Department::parse(dept).ok_or("unknown department")?
        }
    };
    if !issuer.departments.contains(&dept) {
        return Err("the issuer may not speak for this department".into());
    }
    let roles: Vec<&str> = match claim(&claims, &names.roles) {
        Some(Value::Array(items)) => {
            items.iter().map(|r| r.as_str().ok_or("unknown role")).collect::<Result<_, _>>()?
        }
        _ => Vec::new(),
    };
    if roles.is_empty() {
        return Err("the token has no role".into());
    }
    let roles = if issuer.from_provider() {
        // An identity provider's roles claim also holds other applications' roles (Keycloak's
        // default realm roles, an Entra app's other roles): those are passed over.
        let mine: Vec<Role> = roles.iter().filter_map(|r| Role::parse(r)).collect();
        if mine.is_empty() {
            return Err("the token has none of Helhed's roles (caseworker, leader, admin, auditor, system)".into());
        }
        each_once(mine)
    } else {
        roles.iter().map(|r| Role::parse(r)).collect::<Option<Vec<_>>>().ok_or("unknown role")?
    };
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let principal = Principal {
        iss: issuer.iss.clone(),
        sub,
        dept,
        roles,
        name: name.filter(|n| !n.trim().is_empty()),
        request_id: request_id.to_string(),
        trace: None,
    };
    Ok((principal, exp, generation))
}

/// Each role once, in the order first named.
fn each_once(roles: Vec<Role>) -> Vec<Role> {
    let mut once = Vec::with_capacity(roles.len());
    for role in roles {
        if !once.contains(&role) {
            once.push(role);
        }
    }
    once
}

/// [`verify`], and when the token names a key its identity provider's set lacks, one fetch of
/// the set (at most one a minute per issuer, waited for at most 5 s) and a second try.
pub async fn verify_fetching(issuers: &Issuers, token: &str, request_id: &str) -> Result<Principal, &'static str> {
    match verify(issuers, token, request_id) {
        Ok(principal) => Ok(principal),
        Err(Refused { fetch: Some(remote), .. }) => {
            let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
            remote.fetch_for_unknown_kid(kid.as_deref()).await;
            verify(issuers, token, request_id).map_err(|r| r.reason)
        }
        Err(refused) => Err(refused.reason),
    }
}

/// Mints a token with the issuer's own signing key (`helhed token`, tests, demo set-up).
pub fn mint(issuers: &Issuers, iss: &str, claims: &Claims) -> Result<String, String> {
    let issuer = issuers.get(iss).ok_or_else(|| format!("issuer {iss:?} is not in the issuers file"))?;
    let (key, kid) = issuer
        .signing_key()
        .ok_or_else(|| format!("issuer {iss:?} has neither secret nor private_key_pem to sign with"))?;
    let mut header = jsonwebtoken::Header::new(issuer.algorithm);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).map_err(|e| format!("cannot sign: {e}"))
}

/// Middleware for `/api/v1`: a request without a valid bearer token goes no further.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let issuers = req.app_data::<web::Data<Issuers>>().expect("issuers are configured").clone();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let principal = match token {
        None => Err(AppError::NoCredentials),
        Some(token) => verify_fetching(&issuers, token, &request_id).await.map_err(AppError::Unauthorized),
    };
    match principal {
        Ok(mut principal) => {
            principal.trace = req.extensions().get::<crate::trace::Trace>().copied();
            req.extensions_mut().insert(Caller(principal.sub.clone()));
            req.extensions_mut().insert(principal);
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        Err(refused) => Ok(req.into_response(refused.error_response())),
    }
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Principal, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Principal>().cloned().ok_or(AppError::Unauthorized("no principal")))
    }
}

//! `Idempotency-Key` for every POST: a repeat with the same key and request replays the first
//! answer; the same key with another request is refused (422 `idempotency_key_reused`).
//!
//! The key is taken at the start of the transaction that does the work and the answer is stored
//! at its end, so the effect and its key commit together. A concurrent repeat blocks on the
//! key's row until the first commits, then replays; if the first fails, nothing was stored and
//! the repeat does the work itself. All of it lives in PostgreSQL, so it holds across instances.
//!
//! A key belongs to one principal — issuer, subject and department — so another principal's key
//! is never replayed to anyone. A replay is an answer like the first: if it carries personal
//! data it passes the access rule again and is audited again (see [`once`]).

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::PgConnection;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::audit::{self, Entry};
use crate::auth::Principal;
use crate::error::AppError;
use crate::schema::idempotency_keys;
use crate::store;

pub const HEADER: &str = "idempotency-key";

/// How long a key is remembered.
const RETENTION_HOURS: i64 = 24;

/// The request's `Idempotency-Key`, if it sent one, and what the request was.
pub struct IdempotencyKey {
    key: Option<String>,
    scope: String,
}

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = Ready<Result<IdempotencyKey, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let scope = format!("{} {}", req.method(), req.path());
        let key = match req.headers().get(HEADER) {
            None => Ok(None),
            Some(value) => match value.to_str() {
                Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(Some(key.to_string()))
                }
                _ => Err(AppError::validation("Idempotency-Key", "must be 1 to 255 visible ASCII characters")),
            },
        };
        ready(key.map(|key| IdempotencyKey { key, scope }))
    }
}

/// An answer that can be stored and replayed.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub etag: Option<String>,
    pub replayed: bool,
    /// The audit entry of an answer that carries personal data: [`once`] writes it with the
    /// answer and again with every replay.
    audit: Option<Entry>,
}

impl Answer {
    /// An answer that carries no personal data (a committee, an offer, a subscription).
    pub fn json(status: StatusCode, body: &impl Serialize) -> Answer {
        Answer {
            status,
            body: serde_json::to_value(body).expect("serialisable"),
            etag: None,
            replayed: false,
            audit: None,
        }
    }

    /// An answer that carries personal data, with the audit entry it is recorded by. Its case,
    /// if it names one, is the case a replay must still be allowed to see.
    pub fn disclosing(status: StatusCode, body: &impl Serialize, entry: Entry) -> Answer {
        Answer { audit: Some(entry), ..Answer::json(status, body) }
    }

    pub fn with_etag(mut self, etag: String) -> Answer {
        self.etag = Some(etag);
        self
    }

    pub fn respond(self) -> HttpResponse {
        self.respond_with(None)
    }

    /// Answers a creation with `Location`: `prefix` followed by the created resource's id.
    pub fn respond_at(self, prefix: &str) -> HttpResponse {
        let location = match (self.status, self.body["id"].as_str()) {
            (StatusCode::CREATED, Some(id)) => Some(format!("{prefix}{id}")),
            _ => None,
        };
        self.respond_with(location)
    }

    fn respond_with(self, location: Option<String>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = location {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        if self.replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.json(self.body)
    }
}

#[derive(Queryable)]
struct Stored {
    fingerprint: Vec<u8>,
    status: Option<i16>,
    body: Option<Value>,
    etag: Option<String>,
    audit: Option<Value>,
}

/// Forgets the keys older than the retention. A stored answer can carry a citizen's name (the
/// case view of a referral), which must not be kept beyond its purpose. Every instance's
/// background worker calls this; two at once are harmless. Returns how many keys it forgot.
pub fn sweep(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff()))).execute(conn)
}

/// Keys created before this are forgotten.
fn cutoff() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::hours(RETENTION_HOURS)
}

/// What became of the caller's key in this transaction.
enum Taken {
    /// No key was sent: the work runs, nothing is kept.
    NoKey,
    /// The key is new and now held by this transaction.
    Fresh(String),
    /// The key was used before with the same request.
    Repeat(Stored),
}

/// Takes the caller's key, or finds its earlier use. The key belongs to the principal (issuer,
/// subject and department): another principal's key is never seen here.
fn take(
    conn: &mut PgConnection,
    p: &Principal,
    key: &IdempotencyKey,
    body_digest: &[u8; 32],
) -> Result<Taken, AppError> {
    let Some(k) = key.key.as_deref() else {
        return Ok(Taken::NoKey);
    };
    let fingerprint = Sha256::new().chain_update(key.scope.as_bytes()).chain_update(body_digest).finalize().to_vec();
    let dept = p.dept.as_str();
    let mine = idempotency_keys::table
        .filter(idempotency_keys::actor_iss.eq(&p.iss))
        .filter(idempotency_keys::actor_sub.eq(&p.sub))
        .filter(idempotency_keys::actor_dept.eq(dept))
        .filter(idempotency_keys::key.eq(k));
    diesel::delete(mine.filter(idempotency_keys::created_at.lt(cutoff()))).execute(conn)?;
    let taken = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor_iss.eq(&p.iss),
            idempotency_keys::actor_sub.eq(&p.sub),
            idempotency_keys::actor_dept.eq(dept),
            idempotency_keys::key.eq(k),
            idempotency_keys::fingerprint.eq(&fingerprint),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if taken == 1 {
        return Ok(Taken::Fresh(k.to_string()));
    }
    let stored: Stored = mine
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::body,
            idempotency_keys::etag,
            idempotency_keys::audit,
        ))
        .first(conn)?;
    if stored.fingerprint != fingerprint {
        return Err(AppError::IdempotencyKeyReused);
    }
    Ok(Taken::Repeat(stored))
}

fn stored_row<'a>(
    p: &'a Principal,
    k: &'a str,
) -> diesel::dsl::Find<idempotency_keys::table, (&'a String, &'a String, &'static str, &'a str)> {
    idempotency_keys::table.find((&p.iss, &p.sub, p.dept.as_str(), k))
}

/// Runs `work` once per key: see the module documentation. Call it inside the transaction.
///
/// The answer's audit entry is written here, with the answer and again with each replay; a
/// replay of an answer about a case first passes the access rule for that case again (the
/// caller may no longer take part in it), so a stored answer never reaches anyone the case
/// itself would not.
pub fn once(
    conn: &mut PgConnection,
    p: &Principal,
    key: &IdempotencyKey,
    body_digest: &[u8; 32],
    work: impl FnOnce(&mut PgConnection) -> Result<Answer, AppError>,
) -> Result<Answer, AppError> {
    match take(conn, p, key, body_digest)? {
        Taken::NoKey => {
            let answer = work(conn)?;
            record(conn, p, answer.audit.clone(), false)?;
            Ok(answer)
        }
        Taken::Fresh(k) => {
            let answer = work(conn)?;
            record(conn, p, answer.audit.clone(), false)?;
            let audit = answer.audit.as_ref().map(|e| serde_json::to_value(e).expect("an entry serialises"));
            diesel::update(stored_row(p, &k))
                .set((
                    idempotency_keys::status.eq(answer.status.as_u16() as i16),
                    idempotency_keys::body.eq(&answer.body),
                    idempotency_keys::etag.eq(&answer.etag),
                    idempotency_keys::audit.eq(audit),
                ))
                .execute(conn)?;
            Ok(answer)
        }
        Taken::Repeat(stored) => {
            let (Some(status), Some(body)) = (stored.status, stored.body) else {
                return Err(AppError::Internal("an idempotency key without its answer".into()));
            };
            let audit = stored
                .audit
                .map(serde_json::from_value::<Entry>)
                .transpose()
                .map_err(|_| AppError::Internal("a stored audit entry is unreadable".into()))?;
            if let Some(case_id) = audit.as_ref().and_then(|e| e.case_id) {
                if store::cases::find_visible(conn, p, case_id)?.is_none() {
                    let purpose = audit.as_ref().map(|e| e.purpose).unwrap_or(audit::Purpose::Coordination);
                    return Err(audit::deny(p, "case", case_id, purpose));
                }
            }
            record(conn, p, audit.clone(), true)?;
            Ok(Answer {
                status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
                body,
                etag: stored.etag,
                replayed: true,
                audit,
            })
        }
    }
}

/// Runs `work` for a request whose answer must be computed afresh each time because it depends
/// on who may see what now (registering a citizen): a repeat with the same key and request runs
/// the work again and is marked replayed; the same key with another request is refused. Nothing
/// of the answer is stored. `work` writes its own audit entry.
pub fn recomputed(
    conn: &mut PgConnection,
    p: &Principal,
    key: &IdempotencyKey,
    body_digest: &[u8; 32],
    work: impl FnOnce(&mut PgConnection) -> Result<Answer, AppError>,
) -> Result<Answer, AppError> {
    match take(conn, p, key, body_digest)? {
        Taken::NoKey => work(conn),
        Taken::Fresh(k) => {
            let answer = work(conn)?;
            diesel::update(stored_row(p, &k))
                .set(idempotency_keys::status.eq(answer.status.as_u16() as i16))
                .execute(conn)?;
            Ok(answer)
        }
        Taken::Repeat(..) => work(conn).map(|answer| Answer { replayed: true, ..answer }),
    }
}

/// Writes an answer's audit entry; a replay's entry says so in its filters.
fn record(conn: &mut PgConnection, p: &Principal, entry: Option<Entry>, replay: bool) -> Result<(), AppError> {
    let Some(mut entry) = entry else { return Ok(()) };
    if replay {
        entry.filters = Some(serde_json::json!({"idempotent_replay": true}));
    }
    audit::record(conn, p, entry)
}

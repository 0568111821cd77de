//! `Idempotency-Key` for every POST: a repeat with the same key and request replays the first
//! answer; the same key with another request is refused (422 `idempotency_key_reused`).
//!
//! The key is taken at the start of the transaction that does the work and the answer is stored
//! at its end, so the effect and its key commit together. A concurrent repeat blocks on the
//! key's row until the first commits, then replays; if the first fails, nothing was stored and
//! the repeat does the work itself. All of it lives in PostgreSQL, so it holds across instances.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::PgConnection;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::error::AppError;
use crate::schema::idempotency_keys;

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
}

impl Answer {
    pub fn json(status: StatusCode, body: &impl Serialize) -> Answer {
        Answer { status, body: serde_json::to_value(body).expect("serialisable"), etag: None, replayed: false }
    }

    pub fn with_etag(mut self, etag: String) -> Answer {
        self.etag = Some(etag);
        self
    }

    pub fn respond(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
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

/// Runs `work` once per key: see the module documentation. Call it inside the transaction.
pub fn once(
    conn: &mut PgConnection,
    p: &Principal,
    key: &IdempotencyKey,
    body_digest: &[u8; 32],
    work: impl FnOnce(&mut PgConnection) -> Result<Answer, AppError>,
) -> Result<Answer, AppError> {
    let Some(k) = key.key.as_deref() else {
        return work(conn);
    };
    let fingerprint = Sha256::new().chain_update(key.scope.as_bytes()).chain_update(body_digest).finalize().to_vec();
    let mine = (idempotency_keys::actor_iss.eq(&p.iss), idempotency_keys::actor_sub.eq(&p.sub));
    diesel::delete(
        idempotency_keys::table
            .filter(mine.0)
            .filter(mine.1)
            .filter(idempotency_keys::key.eq(k))
            .filter(idempotency_keys::created_at.lt(cutoff())),
    )
    .execute(conn)?;
    let taken = diesel::insert_into(idempotency_keys::table)
        .values((mine.0, mine.1, idempotency_keys::key.eq(k), idempotency_keys::fingerprint.eq(&fingerprint)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if taken == 1 {
        let answer = work(conn)?;
        diesel::update(idempotency_keys::table.find((&p.iss, &p.sub, k)))
            .set((
                idempotency_keys::status.eq(answer.status.as_u16() as i16),
                idempotency_keys::body.eq(&answer.body),
                idempotency_keys::etag.eq(&answer.etag),
            ))
            .execute(conn)?;
        return Ok(answer);
    }
    let stored: Stored = idempotency_keys::table
        .find((&p.iss, &p.sub, k))
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::body,
            idempotency_keys::etag,
        ))
        .first(conn)?;
    if stored.fingerprint != fingerprint {
        return Err(AppError::IdempotencyKeyReused);
    }
    match (stored.status, stored.body) {
        (Some(status), Some(body)) => Ok(Answer {
            status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            body,
            etag: stored.etag,
            replayed: true,
        }),
        _ => Err(AppError::Internal("an idempotency key without its answer".into())),
    }
}

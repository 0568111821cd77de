//! Webhook deliveries: the event feed pushed to departmental systems that subscribe.
//!
//! A worker thread in every instance polls the subscriptions that are due, leasing each with
//! `FOR UPDATE SKIP LOCKED`, so one instance at a time delivers a subscription while several
//! instances share the work. Each subscription keeps its cursor in the database: deliveries
//! resume after a restart from where they stopped, and a delivery that cannot be confirmed is
//! repeated with the same `webhook-id` (at least once; receivers deduplicate by it).
//! A failed delivery is retried with exponential backoff; nothing here ever blocks the request
//! that caused the event.
//!
//! Deliveries follow the Standard Webhooks specification, so that a receiver verifies them with
//! any of its libraries: `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,` and the
//! base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`, keyed with the bytes of the subscription's
//! `whsec_` secret). An event written by a request carries that request's W3C trace on in a
//! `traceparent` with a new span id for each attempt.
//!
//! The same worker does the housekeeping: once a minute it forgets expired idempotency keys.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

pub mod destination;

use destination::Allow;

use crate::auth::Principal;
use crate::domain::Department;
use crate::schema::subscriptions;
use crate::store;

/// Events delivered per subscription while its row is held.
const BATCH: i64 = 10;
/// How long an instance holds a subscription while it delivers.
const LEASE_SECS: i64 = 60;
/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 300;
/// How often the worker forgets expired idempotency keys (and when it starts).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: Uuid,
    pub department: String,
    pub owner_iss: String,
    pub owner_sub: String,
    pub url: String,
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub active: bool,
    pub cursor_txid: i64,
    pub cursor_id: i64,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered: i64,
}

/// What a Standard Webhooks secret begins with; the rest is the base64 of the HMAC key.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new subscription's secret: `whsec_` and the standard base64 of 32 random bytes.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// The HMAC key of a `whsec_` secret; `None` for anything else (which the database refuses to
/// store since migration 000013).
pub fn signing_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX)?;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok().filter(|key| !key.is_empty())
}

/// A delivery's `webhook-id`: the same for one event to one subscription, every attempt, so a
/// receiver deduplicates by it. ASCII, made of the two ids only (`msg_<subscription>_<event>`).
pub fn message_id(subscription: Uuid, event: i64) -> String {
    format!("msg_{}_{event}", subscription.simple())
}

/// The `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `<webhook-id>.<timestamp>.<body>`.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s … up to five minutes.
pub fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds((1i64 << attempts.clamp(0, 20) as u32).min(MAX_BACKOFF_SECS))
}

/// The worker of one instance; stops when dropped.
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker; `allow` is `HELHED_WEBHOOK_ALLOW`, checked again at every delivery.
    /// `source` is every event's CloudEvents `source` (`urn:helhed:<HELHED_INSTANCE>`).
    pub fn start(database_url: &str, interval: Duration, allow: Allow, source: String) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, flag) = (crate::db::with_timeouts(database_url), stop.clone());
        let thread = std::thread::Builder::new()
            .name("helhed-webhooks".into())
            .spawn(move || run(&url, interval, &allow, source, &flag))
            .expect("the webhook worker thread starts");
        Worker { stop, thread: Some(thread) }
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The delivering clients, one per scheme, each resolving through the destination rule.
pub struct Clients {
    https: reqwest::blocking::Client,
    http: reqwest::blocking::Client,
    allow: Allow,
    /// The CloudEvents `source` of the events delivered.
    source: String,
}

fn run(url: &str, interval: Duration, allow: &Allow, source: String, stop: &AtomicBool) {
    let client = match (destination::client(allow, false), destination::client(allow, true)) {
        (Ok(https), Ok(http)) => Clients { https, http, allow: allow.clone(), source },
        (Err(e), _) | (_, Err(e)) => {
            log::error!("webhooks: no HTTP client: {}", crate::logging::value(&e.to_string()));
            return;
        }
    };
    let mut conn: Option<PgConnection> = None;
    let mut swept: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        if conn.is_none() {
            conn = PgConnection::establish(url).ok();
        }
        if let Some(c) = conn.as_mut() {
            if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                match crate::idempotency::sweep(c) {
                    Ok(forgotten) => {
                        swept = Some(Instant::now());
                        if forgotten > 0 {
                            log::info!("housekeeping: forgot {forgotten} expired idempotency keys");
                        }
                    }
                    Err(e) => log::warn!("housekeeping: database error ({e})"),
                }
            }
            // Deliver to every due subscription, then wait.
            loop {
                match deliver_next(c, &client) {
                    Ok(true) if !stop.load(Ordering::SeqCst) => continue,
                    Ok(_) => break,
                    Err(e) => {
                        log::warn!("webhooks: database error ({e}); reconnecting");
                        conn = None;
                        break;
                    }
                }
            }
        }
        std::thread::sleep(interval);
    }
}

/// Takes one due subscription and delivers its next events. Returns whether it delivered any.
///
/// No transaction is held while the receiver is called: a long-running transaction would hold
/// back every reader of the event feed. Instead the subscription is leased for a minute in a
/// short transaction (`FOR UPDATE SKIP LOCKED`, so two instances never take the same one), and
/// the outcome is written in another. An instance that dies mid-delivery leaves a lease that
/// runs out; the next instance resumes from the stored cursor.
fn deliver_next(conn: &mut PgConnection, clients: &Clients) -> QueryResult<bool> {
    let taken = conn.transaction(|conn| {
        let due = subscriptions::table
            .filter(subscriptions::active.eq(true))
            .filter(subscriptions::next_attempt_at.le(Utc::now()))
            .order(subscriptions::next_attempt_at.asc())
            .select(Subscription::as_select())
            .for_update()
            .skip_locked()
            .first(conn)
            .optional()?;
        if let Some(sub) = &due {
            diesel::update(subscriptions::table.find(sub.id))
                .set(subscriptions::next_attempt_at.eq(Utc::now() + chrono::Duration::seconds(LEASE_SECS)))
                .execute(conn)?;
        }
        QueryResult::Ok(due)
    })?;
    let Some(sub) = taken else {
        return Ok(false);
    };
    let Some(dept) = Department::parse(&sub.department) else {
        return Ok(false);
    };
    let principal = Principal {
        iss: sub.owner_iss.clone(),
        sub: sub.owner_sub.clone(),
        dept,
        roles: vec![crate::domain::Role::System],
        name: None,
        request_id: format!("webhook-{}", sub.id),
        trace: None,
    };
    let events =
        store::events::feed(conn, crate::access::feed_cases(&principal), (sub.cursor_txid, sub.cursor_id), BATCH)?;
    let mut cursor = (sub.cursor_txid, sub.cursor_id);
    let mut delivered = 0i64;
    let mut failure: Option<String> = None;
    // The destination is checked again now, after DNS: the subscription may be old, the name may
    // point elsewhere today, and HELHED_WEBHOOK_ALLOW may have narrowed since.
    let checked = if events.is_empty() { None } else { Some(destination::check(&sub.url, &clients.allow)) };
    let key = signing_key(&sub.secret);
    let client = match &checked {
        Some(Ok(_)) if key.is_none() => {
            failure = Some("the subscription's secret is not a whsec_ secret".into());
            None
        }
        Some(Ok(d)) if d.plain_http => Some(&clients.http),
        Some(Ok(_)) => Some(&clients.https),
        Some(Err(refused)) => {
            failure = Some(format!("destination not allowed: {refused}"));
            None
        }
        None => None,
    };
    for event in events.iter().filter(|_| client.is_some()) {
        let (client, key) = (client.expect("checked above"), key.as_deref().expect("checked above"));
        // The body is the event itself, the CloudEvent the feed shows (structured JSON mode).
        let body = serde_json::to_string(&crate::views::event::cloud_event(event, &clients.source))
            .expect("an event serialises");
        let (id, timestamp) = (message_id(sub.id, event.id), Utc::now().timestamp());
        let mut request = client
            .post(&sub.url)
            .header("Content-Type", "application/cloudevents+json")
            .header("webhook-signature", sign(key, &id, timestamp, body.as_bytes()))
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-id", id);
        if let Some(trace) = event.trace() {
            request = request.header(crate::request_id::TRACEPARENT, trace.child());
        }
        let sent = request.body(body).send();
        match sent {
            Ok(res) if res.status().is_success() => {
                cursor = (event.txid, event.id);
                delivered += 1;
            }
            Ok(res) => {
                failure = Some(format!("the receiver answered {}", res.status().as_u16()));
                break;
            }
            Err(e) => {
                failure = Some(if e.is_timeout() { "timeout".into() } else { "connection failed".into() });
                break;
            }
        }
    }
    let (attempts, next_attempt_at) = match &failure {
        None => (0, Utc::now()),
        Some(error) => {
            log::info!("webhooks: delivery to subscription {} failed: {error}", sub.id);
            (sub.attempts + 1, Utc::now() + backoff(sub.attempts))
        }
    };
    // The cursor moves (only forward, even if a lease ran out and another instance got further)
    // in the same transaction that releases the lease, so that no instance can take the
    // subscription in between and start again from the old cursor.
    let (txid, id) = cursor;
    conn.transaction(|conn| {
        diesel::update(
            subscriptions::table.find(sub.id).filter(
                subscriptions::cursor_txid
                    .lt(txid)
                    .or(subscriptions::cursor_txid.eq(txid).and(subscriptions::cursor_id.lt(id))),
            ),
        )
        .set((subscriptions::cursor_txid.eq(txid), subscriptions::cursor_id.eq(id)))
        .execute(conn)?;
        diesel::update(subscriptions::table.find(sub.id))
            .set((
                subscriptions::attempts.eq(attempts),
                subscriptions::last_error.eq(failure),
                subscriptions::next_attempt_at.eq(next_attempt_at),
                subscriptions::delivered.eq(subscriptions::delivered + delivered),
            ))
            .execute(conn)
    })?;
    Ok(delivered > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_standard_webhooks_v1() {
        // The example of the Standard Webhooks test suite (its libraries all pass it).
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_ne!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body),
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        );
        assert_ne!(
            sign(&key, "msg_other", 1614265330, body),
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        );
    }

    #[test]
    fn secrets_are_whsec_and_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 6 + 44, "{a}");
        assert_eq!(signing_key(&a).unwrap().len(), 32);
        assert_eq!(signing_key("a-raw-secret-of-the-former-kind-0123456789"), None);
        assert_eq!(signing_key("whsec_"), None);
        assert_eq!(signing_key("whsec_not base64!"), None);
    }

    #[test]
    fn a_message_id_is_the_same_for_one_event_and_subscription() {
        let sub = Uuid::parse_str("0190e1f2-3a4b-7c5d-8e9f-0a1b2c3d4e5f").unwrap();
        assert_eq!(message_id(sub, 1042), "msg_0190e1f23a4b7c5d8e9f0a1b2c3d4e5f_1042");
        assert_ne!(message_id(sub, 1043), message_id(sub, 1042));
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(0).num_seconds(), 1);
        assert_eq!(backoff(1).num_seconds(), 2);
        assert_eq!(backoff(3).num_seconds(), 8);
        assert_eq!(backoff(30).num_seconds(), 300);
    }
}

//! Webhooks: deliveries of the department's events signed as Standard Webhooks, retried with
//! backoff under the same `webhook-id`, carrying the W3C trace of the request that caused them,
//! resumed from the database after a restart, never duplicated by two instances.

mod common;

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::world::{referral, World, REFERRER};
use common::TestApp;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Clone, Debug)]
struct Delivery {
    id: String,
    timestamp: String,
    signature: String,
    traceparent: Option<String>,
    content_type: String,
    body: String,
}

/// A departmental system's receiver: records every request, fails the first `fail` of them.
#[derive(Clone)]
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Delivery>>>,
    fail: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail: usize) -> Receiver {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicUsize::new(fail));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
        let (s, f) = (seen.clone(), fail.clone());
        let server = HttpServer::new(move || {
            let (s, f) = (s.clone(), f.clone());
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: String| {
                    let (s, f) = (s.clone(), f.clone());
                    async move {
                        let header =
                            |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                        s.lock().unwrap().push(Delivery {
                            id: header("webhook-id").unwrap_or_default(),
                            timestamp: header("webhook-timestamp").unwrap_or_default(),
                            signature: header("webhook-signature").unwrap_or_default(),
                            traceparent: header("traceparent"),
                            content_type: header("content-type").unwrap_or_default(),
                            body,
                        });
                        if f.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                            HttpResponse::InternalServerError().finish()
                        } else {
                            HttpResponse::Ok().finish()
                        }
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver { url, seen, fail }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.seen.lock().unwrap().clone()
    }

    /// The distinct deliveries the receiver acknowledged.
    fn acknowledged(&self) -> usize {
        let seen = self.deliveries();
        seen.iter().map(|d| d.id.clone()).collect::<HashSet<_>>().len()
    }
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Subscribes a system of social to `url`; the answer holds the secret.
async fn subscribe(app: &TestApp, url: &str) -> Value {
    let system = app.token("social-system-account", "social", &["system"]);
    app.post("/api/v1/subscriptions", &system, &json!({"url": url})).await.expect(201).body
}

/// The secret of a subscription's 201, with its HMAC key: `whsec_` and base64 of 32 bytes.
fn key_of(subscription: &Value) -> Vec<u8> {
    let secret = subscription["secret"].as_str().expect("the 201 shows the secret");
    let encoded = secret.strip_prefix("whsec_").unwrap_or_else(|| panic!("not a whsec_ secret: {secret}"));
    let key = BASE64.decode(encoded).unwrap_or_else(|e| panic!("not standard base64 ({e}): {secret}"));
    assert_eq!(key.len(), 32, "32 random bytes: {secret}");
    key
}

/// The Standard Webhooks check, written here from the specification rather than taken from the
/// service: `v1,` and base64 HMAC-SHA256 keyed with the secret's bytes, over `id.timestamp.body`.
fn verify(key: &[u8], d: &Delivery) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{}.{}.{}", d.id, d.timestamp, d.body).as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    d.signature.split(' ').any(|s| s == expected)
}

/// A referral whose request carries `traceparent`; returns the case id.
async fn referred_with(world: &World, age: i32, traceparent: &str) -> String {
    let citizen = world.citizen(age).await;
    let app = &world.app;
    let res = app
        .client
        .post(format!("{}/api/v1/cases", app.base))
        .bearer_auth(world.token(REFERRER))
        .header("traceparent", traceparent)
        .json(&referral(&citizen))
        .send()
        .await
        .unwrap();
    TestApp::read(res).await.expect(201).id()
}

/// The trace id of a `traceparent` Helhed sent, checked for its form.
fn trace_id_of(traceparent: &str) -> String {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00", "{traceparent}");
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    assert!(hex(parts[1], 32) && hex(parts[2], 16) && hex(parts[3], 2), "{traceparent}");
    assert!(parts[1] != "0".repeat(32) && parts[2] != "0".repeat(16), "{traceparent}");
    parts[1].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_standard_webhooks_and_carry_no_personal_data() {
    let world = World::new().await;
    let receiver = Receiver::start(0).await;
    let sub = subscribe(&world.app, &receiver.url).await;
    let key = key_of(&sub);
    let case = world.referred(45).await;
    wait_for("a delivery", Duration::from_secs(10), || !receiver.deliveries().is_empty()).await;

    let d = &receiver.deliveries()[0];
    assert!(verify(&key, d), "the signature verifies: {d:?}");
    assert!(d.signature.starts_with("v1,") && !d.signature.contains(' '), "one v1 signature: {}", d.signature);
    // every part of the signed content counts: another key, id, timestamp or body fails
    assert!(!verify(&[7u8; 32], d));
    assert!(!verify(&key, &Delivery { id: "msg_other".into(), ..d.clone() }));
    assert!(!verify(&key, &Delivery { timestamp: "1".into(), ..d.clone() }));
    assert!(!verify(&key, &Delivery { body: d.body.replace("case.referred", "case.closed"), ..d.clone() }));
    let sent_at: i64 = d.timestamp.parse().expect("webhook-timestamp is unix seconds");
    assert!((sent_at - chrono::Utc::now().timestamp()).abs() < 30, "{sent_at}");
    assert_eq!(d.content_type, "application/cloudevents+json");
    let body: Value = serde_json::from_str(&d.body).unwrap();
    // the body is the CloudEvent the feed shows
    assert_eq!((&body["specversion"], &body["type"]), (&json!("1.0"), &json!("case.referred")));
    assert_eq!((&body["subject"], &body["data"]["case_id"]), (&json!(case), &json!(case)));
    // webhook-id: ASCII, from the subscription and the event only
    let expected_id = format!("msg_{}_{}", sub["id"].as_str().unwrap().replace('-', ""), body["id"].as_str().unwrap());
    assert_eq!(d.id, expected_id);
    assert!(!d.body.contains("Test Borger"), "no personal data in a delivery");
    // the request that referred the case sent no traceparent: Helhed started a trace for it
    trace_id_of(d.traceparent.as_deref().expect("a traceparent"));
    let system = world.app.token("social-system-account", "social", &["system"]);
    let listed = world.app.get("/api/v1/subscriptions", &system).await.expect(200);
    assert_eq!(listed.body[0]["id"], sub["id"]);
    assert!(listed.body[0].get("secret").is_none(), "the secret is never shown again");
    assert!(!listed.text.contains(sub["secret"].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deliverys_traceparent_carries_the_trace_of_the_request_that_caused_it() {
    let world = World::new().await;
    let receiver = Receiver::start(1).await;
    subscribe(&world.app, &receiver.url).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let first = referred_with(&world, 45, &format!("00-{trace}-00f067aa0ba902b7-01")).await;
    // not sampled by the caller: carried on as not sampled
    let second = referred_with(&world, 46, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00").await;
    // invalid (uppercase, version ff, garbage after version 00): ignored, a new trace each
    let invalid = [
        "00-ABCDEF0123456789ABCDEF0123456789-00f067aa0ba902b7-01",
        "ff-abcdef0123456789abcdef0123456789-00f067aa0ba902b7-01",
        "00-abcdef0123456789abcdef0123456789-00f067aa0ba902b7-01-x",
        "00-abcdef0123456789abcdef0123456789-0000000000000000-01",
    ];
    let mut others = Vec::new();
    for (age, bad) in (47..).zip(invalid) {
        others.push(referred_with(&world, age, bad).await);
    }
    let events = 2 + invalid.len();
    wait_for("every event, the first after a retry", Duration::from_secs(15), || {
        receiver.acknowledged() == events && receiver.deliveries().len() == events + 1
    })
    .await;
    let seen = receiver.deliveries();
    let of = |case: &str| -> Vec<Delivery> {
        seen.iter().filter(|d| serde_json::from_str::<Value>(&d.body).unwrap()["subject"] == case).cloned().collect()
    };
    let tries = of(&first);
    assert_eq!(tries.len(), 2, "failed once, then delivered: {tries:?}");
    assert_eq!(tries[0].id, tries[1].id, "a retry repeats the webhook-id");
    for d in &tries {
        let traceparent = d.traceparent.as_deref().expect("a traceparent");
        assert_eq!(trace_id_of(traceparent), trace, "{traceparent}");
        assert!(traceparent.ends_with("-01"), "sampled, as the caller said: {traceparent}");
        assert!(!traceparent.contains("00f067aa0ba902b7"), "a span of its own, not the caller's: {traceparent}");
    }
    assert_ne!(tries[0].traceparent, tries[1].traceparent, "a new span id for each attempt");
    let unsampled = of(&second)[0].traceparent.clone().unwrap();
    assert_eq!(trace_id_of(&unsampled), "0af7651916cd43dd8448eb211c80319c");
    assert!(unsampled.ends_with("-00"), "{unsampled}");
    let mut fresh = HashSet::new();
    for case in &others {
        let traceparent = of(case)[0].traceparent.clone().expect("a new trace");
        let id = trace_id_of(&traceparent);
        assert!(id != "abcdef0123456789abcdef0123456789" && id != trace, "{traceparent}");
        fresh.insert(id);
    }
    assert_eq!(fresh.len(), invalid.len(), "each invalid header started a trace of its own");
    // nothing of the invalid headers is stored
    let stored = world.app.count(
        "SELECT count(*) FROM case_events WHERE trace_id = 'abcdef0123456789abcdef0123456789' \
           OR lower(trace_id) LIKE '%abcdef0123456789%'",
    );
    assert_eq!(stored, 0);
    assert_eq!(world.app.count(&format!("SELECT count(*) FROM case_events WHERE trace_id = '{trace}'")), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_without_a_trace_are_delivered_without_a_traceparent() {
    // Events written outside a request (the demo data, and events from before the trace was
    // stored) have no trace to carry on.
    let world = World::new().await;
    let receiver = Receiver::start(0).await;
    let case = world.referred(45).await;
    let mut conn = world.app.conn();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO case_events (case_id, type, actor_iss, actor_sub, actor_dept, detail) \
             VALUES ('{case}', 'case.updated', 'seed', 'seed', 'social', '{{}}')"
        )),
        &mut conn,
    )
    .unwrap();
    subscribe(&world.app, &receiver.url).await;
    wait_for("both events", Duration::from_secs(10), || receiver.acknowledged() == 2).await;
    let seen = receiver.deliveries();
    assert!(seen[0].traceparent.is_some(), "the referral's event has its request's trace");
    assert_eq!(seen[1].traceparent, None, "the event without a trace: {:?}", seen[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt() {
    let world = World::new().await;
    let receiver = Receiver::start(2).await;
    let key = key_of(&subscribe(&world.app, &receiver.url).await);
    let started = Instant::now();
    world.referred(45).await;
    wait_for("a successful delivery", Duration::from_secs(15), || {
        receiver.fail.load(Ordering::SeqCst) == 0 && receiver.deliveries().len() >= 3
    })
    .await;
    let seen = receiver.deliveries();
    assert_eq!(seen.len(), 3, "two failures, then success");
    assert!(seen.iter().all(|d| d.id == seen[0].id), "the same webhook-id each time");
    let timestamps: HashSet<_> = seen.iter().map(|d| d.timestamp.clone()).collect();
    assert!(timestamps.len() >= 2, "each attempt signed when it is sent: {timestamps:?}");
    assert!(seen.iter().all(|d| verify(&key, d)), "every attempt verifies");
    // backoff: 1 s after the first failure, 2 s after the second
    assert!(started.elapsed() >= Duration::from_secs(3), "{:?}", started.elapsed());
    let system = world.app.token("social-system-account", "social", &["system"]);
    wait_for("the subscription to record it", Duration::from_secs(5), || {
        world.app.count("SELECT delivered FROM subscriptions") == 1
    })
    .await;
    let listed = world.app.get("/api/v1/subscriptions", &system).await.expect(200);
    assert_eq!(listed.body[0]["attempts"], 0);
    assert_eq!(listed.body[0]["delivered"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_resume_after_a_restart() {
    let mut world = World::new().await;
    let receiver = Receiver::start(1).await;
    subscribe(&world.app, &receiver.url).await;
    world.referred(45).await;
    world.referred(46).await;
    wait_for("the first, failed attempt", Duration::from_secs(10), || !receiver.deliveries().is_empty()).await;
    // The instance stops before it can retry; a new one starts on the same database.
    world.app.stop().await;
    let before = receiver.deliveries().len();
    let schema = world.app.schema.clone().unwrap();
    let second = TestApp::spawn_on(None, common::url_in_schema(common::APP_ROLE, &schema)).await;
    wait_for("both events after the restart", Duration::from_secs(15), || {
        receiver.acknowledged() == 2
            && receiver.fail.load(Ordering::SeqCst) == 0
            && receiver.deliveries().len() >= before + 2
    })
    .await;
    let ids: Vec<String> = receiver.deliveries().iter().skip(before).map(|d| d.id.clone()).collect();
    assert_eq!(ids.len(), 2, "each event once after the restart: {ids:?}");
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_do_not_deliver_an_event_twice() {
    let world = World::new().await;
    let schema = world.app.schema.clone().unwrap();
    let second = TestApp::spawn_on(None, common::url_in_schema(common::APP_ROLE, &schema)).await;
    let receiver = Receiver::start(0).await;
    subscribe(&world.app, &receiver.url).await;
    for age in 40..55 {
        world.referred(age).await;
    }
    let events = world.app.count("SELECT count(*) FROM case_events") as usize;
    wait_for("every event", Duration::from_secs(20), || receiver.acknowledged() == events).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.deliveries().len(), events, "no event was delivered twice");
    drop(second);
}

#[tokio::test]
async fn subscriptions_are_for_systems_of_their_own_department() {
    let world = World::new().await;
    let app = &world.app;
    let system = app.token("social-system-account", "social", &["system"]);
    for roles in [&["caseworker"][..], &["leader"], &["admin"]] {
        app.post("/api/v1/subscriptions", &app.token("x", "social", roles), &json!({"url": "https://x.example/h"}))
            .await
            .problem(403, "forbidden");
    }
    for url in ["ftp://x", "not a url"] {
        app.post("/api/v1/subscriptions", &system, &json!({"url": url})).await.problem(422, "validation_failed");
    }
    // a URL of the right form the destination rule refuses (plain http to an unlisted host)
    app.post("/api/v1/subscriptions", &system, &json!({"url": "http://dept.example/hook"}))
        .await
        .problem(422, "destination_not_allowed");
    // The secret is Helhed's to make: a request that brings one is refused, nothing stored.
    for secret in [json!("a-shared-secret-of-at-least-32-characters"), json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    {
        let refused = app
            .post("/api/v1/subscriptions", &system, &json!({"url": "https://93.184.216.34/hook", "secret": secret}))
            .await
            .problem(422, "validation_failed");
        assert!(refused.fields().contains(&"secret".to_string()), "{:?}", refused.body);
        assert!(!refused.text.contains("a-shared-secret") && !refused.text.contains("MfKQ9r8"), "{}", refused.text);
    }
    assert_eq!(app.count("SELECT count(*) FROM subscriptions"), 0);
    let created =
        app.post("/api/v1/subscriptions", &system, &json!({"url": "https://93.184.216.34/hook"})).await.expect(201);
    key_of(&created.body);
    let again =
        app.post("/api/v1/subscriptions", &system, &json!({"url": "https://93.184.216.34/hook"})).await.expect(201);
    assert_ne!(again.body["secret"], created.body["secret"], "a new secret for each subscription");
    app.request(reqwest::Method::DELETE, &format!("/api/v1/subscriptions/{}", again.id()), Some(&system), None)
        .await
        .expect(204);
    let id = created.id();
    let other = app.token("youth-system-account", "youth", &["system"]);
    assert_eq!(app.get("/api/v1/subscriptions", &other).await.expect(200).body, json!([]));
    app.request(reqwest::Method::DELETE, &format!("/api/v1/subscriptions/{id}"), Some(&other), None)
        .await
        .problem(404, "not_found");
    app.request(reqwest::Method::DELETE, &format!("/api/v1/subscriptions/{id}"), Some(&system), None).await.expect(204);
    app.request(reqwest::Method::DELETE, &format!("/api/v1/subscriptions/{id}"), Some(&system), None)
        .await
        .problem(404, "not_found");
    assert_eq!(app.get("/api/v1/subscriptions", &system).await.expect(200).body, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secret_from_before_standard_webhooks_keeps_its_key() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    use diesel_migrations::MigrationHarness;
    #[derive(diesel::QueryableByName)]
    struct Secret {
        #[diesel(sql_type = diesel::sql_types::Text)]
        secret: String,
    }
    let secrets = |conn: &mut PgConnection| -> Vec<String> {
        diesel::sql_query("SELECT secret FROM subscriptions ORDER BY created_at, id")
            .load::<Secret>(conn)
            .unwrap()
            .into_iter()
            .map(|s| s.secret)
            .collect()
    };
    let receiver = Receiver::start(0).await;
    let schema = common::fresh_schema();
    let url = common::url_in_schema(common::APP_ROLE, &schema);
    let mut conn = PgConnection::establish(&url).unwrap();
    // The database as it was before migration 000013, with the secrets of that time: one a
    // subscriber chose, one long enough that PostgreSQL's base64 would break its line, one that
    // only looks like a whsec_ secret.
    let reverted = conn.revert_last_migration(helhed::db::MIGRATIONS).unwrap();
    assert!(reverted.to_string().contains("000013"), "{reverted}");
    let chosen = "a-shared-secret-of-at-least-32-characters".to_string();
    let long = format!("{}{}", "x".repeat(60), "é".repeat(70));
    let lookalike = "whsec_chosen-by-a-subscriber-long-ago".to_string();
    for (i, (secret, target)) in
        [(&chosen, receiver.url.as_str()), (&long, "https://x.example/h"), (&lookalike, "https://x.example/h")]
            .into_iter()
            .enumerate()
    {
        diesel::sql_query(format!(
            "INSERT INTO subscriptions (id, department, owner_iss, owner_sub, url, secret, active, created_at) \
             VALUES (gen_random_uuid(), 'social', '{}', 'social-system-account', '{target}', '{secret}', {}, \
                     now() + interval '{i} second')",
            common::TEST_ISSUER,
            i == 0
        ))
        .execute(&mut conn)
        .unwrap();
    }
    conn.run_pending_migrations(helhed::db::MIGRATIONS).unwrap();
    let whsec = |raw: &str| format!("whsec_{}", BASE64.encode(raw.as_bytes()));
    assert_eq!(secrets(&mut conn), [whsec(&chosen), whsec(&long), whsec(&lookalike)]);
    // down.sql gives the raw secrets back; up again
    conn.revert_last_migration(helhed::db::MIGRATIONS).unwrap();
    assert_eq!(secrets(&mut conn), [chosen.clone(), long.clone(), lookalike.clone()]);
    conn.run_pending_migrations(helhed::db::MIGRATIONS).unwrap();
    // and the database holds no other form of secret from now on
    let raw = diesel::sql_query("UPDATE subscriptions SET secret = 'a-raw-secret-of-the-former-kind-0123456789'")
        .execute(&mut conn);
    assert!(raw.is_err(), "a raw secret was stored");

    // The subscriber verifies with the very key it always had.
    let world = World::on(TestApp::spawn_on(Some(schema), url).await).await;
    world.referred(45).await;
    wait_for("a delivery", Duration::from_secs(10), || !receiver.deliveries().is_empty()).await;
    let d = &receiver.deliveries()[0];
    assert!(verify(chosen.as_bytes(), d), "{d:?}");
}

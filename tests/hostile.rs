//! The service as a hostile caller meets it: token header tricks, oversized and control-character
//! claims, replays across principals, probes for who is registered, input extremes aimed at every
//! path, and webhook destinations inside the municipality's network. After each attack the
//! service answers no 5xx other than 503 and stays ready.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::world::{cpr_for_age, referral, World, ADULT_LEADER_SOC, COORDINATOR, NEW_COORDINATOR, OUTSIDER, REFERRER};
use common::{Response, TestApp, TEST_ISSUER};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The test issuer's HS256 secret (tests/common).
const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123456789";

/// A token with any protected header, correctly signed with the test issuer's secret: only the
/// header's trick can make the service refuse it.
fn hs256_with_header(header: &Value, claims: &Value) -> String {
    hs256(header, claims, SECRET)
}

/// A JWS over `header` and `claims`, HMAC-SHA256 with `secret`.
fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn valid_claims() -> Value {
    serde_json::to_value(common::claims(TEST_ISSUER, "anna", "social", &["caseworker", "leader"])).unwrap()
}

fn claims_with(key: &str, value: Value) -> Value {
    let mut c = valid_claims();
    c[key] = value;
    c
}

/// The service is still up and its database reachable.
async fn still_ready(app: &TestApp) {
    let res = app.client.get(format!("{}/health/ready", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200, "the service is no longer ready");
}

/// Asserts a 401 problem for `token` on a read every caseworker may make.
async fn refused(app: &TestApp, what: &str, token: &str) -> Option<String> {
    let res = app.get("/api/v1/cases", token).await;
    if res.status != 401 || res.code() != "unauthorized" {
        return Some(format!("{what}: {} {}", res.status, res.text));
    }
    None
}

#[tokio::test]
async fn token_header_tricks_are_refused() {
    let app = TestApp::spawn().await;
    // An attacker's own key, offered in the header in every way JOSE allows.
    let attacker_jwk = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"attacker-secret-attacker-secret-0123")});
    let base = json!({"alg": "HS256", "typ": "JWT"});
    let with = |key: &str, value: Value| {
        let mut h = base.clone();
        h[key] = value;
        h
    };
    let cases = vec![
        ("crit naming an extension", with("crit", json!(["exp"]))),
        ("crit, empty", with("crit", json!([]))),
        ("kid with a path", with("kid", json!("../../../../dev/null"))),
        ("kid with SQL", with("kid", json!("' OR '1'='1"))),
        ("kid of 10 KiB", with("kid", json!("k".repeat(10 * 1024)))),
        ("kid that is not a string", with("kid", json!({"a": 1}))),
    ];
    let mut failures = vec![];
    for (what, header) in &cases {
        let token = hs256_with_header(header, &valid_claims());
        failures.extend(refused(&app, what, &token).await);
    }
    // Keys the header points to or carries are never used: signed with the attacker's key.
    let mut forged = vec![];
    for (what, key, value) in [
        ("jwk: the attacker's key", "jwk", attacker_jwk.clone()),
        ("jku: a key set URL", "jku", json!("http://127.0.0.1:9/keys.json")),
        ("x5u: a certificate URL", "x5u", json!("http://127.0.0.1:9/cert.pem")),
        ("x5c: a certificate chain", "x5c", json!(["MIIBszCCAVmgAwIBAgIUQ"])),
    ] {
        forged.push((what, hs256(&with(key, value), &valid_claims(), b"attacker-secret-attacker-secret-0123")));
    }
    for (what, token) in &forged {
        failures.extend(refused(&app, what, token).await);
    }
    assert!(failures.is_empty(), "header tricks accepted:\n{}", failures.join("\n"));
    // The control: the same header without a trick, the same claims, pass.
    app.get("/api/v1/cases", &hs256_with_header(&base, &valid_claims())).await.expect(200);
    still_ready(&app).await;
}

#[tokio::test]
async fn oversized_and_control_character_claims_are_refused() {
    let app = TestApp::spawn().await;
    let mut failures = vec![];
    let header = json!({"alg": "HS256", "typ": "JWT"});
    for (what, claims) in [
        ("sub of 10 KiB", claims_with("sub", json!("s".repeat(10 * 1024)))),
        ("sub of 256 bytes", claims_with("sub", json!("s".repeat(256)))),
        (
            "sub of 128 two-byte characters and one more byte",
            claims_with("sub", json!(format!("{}x", "æ".repeat(128)))),
        ),
        ("sub with LF", claims_with("sub", json!("anna\nGET /api/v1/cases 200 1.0ms request_id=x sub=admin"))),
        ("sub with CR", claims_with("sub", json!("anna\rforged"))),
        ("sub with U+2028", claims_with("sub", json!("anna\u{2028}forged"))),
        ("sub with U+2029", claims_with("sub", json!("anna\u{2029}forged"))),
        ("sub with an ANSI escape", claims_with("sub", json!("anna\u{1b}[2K\u{1b}[1Gforged"))),
        ("sub with NUL", claims_with("sub", json!("anna\u{0}"))),
        ("sub with NEL", claims_with("sub", json!("anna\u{85}forged"))),
        ("name of 256 characters", claims_with("name", json!("n".repeat(256)))),
        ("name of 10 KiB", claims_with("name", json!("n".repeat(10 * 1024)))),
        ("sub that is a number", claims_with("sub", json!(12345))),
        ("roles that is a string", claims_with("roles", json!("admin"))),
        ("roles with 1,000 entries", claims_with("roles", json!(vec!["caseworker"; 1_000]))),
    ] {
        let token = hs256_with_header(&header, &claims);
        // roles with 1,000 valid entries is a legal, if silly, token: it must not break anything
        if what.starts_with("roles with") {
            let res = app.get("/api/v1/cases", &token).await;
            if res.status.is_server_error() {
                failures.push(format!("{what}: {}", res.status));
            }
            continue;
        }
        failures.extend(refused(&app, what, &token).await);
    }
    assert!(failures.is_empty(), "claims accepted that api.md refuses:\n{}", failures.join("\n"));
    // The limits themselves are accepted: 255 bytes of sub, 255 characters of name.
    let edge = {
        let mut c = claims_with("sub", json!("s".repeat(255)));
        c["name"] = json!("n".repeat(255));
        c
    };
    app.get("/api/v1/cases", &hs256_with_header(&header, &edge)).await.expect(200);
    still_ready(&app).await;
}

// ---------------------------------------------------------------------------------------------
// Replays across principals, and after access is lost

/// POST with an `Idempotency-Key` and a request id of our choosing.
async fn keyed(app: &TestApp, path: &str, token: &str, key: &str, body: &Value, request_id: &str) -> Response {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("x-request-id", request_id)
        .json(body)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

fn audit_rows(app: &TestApp, request_id: &str, condition: &str) -> i64 {
    app.count(&format!("SELECT count(*) FROM audit_log WHERE request_id = '{request_id}' AND {condition}"))
}

#[tokio::test]
async fn an_idempotent_replay_never_reaches_another_principal_with_the_same_sub() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.referred(40).await;
    let screening = format!("/api/v1/cases/{case}/screening");
    let body = json!({"outcome": "accepted"});
    // The social leader on the adult committee screens, with a key.
    let leader = app.as_(ADULT_LEADER_SOC);
    keyed(app, &screening, &leader, "screen-1", &body, "first-screen").await.expect(200);
    // The same sub, issued for another department by the same identity provider: another person,
    // who does not take part in the case.
    let twin = app.token(ADULT_LEADER_SOC.sub, "school", &["leader"]);
    app.get(&format!("/api/v1/cases/{case}"), &twin).await.problem(404, "not_found");
    let res = keyed(app, &screening, &twin, "screen-1", &body, "twin-replay").await;
    assert_ne!(res.header("idempotent-replayed"), Some("true"), "{}", res.text);
    res.problem(404, "not_found");
    let res = keyed(app, &screening, &twin, "screen-1", &body, "twin-replay-2").await.problem(404, "not_found");
    assert!(!res.text.contains("Test Borger"), "the case view leaked: {}", res.text);
    // Both attempts are on record as denied.
    assert_eq!(
        audit_rows(app, "twin-replay", &format!("action = 'denied' AND case_id = '{case}' AND status = 404")),
        1
    );
    still_ready(app).await;
}

#[tokio::test]
async fn a_replay_passes_the_access_rule_again_and_is_audited_like_the_first_answer() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.referred(40).await;
    let screening = format!("/api/v1/cases/{case}/screening");
    let body = json!({"outcome": "accepted"});
    let leader = app.as_(ADULT_LEADER_SOC);
    let first = keyed(app, &screening, &leader, "screen-a", &body, "screen-first").await.expect(200);
    // The replay is audited like the first answer: the same entry, marked as a replay.
    let again = keyed(app, &screening, &leader, "screen-a", &body, "screen-again").await.expect(200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let entry = "action = 'update' AND resource = 'case' AND purpose = 'screening' AND status = 200";
    assert_eq!(audit_rows(app, "screen-first", &format!("{entry} AND case_id = '{case}'")), 1);
    assert_eq!(
        audit_rows(
            app,
            "screen-again",
            &format!("{entry} AND case_id = '{case}' AND filters->>'idempotent_replay' = 'true'")
        ),
        1,
        "a replay that carries the case view is audited"
    );
}

#[tokio::test]
async fn a_replay_after_the_caller_lost_access_is_a_recorded_404() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(40).await;
    let cora = app.as_(COORDINATOR);
    let notes = format!("/api/v1/cases/{case}/participation");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let body = json!({"on": today, "form": "phone", "citizen_view": "Har det bedre nu."});
    keyed(app, &notes, &cora, "note-1", &body, "note-first").await.expect(201);
    // The committee appoints a new coordinator: the old one no longer takes part in the case.
    let meeting = world.meeting(40).await;
    world.on_agenda(&meeting, &case, 40).await;
    let revision = json!({
        "case_id": case, "kind": "revision", "members_present": World::quorum(40),
        "citizen_participation": {"took_part": true, "form": "meeting"},
        "coordinator": {"sub": NEW_COORDINATOR.sub, "name": "Nils", "department": NEW_COORDINATOR.dept}
    });
    app.post(&format!("/api/v1/meetings/{meeting}/decisions"), &app.as_(World::leader(40)), &revision)
        .await
        .expect(201);
    app.get(&format!("/api/v1/cases/{case}"), &cora).await.problem(404, "not_found");
    // The stored answer (the note, the citizen's words) is not replayed to them.
    let res = keyed(app, &notes, &cora, "note-1", &body, "note-after").await.problem(404, "not_found");
    assert!(!res.text.contains("Har det bedre"), "{}", res.text);
    assert_ne!(res.header("idempotent-replayed"), Some("true"));
    assert_eq!(audit_rows(app, "note-after", &format!("action = 'denied' AND case_id = '{case}' AND status = 404")), 1);
    still_ready(app).await;
}

// ---------------------------------------------------------------------------------------------
// Who is registered: no answer tells

#[tokio::test]
async fn registering_a_citizen_does_not_tell_whether_they_were_known() {
    let world = World::new().await;
    let app = &world.app;
    // A citizen in the programme, with a case referred by Rita.
    let known = cpr_for_age(40, 30);
    let rita = app.as_(REFERRER);
    let citizen = app.post("/api/v1/citizens", &rita, &json!({"cpr": known, "name": "Karin Kendt"})).await.expect(201);
    app.post("/api/v1/cases", &rita, &referral(&citizen.id())).await.expect(201);

    // An outsider probes with a known and an unknown CPR number: the same status, the same
    // fields, the name they sent back, the birth date any CPR number gives.
    let otto = app.as_(OUTSIDER);
    let unknown = cpr_for_age(40, 31);
    let probe = |cpr: &str| json!({"cpr": cpr, "name": "x"});
    let a = app.post("/api/v1/citizens", &otto, &probe(&known)).await;
    let b = app.post("/api/v1/citizens", &otto, &probe(&unknown)).await;
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (201, 201), "{} / {}", a.text, b.text);
    let keys = |r: &Response| {
        let mut k: Vec<String> = r.body.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&a), keys(&b));
    assert_eq!(a.body["name"], "x", "the stored name went to one who sees none of the citizen's cases");
    assert_eq!(b.body["name"], "x");
    for (name, header) in [("etag", "etag"), ("location", "location"), ("replayed", "idempotent-replayed")] {
        assert_eq!(a.header(header).is_some(), b.header(header).is_some(), "{name}");
    }
    // Ids are random (UUID v4), so their age says nothing of when a person entered.
    for r in [&a, &b, &citizen] {
        let id = uuid::Uuid::parse_str(&r.id()).unwrap();
        assert_eq!(id.get_version_num(), 4, "{id}");
    }
    // The stored name is kept, and shown to those who see the citizen's case.
    assert_eq!(app.count("SELECT count(*) FROM citizens WHERE name = 'Karin Kendt'"), 1);
    let again = app.post("/api/v1/citizens", &rita, &probe(&known)).await.expect(201);
    assert_eq!(again.body["name"], "Karin Kendt");
    // Every call is a consultation of the citizen on record.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_log WHERE citizen_id = '{}' AND resource = 'citizen'",
            citizen.id()
        )),
        3
    );
    still_ready(app).await;
}

// ---------------------------------------------------------------------------------------------
// Webhook destinations inside the municipality's network

/// A receiver on 127.0.0.1 that counts the connections it gets and answers 200 to each.
async fn counting_receiver() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = tokio::time::timeout(std::time::Duration::from_millis(300), socket.read(&mut buf)).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    (port, hits)
}

#[tokio::test]
async fn a_subscription_to_an_internal_destination_is_refused() {
    // The municipality lists only 127.0.0.1 (its test receiver); everything else internal is off limits.
    let app = TestApp::spawn_allowing("127.0.0.1/32").await;
    let system = app.token("social-system-account", "social", &["system"]);
    let mut failures = vec![];
    for url in [
        "http://localhost:1@127.0.0.2:9/hook",
        "http://127.0.0.1:9@127.0.0.2:9/hook",
        "https://user:secret@93.184.216.34/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.2:5432/",
        "https://[::1]:5432/",
        "https://[::ffff:127.0.0.2]/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://10.0.0.5/hook",
        "https://172.20.1.1/hook",
        "https://192.168.0.10/hook",
        "https://100.64.0.1/hook",
        "https://[fd12:3456::1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://0177.0.0.2/hook",
        "https://[::ffff:0:a00:1]/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://0x7f000002/hook",
        "https://2130706434/hook",
        "http://93.184.216.34/hook",
        "HTTP://10.0.0.1/hook",
    ] {
        let res = app.post("/api/v1/subscriptions", &system, &json!({"url": url})).await;
        if res.status != 422 || res.code() != "destination_not_allowed" {
            failures.push(format!("{url}: {} {}", res.status, res.text));
        }
    }
    assert!(failures.is_empty(), "destinations accepted:\n{}", failures.join("\n"));
    assert_eq!(app.count("SELECT count(*) FROM subscriptions"), 0, "a refused subscription stored nothing");
    // The listed receiver, and a public https destination, are accepted.
    app.post("/api/v1/subscriptions", &system, &json!({"url": "http://127.0.0.1:9/hook"})).await.expect(201);
    app.post("/api/v1/subscriptions", &system, &json!({"url": "https://93.184.216.34/hook"})).await.expect(201);
    still_ready(&app).await;
}

#[tokio::test]
async fn a_delivery_checks_its_destination_again() {
    let world = World::new().await;
    let app = &world.app;
    let (port, hits) = counting_receiver().await;
    let system = app.token("social-system-account", "social", &["system"]);
    let url = format!("http://127.0.0.1:{port}/hook");
    let id = app.post("/api/v1/subscriptions", &system, &json!({"url": url})).await.expect(201).id();
    // Changed behind the API's back to carry user info: the delivery refuses it.
    let mut conn = app.conn();
    use diesel::connection::SimpleConnection;
    conn.batch_execute(&format!("UPDATE subscriptions SET url = 'http://u:p@127.0.0.1:{port}/hook' WHERE id = '{id}'"))
        .unwrap();
    world.referred(40).await; // an event of the social department
    let refused = |app: &TestApp| {
        app.count(&format!(
            "SELECT count(*) FROM subscriptions WHERE id = '{id}' AND last_error LIKE 'destination not allowed%'"
        ))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while refused(app) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused(app), 1, "the delivery did not refuse the URL with user info");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "the receiver was called");

    // The municipality narrows HELHED_WEBHOOK_ALLOW: an instance started with the new list no
    // longer delivers plain http to 127.0.0.1, though the subscription was accepted before.
    let mut world = world;
    world.app.stop().await; // its worker, which lists 127.0.0.1, is gone before the URL is valid again
    conn.batch_execute(&format!(
        "UPDATE subscriptions SET url = 'http://127.0.0.1:{port}/hook', next_attempt_at = now(), last_error = NULL, \
         attempts = 0 WHERE id = '{id}'"
    ))
    .unwrap();
    let narrowed =
        TestApp::spawn_on_allowing(None, world.app.db_url.clone(), helhed::webhooks::destination::Allow::none()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while refused(&narrowed) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused(&narrowed), 1, "plain http to an address no longer listed was not refused");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "the receiver was called");
    // The control: the same subscription is delivered by an instance that lists the receiver.
    drop(narrowed);
    conn.batch_execute(&format!(
        "UPDATE subscriptions SET next_attempt_at = now(), last_error = NULL, attempts = 0 WHERE id = '{id}'"
    ))
    .unwrap();
    let listed = TestApp::spawn_on_allowing(None, world.app.db_url.clone(), common::webhook_allow()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while hits.load(std::sync::atomic::Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) > 0, "the allowed delivery never came");
    drop(listed);
}

// ---------------------------------------------------------------------------------------------
// Input extremes: no value reaches PostgreSQL unbounded, nothing answers 5xx

/// A request and the status it must get (a problem+json answer, never a 5xx).
struct Probe {
    method: reqwest::Method,
    path: String,
    token: String,
    body: Option<String>,
    status: u16,
}

fn probe(method: reqwest::Method, path: impl Into<String>, token: &str, body: Option<String>, status: u16) -> Probe {
    Probe { method, path: path.into(), token: token.to_string(), body, status }
}

async fn run_probes(app: &TestApp, probes: Vec<Probe>) {
    let mut failures = vec![];
    for p in probes {
        let mut req = app.client.request(p.method.clone(), format!("{}{}", app.base, p.path)).bearer_auth(&p.token);
        if let Some(body) = &p.body {
            req = req.header("content-type", "application/json").body(body.clone());
        }
        let res = TestApp::read(req.send().await.unwrap()).await;
        let problem = res.header("content-type") == Some("application/problem+json") && !res.code().is_empty();
        if res.status.as_u16() != p.status || !problem {
            let mut text = res.text.clone();
            text.truncate(300);
            failures.push(format!("{} {} → {} {text}", p.method, p.path, res.status));
        }
    }
    assert!(failures.is_empty(), "extreme inputs not refused as expected:\n{}", failures.join("\n"));
    still_ready(app).await;
}

#[tokio::test]
async fn dates_before_1900_or_after_9999_are_refused_everywhere() {
    use reqwest::Method;
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(40).await;
    let leader = app.as_(World::leader(40));
    let cora = app.as_(COORDINATOR);
    let auditor = app.as_(common::world::AUDITOR);
    let rita = app.as_(REFERRER);
    let committee = world.adult_committee.clone();
    let mut probes = vec![];
    for date in ["-4714-01-01", "0000-01-01", "1899-12-31", "+10000-01-01", "10000-01-01", "275760-09-13"] {
        let instant = format!("{date}T10:00:00Z");
        let q = |s: &str| s.replace('+', "%2B");
        probes.push(probe(Method::GET, format!("/api/v1/cases?follow_up_before={}", q(date)), &rita, None, 422));
        probes.push(probe(Method::GET, format!("/api/v1/follow-ups?due_before={}", q(date)), &leader, None, 422));
        probes.push(probe(Method::GET, format!("/api/v1/stats/flow?from={}", q(&instant)), &leader, None, 422));
        probes.push(probe(Method::GET, format!("/api/v1/stats/flow?to={}", q(&instant)), &leader, None, 422));
        probes.push(probe(Method::GET, format!("/api/v1/audit?from={}", q(&instant)), &auditor, None, 422));
        probes.push(probe(Method::GET, format!("/api/v1/audit?to={}", q(&instant)), &auditor, None, 422));
        let cursor = URL_SAFE_NO_PAD.encode(format!("{date}/{case}"));
        probes.push(probe(Method::GET, format!("/api/v1/follow-ups?cursor={cursor}"), &leader, None, 422));
        let note = json!({"on": date, "form": "phone"}).to_string();
        probes.push(probe(Method::POST, format!("/api/v1/cases/{case}/participation"), &cora, Some(note), 422));
        let meeting = json!({"scheduled_at": instant}).to_string();
        probes.push(probe(
            Method::POST,
            format!("/api/v1/committees/{committee}/meetings"),
            &leader,
            Some(meeting),
            422,
        ));
        let change = json!({"end_on": date}).to_string();
        let plan = app.get(&format!("/api/v1/cases/{case}/plan"), &cora).await.expect(200);
        let iid = plan.body["interventions"][0]["id"].as_str().unwrap().to_string();
        probes.push(probe(
            Method::PATCH,
            format!("/api/v1/cases/{case}/plan/interventions/{iid}"),
            &cora,
            Some(change),
            422,
        ));
    }
    let before = app.count("SELECT count(*) FROM case_events") + app.count("SELECT count(*) FROM meetings");
    run_probes(app, probes).await;
    assert_eq!(app.count("SELECT count(*) FROM case_events") + app.count("SELECT count(*) FROM meetings"), before);
}

#[tokio::test]
async fn numbers_nesting_sizes_and_unicode_at_their_limits() {
    use reqwest::Method;
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(40).await;
    let cora = app.as_(COORDINATOR);
    let rita = app.as_(REFERRER);
    let spends = format!("/api/v1/cases/{case}/budget/spends");
    let spend =
        |amount: &str| Some(format!(r#"{{"amount_ore": {amount}, "category": "transport", "description": "x"}}"#));
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let wide = format!(r#"{{"cpr": "0101901234", "name": "{}"}}"#, "n".repeat(300 * 1024));
    let citizen = |name: &str| Some(json!({"cpr": "0101901234", "name": name}).to_string());
    let probes = vec![
        probe(Method::POST, &spends, &cora, spend("1e308"), 422),
        probe(Method::POST, &spends, &cora, spend("1e400"), 400),
        probe(Method::POST, &spends, &cora, spend("99999999999999999999"), 422),
        probe(Method::POST, &spends, &cora, spend("-9223372036854775808"), 422),
        probe(Method::POST, &spends, &cora, spend("100000000001"), 422),
        probe(Method::POST, &spends, &cora, spend("0.5"), 422),
        probe(Method::POST, &spends, &cora, spend("\"1e3\""), 422),
        probe(Method::POST, &spends, &cora, spend("5000001"), 409),
        probe(Method::POST, "/api/v1/citizens", &rita, Some(deep), 400),
        probe(Method::POST, "/api/v1/citizens", &rita, Some(wide), 413),
        probe(
            Method::POST,
            "/api/v1/citizens",
            &rita,
            Some(r#"{"cpr": "0101901234", "name": "a", "name": "b", "x": 1}"#.into()),
            422,
        ),
        probe(Method::POST, "/api/v1/citizens", &rita, citizen("a\u{0}b"), 422),
        probe(Method::POST, "/api/v1/citizens", &rita, citizen(&"å".repeat(201)), 422),
        probe(Method::POST, "/api/v1/citizens", &rita, Some("\u{feff}{}".into()), 400),
        probe(Method::POST, "/api/v1/citizens", &rita, Some("\"\\ud800\"".into()), 400),
        probe(Method::GET, "/api/v1/offers?q=%00", &rita, None, 422),
        probe(Method::GET, format!("/api/v1/offers?q={}", "q".repeat(201)), &rita, None, 422),
        probe(Method::GET, "/api/v1/cases?limit=99999999999999999999", &rita, None, 422),
        probe(Method::GET, "/api/v1/cases?limit=1&limit=2", &rita, None, 422),
        probe(Method::GET, format!("/api/v1/cases?coordinator={}", "c".repeat(256)), &rita, None, 422),
    ];
    run_probes(app, probes).await;
    // Names in any script, emoji and bidirectional marks are a name like any other.
    for name in ["Åse Ærø Øster", "محمد", "李小龙", "Zoë 🦊", "a\u{202e}b"] {
        app.post("/api/v1/citizens", &rita, &json!({"cpr": cpr_for_age(40, 3), "name": name})).await.expect(201);
    }
    // A caller's Accept that admits none of a resource's forms is 406, not a silent other form.
    let res = app.client.get(format!("{}/health/live", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), 406);
    let res =
        app.client.get(format!("{}/metrics", app.base)).header("accept", "application/json").send().await.unwrap();
    assert_eq!(res.status(), 406);
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .header("accept", "text/plain;version=0.0.4, */*;q=0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

// ---------------------------------------------------------------------------------------------
// Found by a red-team pass against a running instance; each now holds

#[tokio::test]
async fn free_text_cannot_forge_a_section_of_the_markdown_minutes() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.awaiting(40).await;
    let meeting = world.meeting(40).await;
    world.on_agenda(&meeting, &case, 40).await;
    let mut decision = common::world::initial_decision(&case, 40);
    decision["citizen_participation"] = json!({
        "took_part": false,
        "reason_not": "syg\n\n## 2. Forged decision\n- **Budget- og handlingsramme:** 1.000.000 kr."
    });
    decision["note"] = json!("<img src=x onerror=alert(1)> [x](javascript:alert(1))");
    let leader = app.as_(World::leader(40));
    app.post(&format!("/api/v1/meetings/{meeting}/decisions"), &leader, &decision).await.expect(201);
    let res = app
        .client
        .get(format!("{}/api/v1/meetings/{meeting}/minutes", app.base))
        .bearer_auth(&leader)
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(!text.contains("\n## 2. Forged"), "a forged heading:\n{text}");
    assert!(!text.contains("\n- **Budget- og handlingsramme:** 1.000.000"), "a forged line:\n{text}");
    let unescaped = |needle: &str| text.match_indices(needle).any(|(i, _)| !text[..i].ends_with('\\'));
    assert!(!unescaped("<img") && !unescaped("](javascript:"), "live HTML or a link:\n{text}");
    assert!(text.contains("Forged decision"), "the words themselves are kept:\n{text}");
}

#[tokio::test]
async fn instants_are_utc_so_an_offset_cannot_leave_the_years_allowed() {
    let world = World::new().await;
    let app = &world.app;
    let leader = app.as_(World::leader(40));
    let path = format!("/api/v1/committees/{}/meetings", world.adult_committee);
    for at in ["9999-12-31T23:59:59-01:00", "1900-01-01T00:00:00+01:00", "2027-01-15T09:30:00+02:00"] {
        app.post(&path, &leader, &json!({"scheduled_at": at})).await.problem(422, "validation_failed");
    }
    let q = "9999-12-31T23:59:59-01:00".replace('+', "%2B");
    app.get(&format!("/api/v1/stats/flow?to={q}"), &leader).await.problem(422, "validation_failed");
    app.post(&path, &leader, &json!({"scheduled_at": "2027-01-15T09:30:00Z"})).await.expect(201);
    assert_eq!(app.count("SELECT count(*) FROM meetings"), 1);
}

#[tokio::test]
async fn a_body_in_another_charset_or_media_type_is_415() {
    let app = TestApp::spawn().await;
    let rita = app.token("rita", "social", &["caseworker"]);
    for content_type in [
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        "application/merge-patch+json",
        "application/vnd.helhed+json",
        "text/json",
    ] {
        let res = app
            .client
            .post(format!("{}/api/v1/citizens", app.base))
            .bearer_auth(&rita)
            .header("content-type", content_type)
            .body(r#"{"cpr": "0101901234", "name": "A"}"#)
            .send()
            .await
            .unwrap();
        let res = TestApp::read(res).await;
        assert_eq!((res.status.as_u16(), res.code()), (415, "unsupported_media_type"), "{content_type}");
    }
    let res = app
        .client
        .post(format!("{}/api/v1/citizens", app.base))
        .bearer_auth(&rita)
        .header("content-type", "application/json; charset=UTF-8")
        .body(r#"{"cpr": "0101901234", "name": "A"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("SELECT count(*) FROM citizens"), 1);
}

#[tokio::test]
async fn refusals_that_tell_of_a_case_are_on_record_and_cprs_are_not() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(40).await;
    let cora = app.as_(COORDINATOR);
    // 409 budget_exceeded says what remains: a read of the case, on record.
    let res = keyed(
        app,
        &format!("/api/v1/cases/{case}/budget/spends"),
        &cora,
        "big",
        &json!({"amount_ore": 5_000_001, "category": "transport", "description": "x"}),
        "refusal-1",
    )
    .await;
    res.problem(409, "budget_exceeded");
    assert_eq!(
        audit_rows(app, "refusal-1", &format!("action = 'read' AND case_id = '{case}' AND status = 409")),
        1,
        "a refusal carrying what remains of the frame left no audit entry"
    );
    // A participant's 404 for a version never adopted: on record as a read too.
    let res = app
        .client
        .get(format!("{}/api/v1/cases/{case}/plan/versions/99", app.base))
        .bearer_auth(&cora)
        .header("x-request-id", "refusal-two")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(audit_rows(app, "refusal-two", &format!("action = 'read' AND case_id = '{case}' AND status = 404")), 1);
    // An outsider's refusal stays a denial, and says nothing of the case.
    let otto = app.as_(OUTSIDER);
    let res = app
        .client
        .post(format!("{}/api/v1/cases/{case}/budget/spends", app.base))
        .bearer_auth(&otto)
        .header("x-request-id", "refusal-three")
        .json(&json!({"amount_ore": 5_000_001, "category": "transport", "description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(audit_rows(app, "refusal-three", "action = 'denied' AND status = 404"), 1);
    // A CPR number typed into a filter is not kept in the audit log, which is answered as a list.
    app.get("/api/v1/cases?coordinator=0101901234", &cora).await.expect(200);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE filters::text LIKE '%0101901234%'"), 0);
    // Who sits on a committee decides who sees its cases: a change of seats is on record.
    let seats = app
        .get(&format!("/api/v1/committees/{}", world.adult_committee), &app.as_(common::world::ADMIN))
        .await
        .expect(200);
    let members = seats.body["members"].clone();
    app.put(&format!("/api/v1/committees/{}/members", world.adult_committee), &app.as_(common::world::ADMIN), &members)
        .await
        .expect(200);
    assert!(
        app.count("SELECT count(*) FROM audit_log WHERE resource = 'committee_members' AND action = 'update'") >= 1
    );
}

#[tokio::test]
async fn an_unknown_or_repeated_query_parameter_has_its_own_code() {
    let app = TestApp::spawn().await;
    let rita = app.token("rita", "social", &["caseworker"]);
    for query in ["statuz=referred", "limit=5&limit=6", "0101901234=1"] {
        let res = app.get(&format!("/api/v1/cases?{query}"), &rita).await.problem(422, "unexpected_parameter");
        assert!(!res.text.contains("0101901234"), "{}", res.text);
    }
    // A wrong value of a known parameter is the document's: validation_failed, listing each.
    let res = app.get("/api/v1/cases?limit=0&status=open", &rita).await.problem(422, "validation_failed");
    assert_eq!(res.fields(), vec!["limit", "status"]);
}

#[tokio::test]
async fn a_422_names_every_wrong_field_not_only_the_first() {
    let world = World::new().await;
    let app = &world.app;
    let rita = app.as_(REFERRER);
    let body = json!({
        "citizen_id": "not-a-uuid",
        "problem_areas": ["flying"],
        "description": 7,
        "involved_departments": ["finance"],
        "involved_caseworkers": [{"sub": "", "name": "x", "department": "social"}],
        "current_interventions": ["   "],
        "exclusions": {"disability_pension": "yes"},
        "typo_field": true
    });
    let res = app.post("/api/v1/cases", &rita, &body).await.problem(422, "validation_failed");
    let fields = res.fields();
    for field in [
        "citizen_id",
        "problem_areas[0]",
        "description",
        "involved_departments[0]",
        "involved_caseworkers[0].sub",
        "current_interventions[0]",
        "exclusions.disability_pension",
        "typo_field",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} missing from {fields:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM cases"), 0);
}

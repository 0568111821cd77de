//! `Idempotency-Key` on the creating POSTs (api.md, Conventions): a repeat with the same key and
//! body replays the first response; the same key with another body → 422
//! `idempotency_key_reused`. Keys belong to the caller, survive concurrent repeats, and a
//! request that fails stores nothing under its key.

mod common;

use std::sync::Arc;

use common::world::{initial_decision, referral, Person, World, ADULT_LEADER_SOC, REFERRER, YOUTH_LEADER_SOC};
use common::{Response, TestApp};
use reqwest::header::HeaderValue;
use serde_json::{json, Value};
use tokio::sync::Barrier;

const KEY: &str = "Idempotency-Key";
const REPLAYED: &str = "idempotent-replayed";
const CASES: &str = "/api/v1/cases";
const CITIZENS: &str = "/api/v1/citizens";

/// Another caseworker of the social department: a second caller with the same rights as `REFERRER`.
const SECOND_REFERRER: Person = Person { sub: "sara", dept: "social", roles: &["caseworker"] };
/// A leader of health care: on the adult committee only, so a youth case is hidden from her.
const HEALTH_LEADER: Person = Person { sub: "hilde", dept: "health_care", roles: &["leader"] };

/// POST `body` as JSON with an `Idempotency-Key`.
async fn post_keyed(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Response {
    post_with_key(app, path, token, HeaderValue::from_str(key).expect("a sendable key"), body).await
}

/// POST `body` as JSON with an `Idempotency-Key` of any bytes.
async fn post_with_key(app: &TestApp, path: &str, token: &str, key: HeaderValue, body: &Value) -> Response {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header(KEY, key)
        .json(body)
        .send()
        .await
        .expect("request sent");
    TestApp::read(res).await
}

/// POST a raw JSON text with an `Idempotency-Key`.
async fn post_raw(app: &TestApp, path: &str, token: &str, key: &str, text: String) -> Response {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header(KEY, key)
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .expect("request sent");
    TestApp::read(res).await
}

/// `n` identical keyed POSTs, all in flight at once: the client's connections and the
/// service's database connections are warmed first, and the requests leave together.
async fn storm(app: &TestApp, path: &str, token: &str, key: &str, body: &Value, n: usize) -> Vec<Response> {
    let warm: Vec<_> = (0..n)
        .map(|_| {
            let req = app.client.get(format!("{}/api/v1/committees", app.base)).bearer_auth(token);
            tokio::spawn(async move { req.send().await.expect("request sent").status() })
        })
        .collect();
    for handle in warm {
        assert_eq!(handle.await.expect("the warm-up finished").as_u16(), 200);
    }
    let start = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let req = app.client.post(format!("{}{path}", app.base)).bearer_auth(token).header(KEY, key).json(body);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                TestApp::read(req.send().await.expect("request sent")).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("the request task finished"));
    }
    out
}

/// The same JSON value as another text: every object's keys in reverse order, other spacing.
fn respaced(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| format!("{} :\t{}", serde_json::to_string(k).unwrap(), respaced(v)))
                .collect();
            format!("{{\n    {}\n}}", fields.join(" ,\n    "))
        }
        Value::Array(items) => format!("[ {} ]", items.iter().map(respaced).collect::<Vec<_>>().join(" ,  ")),
        other => other.to_string(),
    }
}

fn is_replay(res: &Response) -> bool {
    res.header(REPLAYED) == Some("true")
}

fn count_cases(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM cases")
}

fn count_events(app: &TestApp, kind: &str) -> i64 {
    app.count(&format!("SELECT count(*) FROM case_events WHERE type = '{kind}'"))
}

fn count_keys(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM idempotency_keys")
}

#[tokio::test]
async fn a_repeated_referral_replays_the_first_answer() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;
    let body = referral(&citizen);

    let first = post_keyed(app, CASES, &rita, "referral-7f3a", &body).await.expect(201);
    assert!(!is_replay(&first), "a first answer is no replay: {:?}", first.headers);
    let etag = first.header("etag").expect("a case carries an ETag").to_string();

    let second = post_keyed(app, CASES, &rita, "referral-7f3a", &body).await.expect(201);
    assert_eq!(second.id(), first.id(), "the same case");
    assert_eq!(second.body, first.body, "the first body, replayed");
    assert_eq!(second.header("etag"), Some(etag.as_str()), "the first ETag, replayed");
    assert!(is_replay(&second), "a replay says so: {:?}", second.headers);
    assert_eq!(second.header("content-type"), Some("application/json"));
    assert_eq!(count_cases(app), 1);
    assert_eq!(count_events(app, "case.referred"), 1);

    // The same JSON, its keys in another order and spaced otherwise, is the same request.
    let text = respaced(&body);
    assert_ne!(text, serde_json::to_string(&body).unwrap());
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), body, "the respaced text is the same JSON");
    let third = post_raw(app, CASES, &rita, "referral-7f3a", text).await.expect(201);
    assert_eq!(third.id(), first.id());
    assert_eq!(third.body, first.body);
    assert_eq!(third.header("etag"), Some(etag.as_str()));
    assert!(is_replay(&third));
    assert_eq!(count_cases(app), 1);
    assert_eq!(count_events(app, "case.referred"), 1);

    // The replayed case is the one stored.
    let stored = app.get(&format!("{CASES}/{}", first.id()), &rita).await.expect(200);
    assert_eq!(stored.id(), first.id());
}

#[tokio::test]
async fn a_key_sent_first_as_raw_text_replays_for_the_same_json() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;
    let body = referral(&citizen);

    let first = post_raw(app, CASES, &rita, "raw-first", respaced(&body)).await.expect(201);
    let again = post_keyed(app, CASES, &rita, "raw-first", &body).await.expect(201);
    assert_eq!(again.id(), first.id());
    assert!(is_replay(&again));
    assert_eq!(count_cases(app), 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;
    let body = referral(&citizen);
    let first = post_keyed(app, CASES, &rita, "k-1", &body).await.expect(201);

    let mut other = body.clone();
    other["description"] = json!("Another description altogether.");
    post_keyed(app, CASES, &rita, "k-1", &other).await.problem(422, "idempotency_key_reused");
    // a field more (or less) is another body as well
    let mut fewer = body.clone();
    fewer.as_object_mut().unwrap().remove("citizen_view");
    post_keyed(app, CASES, &rita, "k-1", &fewer).await.problem(422, "idempotency_key_reused");
    // an array in another order is another body: arrays are not sets to the fingerprint
    let mut reordered = body.clone();
    reordered["problem_areas"] = json!(["homelessness", "mental_health"]);
    post_keyed(app, CASES, &rita, "k-1", &reordered).await.problem(422, "idempotency_key_reused");
    assert_eq!(count_cases(app), 1);
    assert_eq!(count_events(app, "case.referred"), 1);

    // the refusal changed nothing: the original body still replays the original answer
    let again = post_keyed(app, CASES, &rita, "k-1", &body).await.expect(201);
    assert_eq!(again.id(), first.id());
    assert!(is_replay(&again));
    // and another key is another referral
    let fresh = post_keyed(app, CASES, &rita, "k-2", &body).await.expect(201);
    assert_ne!(fresh.id(), first.id());
    assert!(!is_replay(&fresh));
    assert_eq!(count_cases(app), 2);
}

#[tokio::test]
async fn the_same_key_on_another_endpoint_is_refused() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;
    let cpr = common::world::cpr_for_age(33, 10);
    post_keyed(app, CITIZENS, &rita, "shared-key", &json!({"cpr": cpr, "name": "Anden Borger"})).await.expect(201);
    assert_eq!(app.count("SELECT count(*) FROM citizens"), 2);

    post_keyed(app, CASES, &rita, "shared-key", &referral(&citizen)).await.problem(422, "idempotency_key_reused");
    assert_eq!(count_cases(app), 0);
    assert_eq!(count_events(app, "case.referred"), 0);

    // the same key on the same endpoint but another resource (another path) is refused too
    let case_a = world.referred(40).await;
    let case_b = world.referred(41).await;
    let leader = world.token(ADULT_LEADER_SOC);
    let accept = json!({"outcome": "accepted"});
    post_keyed(app, &format!("{CASES}/{case_a}/screening"), &leader, "screen-key", &accept).await.expect(200);
    post_keyed(app, &format!("{CASES}/{case_b}/screening"), &leader, "screen-key", &accept)
        .await
        .problem(422, "idempotency_key_reused");
    let b = app.get(&format!("{CASES}/{case_b}"), &leader).await.expect(200);
    assert_eq!(b.body["status"], "referred", "the refused screening changed nothing");
    assert_eq!(count_events(app, "case.screened"), 1);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let world = World::new().await;
    let app = &world.app;
    let citizen = world.citizen(40).await;
    let body = referral(&citizen);

    let rita = post_keyed(app, CASES, &world.token(REFERRER), "our-key", &body).await.expect(201);
    let sara = post_keyed(app, CASES, &world.token(SECOND_REFERRER), "our-key", &body).await.expect(201);
    assert_ne!(sara.id(), rita.id(), "another caller's key is another request");
    assert!(!is_replay(&sara), "{:?}", sara.headers);
    assert_eq!(sara.body["referral"]["referred_by"]["sub"], "sara");
    assert_eq!(rita.body["referral"]["referred_by"]["sub"], REFERRER.sub);
    assert_eq!(count_cases(app), 2);

    // another caller may use the key with another body: it is not reused, it is theirs
    let other = world.citizen(50).await;
    let third = Person { sub: "tove", dept: "labour_market", roles: &["caseworker"] };
    post_keyed(app, CASES, &world.token(third), "our-key", &referral(&other)).await.expect(201);
    assert_eq!(count_cases(app), 3);

    // the same sub from another issuer is another principal
    let foreign = common::mint("labour-system", REFERRER.sub, "labour_market", &["caseworker"]);
    let from_labour = post_keyed(app, CASES, &foreign, "our-key", &body).await.expect(201);
    assert_ne!(from_labour.id(), rita.id());
    assert!(!is_replay(&from_labour));
    assert_eq!(count_cases(app), 4);

    // and each caller's own repeat still replays their own answer
    let again = post_keyed(app, CASES, &world.token(REFERRER), "our-key", &body).await.expect(201);
    assert_eq!(again.id(), rita.id());
    assert!(is_replay(&again));
    let again = post_keyed(app, CASES, &world.token(SECOND_REFERRER), "our-key", &body).await.expect(201);
    assert_eq!(again.id(), sara.id());
    assert!(is_replay(&again));
    assert_eq!(count_cases(app), 4);
    assert_eq!(count_events(app, "case.referred"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_of_a_referral_create_one_case() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;
    let body = referral(&citizen);

    let answers = storm(app, CASES, &rita, "storm-referral", &body, 16).await;
    for res in &answers {
        assert_eq!(res.status.as_u16(), 201, "every repeat is answered 201; body: {}", res.text);
    }
    let id = answers[0].id();
    assert!(
        answers.iter().all(|r| r.id() == id),
        "one case id: {:?}",
        answers.iter().map(Response::id).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|r| r.body == answers[0].body), "one body for all");
    let etag = answers[0].header("etag").expect("an ETag").to_string();
    assert!(answers.iter().all(|r| r.header("etag") == Some(etag.as_str())), "one ETag for all");
    assert_eq!(answers.iter().filter(|r| !is_replay(r)).count(), 1, "exactly one did the work");
    assert_eq!(count_cases(app), 1);
    assert_eq!(count_events(app, "case.referred"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_of_a_decision_record_one_decision() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.awaiting(45).await;
    let meeting = world.meeting(45).await;
    world.on_agenda(&meeting, &case, 45).await;
    let leader = world.token(World::leader(45));
    let path = format!("/api/v1/meetings/{meeting}/decisions");
    let body = initial_decision(&case, 45);

    let answers = storm(app, &path, &leader, "storm-decision", &body, 16).await;
    for res in &answers {
        assert_eq!(res.status.as_u16(), 201, "every repeat is answered 201; body: {}", res.text);
    }
    let id = answers[0].id();
    assert!(
        answers.iter().all(|r| r.id() == id),
        "one decision id: {:?}",
        answers.iter().map(Response::id).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|r| r.body == answers[0].body), "one body for all");
    assert_eq!(answers[0].body["plan_version"], 1);
    assert_eq!(answers.iter().filter(|r| !is_replay(r)).count(), 1, "exactly one did the work");
    assert_eq!(app.count(&format!("SELECT count(*) FROM decisions WHERE case_id = '{case}'")), 1);
    assert_eq!(app.count(&format!("SELECT count(*) FROM plan_versions WHERE case_id = '{case}'")), 1);
    assert_eq!(count_events(app, "decision.recorded"), 1);
    let view = app.get(&format!("{CASES}/{case}"), &leader).await.expect(200);
    assert_eq!(view.body["status"], "active");
    assert_eq!(view.body["plan"]["version"], 1);
}

#[tokio::test]
async fn a_failed_request_stores_nothing_under_its_key() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;

    // refused by the extractor: a required field is missing
    let mut incomplete = referral(&citizen);
    incomplete.as_object_mut().unwrap().remove("citizen_id");
    post_keyed(app, CASES, &rita, "retry-me", &incomplete).await.problem(422, "validation_failed");
    // refused inside the transaction that took the key: no such citizen
    let unknown = referral(&uuid::Uuid::new_v4().to_string());
    let res = post_keyed(app, CASES, &rita, "retry-me", &unknown).await.problem(422, "unknown_reference");
    assert_eq!(res.fields(), ["citizen_id"]);
    assert_eq!(count_keys(app), 0, "a failure leaves no key behind");
    assert_eq!(count_cases(app), 0);

    // the corrected request, with the same key, does the work
    let fixed = post_keyed(app, CASES, &rita, "retry-me", &referral(&citizen)).await.expect(201);
    assert!(!is_replay(&fixed), "the corrected request is no replay: {:?}", fixed.headers);
    assert_eq!(count_cases(app), 1);
    assert_eq!(count_events(app, "case.referred"), 1);
    // and is then the request the key stands for
    let again = post_keyed(app, CASES, &rita, "retry-me", &referral(&citizen)).await.expect(201);
    assert_eq!(again.id(), fixed.id());
    assert!(is_replay(&again));
    post_keyed(app, CASES, &rita, "retry-me", &unknown).await.problem(422, "idempotency_key_reused");
}

#[tokio::test]
async fn a_failed_decision_stores_nothing_under_its_key() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.awaiting(45).await;
    let meeting = world.meeting(45).await;
    world.on_agenda(&meeting, &case, 45).await;
    let leader = world.token(World::leader(45));
    let path = format!("/api/v1/meetings/{meeting}/decisions");

    // not quorate: refused after the key was taken, inside its transaction
    let mut thin = initial_decision(&case, 45);
    thin["members_present"] = json!([World::leader(45).sub]);
    post_keyed(app, &path, &leader, "decide-1", &thin).await.problem(422, "quorum_not_met");
    assert_eq!(count_keys(app), 0);
    assert_eq!(app.count("SELECT count(*) FROM decisions"), 0);

    let done = post_keyed(app, &path, &leader, "decide-1", &initial_decision(&case, 45)).await.expect(201);
    assert!(!is_replay(&done));
    assert_eq!(app.count("SELECT count(*) FROM decisions"), 1);
    assert_eq!(app.count(&format!("SELECT count(*) FROM plan_versions WHERE case_id = '{case}'")), 1);
}

#[tokio::test]
async fn a_request_refused_by_the_access_rules_stores_nothing_under_its_key() {
    let world = World::new().await;
    let app = &world.app;
    let hilde = world.token(HEALTH_LEADER);
    let youth_case = world.referred(22).await;
    let adult_case = world.referred(45).await;
    let accept = json!({"outcome": "accepted"});

    // a youth case is not hers to see: 404, and the key is not spent
    post_keyed(app, &format!("{CASES}/{youth_case}/screening"), &hilde, "hilde-1", &accept)
        .await
        .problem(404, "not_found");
    assert_eq!(count_keys(app), 0, "a refusal leaves no key behind");
    // the corrected request (the case she meant) with the same key does the work
    let res = post_keyed(app, &format!("{CASES}/{adult_case}/screening"), &hilde, "hilde-1", &accept).await.expect(200);
    assert!(!is_replay(&res));
    assert_eq!(res.body["status"], "awaiting_committee");
    assert_eq!(count_events(app, "case.screened"), 1);
    let youth = app.get(&format!("{CASES}/{youth_case}"), &world.token(YOUTH_LEADER_SOC)).await.expect(200);
    assert_eq!(youth.body["status"], "referred");

    // a request that is refused 404 and later retried unchanged is not answered from the key
    let unknown = uuid::Uuid::new_v4();
    post_keyed(app, &format!("{CASES}/{unknown}/screening"), &hilde, "hilde-2", &accept)
        .await
        .problem(404, "not_found");
    post_keyed(app, &format!("{CASES}/{unknown}/screening"), &hilde, "hilde-2", &accept)
        .await
        .problem(404, "not_found");
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys WHERE key = 'hilde-2'"), 0);
}

#[tokio::test]
async fn a_citizen_registration_replays_201() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let body = json!({"cpr": common::world::cpr_for_age(40, 10), "name": "Gentaget Borger"});

    let first = post_keyed(app, CITIZENS, &rita, "citizen-1", &body).await.expect(201);
    let again = post_keyed(app, CITIZENS, &rita, "citizen-1", &body).await.expect(201);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.body, first.body);
    assert!(is_replay(&again));
    assert_eq!(app.count("SELECT count(*) FROM citizens"), 1);

    // contrast: the same registration under another key finds the citizen, no replay
    let found = post_keyed(app, CITIZENS, &rita, "citizen-2", &body).await.expect(201);
    assert_eq!(found.id(), first.id());
    assert!(!is_replay(&found));
    // and the first key still replays its own first answer, 201
    let replayed = post_keyed(app, CITIZENS, &rita, "citizen-1", &body).await.expect(201);
    assert_eq!(replayed.id(), first.id());
    assert!(is_replay(&replayed));
}

#[tokio::test]
async fn a_malformed_key_is_refused() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let citizen = world.citizen(40).await;
    let body = referral(&citizen);

    let long = "k".repeat(300);
    let keys: Vec<(&str, HeaderValue)> = vec![
        ("empty", HeaderValue::from_static("")),
        ("300 characters", HeaderValue::from_str(&long).unwrap()),
        ("non-ASCII", HeaderValue::from_bytes("ключ".as_bytes()).unwrap()),
    ];
    for (what, key) in keys {
        let res = post_with_key(app, CASES, &rita, key, &body).await;
        assert_eq!(res.status.as_u16(), 422, "{what}: {}", res.text);
        let res = res.problem(422, "validation_failed");
        assert_eq!(res.fields(), [KEY], "{what}: {}", res.text);
    }
    assert_eq!(count_cases(app), 0, "a malformed key does nothing");
    assert_eq!(count_keys(app), 0);

    // the same on another endpoint
    let key = HeaderValue::from_bytes("ключ".as_bytes()).unwrap();
    let citizen_body = json!({"cpr": common::world::cpr_for_age(40, 5), "name": "Anden Borger"});
    let res = post_with_key(app, CITIZENS, &rita, key, &citizen_body).await;
    assert_eq!(res.problem(422, "validation_failed").fields(), [KEY]);
    assert_eq!(app.count("SELECT count(*) FROM citizens"), 1);

    // a well-formed key of the usual kind works
    post_keyed(app, CASES, &rita, &uuid::Uuid::new_v4().to_string(), &body).await.expect(201);
}

#[tokio::test]
async fn a_screening_replays_200_with_a_key_and_is_refused_409_without() {
    let world = World::new().await;
    let app = &world.app;
    let leader = world.token(ADULT_LEADER_SOC);
    let accept = json!({"outcome": "accepted"});

    let case = world.referred(45).await;
    let path = format!("{CASES}/{case}/screening");
    let first = post_keyed(app, &path, &leader, "screen-once", &accept).await.expect(200);
    assert_eq!(first.body["status"], "awaiting_committee");
    assert!(!is_replay(&first));
    let etag = first.header("etag").expect("a case carries an ETag").to_string();
    let again = post_keyed(app, &path, &leader, "screen-once", &accept).await.expect(200);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert!(is_replay(&again));
    assert_eq!(count_events(app, "case.screened"), 1);
    // a decline with the same key is another request
    post_keyed(app, &path, &leader, "screen-once", &json!({"outcome": "declined", "reason": "not_complex_enough"}))
        .await
        .problem(422, "idempotency_key_reused");

    // contrast: without a key the repeat is a second move, which the case cannot make
    let other = world.referred(46).await;
    let path = format!("{CASES}/{other}/screening");
    app.post(&path, &leader, &accept).await.expect(200);
    app.post(&path, &leader, &accept).await.problem(409, "invalid_transition");
    assert_eq!(count_events(app, "case.screened"), 2);
}

/// A stored answer can carry a citizen's name, so keys are kept for a day only: every instance's
/// background worker forgets older ones (when it starts, then once a minute), and a forgotten
/// key may be used afresh.
#[tokio::test]
async fn keys_older_than_a_day_are_forgotten() {
    use diesel::connection::SimpleConnection;

    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let (old_citizen, new_citizen) = (world.citizen(40).await, world.citizen(41).await);
    post_keyed(app, CASES, &rita, "old-key", &referral(&old_citizen)).await.expect(201);
    post_keyed(app, CASES, &rita, "new-key", &referral(&new_citizen)).await.expect(201);
    app.conn()
        .batch_execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE key = 'old-key'",
        )
        .unwrap();
    assert_eq!(count_keys(app), 2);

    // A second instance on the same database: its worker sweeps as it starts.
    let mut second = TestApp::spawn_on(None, app.db_url.clone()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count_keys(app) > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    second.stop().await;
    assert_eq!(count_keys(app), 1, "the expired key is forgotten, the fresh one kept");
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys WHERE key = 'new-key'"), 1);
    assert_eq!(count_cases(app), 2, "forgetting a key undoes nothing");

    // The forgotten key is free again: another body under it is a new request, not a reuse.
    let third = world.citizen(42).await;
    post_keyed(app, CASES, &rita, "old-key", &referral(&third)).await.expect(201);
    assert_eq!(count_cases(app), 3);
}

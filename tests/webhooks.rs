//! Webhooks: signed deliveries of the department's events, retried with backoff, resumed from
//! the database after a restart, never duplicated by two instances.

mod common;

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use common::world::World;
use common::TestApp;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "a-shared-secret-of-at-least-32-characters";

#[derive(Clone, Debug)]
struct Delivery {
    signature: String,
    delivery_id: String,
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
                        let header = |name: &str| {
                            req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
                        };
                        s.lock().unwrap().push(Delivery {
                            signature: header("helhed-signature"),
                            delivery_id: header("helhed-delivery"),
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
        seen.iter().map(|d| d.delivery_id.clone()).collect::<HashSet<_>>().len()
    }
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscribe(app: &TestApp, url: &str) -> Value {
    let system = app.token("social-system-account", "social", &["system"]);
    app.post("/api/v1/subscriptions", &system, &json!({"url": url, "secret": SECRET})).await.expect(201).body
}

fn verify(secret: &str, d: &Delivery) -> bool {
    let (t, v1) = d.signature.split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", d.body).as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_signed_and_carry_no_personal_data() {
    let world = World::new().await;
    let receiver = Receiver::start(0).await;
    let sub = subscribe(&world.app, &receiver.url).await;
    assert!(sub["secret"].is_string(), "the secret is returned once, on creation");
    let case = world.referred(45).await;
    wait_for("a delivery", Duration::from_secs(10), || !receiver.deliveries().is_empty()).await;

    let d = &receiver.deliveries()[0];
    assert!(verify(SECRET, d), "the signature verifies: {d:?}");
    assert!(!verify("another-secret-another-secret-another", d));
    let body: Value = serde_json::from_str(&d.body).unwrap();
    // the body is the CloudEvent the feed shows
    assert_eq!((&body["specversion"], &body["type"]), (&json!("1.0"), &json!("case.referred")));
    assert_eq!((&body["subject"], &body["data"]["case_id"]), (&json!(case), &json!(case)));
    assert_eq!(format!("{}:{}", sub["id"].as_str().unwrap(), body["id"].as_str().unwrap()), d.delivery_id);
    assert!(!d.body.contains("Test Borger"), "no personal data in a delivery");
    let system = world.app.token("social-system-account", "social", &["system"]);
    let listed = world.app.get("/api/v1/subscriptions", &system).await.expect(200);
    assert!(listed.body[0].get("secret").is_none(), "the secret is never shown again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt() {
    let world = World::new().await;
    let receiver = Receiver::start(2).await;
    subscribe(&world.app, &receiver.url).await;
    let started = Instant::now();
    world.referred(45).await;
    wait_for("a successful delivery", Duration::from_secs(15), || {
        receiver.fail.load(Ordering::SeqCst) == 0 && receiver.deliveries().len() >= 3
    })
    .await;
    let seen = receiver.deliveries();
    assert_eq!(seen.len(), 3, "two failures, then success");
    assert!(seen.iter().all(|d| d.delivery_id == seen[0].delivery_id), "the same delivery id each time");
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
    let ids: Vec<String> = receiver.deliveries().iter().skip(before).map(|d| d.delivery_id.clone()).collect();
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
    app.post("/api/v1/subscriptions", &system, &json!({"url": "https://x.example/h", "secret": "short"}))
        .await
        .problem(422, "validation_failed");
    let created =
        app.post("/api/v1/subscriptions", &system, &json!({"url": "https://93.184.216.34/hook"})).await.expect(201);
    assert_eq!(created.body["secret"].as_str().unwrap().len(), 64, "a generated secret");
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

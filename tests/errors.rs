//! Every error is problem+json with a stable code; nothing about the failure echoes input.

mod common;

use common::world::{World, ADMIN, REFERRER};
use common::TestApp;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn unknown_routes_are_404_problems_and_wrong_methods_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.as_(REFERRER);
    app.get("/nowhere", &token).await.problem(404, "not_found");
    app.get("/api/v1/nowhere", &token).await.problem(404, "not_found");
    let res = app.request(Method::DELETE, "/api/v1/cases", Some(&token), None).await.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("GET, POST"));
    let res = app.request(Method::POST, "/health/live", None, None).await.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("GET"));
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = TestApp::spawn().await;
    let res =
        app.client.get(format!("{}/health/live", app.base)).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    // without one, a random (version 4) UUID, a new one for every request
    let mut made = std::collections::HashSet::new();
    for _ in 0..3 {
        let res = app.client.get(format!("{}/health/live", app.base)).send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        let uuid = uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(uuid.get_version(), Some(uuid::Version::Random), "{id}");
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{id}");
        assert_eq!(id, uuid.hyphenated().to_string(), "lower-case and hyphenated");
        made.insert(id);
    }
    assert_eq!(made.len(), 3, "{made:?}");
    // an id that could forge a log line is replaced
    let res =
        app.client.get(format!("{}/api/v1/cases", app.base)).header("x-request-id", "a b\tc").send().await.unwrap();
    assert_ne!(res.headers()["x-request-id"], "a b\tc");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn bodies_are_json_within_limits_and_strict() {
    let world = World::new().await;
    let app = &world.app;
    let token = app.as_(REFERRER);
    let url = format!("{}/api/v1/citizens", app.base);
    let before = app.count("SELECT count(*) FROM citizens");

    // 415: a JSON body with another content type
    let res = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(r#"{"cpr":"0101901234","name":"A"}"#)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await.problem(415, "unsupported_media_type");
    // 400: not JSON at all, and the detail does not quote it
    let res = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"cpr\": 0101901234")
        .send()
        .await
        .unwrap();
    let res = TestApp::read(res).await.problem(400, "malformed_json");
    assert!(!res.text.contains("0101901234"));
    // 413: over 256 KiB, whether declared or not
    let big = json!({"cpr": "0101901234", "name": "x".repeat(300 * 1024)});
    app.post("/api/v1/citizens", &token, &big).await.problem(413, "payload_too_large");
    // 422: an unknown field, named; a CPR-like unknown key is not echoed
    let res = app
        .post("/api/v1/citizens", &token, &json!({"cpr": "0101901234", "name": "A", "nmae": "B"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["nmae"]);
    let res = app
        .post("/api/v1/citizens", &token, &json!({"cpr": "0101901234", "name": "A", "0101901234": 1}))
        .await
        .problem(422, "validation_failed");
    assert!(!res.text.contains("0101901234"), "{}", res.text);
    // 422: a wrong type, without echoing the value
    let res = app
        .post("/api/v1/citizens", &token, &json!({"cpr": 1234567890u64, "name": "A"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["cpr"]);
    assert!(!res.text.contains("1234567890"));
    // 422: a NUL character never reaches PostgreSQL
    let res = app
        .post("/api/v1/citizens", &token, &json!({"cpr": "0101901234", "name": "A\u{0000}B"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["name"]);
    // 422: a missing field
    let res =
        app.post("/api/v1/citizens", &token, &json!({"cpr": "0101901234"})).await.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["name"]);
    // 422: validation rules, per field
    let res = app
        .post("/api/v1/citizens", &token, &json!({"cpr": "0101901234", "name": ""}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["name"]);

    assert_eq!(app.count("SELECT count(*) FROM citizens"), before, "nothing was stored");
    // and the admin's committee PUT takes a list, refusing an object
    let res = app
        .put(&format!("/api/v1/committees/{}/members", world.adult_committee), &app.as_(ADMIN), &json!({"members": []}))
        .await;
    res.problem(422, "validation_failed");
}

#[tokio::test]
async fn an_unreachable_database_answers_503_promptly() {
    let app = TestApp::spawn_on(None, "postgres://nobody@127.0.0.1:1/none".into()).await;
    let started = std::time::Instant::now();
    let res = app.get("/api/v1/cases", &app.as_(REFERRER)).await.problem(503, "service_unavailable");
    assert!(res.header("retry-after").is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(6), "answered in {:?}", started.elapsed());
    app.request(Method::GET, "/health/ready", None, None).await.problem(503, "service_unavailable");
    app.request(Method::GET, "/health/live", None, None).await.expect(200);
}

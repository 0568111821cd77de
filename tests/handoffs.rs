mod common;

// One blocking hand-off per request: diesel is synchronous, so every request that needs the
// database hands its work to the blocking pool once (`Db::run`), with one pooled connection,
// and does all its statements there — its reads, its audit row, and a refusal's record. Each
// extra hand-off would cost two thread switches and a second wait for the pool
// (docs/performance.md). The pool counts its checkouts (`helhed_db_pool_checkouts_total`),
// one per `Db::run`; this is the only test in its process, so no other test adds to them.

use common::world::{World, ADULT_LEADER_SOC, REFERRER};
use common::TestApp;
use reqwest::Method;
use serde_json::json;

async fn checkouts(app: &TestApp) -> f64 {
    let res = app.request(Method::GET, "/metrics", None, None).await.expect(200);
    res.text
        .lines()
        .find_map(|line| line.strip_prefix("helhed_db_pool_checkouts_total "))
        .unwrap_or_else(|| panic!("no checkout counter in {}", res.text))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_request_hands_its_database_work_over_once() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.referred(45).await;
    let rita = app.as_(REFERRER);
    let leader = app.as_(ADULT_LEADER_SOC);
    let system = app.token("social-sys", "social", &["system"]);
    app.get(&format!("/api/v1/cases/{case}"), &rita).await.expect(200);

    // what reading the metrics takes itself
    let start = checkouts(app).await;
    let own = checkouts(app).await - start;

    let unknown = uuid::Uuid::new_v4();
    let reads = [
        (format!("/api/v1/cases/{case}"), &rita, 200),
        (format!("/api/v1/cases/{case}"), &leader, 200),
        (format!("/api/v1/cases/{unknown}"), &rita, 404),
        ("/api/v1/cases?limit=5".to_string(), &rita, 200),
        (format!("/api/v1/cases/{case}/history"), &rita, 200),
        ("/api/v1/events?limit=5".to_string(), &system, 200),
    ];
    for (path, token, status) in reads {
        let before = checkouts(app).await;
        app.get(&path, token).await.expect(status);
        assert_eq!(checkouts(app).await - before - own, 1.0, "GET {path} ({status})");
    }
    let before = checkouts(app).await;
    app.patch(&format!("/api/v1/cases/{case}"), &rita, &json!({"citizen_view": "One contact person."}))
        .await
        .expect(200);
    assert_eq!(checkouts(app).await - before - own, 1.0, "PATCH a case");
}

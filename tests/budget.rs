//! The coordinator's budget: an append-only ledger that never overspends, is idempotent, and
//! loses nothing.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::proxy::Proxy;
use common::world::{World, ADULT_CW_SOC, ADULT_LEADER_LM, COORDINATOR, NEW_COORDINATOR, OUTSIDER};
use common::{Response, TestApp};
use diesel::connection::SimpleConnection;
use futures_util::future::join_all;
use serde_json::{json, Value};

fn spend(amount: Value) -> Value {
    json!({"amount_ore": amount, "category": "transport", "description": "Bus card"})
}

async fn post_keyed(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Response {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("sent");
    TestApp::read(res).await
}

fn spent(app: &TestApp, case: &str) -> i64 {
    app.count(&format!("SELECT spent_ore FROM cases WHERE id = '{case}'"))
}

fn entries(app: &TestApp, case: &str) -> i64 {
    app.count(&format!("SELECT count(*) FROM ledger_entries WHERE case_id = '{case}'"))
}

#[tokio::test]
async fn spends_fit_to_the_last_ore_and_no_further() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let path = format!("/api/v1/cases/{case}/budget/spends");

    let res = app.post(&path, &cora, &spend(json!(4_000_000))).await.expect(201);
    assert_eq!(res.body["remaining_ore"], 1_000_000);
    assert_eq!(res.body["entry"]["kind"], "spend");
    // one øre too much: the committee must decide
    let res = app.post(&path, &cora, &spend(json!(1_000_001))).await.problem(409, "budget_exceeded");
    assert_eq!(res.body["remaining_ore"], 1_000_000);
    assert!(res.body["detail"].as_str().unwrap().contains("committee"));
    assert_eq!(spent(app, &case), 4_000_000);
    // exactly reaching the frame
    let res = app.post(&path, &cora, &spend(json!(1_000_000))).await.expect(201);
    assert_eq!(res.body["remaining_ore"], 0);
    app.post(&path, &cora, &spend(json!(1))).await.problem(409, "budget_exceeded");

    let budget = app.get(&format!("/api/v1/cases/{case}/budget"), &cora).await.expect(200);
    assert_eq!(budget.body["frame_ore"], 5_000_000);
    assert_eq!(budget.body["spent_ore"], 5_000_000);
    assert_eq!(budget.body["remaining_ore"], 0);
    assert_eq!(budget.body["entries"].as_array().unwrap().len(), 2);
    assert_eq!(budget.body["entries"][0]["recorded_by"]["sub"], COORDINATOR.sub);
    let view = app.get(&format!("/api/v1/cases/{case}"), &cora).await.expect(200);
    assert_eq!(view.body["budget"]["remaining_ore"], 0);
}

#[tokio::test]
async fn bad_amounts_are_refused_and_nothing_is_stored() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let path = format!("/api/v1/cases/{case}/budget/spends");
    let raw = |text: &str| text.to_string();
    for amount in [
        raw("0"),
        raw("-100"),
        raw("1.5"),
        raw("\"100\""),
        raw("null"),
        raw("9223372036854775808"),
        raw("100000000001"),
    ] {
        let body = format!(r#"{{"amount_ore": {amount}, "category": "transport", "description": "x"}}"#);
        let res = app
            .client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&cora)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let res = TestApp::read(res).await.problem(422, "validation_failed");
        assert_eq!(res.fields(), ["amount_ore"], "{amount}: {}", res.text);
    }
    let mut missing = spend(json!(100));
    missing.as_object_mut().unwrap().remove("amount_ore");
    app.post(&path, &cora, &missing).await.problem(422, "validation_failed");
    app.post(&path, &cora, &json!({"amount_ore": 100, "category": "caviar", "description": "x"}))
        .await
        .problem(422, "validation_failed");
    app.post(&path, &cora, &json!({"amount_ore": 100, "category": "transport", "description": " "}))
        .await
        .problem(422, "validation_failed");
    let unknown = json!({"amount_ore": 100, "category": "transport", "description": "x", "intervention_id": uuid::Uuid::new_v4()});
    app.post(&path, &cora, &unknown).await.problem(422, "unknown_reference");
    // More than any frame may hold is a schema-valid spend the frame refuses: the committee's.
    app.post(&path, &cora, &spend(json!(5_000_001))).await.problem(409, "budget_exceeded");
    assert_eq!(entries(app, &case), 0);
    assert_eq!(spent(app, &case), 0);

    // a spend may name one of the plan's interventions
    let plan = app.get(&format!("/api/v1/cases/{case}/plan"), &cora).await.expect(200);
    let intervention = plan.body["interventions"][0]["id"].clone();
    let body =
        json!({"amount_ore": 100, "category": "housing_support", "description": "x", "intervention_id": intervention});
    let res = app.post(&path, &cora, &body).await.expect(201);
    assert_eq!(res.body["entry"]["intervention_id"], intervention);
}

#[tokio::test]
async fn only_the_current_coordinator_spends() {
    let world = World::new().await;
    let app = &world.app;
    let (case, meeting) = world.active(45).await;
    let path = format!("/api/v1/cases/{case}/budget/spends");
    // committee members see the case but do not spend; outsiders do not see it
    app.post(&path, &world.token(ADULT_LEADER_LM), &spend(json!(100))).await.problem(403, "forbidden");
    app.post(&path, &world.token(ADULT_CW_SOC), &spend(json!(100))).await.problem(403, "forbidden");
    app.post(&path, &world.token(OUTSIDER), &spend(json!(100))).await.problem(404, "not_found");
    app.get(&format!("/api/v1/cases/{case}/budget"), &world.token(OUTSIDER)).await.problem(404, "not_found");
    assert_eq!(entries(app, &case), 0);

    // the committee changes the coordinator: the change takes effect at once
    let revision = json!({
        "case_id": case, "kind": "revision", "members_present": World::quorum(45),
        "citizen_participation": {"took_part": true, "form": "phone"},
        "coordinator": {"sub": NEW_COORDINATOR.sub, "name": "Nils", "department": NEW_COORDINATOR.dept}
    });
    app.post(&format!("/api/v1/meetings/{meeting}/decisions"), &world.token(ADULT_LEADER_LM), &revision)
        .await
        .expect(201);
    app.post(&path, &world.token(COORDINATOR), &spend(json!(100))).await.problem(404, "not_found");
    app.post(&path, &world.token(NEW_COORDINATOR), &spend(json!(100))).await.expect(201);
    assert_eq!(entries(app, &case), 1);
}

#[tokio::test]
async fn a_spend_is_reversed_once() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let first =
        app.post(&format!("/api/v1/cases/{case}/budget/spends"), &cora, &spend(json!(300_000))).await.expect(201);
    let id = first.body["entry"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/cases/{case}/budget/spends/{id}/reversal");
    app.post(&path, &cora, &json!({})).await.problem(422, "validation_failed");
    let reversal = app.post(&path, &cora, &json!({"reason": "paid twice by mistake"})).await.expect(201);
    assert_eq!(reversal.body["entry"]["amount_ore"], -300_000);
    assert_eq!(reversal.body["entry"]["reverses"], id.as_str());
    assert_eq!(reversal.body["spent_ore"], 0);
    app.post(&path, &cora, &json!({"reason": "again"})).await.problem(409, "conflict");
    let reversal_id = reversal.body["entry"]["id"].as_str().unwrap();
    app.post(&format!("/api/v1/cases/{case}/budget/spends/{reversal_id}/reversal"), &cora, &json!({"reason": "x"}))
        .await
        .problem(409, "conflict");
    app.post(
        &format!("/api/v1/cases/{case}/budget/spends/{}/reversal", uuid::Uuid::new_v4()),
        &cora,
        &json!({"reason": "x"}),
    )
    .await
    .problem(404, "not_found");
    assert_eq!(spent(app, &case), 0);
    let budget = app.get(&format!("/api/v1/cases/{case}/budget"), &cora).await.expect(200);
    assert_eq!(budget.body["entries"][0]["reversed_by"], reversal_id);
    let history = app.get(&format!("/api/v1/cases/{case}/history"), &cora).await.expect(200);
    let types: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"budget.spent") && types.contains(&"budget.reversed"), "{types:?}");
}

#[tokio::test]
async fn a_closed_case_takes_no_spends_and_the_ledger_is_append_only() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let first = app.post(&format!("/api/v1/cases/{case}/budget/spends"), &cora, &spend(json!(100))).await.expect(201);
    let id = first.body["entry"]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/cases/{case}/closure"), &cora, &json!({"reason": "employment"})).await.expect(200);
    app.post(&format!("/api/v1/cases/{case}/budget/spends"), &cora, &spend(json!(100)))
        .await
        .problem(409, "invalid_transition");
    app.post(&format!("/api/v1/cases/{case}/budget/spends/{id}/reversal"), &cora, &json!({"reason": "x"}))
        .await
        .problem(409, "invalid_transition");
    assert_eq!(spent(app, &case), 100);
    let mut conn = app.conn();
    assert!(conn.batch_execute("UPDATE ledger_entries SET amount_ore = 1").is_err());
    assert!(conn.batch_execute("DELETE FROM ledger_entries").is_err());
    assert!(conn.batch_execute("TRUNCATE ledger_entries").is_err());
    assert_eq!(entries(app, &case), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_spends_never_pass_the_frame() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let url = format!("{}/api/v1/cases/{case}/budget/spends", app.base);
    // 50 spends of 200,000 øre against a frame of 5,000,000: exactly 25 fit
    let requests = (0..50).map(|_| {
        let (client, url, token) = (app.client.clone(), url.clone(), cora.clone());
        async move {
            client.post(url).bearer_auth(token).json(&spend(json!(200_000))).send().await.unwrap().status().as_u16()
        }
    });
    let statuses = join_all(requests).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (25, 25), "{statuses:?}");
    assert_eq!(spent(app, &case), 5_000_000);
    assert_eq!(entries(app, &case), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_of_one_key_count_once() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let path = format!("/api/v1/cases/{case}/budget/spends");
    let body = spend(json!(123_456));
    let answers = join_all((0..16).map(|_| post_keyed(app, &path, &cora, "spend-1", &body))).await;
    let ids: Vec<&Value> = answers.iter().map(|r| &r.body["entry"]["id"]).collect();
    assert!(answers.iter().all(|r| r.status == 201), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(entries(app, &case), 1);
    assert_eq!(spent(app, &case), 123_456);
    post_keyed(app, &path, &cora, "spend-1", &spend(json!(1))).await.problem(422, "idempotency_key_reused");
    assert_eq!(entries(app, &case), 1);
}

/// PostgreSQL goes away in the middle of a burst of spends from a second instance of the
/// service, then comes back. Every spend acknowledged with 201 is in the ledger; every other
/// one, retried with its key, ends acknowledged exactly once; nothing is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_loses_nothing_acknowledged_and_stores_nothing_twice() {
    let world = World::new().await;
    let (case, _) = world.active(45).await;
    let schema = world.app.schema.clone().unwrap();
    let proxy = Proxy::start(common::db_host_port()).await;
    let second = TestApp::spawn_on(None, common::url_via(proxy.port, common::APP_ROLE, &schema)).await;
    let cora = world.token(COORDINATOR);
    let path = format!("/api/v1/cases/{case}/budget/spends");

    let burst = (0..40).map(|i| {
        let (app, path, token) = (&second, path.clone(), cora.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(i * 40)).await;
            let body = spend(json!(10_000 + i as i64));
            (i, post_keyed(app, &path, &token, &format!("outage-{i}"), &body).await.status.as_u16())
        }
    });
    let outage = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        proxy.cut();
        // longer than the pool's 2 s checkout timeout, so that waiting requests give up
        tokio::time::sleep(Duration::from_millis(3000)).await;
        proxy.restore();
    };
    let (first_round, ()) = tokio::join!(join_all(burst), outage);
    let acknowledged: Vec<u64> = first_round.iter().filter(|(_, s)| *s == 201).map(|(i, _)| *i).collect();
    let failed: Vec<(u64, u16)> = first_round.iter().filter(|(_, s)| *s != 201).copied().collect();
    assert!(!failed.is_empty(), "the outage hit no request; the test proves nothing: {first_round:?}");
    assert!(failed.iter().all(|(_, s)| *s == 503), "during the outage requests get 503: {failed:?}");
    for i in &acknowledged {
        let key = format!("outage-{i}");
        let n = world.app.count(&format!(
            "SELECT count(*) FROM ledger_entries l JOIN idempotency_keys k ON k.body->'entry'->>'id' = l.id::text WHERE k.key = '{key}'"
        ));
        assert_eq!(n, 1, "acknowledged spend {key} is in the ledger");
    }

    // The caller retries what was not acknowledged, with the same keys, until it is.
    let mut outcome: HashMap<u64, u16> = first_round.into_iter().collect();
    for _ in 0..50 {
        let pending: Vec<u64> = outcome.iter().filter(|(_, s)| **s != 201).map(|(i, _)| *i).collect();
        if pending.is_empty() {
            break;
        }
        for i in pending {
            let res = post_keyed(&second, &path, &cora, &format!("outage-{i}"), &spend(json!(10_000 + i as i64))).await;
            outcome.insert(i, res.status.as_u16());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(outcome.values().all(|s| *s == 201), "every spend ends acknowledged: {outcome:?}");
    let expected: i64 = (0..40).map(|i| 10_000 + i).sum();
    assert_eq!(entries(&world.app, &case), 40, "each spend stored exactly once");
    assert_eq!(spent(&world.app, &case), expected);
    let ledger_sum =
        world.app.count(&format!("SELECT coalesce(sum(amount_ore), 0) FROM ledger_entries WHERE case_id = '{case}'"));
    assert_eq!(ledger_sum, expected, "the running total agrees with the ledger");
}

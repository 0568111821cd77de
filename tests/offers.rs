//! The offers catalog: who writes it, search, ETags, and plans pointing to it.

mod common;

use common::world::{World, ADMIN, ADULT_LEADER_LM, AUDITOR, REFERRER};
use common::TestApp;
use serde_json::json;

fn offer(name: &str, department: &str, category: &str, track: &str) -> serde_json::Value {
    json!({"name": name, "department": department, "category": category, "track": track,
           "description": format!("{name}: described"), "unit_cost_ore": 250_000})
}

fn names(res: &common::Response) -> Vec<String> {
    let mut names: Vec<String> =
        res.body["items"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn admins_and_leaders_of_the_department_write_the_catalog() {
    let app = TestApp::spawn().await;
    let admin = app.as_(ADMIN);
    let lm_leader = app.as_(ADULT_LEADER_LM);
    app.post("/api/v1/offers", &admin, &offer("Bostøtte", "social", "housing_support", "both")).await.expect(201);
    app.post("/api/v1/offers", &lm_leader, &offer("Mentor", "labour_market", "mentor_support", "adult"))
        .await
        .expect(201);
    // a leader writes only for their own department; caseworkers and auditors not at all
    app.post("/api/v1/offers", &lm_leader, &offer("X", "social", "other", "both")).await.problem(403, "forbidden");
    app.post("/api/v1/offers", &app.as_(REFERRER), &offer("X", "social", "other", "both"))
        .await
        .problem(403, "forbidden");
    app.post("/api/v1/offers", &app.as_(AUDITOR), &offer("X", "social", "other", "both"))
        .await
        .problem(403, "forbidden");
    app.post("/api/v1/offers", &admin, &json!({"name": " ", "department": "social", "category": "x", "track": "both"}))
        .await
        .problem(422, "validation_failed");
    app.post("/api/v1/offers", &admin, &json!({"name": "A", "department": "social", "category": "x", "track": "teen"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(app.count("SELECT count(*) FROM offers"), 2);
}

#[tokio::test]
async fn search_by_words_department_category_and_track() {
    let app = TestApp::spawn().await;
    let admin = app.as_(ADMIN);
    for (name, dept, category, track) in [
        ("Bostøtte i eget hjem", "social", "housing_support", "both"),
        ("Mentor til job", "labour_market", "mentor_support", "adult"),
        ("Mentor i uddannelse", "youth", "mentor_support", "youth"),
        ("Rabat 50% på buskort", "social", "transport", "both"),
    ] {
        app.post("/api/v1/offers", &admin, &offer(name, dept, category, track)).await.expect(201);
    }
    let reader = app.as_(REFERRER);
    assert_eq!(
        names(&app.get("/api/v1/offers?q=mentor", &reader).await.expect(200)),
        ["Mentor i uddannelse", "Mentor til job"]
    );
    assert_eq!(names(&app.get("/api/v1/offers?q=MENTOR%20job", &reader).await.expect(200)), ["Mentor til job"]);
    assert_eq!(names(&app.get("/api/v1/offers?q=50%25", &reader).await.expect(200)), ["Rabat 50% på buskort"]);
    assert_eq!(names(&app.get("/api/v1/offers?q=_", &reader).await.expect(200)), Vec::<String>::new());
    assert_eq!(names(&app.get("/api/v1/offers?department=social", &reader).await.expect(200)).len(), 2);
    assert_eq!(
        names(&app.get("/api/v1/offers?category=mentor_support&department=youth", &reader).await.expect(200)),
        ["Mentor i uddannelse"]
    );
    // a track's offers include those for both tracks
    assert_eq!(names(&app.get("/api/v1/offers?track=youth", &reader).await.expect(200)).len(), 3);
    assert_eq!(
        names(&app.get("/api/v1/offers?q=described", &reader).await.expect(200)).len(),
        4,
        "the description is searched too"
    );
    app.get("/api/v1/offers?department=nowhere", &reader).await.problem(422, "validation_failed");
    let page = app.get("/api/v1/offers?limit=3", &reader).await.expect(200);
    let next = page.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/offers?limit=3&cursor={next}"), &reader).await.expect(200);
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert!(rest.body["next_cursor"].is_null());
}

#[tokio::test]
async fn offers_change_with_if_match_and_inactive_ones_leave_the_search() {
    let app = TestApp::spawn().await;
    let admin = app.as_(ADMIN);
    let created = app
        .post("/api/v1/offers", &admin, &offer("Mentor", "labour_market", "mentor_support", "adult"))
        .await
        .expect(201);
    let (id, tag) = (created.id(), created.header("etag").unwrap().to_string());
    let stale = app
        .client
        .patch(format!("{}/api/v1/offers/{id}", app.base))
        .bearer_auth(&admin)
        .header("If-Match", "\"99\"")
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    TestApp::read(stale).await.problem(412, "precondition_failed");
    let res = app
        .client
        .patch(format!("{}/api/v1/offers/{id}", app.base))
        .bearer_auth(&admin)
        .header("If-Match", &tag)
        .json(&json!({"active": false, "unit_cost_ore": 300_000}))
        .send()
        .await
        .unwrap();
    let res = TestApp::read(res).await.expect(200);
    assert_ne!(res.header("etag").unwrap(), tag);
    assert_eq!(res.body["unit_cost_ore"], 300_000);
    let reader = app.as_(REFERRER);
    assert_eq!(app.get("/api/v1/offers", &reader).await.expect(200).body["items"], json!([]));
    assert_eq!(
        app.get("/api/v1/offers?active=false", &reader).await.expect(200).body["items"].as_array().unwrap().len(),
        1
    );
    // another department's leader may not change it
    app.patch(&format!("/api/v1/offers/{id}"), &app.token("l", "social", &["leader"]), &json!({"active": true}))
        .await
        .problem(403, "forbidden");
    app.patch(&format!("/api/v1/offers/{id}"), &admin, &json!({"department": "social"}))
        .await
        .problem(422, "validation_failed");
    app.get(&format!("/api/v1/offers/{}", uuid::Uuid::new_v4()), &reader).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_plan_intervention_may_point_to_an_offer_that_exists() {
    let world = World::new().await;
    let app = &world.app;
    let offer_id = app
        .post("/api/v1/offers", &app.as_(ADMIN), &offer("Bostøtte", "social", "housing_support", "both"))
        .await
        .expect(201)
        .id();
    let (case, _) = world.active(45).await;
    let coordinator = world.token(common::world::COORDINATOR);
    let path = format!("/api/v1/cases/{case}/plan/interventions");
    let body = json!({"title": "Bostøtte", "responsible_department": "social", "offer_id": offer_id});
    let res = app.post(&path, &coordinator, &body).await.expect(201);
    assert_eq!(res.body["offer_id"], offer_id.as_str());
    let body = json!({"title": "Bostøtte", "responsible_department": "social", "offer_id": uuid::Uuid::new_v4()});
    app.post(&path, &coordinator, &body).await.problem(422, "unknown_reference");
}

//! Consents over HTTP: recording and withdrawing them, what an initial decision needs, what a
//! withdrawn plan consent stops (and what it does not), the case's `consent` summary, events,
//! who may record, the audit trail, and the data-sharing consent that opens a case to a
//! department the referral names but that is neither on the committee nor the coordinator's.
//!
//! Cases whose consents matter are built here, not with `World::awaiting`/`World::active`, so
//! that no consent is recorded but the ones each test records.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::world::{
    cpr_for, initial_decision, referral, Person, World, ADULT_CW_SOC, ADULT_LEADER_LM, ADULT_LEADER_SOC, AUDITOR,
    COORDINATOR, OUTSIDER, REFERRER, YOUTH_LEADER_SOC,
};
use common::{Response, TestApp, TEST_ISSUER};
use reqwest::Method;
use serde_json::{json, Value};

const ADULT: i32 = 45;
const YOUTH: i32 = 22;
const MINOR: i32 = 16;

/// School: on the youth committee only, never the coordinator's department here.
const SCHOOL_LEADER: Person = Person { sub: "sl", dept: "school", roles: &["leader"] };
const SCHOOL_SYSTEM: Person = Person { sub: "school-sys", dept: "school", roles: &["system"] };
/// Youth: on no adult committee, and named by no referral built here.
const YOUTH_DEPT_LEADER: Person = Person { sub: "ydl", dept: "youth", roles: &["leader"] };
/// Health care: on the adult committee.
const HC_LEADER: Person = Person { sub: "hcl", dept: "health_care", roles: &["leader"] };
/// Labour market, on no committee: the coordinator's department, and named by every referral.
const LM_LEADER: Person = Person { sub: "lml", dept: "labour_market", roles: &["leader"] };
const SOCIAL_SYSTEM: Person = Person { sub: "social-sys", dept: "social", roles: &["system"] };

fn day(days: i64) -> String {
    (Utc::now() + Duration::days(days)).format("%Y-%m-%d").to_string()
}

fn case_path(case: &str) -> String {
    format!("/api/v1/cases/{case}")
}

fn consents_path(case: &str) -> String {
    format!("/api/v1/cases/{case}/consents")
}

fn withdrawal_path(case: &str, consent: &str) -> String {
    format!("/api/v1/cases/{case}/consents/{consent}/withdrawal")
}

/// A consent given `given` days from today (negative: ago), expiring `expires` days from today.
fn dated(mut body: Value, given: i64, expires: Option<i64>) -> Value {
    body["given_on"] = json!(day(given));
    if let Some(e) = expires {
        body["expires_on"] = json!(day(e));
    }
    body
}

fn plan_consent(given_by: &str, given: i64, expires: Option<i64>) -> Value {
    let body = json!({"kind": "plan", "given_by": given_by, "form": "written", "note": "Signed in writing"});
    dated(body, given, expires)
}

fn sharing_consent(departments: &[&str], given: i64, expires: Option<i64>) -> Value {
    let body = json!({"kind": "data_sharing", "given_by": "citizen", "form": "digital", "departments": departments});
    dated(body, given, expires)
}

fn withdrawal(on: i64) -> Value {
    json!({"on": day(on), "note": "The citizen called and withdrew it"})
}

/// A request carrying our own X-Request-Id, to find its audit entry by.
async fn traced(app: &TestApp, method: Method, path: &str, token: &str, body: Option<&Value>, rid: &str) -> Response {
    let mut req =
        app.client.request(method, format!("{}{path}", app.base)).bearer_auth(token).header("x-request-id", rid);
    if let Some(body) = body {
        req = req.json(body);
    }
    TestApp::read(req.send().await.expect("request sent")).await
}

async fn post_keyed(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Response {
    let req = app.client.post(format!("{}{path}", app.base)).bearer_auth(token).header("Idempotency-Key", key);
    TestApp::read(req.json(body).send().await.expect("request sent")).await
}

/// Records a consent as the referrer; returns its id.
async fn give(world: &World, case: &str, body: &Value) -> String {
    world.app.post(&consents_path(case), &world.token(REFERRER), body).await.expect(201).id()
}

async fn withdraw(world: &World, case: &str, consent: &str) -> Response {
    world.app.post(&withdrawal_path(case, consent), &world.token(REFERRER), &withdrawal(0)).await
}

/// The case's consents as the referrer reads them (a JSON array).
async fn consents(world: &World, case: &str) -> Vec<Value> {
    let res = world.app.get(&consents_path(case), &world.token(REFERRER)).await.expect(200);
    res.body.as_array().unwrap_or_else(|| panic!("a JSON array: {}", res.text)).clone()
}

async fn view(world: &World, case: &str) -> Value {
    world.app.get(&case_path(case), &world.token(REFERRER)).await.expect(200).body
}

async fn history(world: &World, case: &str) -> Vec<String> {
    let res = world.app.get(&format!("{}/history?limit=200", case_path(case)), &world.token(REFERRER)).await;
    let items = res.expect(200).body["items"].as_array().unwrap().clone();
    items.iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

fn count(events: &[String], kind: &str) -> usize {
    events.iter().filter(|e| *e == kind).count()
}

fn decisions(world: &World, case: &str) -> i64 {
    world.app.count(&format!("SELECT count(*) FROM decisions WHERE case_id = '{case}'"))
}

/// A screened case of a citizen registered with `cpr`, referred with `body_extra` over
/// `referral()`: no consent recorded.
async fn awaiting_with(world: &World, cpr: &str, age: i32, extra: Value) -> String {
    let token = world.token(REFERRER);
    let citizen =
        world.app.post("/api/v1/citizens", &token, &json!({"cpr": cpr, "name": "Test Borger"})).await.expect(201).id();
    let mut body = referral(&citizen);
    if age < 18 {
        body["under_18_justification"] = json!("individual professional assessment");
    }
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let case = world.app.post("/api/v1/cases", &token, &body).await.expect(201).id();
    let screener = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
    world
        .app
        .post(&format!("{}/screening", case_path(&case)), &world.token(screener), &json!({"outcome": "accepted"}))
        .await
        .expect(200);
    case
}

async fn awaiting(world: &World, age: i32) -> String {
    awaiting_with(world, &common::world::cpr_for_age(age, 20), age, json!({})).await
}

/// Puts the case on a new meeting's agenda and takes the initial decision there.
async fn decide_initial(world: &World, case: &str, age: i32) -> Response {
    let meeting = world.meeting(age).await;
    world.on_agenda(&meeting, case, age).await;
    let path = format!("/api/v1/meetings/{meeting}/decisions");
    world.app.post(&path, &world.token(World::leader(age)), &initial_decision(case, age)).await
}

/// An active adult case whose only consent is the citizen's plan consent: (case, consent).
async fn active(world: &World) -> (String, String) {
    let case = awaiting(world, ADULT).await;
    let consent = give(world, &case, &plan_consent("citizen", 0, None)).await;
    decide_initial(world, &case, ADULT).await.expect(201);
    (case, consent)
}

/// An initial decision refused for missing consents: 422 `consent_missing` with one entry per
/// missing consent, and the case still awaiting the committee with no decision.
async fn refused_for_consent(world: &World, case: &str, age: i32, missing: usize) -> Vec<String> {
    let res = decide_initial(world, case, age).await.problem(422, "consent_missing");
    let errors: Vec<String> = res.body["errors"].as_array().expect("errors").iter().map(Value::to_string).collect();
    assert_eq!(errors.len(), missing, "one entry per missing consent: {}", res.text);
    assert_eq!(view(world, case).await["status"], "awaiting_committee");
    assert_eq!(decisions(world, case), 0);
    errors
}

fn departments(v: &Value) -> BTreeSet<String> {
    v.as_array().unwrap_or_else(|| panic!("an array: {v}")).iter().map(|d| d.as_str().unwrap().to_string()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---- Recording, listing, withdrawing ---------------------------------------------------------

#[tokio::test]
async fn each_kind_of_consent_is_recorded_with_every_field() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    let plan = world.app.post(&consents_path(&case), &world.token(REFERRER), &plan_consent("citizen", -3, None)).await;
    let plan = plan.expect(201).body;
    let body = sharing_consent(&["social", "labour_market"], 0, Some(365));
    let sharing = world.app.post(&consents_path(&case), &world.token(REFERRER), &body).await.expect(201).body;
    for (c, kind) in [(&plan, "plan"), (&sharing, "data_sharing")] {
        let fields = "id kind given_by form given_on expires_on departments recorded_by recorded_at withdrawn_on";
        for field in fields.split(' ').chain(["withdrawal_note"]) {
            assert!(c.get(field).is_some(), "{kind} consent lacks `{field}`: {c}");
        }
        assert!(c["id"].is_string(), "{c}");
        assert_eq!(c["kind"], kind);
        assert_eq!(c["given_by"], "citizen");
        assert_eq!(c["recorded_by"]["sub"], REFERRER.sub, "{c}");
        chrono::DateTime::parse_from_rfc3339(c["recorded_at"].as_str().unwrap()).expect("recorded_at is RFC 3339");
        assert!(c["withdrawn_on"].is_null() && c["withdrawal_note"].is_null(), "{c}");
    }
    assert_eq!(
        (&plan["form"], &plan["given_on"], &plan["expires_on"]),
        (&json!("written"), &json!(day(-3)), &Value::Null)
    );
    assert_eq!(plan["departments"], json!([]), "a plan consent names no department");
    assert_eq!((&sharing["form"], &sharing["given_on"]), (&json!("digital"), &json!(day(0))));
    assert_eq!(sharing["expires_on"], day(365));
    assert_eq!(departments(&sharing["departments"]), set(&["social", "labour_market"]));
    let listed: Vec<Value> = consents(&world, &case).await.iter().map(|c| c["id"].clone()).collect();
    assert_eq!(listed, [plan["id"].clone(), sharing["id"].clone()], "both are stored");
}

#[tokio::test]
async fn a_repeated_post_with_the_same_idempotency_key_acts_once() {
    let world = World::new().await;
    let (app, case) = (&world.app, awaiting(&world, ADULT).await);
    let token = world.token(REFERRER);
    let body = plan_consent("citizen", 0, None);
    let first = post_keyed(app, &consents_path(&case), &token, "consent-1", &body).await.expect(201);
    let again = post_keyed(app, &consents_path(&case), &token, "consent-1", &body).await.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(consents(&world, &case).await.len(), 1, "one consent stored");

    let path = withdrawal_path(&case, &first.id());
    let withdrawn = post_keyed(app, &path, &token, "withdraw-1", &withdrawal(0)).await.expect(200);
    let replay = post_keyed(app, &path, &token, "withdraw-1", &withdrawal(0)).await.expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, withdrawn.body);
    app.post(&path, &token, &withdrawal(0)).await.problem(409, "conflict");
    assert_eq!(count(&history(&world, &case).await, "consent.withdrawn"), 1);
}

#[tokio::test]
async fn the_list_holds_every_consent_oldest_first_withdrawn_ones_too() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    // given and recorded in the same order, so that "oldest" means the same either way
    let first = give(&world, &case, &plan_consent("citizen", -10, None)).await;
    let second = give(&world, &case, &sharing_consent(&["social"], -5, None)).await;
    let mut plan = plan_consent("citizen", 0, None);
    plan["departments"] = json!([]); // a plan consent may name its departments as []
    let third = give(&world, &case, &plan).await;
    withdraw(&world, &case, &first).await.expect(200);
    let listed = consents(&world, &case).await;
    let ids: Vec<&str> = listed.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str(), third.as_str()]);
    assert_eq!(listed[0]["withdrawn_on"], day(0), "the withdrawn one is listed, withdrawn");
    assert!(listed[1]["withdrawn_on"].is_null() && listed[2]["withdrawn_on"].is_null());
    // anyone who sees the case reads the list; who does not, does not
    let member = world.app.get(&consents_path(&case), &world.token(ADULT_CW_SOC)).await.expect(200);
    assert_eq!(member.body.as_array().unwrap().len(), 3);
    world.app.get(&consents_path(&case), &world.token(OUTSIDER)).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_consent_is_withdrawn_once_and_not_with_a_future_date() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    let consent = give(&world, &case, &plan_consent("citizen", -10, None)).await;
    let (path, token) = (withdrawal_path(&case, &consent), world.token(REFERRER));
    world.app.post(&path, &token, &withdrawal(1)).await.problem(422, "date_not_allowed");
    assert!(consents(&world, &case).await[0]["withdrawn_on"].is_null(), "a refused withdrawal withdraws nothing");

    let res = world.app.post(&path, &token, &json!({"on": day(-1), "note": "Called on Monday"})).await.expect(200);
    let withdrawn = res.body;
    assert_eq!((&withdrawn["id"], &withdrawn["given_on"]), (&json!(consent), &json!(day(-10))), "{withdrawn}");
    assert_eq!(
        (&withdrawn["withdrawn_on"], &withdrawn["withdrawal_note"]),
        (&json!(day(-1)), &json!("Called on Monday"))
    );

    world.app.post(&path, &token, &withdrawal(0)).await.problem(409, "conflict");
    let listed = consents(&world, &case).await;
    assert_eq!(
        (&listed[0]["withdrawn_on"], &listed[0]["withdrawal_note"]),
        (&withdrawn["withdrawn_on"], &withdrawn["withdrawal_note"]),
        "the first withdrawal stands"
    );
}

#[tokio::test]
async fn a_consent_given_in_the_future_or_expiring_before_it_runs_is_refused_and_nothing_is_stored() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    let token = world.token(REFERRER);
    for body in [plan_consent("citizen", 1, None), sharing_consent(&["social"], 30, Some(60))] {
        world.app.post(&consents_path(&case), &token, &body).await.problem(422, "date_not_allowed");
    }
    // expires_on must be after given_on: before it, or the same day, is inconsistent
    let early = [
        plan_consent("citizen", -5, Some(-6)),
        plan_consent("citizen", -5, Some(-5)),
        sharing_consent(&["social"], 0, Some(-1)),
    ];
    for body in early {
        world.app.post(&consents_path(&case), &token, &body).await.problem(422, "inconsistent_request");
    }
    assert!(consents(&world, &case).await.is_empty());
    assert_eq!(count(&history(&world, &case).await, "consent.given"), 0);
    // today is not the future, and the day after the given day is after it
    give(&world, &case, &plan_consent("citizen", 0, None)).await;
    give(&world, &case, &plan_consent("citizen", -5, Some(-4))).await;
}

// ---- The initial decision --------------------------------------------------------------------

#[tokio::test]
async fn an_initial_decision_needs_a_current_plan_consent_of_the_citizen() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    refused_for_consent(&world, &case, ADULT, 1).await;
    // a data-sharing consent is no plan consent
    give(&world, &case, &sharing_consent(&["social"], 0, None)).await;
    refused_for_consent(&world, &case, ADULT, 1).await;
    // nor is a withdrawn one
    let withdrawn = give(&world, &case, &plan_consent("citizen", -2, None)).await;
    withdraw(&world, &case, &withdrawn).await.expect(200);
    refused_for_consent(&world, &case, ADULT, 1).await;

    give(&world, &case, &plan_consent("citizen", 0, None)).await;
    decide_initial(&world, &case, ADULT).await.expect(201);
    assert_eq!(view(&world, &case).await["status"], "active");
    assert_eq!(decisions(&world, &case), 1);
}

#[tokio::test]
async fn a_citizen_under_18_needs_a_custody_holders_plan_consent_too() {
    let world = World::new().await;
    let case = awaiting(&world, MINOR).await;
    let errors = refused_for_consent(&world, &case, MINOR, 2).await;
    assert_eq!(errors.iter().filter(|e| e.contains("custody")).count(), 1, "{errors:?}");

    give(&world, &case, &plan_consent("citizen", 0, None)).await;
    let errors = refused_for_consent(&world, &case, MINOR, 1).await;
    assert!(errors[0].contains("custody"), "names the custody holder: {errors:?}");

    give(&world, &case, &plan_consent("custody_holder", 0, None)).await;
    decide_initial(&world, &case, MINOR).await.expect(201);
    assert_eq!(view(&world, &case).await["status"], "active");
}

#[tokio::test]
async fn a_citizen_who_turns_18_on_the_meeting_day_needs_only_their_own_consent() {
    let world = World::new().await;
    // world.meeting() schedules the meeting tomorrow; the citizen is 17 today and 18 then
    let tomorrow = Utc::now().date_naive() + Duration::days(1);
    let born = NaiveDate::from_ymd_opt(tomorrow.year() - 18, tomorrow.month(), tomorrow.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(tomorrow.year() - 18, 2, 28).unwrap());
    let case = awaiting_with(&world, &cpr_for(born), 17, json!({})).await;
    give(&world, &case, &plan_consent("citizen", 0, None)).await;
    decide_initial(&world, &case, 17).await.expect(201);
}

#[tokio::test]
async fn a_consent_that_expired_before_the_meeting_day_does_not_count() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    // current today, but the meeting is tomorrow
    give(&world, &case, &plan_consent("citizen", -30, Some(0))).await;
    refused_for_consent(&world, &case, ADULT, 1).await;
    // current through the meeting day, both ends included
    give(&world, &case, &plan_consent("citizen", -1, Some(1))).await;
    decide_initial(&world, &case, ADULT).await.expect(201);
}

// ---- A withdrawn plan consent ----------------------------------------------------------------

#[tokio::test]
async fn a_withdrawn_plan_consent_stops_spends_adjustments_and_decisions_but_not_closure() {
    let world = World::new().await;
    let app = &world.app;
    let (case, consent) = active(&world).await;
    let cora = world.token(COORDINATOR);
    let plan = app.get(&format!("{}/plan", case_path(&case)), &cora).await.expect(200).body;
    let iid = plan["interventions"][0]["id"].as_str().unwrap().to_string();
    // on a later meeting's agenda before the withdrawal
    let meeting = world.meeting(ADULT).await;
    world.on_agenda(&meeting, &case, ADULT).await;
    assert_eq!(view(&world, &case).await["consent"]["plan"], "current");

    let res = app.post(&withdrawal_path(&case, &consent), &cora, &withdrawal(0)).await.expect(200);
    assert_eq!(res.body["withdrawn_on"], day(0), "the coordinator may withdraw: {}", res.text);
    assert_eq!(view(&world, &case).await["consent"]["plan"], "withdrawn", "effective at once");

    let spend = json!({"amount_ore": 10_000, "category": "transport", "description": "Bus card"});
    app.post(&format!("{}/budget/spends", case_path(&case)), &cora, &spend).await.problem(409, "consent_withdrawn");
    let budget = app.get(&format!("{}/budget", case_path(&case)), &cora).await.expect(200).body;
    assert_eq!(budget["spent_ore"], 0, "nothing is spent: {budget}");
    assert_eq!(budget["entries"], json!([]));

    let interventions = format!("{}/plan/interventions", case_path(&case));
    let added = json!({"title": "Transport til praktik", "responsible_department": "social"});
    app.post(&interventions, &cora, &added).await.problem(409, "consent_withdrawn");
    app.patch(&format!("{interventions}/{iid}"), &cora, &json!({"status": "completed"}))
        .await
        .problem(409, "consent_withdrawn");
    let after = app.get(&format!("{}/plan", case_path(&case)), &cora).await.expect(200).body;
    assert_eq!(after["interventions"], plan["interventions"], "the plan is unchanged");

    let decisions_path = format!("/api/v1/meetings/{meeting}/decisions");
    let leader = world.token(World::leader(ADULT));
    let decision = |kind: &str, key: &str, value: Value| {
        let mut body = json!({"case_id": case, "kind": kind, "members_present": World::quorum(ADULT),
            "citizen_participation": {"took_part": true, "form": "meeting"}});
        body[key] = value;
        body
    };
    let refused = [
        decision("revision", "budget_frame_ore", json!(3_000_000)),
        decision("follow_up", "follow_up_on", json!(day(30))),
    ];
    for body in &refused {
        app.post(&decisions_path, &leader, body).await.problem(409, "consent_withdrawn");
    }
    assert_eq!(decisions(&world, &case), 1, "only the initial decision");

    // closing stays possible: by a closure decision at the meeting ...
    let closure = decision("closure", "closure_reason", json!("citizen_declined"));
    app.post(&decisions_path, &leader, &closure).await.expect(201);
    assert_eq!(view(&world, &case).await["status"], "closed");

    // ... and by the coordinator
    let (other, consent) = active(&world).await;
    withdraw(&world, &other, &consent).await.expect(200);
    let closed =
        app.post(&format!("{}/closure", case_path(&other)), &cora, &json!({"reason": "citizen_declined"})).await;
    assert_eq!(closed.expect(200).body["status"], "closed");
}

// ---- The case's summary, events --------------------------------------------------------------

#[tokio::test]
async fn the_case_view_summarises_the_plan_consent_and_the_shared_departments() {
    let world = World::new().await;
    let case = awaiting(&world, ADULT).await;
    let summary = view(&world, &case).await["consent"].clone();
    assert_eq!((&summary["plan"], &summary["data_sharing_departments"]), (&json!("missing"), &json!([])), "{summary}");

    give(&world, &case, &plan_consent("citizen", -30, Some(-1))).await;
    give(&world, &case, &sharing_consent(&["labour_market"], -30, Some(-1))).await; // expired: names nobody
    let summary = view(&world, &case).await["consent"].clone();
    assert_eq!(summary["plan"], "expired", "{summary}");
    assert_eq!(summary["data_sharing_departments"], json!([]), "{summary}");

    give(&world, &case, &plan_consent("citizen", 0, None)).await;
    give(&world, &case, &sharing_consent(&["social"], 0, None)).await;
    let withdrawn = give(&world, &case, &sharing_consent(&["labour_market"], 0, None)).await;
    withdraw(&world, &case, &withdrawn).await.expect(200);
    let summary = view(&world, &case).await["consent"].clone();
    assert_eq!(summary["plan"], "current", "{summary}");
    assert_eq!(departments(&summary["data_sharing_departments"]), set(&["social"]), "{summary}");
}

#[tokio::test]
async fn giving_and_withdrawing_a_consent_are_events_in_the_history_and_the_feed() {
    let world = World::new().await;
    let app = &world.app;
    let case = awaiting(&world, ADULT).await;
    assert_eq!(count(&history(&world, &case).await, "consent.given"), 0);
    let consent = give(&world, &case, &plan_consent("citizen", 0, None)).await;
    let events = history(&world, &case).await;
    assert_eq!((count(&events, "consent.given"), count(&events, "consent.withdrawn")), (1, 0), "{events:?}");
    withdraw(&world, &case, &consent).await.expect(200);
    let events = history(&world, &case).await;
    assert_eq!((count(&events, "consent.given"), count(&events, "consent.withdrawn")), (1, 1), "{events:?}");
    assert!(events.iter().position(|e| e == "consent.given") < events.iter().position(|e| e == "consent.withdrawn"));

    // the feed of social (on the adult committee) carries both
    let token = app.as_(SOCIAL_SYSTEM);
    let deadline = Instant::now() + StdDuration::from_secs(20);
    let types = loop {
        // a fresh schema: all of this test's events fit on one page
        let page = app.get("/api/v1/events?limit=200", &token).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        let types: Vec<String> = items
            .iter()
            .filter(|e| e["subject"] == case.as_str())
            .map(|e| e["type"].as_str().unwrap_or("").to_string())
            .collect();
        if types.iter().any(|t| t == "consent.withdrawn") || Instant::now() > deadline {
            break types;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    };
    assert_eq!(count(&types, "consent.given"), 1, "{types:?}");
    assert_eq!(count(&types, "consent.withdrawn"), 1, "{types:?}");
}

// ---- Visibility through a data-sharing consent -----------------------------------------------

/// Whether `who` gets the case (200) or not (404; anything else fails).
async fn sees(world: &World, who: Person, case: &str) -> bool {
    let res = world.app.get(&case_path(case), &world.token(who)).await;
    assert!(res.status == 200 || res.code() == "not_found", "{who:?}: {} {}", res.status, res.text);
    res.status == 200
}

async fn listed_for(world: &World, who: Person, case: &str) -> bool {
    let res = world.app.get("/api/v1/cases?limit=200", &world.token(who)).await.expect(200);
    res.body["items"].as_array().unwrap().iter().any(|c| c["id"] == case)
}

#[tokio::test]
async fn a_data_sharing_consent_opens_the_case_to_a_referral_only_department_while_it_is_current() {
    let world = World::new().await;
    let extra = json!({"involved_departments": ["social", "labour_market", "school"]});
    let case = awaiting_with(&world, &common::world::cpr_for_age(ADULT, 20), ADULT, extra).await;
    // the committee's departments see it without any consent; school, named only by the referral, not
    assert!(sees(&world, HC_LEADER, &case).await);
    assert!(!sees(&world, SCHOOL_LEADER, &case).await);
    assert!(!sees(&world, SCHOOL_SYSTEM, &case).await);
    assert!(!listed_for(&world, SCHOOL_LEADER, &case).await);
    world.app.get(&consents_path(&case), &world.token(SCHOOL_LEADER)).await.problem(404, "not_found");

    // consents that do not name school, or no longer run, open nothing
    give(&world, &case, &sharing_consent(&["social"], 0, None)).await;
    give(&world, &case, &sharing_consent(&["school"], -30, Some(-1))).await;
    assert!(!sees(&world, SCHOOL_LEADER, &case).await);
    assert!(!sees(&world, SCHOOL_SYSTEM, &case).await);

    let consent = give(&world, &case, &sharing_consent(&["school"], 0, None)).await;
    assert!(sees(&world, SCHOOL_LEADER, &case).await);
    assert!(sees(&world, SCHOOL_SYSTEM, &case).await);
    assert!(listed_for(&world, SCHOOL_LEADER, &case).await);
    world.app.get(&consents_path(&case), &world.token(SCHOOL_LEADER)).await.expect(200);
    // ... but a department that sees the case only by the consent cannot extend or end it itself
    let own = sharing_consent(&["school"], 0, None);
    world.app.post(&consents_path(&case), &world.token(SCHOOL_LEADER), &own).await.problem(403, "forbidden");
    let path = withdrawal_path(&case, &consent);
    world.app.post(&path, &world.token(SCHOOL_LEADER), &withdrawal(0)).await.problem(403, "forbidden");
    // a caseworker of school is still no one on this case
    assert!(!sees(&world, OUTSIDER, &case).await);

    withdraw(&world, &case, &consent).await.expect(200);
    assert!(!sees(&world, SCHOOL_LEADER, &case).await);
    assert!(!sees(&world, SCHOOL_SYSTEM, &case).await);
    assert!(!listed_for(&world, SCHOOL_LEADER, &case).await);
    assert!(sees(&world, HC_LEADER, &case).await, "the committee's departments always");

    // a consent naming a department the referral does not name opens nothing (or is refused)
    let res =
        world.app.post(&consents_path(&case), &world.token(REFERRER), &sharing_consent(&["youth"], 0, None)).await;
    assert!(matches!(res.status.as_u16(), 201 | 422), "{}", res.text);
    assert!(!sees(&world, YOUTH_DEPT_LEADER, &case).await);
}

#[tokio::test]
async fn the_coordinators_department_sees_the_case_without_a_data_sharing_consent() {
    let world = World::new().await;
    // a youth case: labour market is not on the youth committee, only named by the referral
    let case = awaiting(&world, YOUTH).await;
    give(&world, &case, &plan_consent("citizen", 0, None)).await;
    assert!(!sees(&world, LM_LEADER, &case).await);
    decide_initial(&world, &case, YOUTH).await.expect(201);
    // the initial decision appointed COORDINATOR of labour market
    assert!(sees(&world, LM_LEADER, &case).await);
    assert!(listed_for(&world, LM_LEADER, &case).await);
}

// ---- Who records, and the audit log ----------------------------------------------------------

async fn audit_entries(app: &TestApp, case: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/audit?case_id={case}&limit=200"), &app.as_(AUDITOR)).await.expect(200);
    res.body["items"].as_array().unwrap().clone()
}

fn entry<'a>(entries: &'a [Value], rid: &str) -> &'a Value {
    let found: Vec<&Value> = entries.iter().filter(|e| e["request_id"] == rid).collect();
    assert_eq!(found.len(), 1, "one entry for {rid}: {entries:#?}");
    found[0]
}

fn assert_entry(e: &Value, action: &str, status: u16, case: &str, who: Person) {
    assert_eq!(e["action"], action, "{e}");
    assert_eq!(e["status"], status, "{e}");
    assert_eq!(e["case_id"], case, "{e}");
    assert_eq!(
        (&e["actor"]["iss"], &e["actor"]["sub"], &e["actor"]["dept"]),
        (&json!(TEST_ISSUER), &json!(who.sub), &json!(who.dept)),
        "{e}"
    );
}

#[tokio::test]
async fn only_the_referrer_the_coordinator_or_a_leader_who_sees_the_case_records_consents() {
    let world = World::new().await;
    let app = &world.app;
    let (case, plan) = active(&world).await;
    let path = consents_path(&case);
    let body = sharing_consent(&["social"], 0, None);

    let res = traced(app, Method::POST, &path, &world.token(REFERRER), Some(&body), "c-referrer").await.expect(201);
    let by_referrer = res.id();
    traced(app, Method::POST, &path, &world.token(COORDINATOR), Some(&body), "c-coordinator").await.expect(201);
    traced(app, Method::POST, &path, &world.token(ADULT_LEADER_LM), Some(&body), "c-leader").await.expect(201);
    let res = traced(app, Method::POST, &path, &world.token(YOUTH_LEADER_SOC), Some(&body), "c-other-leader").await;
    assert_eq!(res.expect(201).body["recorded_by"]["sub"], YOUTH_LEADER_SOC.sub, "a leader who sees the case");
    assert_eq!(consents(&world, &case).await.len(), 5);

    // a committee caseworker sees the case but records and withdraws nothing; an outsider sees nothing
    let member = world.token(ADULT_CW_SOC);
    traced(app, Method::POST, &path, &member, Some(&body), "c-member").await.problem(403, "forbidden");
    let w = withdrawal(0);
    let res = traced(app, Method::POST, &withdrawal_path(&case, &plan), &member, Some(&w), "w-member").await;
    res.problem(403, "forbidden");
    let outsider = world.token(OUTSIDER);
    traced(app, Method::POST, &path, &outsider, Some(&body), "c-outsider").await.problem(404, "not_found");
    let res = traced(app, Method::POST, &withdrawal_path(&case, &plan), &outsider, Some(&w), "w-outsider").await;
    res.problem(404, "not_found");
    traced(app, Method::GET, &path, &outsider, None, "r-outsider").await.problem(404, "not_found");
    traced(app, Method::GET, &path, &member, None, "r-member").await.expect(200);
    let listed = consents(&world, &case).await;
    assert_eq!(listed.len(), 5, "the refusals stored nothing");
    assert!(listed.iter().all(|c| c["withdrawn_on"].is_null()), "and withdrew nothing");
    let (path, leader) = (withdrawal_path(&case, &by_referrer), world.token(ADULT_LEADER_LM));
    traced(app, Method::POST, &path, &leader, Some(&w), "w-leader").await.expect(200);

    let log = audit_entries(app, &case).await;
    for (rid, who) in [("c-referrer", REFERRER), ("c-coordinator", COORDINATOR), ("c-leader", ADULT_LEADER_LM)] {
        let e = entry(&log, rid);
        assert_entry(e, "create", 201, &case, who);
        assert!(e["resource"].as_str().unwrap_or("").contains("consent"), "{e}");
    }
    let e = entry(&log, "w-leader");
    assert_eq!((&e["status"], &e["case_id"]), (&json!(200), &json!(case)), "{e}");
    assert_ne!(e["action"], "denied", "{e}");
    assert_ne!(e["action"], "read", "a withdrawal is a write: {e}");
    assert_entry(entry(&log, "r-member"), "read", 200, &case, ADULT_CW_SOC);
    assert_entry(entry(&log, "c-member"), "denied", 403, &case, ADULT_CW_SOC);
    assert_entry(entry(&log, "w-member"), "denied", 403, &case, ADULT_CW_SOC);
    for rid in ["c-outsider", "w-outsider", "r-outsider"] {
        assert_entry(entry(&log, rid), "denied", 404, &case, OUTSIDER);
    }
}

// A custody holder's consent never stands in for the citizen's own (a finding of the red-team
// pass): when a minor withdraws, the plan stops; an adult's plan takes no custody holder's.
#[tokio::test]
async fn the_citizens_own_withdrawal_stops_the_plan_whatever_a_custody_holder_consented() {
    let world = World::new().await;
    let (case, _) = world.active(MINOR).await;
    let list = consents(&world, &case).await;
    let own = list.iter().find(|c| c["given_by"] == "citizen").expect("the citizen's consent");
    let custody = list.iter().find(|c| c["given_by"] == "custody_holder").expect("the custody holder's consent");
    assert!(custody["withdrawn_on"].is_null());
    withdraw(&world, &case, own["id"].as_str().unwrap()).await.expect(200);
    assert_eq!(view(&world, &case).await["consent"]["plan"], "withdrawn");
    let spend = json!({"amount_ore": 1000, "category": "other", "description": "after the citizen withdrew"});
    let path = format!("/api/v1/cases/{case}/budget/spends");
    world.app.post(&path, &world.token(COORDINATOR), &spend).await.problem(409, "consent_withdrawn");
    assert_eq!(view(&world, &case).await["budget"]["spent_ore"], 0);

    let (adult, _) = world.active(ADULT).await;
    let before = consents(&world, &adult).await.len();
    let body = plan_consent("custody_holder", 0, None);
    world.app.post(&consents_path(&adult), &world.token(REFERRER), &body).await.problem(422, "inconsistent_request");
    assert_eq!(consents(&world, &adult).await.len(), before, "nothing stored");
}

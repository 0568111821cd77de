mod common;

// Cases over HTTP: the referral and its track, the target-group exclusions, screening and the
// status moves, editing a referral, who sees a case (404 for everyone else), lists, history and
// the case view. Every refusal is checked to change nothing.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::world::{
    cpr_for, cpr_for_age, referral, Person, World, ADMIN, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, ADULT_LEADER_LM,
    ADULT_LEADER_SOC, AUDITOR, OUTSIDER, REFERRER, YOUTH_CW_SOC, YOUTH_CW_Y, YOUTH_FIXED, YOUTH_LEADER_SOC,
    YOUTH_LEADER_Y,
};
use common::{Response, TestApp};
use serde_json::{json, Value};

/// A caseworker of the labour-market department (involved in `referral()`), on no committee.
const LM_CASEWORKER: Person = Person { sub: "lmc", dept: "labour_market", roles: &["caseworker"] };
/// A leader of the labour-market department, on no committee (involved in `referral()`).
const LM_LEADER: Person = Person { sub: "lml", dept: "labour_market", roles: &["leader"] };
/// The labour-market department's own system account.
const LM_SYSTEM: Person = Person { sub: "lm-system", dept: "labour_market", roles: &["system"] };
/// Health care's system account: not on the youth committee, not involved in `referral()`.
const HC_SYSTEM: Person = Person { sub: "hc-system", dept: "health_care", roles: &["system"] };
/// A leader of the school department (third department of the youth committee), on no committee.
const SCHOOL_LEADER: Person = Person { sub: "sl", dept: "school", roles: &["leader"] };
/// The referrer's sub, speaking for another department: another person.
const REFERRER_ELSEWHERE: Person = Person { sub: "rita", dept: "youth", roles: &["caseworker"] };
/// Another referring caseworker.
const CARL: Person = Person { sub: "carl", dept: "labour_market", roles: &["caseworker"] };

const CASES: &str = "/api/v1/cases";

fn case_path(id: &str) -> String {
    format!("{CASES}/{id}")
}

fn screening_path(id: &str) -> String {
    format!("{CASES}/{id}/screening")
}

fn history_path(id: &str) -> String {
    format!("{CASES}/{id}/history")
}

/// The same calendar day `years` years earlier; a 29 February that does not exist becomes
/// 1 March when `later` or 28 February otherwise.
fn years_before(day: NaiveDate, years: i32, later: bool) -> NaiveDate {
    let year = day.year() - years;
    NaiveDate::from_ymd_opt(year, day.month(), day.day()).unwrap_or_else(|| {
        if later {
            NaiveDate::from_ymd_opt(year, 3, 1).unwrap()
        } else {
            NaiveDate::from_ymd_opt(year, 2, 28).unwrap()
        }
    })
}

/// Registers a citizen with this CPR number; returns the citizen id.
async fn register(world: &World, cpr: &str) -> String {
    world
        .app
        .post("/api/v1/citizens", &world.token(REFERRER), &json!({"cpr": cpr, "name": "Test Borger"}))
        .await
        .expect(201)
        .id()
}

/// Registers a citizen who turned `age` 20 days ago; returns (id, cpr).
async fn citizen_aged(world: &World, age: i32) -> (String, String) {
    let cpr = cpr_for_age(age, 20);
    (register(world, &cpr).await, cpr)
}

/// Refers the citizen by `who` with a complete referral, plus `extra` fields.
async fn refer_as(world: &World, who: Person, citizen: &str, extra: Value) -> Response {
    let mut body = referral(citizen);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    world.app.post(CASES, &world.token(who), &body).await
}

/// A complete referral by `who` of a new citizen of `age` (with a justification under 18).
async fn case_by(world: &World, who: Person, age: i32) -> String {
    let (citizen, _) = citizen_aged(world, age).await;
    let extra = if age < 18 { json!({"under_18_justification": "assessed"}) } else { json!({}) };
    refer_as(world, who, &citizen, extra).await.expect(201).id()
}

/// The case as its referrer sees it.
async fn snapshot(world: &World, id: &str) -> Value {
    world.app.get(&case_path(id), &world.token(REFERRER)).await.expect(200).body
}

async fn screen(world: &World, who: Person, id: &str, body: Value) -> Response {
    world.app.post(&screening_path(id), &world.token(who), &body).await
}

async fn patch_if_match(app: &TestApp, path: &str, token: &str, if_match: &str, body: &Value) -> Response {
    let res = app
        .client
        .patch(format!("{}{}", app.base, path))
        .bearer_auth(token)
        .header("if-match", if_match)
        .json(body)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

/// The ids of every case in a list answer.
fn ids(res: &Response) -> Vec<String> {
    res.body["items"].as_array().expect("items").iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

/// All ids of a list, following cursors; fails on a page over the limit or a loop.
async fn list_all(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<String> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("{CASES}?limit={limit}");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&path, token).await.expect(200);
        let page = ids(&res);
        assert!(page.len() <= limit, "a page of {} over limit {limit}", page.len());
        out.extend(page);
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(res.body["next_cursor"].is_null(), "next_cursor is null at the end: {}", res.text);
                return out;
            }
        }
    }
    panic!("pagination does not end");
}

fn has_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == key || has_key(v, key)),
        Value::Array(items) => items.iter().any(|v| has_key(v, key)),
        _ => false,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn count_cases(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM cases")
}

// 1. Tracks by age on the day of referral ------------------------------------------------

#[tokio::test]
async fn the_track_follows_the_age_on_the_day_of_referral() {
    let world = World::new().await;
    let app = &world.app;
    let mut stored = 0;

    // under 15: never, whatever the justification
    for justification in [None, Some("assessed")] {
        let (citizen, _) = citizen_aged(&world, 14).await;
        let extra = justification.map_or(json!({}), |j| json!({"under_18_justification": j}));
        let res = refer_as(&world, REFERRER, &citizen, extra).await.problem(422, "outside_target_group");
        assert_eq!(res.fields(), ["citizen_id"]);
        assert_eq!(count_cases(app), stored);
    }

    // 15–17 without a written justification (or a blank one): referral_incomplete, naming it
    for age in [15, 16, 17] {
        let (citizen, _) = citizen_aged(&world, age).await;
        let res = refer_as(&world, REFERRER, &citizen, json!({})).await.problem(422, "referral_incomplete");
        assert_eq!(res.fields(), ["under_18_justification"], "age {age}");
        let res = refer_as(&world, REFERRER, &citizen, json!({"under_18_justification": "   "}))
            .await
            .problem(422, "referral_incomplete");
        assert_eq!(res.fields(), ["under_18_justification"], "age {age}");
        assert_eq!(count_cases(app), stored);
        // with it: youth
        let res = refer_as(&world, REFERRER, &citizen, json!({"under_18_justification": "individual assessment"}))
            .await
            .expect(201);
        stored += 1;
        assert_eq!(res.body["track"], "youth", "age {age}");
        assert_eq!(res.body["status"], "referred");
        assert_eq!(res.body["committee"]["id"], world.youth_committee.as_str());
        assert_eq!(res.body["referral"]["age_at_referral"], age);
        assert_eq!(res.body["referral"]["under_18_justification"], "individual assessment");
    }

    for (age, track) in [(18, "youth"), (29, "youth"), (30, "adult"), (45, "adult"), (67, "adult")] {
        let (citizen, _) = citizen_aged(&world, age).await;
        let res = refer_as(&world, REFERRER, &citizen, json!({})).await.expect(201);
        stored += 1;
        assert_eq!(res.body["track"], track, "age {age}");
        assert_eq!(res.body["status"], "referred");
        let committee = if track == "youth" { &world.youth_committee } else { &world.adult_committee };
        assert_eq!(res.body["committee"]["id"], committee.as_str(), "age {age}");
        assert_eq!(res.body["referral"]["age_at_referral"], age);
        assert!(res.header("etag").is_some());
        // the stored case says the same
        let view = snapshot(&world, &res.id()).await;
        assert_eq!(view["track"], track);
        assert_eq!(view["committee"]["id"], committee.as_str());
    }
    assert_eq!(count_cases(app), stored);

    // the boundaries, to the day
    let today = Utc::now().date_naive();
    let tomorrow = today + Duration::days(1);
    let boundaries = [
        // turns 30 tomorrow: still 29, youth
        (years_before(tomorrow, 30, true), Ok(("youth", 29))),
        // turned 30 today: adult
        (years_before(today, 30, false), Ok(("adult", 30))),
        // turns 18 tomorrow: still 17, needs the justification
        (years_before(tomorrow, 18, true), Err(("referral_incomplete", "under_18_justification"))),
        // turned 18 today: youth without one
        (years_before(today, 18, false), Ok(("youth", 18))),
        // turns 15 tomorrow: still 14, never
        (years_before(tomorrow, 15, true), Err(("outside_target_group", "citizen_id"))),
    ];
    for (born, expected) in boundaries {
        let citizen = register(&world, &cpr_for(born)).await;
        let res = refer_as(&world, REFERRER, &citizen, json!({})).await;
        match expected {
            Ok((track, age)) => {
                let res = res.expect(201);
                stored += 1;
                assert_eq!(res.body["track"], track, "born {born}");
                assert_eq!(res.body["referral"]["age_at_referral"], age, "born {born}");
                assert_eq!(res.body["citizen"]["age"], age, "born {born}");
                let committee = if track == "youth" { &world.youth_committee } else { &world.adult_committee };
                assert_eq!(res.body["committee"]["id"], committee.as_str());
            }
            Err((code, field)) => {
                let res = res.problem(422, code);
                assert_eq!(res.fields(), [field], "born {born}");
            }
        }
        assert_eq!(count_cases(app), stored);
    }
}

#[tokio::test]
async fn who_may_refer_and_what_a_referral_must_name() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, _) = citizen_aged(&world, 25).await;
    // admin and auditor hold no referring role
    refer_as(&world, ADMIN, &citizen, json!({})).await.problem(403, "forbidden");
    refer_as(&world, AUDITOR, &citizen, json!({})).await.problem(403, "forbidden");
    // an unregistered citizen, an unknown field, an unknown problem area
    let res = refer_as(&world, REFERRER, "00000000-0000-4000-8000-000000000000", json!({}))
        .await
        .problem(422, "unknown_reference");
    assert_eq!(res.fields(), ["citizen_id"]);
    let res =
        refer_as(&world, REFERRER, &citizen, json!({"descripton": "typo"})).await.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["descripton"]);
    let res = refer_as(&world, REFERRER, &citizen, json!({"problem_areas": ["gambling"]}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["problem_areas[0]"]);
    assert_eq!(count_cases(app), 0);
    // caseworker, leader and system may refer
    for who in [REFERRER, LM_LEADER, LM_SYSTEM] {
        let (citizen, _) = citizen_aged(&world, 25).await;
        let res = refer_as(&world, who, &citizen, json!({})).await.expect(201);
        assert_eq!(res.body["referral"]["referred_by"]["sub"], who.sub);
        assert_eq!(res.body["referral"]["referred_by"]["department"], who.dept);
    }
    assert_eq!(count_cases(app), 3);
}

// 2. Exclusions -------------------------------------------------------------------------

#[tokio::test]
async fn every_exclusion_puts_the_citizen_outside_the_target_group() {
    let world = World::new().await;
    let app = &world.app;
    let names = ["disability_pension", "expected_disability_pension", "acquired_brain_injury", "labour_market_case"];
    let mut stored = 0;
    for age in [20, 45] {
        let (citizen, _) = citizen_aged(&world, age).await;
        for name in names {
            let res = refer_as(&world, REFERRER, &citizen, json!({"exclusions": {name: true}}))
                .await
                .problem(422, "outside_target_group");
            assert_eq!(res.fields(), [format!("exclusions.{name}")], "age {age}");
            assert_eq!(count_cases(app), stored, "nothing stored for {name}");
        }
        // all at once: each rule named
        let all: serde_json::Map<String, Value> = names.iter().map(|n| (n.to_string(), json!(true))).collect();
        let res =
            refer_as(&world, REFERRER, &citizen, json!({"exclusions": all})).await.problem(422, "outside_target_group");
        assert_eq!(sorted(res.fields()), sorted(names.iter().map(|n| format!("exclusions.{n}")).collect()));
        // an unknown exclusion is a typo, not "false"
        refer_as(&world, REFERRER, &citizen, json!({"exclusions": {"disabilty_pension": true}}))
            .await
            .problem(422, "validation_failed");
        assert_eq!(count_cases(app), stored);
        assert_eq!(app.count("SELECT count(*) FROM case_events"), stored);
        // all false: accepted
        let none: serde_json::Map<String, Value> = names.iter().map(|n| (n.to_string(), json!(false))).collect();
        refer_as(&world, REFERRER, &citizen, json!({"exclusions": none})).await.expect(201);
        stored += 1;
        assert_eq!(count_cases(app), stored);
    }
}

// 3. Screening and the status moves -----------------------------------------------------------

#[tokio::test]
async fn an_incomplete_referral_is_screened_only_once_completed() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, _) = citizen_aged(&world, 22).await;
    let id = app.post(CASES, &world.token(REFERRER), &json!({"citizen_id": citizen})).await.expect(201).id();
    let before = snapshot(&world, &id).await;
    assert_eq!(before["status"], "referred");

    let res =
        screen(&world, YOUTH_LEADER_SOC, &id, json!({"outcome": "accepted"})).await.problem(422, "referral_incomplete");
    assert_eq!(
        sorted(res.fields()),
        sorted(vec![
            "problem_areas".into(),
            "description".into(),
            "involved_departments".into(),
            "citizen_view".into()
        ])
    );
    assert_eq!(snapshot(&world, &id).await, before, "a refused screening changes nothing");

    // half complete; blank texts do not count
    app.patch(
        &case_path(&id),
        &world.token(REFERRER),
        &json!({"problem_areas": ["substance_abuse"], "description": "Complex.", "citizen_view": "   "}),
    )
    .await
    .expect(200);
    let res =
        screen(&world, YOUTH_LEADER_SOC, &id, json!({"outcome": "accepted"})).await.problem(422, "referral_incomplete");
    assert_eq!(sorted(res.fields()), sorted(vec!["involved_departments".into(), "citizen_view".into()]));
    assert_eq!(snapshot(&world, &id).await["status"], "referred");

    app.patch(
        &case_path(&id),
        &world.token(REFERRER),
        &json!({"involved_departments": ["youth"], "citizen_view": "Wants a job."}),
    )
    .await
    .expect(200);
    let res = screen(&world, YOUTH_LEADER_SOC, &id, json!({"outcome": "accepted", "note": "clearly complex"}))
        .await
        .expect(200);
    assert_eq!(res.body["status"], "awaiting_committee");
    let view = snapshot(&world, &id).await;
    assert_eq!(view["status"], "awaiting_committee");
    assert_eq!(view["screening"]["outcome"], "accepted");
    assert_eq!(view["screening"]["screened_by"]["sub"], YOUTH_LEADER_SOC.sub);
    assert_eq!(view["screening"]["screened_by"]["department"], YOUTH_LEADER_SOC.dept);
    assert_eq!(view["screening"]["note"], "clearly complex");
}

#[tokio::test]
async fn screening_outcomes_and_their_reasons() {
    let world = World::new().await;
    let app = &world.app;

    // accepted → awaiting_committee
    let accepted = world.referred(20).await;
    let res = screen(&world, YOUTH_LEADER_Y, &accepted, json!({"outcome": "accepted"})).await.expect(200);
    assert_eq!(res.body["status"], "awaiting_committee");
    assert!(res.body["screening"]["reason"].is_null());
    assert_eq!(snapshot(&world, &accepted).await["status"], "awaiting_committee");

    // declined needs a reason; accepted has none; unknown outcome or reason is refused
    let declined = world.referred(40).await;
    let before = snapshot(&world, &declined).await;
    let res = screen(&world, ADULT_LEADER_SOC, &declined, json!({"outcome": "declined"}))
        .await
        .problem(422, "inconsistent_request");
    assert_eq!(res.fields(), ["reason"]);
    let res = screen(&world, ADULT_LEADER_SOC, &declined, json!({"outcome": "accepted", "reason": "other"}))
        .await
        .problem(422, "inconsistent_request");
    assert_eq!(res.fields(), ["reason"]);
    let res = screen(&world, ADULT_LEADER_SOC, &declined, json!({"outcome": "declined", "reason": "bored"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["reason"]);
    let res = screen(&world, ADULT_LEADER_SOC, &declined, json!({"outcome": "maybe"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["outcome"]);
    assert_eq!(snapshot(&world, &declined).await, before, "refused screenings change nothing");
    assert_eq!(app.count(&format!("SELECT count(*) FROM case_events WHERE case_id = '{declined}'")), 1);

    // declined with a reason → declined
    for reason in ["not_complex_enough", "outside_target_group", "citizen_declined", "other"] {
        let id = if reason == "not_complex_enough" { declined.clone() } else { world.referred(40).await };
        let res =
            screen(&world, ADULT_LEADER_LM, &id, json!({"outcome": "declined", "reason": reason})).await.expect(200);
        assert_eq!(res.body["status"], "declined");
        let view = snapshot(&world, &id).await;
        assert_eq!(view["status"], "declined");
        assert_eq!(view["screening"]["outcome"], "declined");
        assert_eq!(view["screening"]["reason"], reason);
    }
}

#[tokio::test]
async fn only_a_leader_of_a_committee_department_screens() {
    let world = World::new().await;
    let youth = world.referred(20).await;
    let adult = world.referred(40).await;
    // labour_market, involved by the referral only, sees the youth case by the citizen's consent
    world.data_sharing(&youth, 20, &["labour_market"]).await;
    let before = (snapshot(&world, &youth).await, snapshot(&world, &adult).await);
    let accept = json!({"outcome": "accepted"});
    // they see the case, but may not screen it
    for who in [REFERRER, YOUTH_CW_Y, YOUTH_FIXED, LM_SYSTEM] {
        screen(&world, who, &youth, accept.clone()).await.problem(403, "forbidden");
    }
    // a leader of an involved department that is not on the youth committee
    screen(&world, LM_LEADER, &youth, accept.clone()).await.problem(403, "forbidden");
    // a leader of the youth department does not see an adult case whose referral does not
    // involve youth
    screen(&world, YOUTH_LEADER_Y, &adult, accept.clone()).await.problem(404, "not_found");
    for who in [REFERRER, ADULT_CW_LM, ADULT_FIXED] {
        screen(&world, who, &adult, accept.clone()).await.problem(403, "forbidden");
    }
    assert_eq!((snapshot(&world, &youth).await, snapshot(&world, &adult).await), before);
    // the school leader: school is the youth committee's third department
    screen(&world, SCHOOL_LEADER, &youth, accept.clone()).await.expect(200);
    // health care is the adult committee's third department
    let hc_leader = Person { sub: "hcl", dept: "health_care", roles: &["leader"] };
    screen(&world, hc_leader, &adult, accept).await.expect(200);
}

#[tokio::test]
async fn every_other_status_move_is_an_invalid_transition() {
    let world = World::new().await;
    let app = &world.app;
    let awaiting = world.awaiting(20).await;
    let declined = world.referred(20).await;
    screen(&world, YOUTH_LEADER_SOC, &declined, json!({"outcome": "declined", "reason": "other"})).await.expect(200);

    for id in [&awaiting, &declined] {
        let before = snapshot(&world, id).await;
        let events = app.count(&format!("SELECT count(*) FROM case_events WHERE case_id = '{id}'"));
        screen(&world, YOUTH_LEADER_SOC, id, json!({"outcome": "accepted"})).await.problem(409, "invalid_transition");
        screen(&world, YOUTH_LEADER_Y, id, json!({"outcome": "declined", "reason": "other"}))
            .await
            .problem(409, "invalid_transition");
        // the referral is no longer editable, not by its referrer, not by a leader
        app.patch(&case_path(id), &world.token(REFERRER), &json!({"description": "more"}))
            .await
            .problem(409, "invalid_transition");
        app.patch(&case_path(id), &world.token(YOUTH_LEADER_Y), &json!({"citizen_view": "changed"}))
            .await
            .problem(409, "invalid_transition");
        assert_eq!(snapshot(&world, id).await, before, "a refused move changes nothing");
        assert_eq!(app.count(&format!("SELECT count(*) FROM case_events WHERE case_id = '{id}'")), events);
    }
}

// 4. Editing a referral -----------------------------------------------------------------------

#[tokio::test]
async fn who_may_edit_a_referral() {
    let world = World::new().await;
    let app = &world.app;
    let id = world.referred(20).await;
    // labour_market, involved by the referral only, sees the case by the citizen's consent
    world.data_sharing(&id, 20, &["labour_market"]).await;

    // the referrer
    let before = app.get(&case_path(&id), &world.token(REFERRER)).await.expect(200);
    let res = app
        .patch(&case_path(&id), &world.token(REFERRER), &json!({"description": "Updated by rita."}))
        .await
        .expect(200);
    assert_eq!(res.body["referral"]["description"], "Updated by rita.");
    assert_ne!(res.header("etag"), before.header("etag"));
    // absent fields stay
    assert_eq!(res.body["referral"]["citizen_view"], before.body["referral"]["citizen_view"]);
    assert_eq!(res.body["referral"]["problem_areas"], before.body["referral"]["problem_areas"]);

    // a leader who sees it: a committee leader, and a leader of an involved department
    for leader in [YOUTH_LEADER_Y, LM_LEADER] {
        let res = app
            .patch(&case_path(&id), &world.token(leader), &json!({"citizen_view": format!("noted by {}", leader.sub)}))
            .await
            .expect(200);
        assert_eq!(res.body["referral"]["citizen_view"], format!("noted by {}", leader.sub));
    }
    let seen = snapshot(&world, &id).await;

    // a committee caseworker sees it but may not edit it: 403
    for who in [YOUTH_CW_Y, YOUTH_CW_SOC, YOUTH_FIXED] {
        app.patch(&case_path(&id), &world.token(who), &json!({"description": "x"})).await.problem(403, "forbidden");
    }
    // a system account sees it (labour market is involved) but is no leader
    app.patch(&case_path(&id), &world.token(LM_SYSTEM), &json!({"description": "x"})).await.problem(403, "forbidden");
    // those who do not see it: 404
    for who in [OUTSIDER, LM_CASEWORKER, ADULT_CW_SOC, REFERRER_ELSEWHERE] {
        app.patch(&case_path(&id), &world.token(who), &json!({"description": "x"})).await.problem(404, "not_found");
    }
    assert_eq!(snapshot(&world, &id).await, seen, "refused edits change nothing");
}

#[tokio::test]
async fn edits_honour_if_match() {
    let world = World::new().await;
    let app = &world.app;
    let token = world.token(REFERRER);
    let id = world.referred(20).await;
    let first = app.get(&case_path(&id), &token).await.expect(200);
    let stale = first.header("etag").expect("an ETag").to_string();
    app.patch(&case_path(&id), &token, &json!({"description": "one"})).await.expect(200);

    let current = app.get(&case_path(&id), &token).await.expect(200);
    let etag = current.header("etag").expect("an ETag").to_string();
    assert_ne!(etag, stale);

    // a stale ETag: 412, nothing changes
    patch_if_match(app, &case_path(&id), &token, &stale, &json!({"description": "two"}))
        .await
        .problem(412, "precondition_failed");
    assert_eq!(snapshot(&world, &id).await, current.body);

    // the current one: 200, and the ETag moves on
    let res = patch_if_match(app, &case_path(&id), &token, &etag, &json!({"description": "two"})).await.expect(200);
    assert_eq!(res.body["referral"]["description"], "two");
    let after = res.header("etag").expect("an ETag").to_string();
    assert_ne!(after, etag);
    assert_eq!(app.get(&case_path(&id), &token).await.header("etag"), Some(after.as_str()));
    // and the ETag just used is now stale
    patch_if_match(app, &case_path(&id), &token, &etag, &json!({"description": "three"}))
        .await
        .problem(412, "precondition_failed");
    assert_eq!(snapshot(&world, &id).await["referral"]["description"], "two");
}

#[tokio::test]
async fn an_edit_cannot_leave_the_target_group_or_drop_the_justification() {
    let world = World::new().await;
    let app = &world.app;
    let token = world.token(REFERRER);
    let id = world.referred(20).await;
    let before = snapshot(&world, &id).await;
    for name in ["disability_pension", "expected_disability_pension", "acquired_brain_injury", "labour_market_case"] {
        let res = app
            .patch(&case_path(&id), &token, &json!({"exclusions": {name: true}, "description": "changed"}))
            .await
            .problem(422, "outside_target_group");
        assert_eq!(res.fields(), [format!("exclusions.{name}")]);
    }
    // unknown fields and bad values
    let res = app
        .patch(&case_path(&id), &token, &json!({"citizen_id": before["citizen"]["id"]}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["citizen_id"]);
    let res = app
        .patch(&case_path(&id), &token, &json!({"involved_departments": ["finance"]}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["involved_departments[0]"]);
    assert_eq!(snapshot(&world, &id).await, before, "nothing changed");

    // a 16-year-old's justification cannot be blanked
    let young = world.referred(16).await;
    let before = snapshot(&world, &young).await;
    let res = app
        .patch(&case_path(&young), &token, &json!({"under_18_justification": " "}))
        .await
        .problem(422, "referral_incomplete");
    assert_eq!(res.fields(), ["under_18_justification"]);
    assert_eq!(snapshot(&world, &young).await, before);
}

// 5. Object-level access -----------------------------------------------------------------------

#[tokio::test]
async fn a_case_is_seen_only_by_those_who_take_part_in_it() {
    let world = World::new().await;
    let app = &world.app;
    // a youth case: committee youth/social/school, involved social and labour_market
    let id = world.referred(20).await;
    // labour_market is involved by the referral only: its leaders and systems see the case while
    // the citizen's data_sharing consent names it (api.md, Who may see and do what).
    app.get(&case_path(&id), &world.token(LM_SYSTEM)).await.problem(404, "not_found");
    world.data_sharing(&id, 20, &["labour_market"]).await;
    let before = snapshot(&world, &id).await;
    let missing = app
        .get(&case_path("00000000-0000-4000-8000-000000000000"), &world.token(REFERRER))
        .await
        .problem(404, "not_found")
        .body;

    let seen = [
        REFERRER,
        LM_SYSTEM,
        LM_LEADER,
        YOUTH_LEADER_Y,
        YOUTH_LEADER_SOC,
        YOUTH_CW_Y,
        YOUTH_CW_SOC,
        YOUTH_FIXED,
        SCHOOL_LEADER,
        // leaders of the adult committee whose department is involved or on the youth committee
        ADULT_LEADER_LM,
        ADULT_LEADER_SOC,
    ];
    let unseen = [
        OUTSIDER,
        HC_SYSTEM,
        LM_CASEWORKER,
        ADULT_CW_LM,
        ADULT_CW_SOC,
        ADULT_FIXED,
        REFERRER_ELSEWHERE,
        // a committee member's sub, speaking for another department
        Person { sub: "yc1", dept: "labour_market", roles: &["caseworker"] },
        Person { sub: "yf", dept: "health_care", roles: &["caseworker"] },
        // an admin takes part in no case
        ADMIN,
        // a leader of a department neither on the youth committee nor involved
        Person { sub: "hcl", dept: "health_care", roles: &["leader"] },
    ];

    for who in seen {
        let token = world.token(who);
        let res = app.get(&case_path(&id), &token).await;
        assert_eq!(res.status, 200, "{who:?} takes part: {}", res.text);
        assert_eq!(res.body["id"], id.as_str());
        app.get(&history_path(&id), &token).await.expect(200);
        let listed = ids(&app.get(&format!("{CASES}?limit=200"), &token).await.expect(200));
        assert_eq!(listed, vec![id.clone()], "{who:?} lists it");
    }

    for who in unseen {
        let token = world.token(who);
        let denied_before =
            app.count(&format!("SELECT count(*) FROM audit_log WHERE action = 'denied' AND case_id = '{id}'"));
        let res = app.get(&case_path(&id), &token).await.problem(404, "not_found");
        assert_eq!(res.body, missing, "{who:?}: identical to a case that does not exist");
        let res = app.get(&history_path(&id), &token).await.problem(404, "not_found");
        assert_eq!(res.body, missing, "{who:?}: history");
        let res = app.patch(&case_path(&id), &token, &json!({"description": "x"})).await.problem(404, "not_found");
        assert_eq!(res.body, missing, "{who:?}: patch");
        let res = screen(&world, who, &id, json!({"outcome": "accepted"})).await.problem(404, "not_found");
        assert_eq!(res.body, missing, "{who:?}: screening");
        let listed = ids(&app.get(&format!("{CASES}?limit=200"), &token).await.expect(200));
        assert!(listed.is_empty(), "{who:?} lists nothing: {listed:?}");
        // the attempts are logged
        let denied = app.count(&format!("SELECT count(*) FROM audit_log WHERE action = 'denied' AND case_id = '{id}'"));
        assert!(denied >= denied_before + 4, "{who:?}: each refused attempt is logged ({denied_before} → {denied})");
    }
    assert_eq!(snapshot(&world, &id).await, before, "no outsider changed anything");

    // an auditor works with no case at all
    app.get(&case_path(&id), &world.token(AUDITOR)).await.problem(403, "forbidden");
    app.get(CASES, &world.token(AUDITOR)).await.problem(403, "forbidden");

    // the screener sees it
    let screener = Person { sub: "sk2", dept: "social", roles: &["leader"] };
    screen(&world, screener, &id, json!({"outcome": "accepted"})).await.expect(200);
    app.get(&case_path(&id), &world.token(screener)).await.expect(200);
    app.get(&history_path(&id), &world.token(screener)).await.expect(200);
    // and a health-care system account still does not
    app.get(&case_path(&id), &world.token(HC_SYSTEM)).await.problem(404, "not_found");
}

#[tokio::test]
async fn an_adult_case_is_seen_by_the_adult_committee_not_the_youth_one() {
    let world = World::new().await;
    let app = &world.app;
    let id = world.referred(40).await;
    for who in [REFERRER, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, ADULT_LEADER_LM, HC_SYSTEM, LM_SYSTEM] {
        let res = app.get(&case_path(&id), &world.token(who)).await;
        assert_eq!(res.status, 200, "{who:?}: {}", res.text);
    }
    for who in [YOUTH_CW_Y, YOUTH_CW_SOC, YOUTH_FIXED, YOUTH_LEADER_Y, OUTSIDER, SCHOOL_LEADER] {
        app.get(&case_path(&id), &world.token(who)).await.problem(404, "not_found");
    }
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let world = World::new().await;
    let app = &world.app;
    let token = world.token(REFERRER);
    world.referred(20).await;
    for id in [uuid_v4(), "00000000-0000-0000-0000-000000000000".to_string(), "not-a-uuid".to_string()] {
        app.get(&case_path(&id), &token).await.problem(404, "not_found");
        app.get(&history_path(&id), &token).await.problem(404, "not_found");
        app.patch(&case_path(&id), &token, &json!({"description": "x"})).await.problem(404, "not_found");
        screen(&world, YOUTH_LEADER_SOC, &id, json!({"outcome": "accepted"})).await.problem(404, "not_found");
    }
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

// 6. Lists ---------------------------------------------------------------------------------------

#[tokio::test]
async fn lists_show_only_visible_cases_and_filter_them() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let y1 = case_by(&world, REFERRER, 20).await;
    let y2 = case_by(&world, REFERRER, 22).await;
    let y3 = case_by(&world, REFERRER, 16).await;
    let a1 = case_by(&world, REFERRER, 35).await;
    let a2 = case_by(&world, REFERRER, 50).await;
    let carls = case_by(&world, CARL, 40).await;

    // visibility
    assert_eq!(
        sorted(list_all(app, &rita, "", 200).await),
        sorted(vec![y1.clone(), y2.clone(), y3.clone(), a1.clone(), a2.clone()])
    );
    assert_eq!(list_all(app, &world.token(CARL), "", 200).await, vec![carls.clone()]);
    assert!(list_all(app, &world.token(OUTSIDER), "", 200).await.is_empty());
    assert_eq!(
        sorted(list_all(app, &world.token(YOUTH_CW_Y), "", 200).await),
        sorted(vec![y1.clone(), y2.clone(), y3.clone()])
    );
    assert_eq!(
        sorted(list_all(app, &world.token(ADULT_CW_LM), "", 200).await),
        sorted(vec![a1.clone(), a2.clone(), carls.clone()])
    );

    // move some along
    screen(&world, YOUTH_LEADER_SOC, &y1, json!({"outcome": "accepted"})).await.expect(200);
    screen(&world, YOUTH_LEADER_SOC, &y2, json!({"outcome": "declined", "reason": "other"})).await.expect(200);
    app.patch(&case_path(&a1), &rita, &json!({"involved_departments": ["health_care"]})).await.expect(200);

    let q = |query: &'static str| {
        let rita = rita.clone();
        async move { sorted(list_all(app, &rita, query, 200).await) }
    };
    assert_eq!(q("status=awaiting_committee").await, vec![y1.clone()]);
    assert_eq!(q("status=declined").await, vec![y2.clone()]);
    assert_eq!(q("status=referred").await, sorted(vec![y3.clone(), a1.clone(), a2.clone()]));
    assert!(q("status=active").await.is_empty());
    assert_eq!(q("track=youth").await, sorted(vec![y1.clone(), y2.clone(), y3.clone()]));
    assert_eq!(q("track=adult").await, sorted(vec![a1.clone(), a2.clone()]));
    assert_eq!(
        sorted(list_all(app, &rita, &format!("committee_id={}", world.adult_committee), 200).await),
        sorted(vec![a1.clone(), a2.clone()])
    );
    assert_eq!(
        sorted(list_all(app, &rita, &format!("committee_id={}", world.youth_committee), 200).await),
        sorted(vec![y1.clone(), y2.clone(), y3.clone()])
    );
    assert!(list_all(app, &rita, &format!("committee_id={}", uuid_v4()), 200).await.is_empty());
    assert_eq!(q("involved_department=health_care").await, vec![a1.clone()]);
    assert_eq!(q("involved_department=social").await, sorted(vec![y1.clone(), y2.clone(), y3.clone(), a2.clone()]));
    assert!(q("involved_department=school").await.is_empty());
    assert_eq!(q("status=referred&track=adult").await, sorted(vec![a1.clone(), a2.clone()]));
    assert_eq!(q("status=referred&track=youth").await, vec![y3.clone()]);
    // a filter never widens what the caller sees
    assert!(list_all(app, &world.token(OUTSIDER), "track=youth", 200).await.is_empty());
    let status = app.get(&format!("{CASES}?status=closed"), &world.token(CARL)).await.expect(200);
    assert_eq!(ids(&status), Vec::<String>::new());

    // the items of a list carry no CPR
    let res = app.get(&format!("{CASES}?limit=200"), &rita).await.expect(200);
    assert_eq!(ids(&res).len(), 5);
    assert!(!has_key(&res.body, "cpr"), "{}", res.text);
}

#[tokio::test]
async fn pages_visit_every_case_once() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let mut created = vec![];
    for age in [20, 25, 33, 41, 52] {
        created.push(case_by(&world, REFERRER, age).await);
    }
    // a case rita does not see must not shift her pages
    case_by(&world, CARL, 40).await;

    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = vec![];
    loop {
        let path = match &cursor {
            Some(c) => format!("{CASES}?limit=2&cursor={c}"),
            None => format!("{CASES}?limit=2"),
        };
        let res = app.get(&path, &rita).await.expect(200);
        let page = ids(&res);
        pages.push(page.len());
        seen.extend(page);
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(res.body["next_cursor"].is_null());
                assert!(
                    res.body.as_object().unwrap().contains_key("next_cursor"),
                    "next_cursor is present: {}",
                    res.text
                );
                break;
            }
        }
        assert!(pages.len() < 10, "pagination does not end");
    }
    assert_eq!(pages, [2, 2, 1]);
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats: {seen:?}");
    assert_eq!(sorted(seen), sorted(created.clone()));

    // a page that is exactly full ends the list
    let res = app.get(&format!("{CASES}?limit=5"), &rita).await.expect(200);
    assert_eq!(ids(&res).len(), 5);
    assert!(res.body["next_cursor"].is_null(), "{}", res.text);
    // the default page holds them all
    let res = app.get(CASES, &rita).await.expect(200);
    assert_eq!(ids(&res).len(), 5);
    assert!(res.body["next_cursor"].is_null());
    // the extremes of limit
    let res = app.get(&format!("{CASES}?limit=1"), &rita).await.expect(200);
    assert_eq!(ids(&res).len(), 1);
    app.get(&format!("{CASES}?limit=200"), &rita).await.expect(200);
}

#[tokio::test]
async fn list_parameters_are_strict() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    world.referred(20).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("status=open", "status"),
        ("track=senior", "track"),
        ("committee_id=nope", "committee_id"),
        ("involved_department=finance", "involved_department"),
    ] {
        let res = app.get(&format!("{CASES}?{query}"), &rita).await.problem(422, "validation_failed");
        assert_eq!(res.fields(), [field], "{query}");
    }
    // a cursor of the right form that this API never returned: its own code
    for query in ["cursor=garbage!", "cursor=AAAA"] {
        let res = app.get(&format!("{CASES}?{query}"), &rita).await.problem(422, "invalid_cursor");
        assert_eq!(res.fields(), ["cursor"], "{query}");
    }
    // an unknown parameter, e.g. a typo of a filter, is refused rather than ignored
    for query in ["statuz=referred", "foo=1", "page=2"] {
        app.get(&format!("{CASES}?{query}"), &rita).await.problem(422, "unexpected_parameter");
    }
    // and a CPR number in a query string is never echoed
    let res = app.get(&format!("{CASES}?cpr=0101901234"), &rita).await.problem(422, "unexpected_parameter");
    assert!(!res.text.contains("0101901234"), "{}", res.text);
    // history takes the same paging parameters
    let id = world.referred(22).await;
    app.get(&format!("{}?limit=0", history_path(&id)), &rita).await.problem(422, "validation_failed");
    app.get(&format!("{}?cursor=garbage!", history_path(&id)), &rita).await.problem(422, "invalid_cursor");
    app.get(&format!("{}?status=referred", history_path(&id)), &rita).await.problem(422, "unexpected_parameter");
}

#[tokio::test]
async fn no_cpr_in_lists_views_or_history() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let mut cprs = vec![];
    let mut cases = vec![];
    for age in [16, 20, 45] {
        let (citizen, cpr) = citizen_aged(&world, age).await;
        let extra = if age < 18 { json!({"under_18_justification": "assessed"}) } else { json!({}) };
        let created = refer_as(&world, REFERRER, &citizen, extra).await.expect(201);
        assert!(!created.text.contains(&cpr), "201 has no CPR: {}", created.text);
        assert!(!has_key(&created.body, "cpr"));
        cprs.push(cpr);
        cases.push(created.id());
    }
    screen(&world, YOUTH_LEADER_SOC, &cases[1], json!({"outcome": "accepted"})).await.expect(200);
    let mut texts = vec![];
    for who in [REFERRER, YOUTH_CW_Y, ADULT_CW_LM, LM_SYSTEM] {
        let res = app.get(&format!("{CASES}?limit=200"), &world.token(who)).await.expect(200);
        assert!(!ids(&res).is_empty(), "{who:?}");
        assert!(!has_key(&res.body, "cpr"), "{}", res.text);
        for item in res.body["items"].as_array().unwrap() {
            assert!(!has_key(item, "cpr"));
        }
        texts.push(res.text);
    }
    for id in &cases {
        let view = app.get(&case_path(id), &rita).await.expect(200);
        assert!(!has_key(&view.body, "cpr"), "{}", view.text);
        texts.push(view.text);
        texts.push(app.get(&history_path(id), &rita).await.expect(200).text);
    }
    for text in &texts {
        for cpr in &cprs {
            assert!(!text.contains(cpr.as_str()), "CPR {cpr} in {text}");
            // nor in the DDMMYY-SSSS form
            let dashed = format!("{}-{}", &cpr[..6], &cpr[6..]);
            assert!(!text.contains(&dashed), "CPR {dashed} in {text}");
        }
    }
}

// 7. History ------------------------------------------------------------------------------------

#[tokio::test]
async fn history_lists_the_events_oldest_first() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    let id = world.referred(20).await;

    let res = app.get(&history_path(&id), &rita).await.expect(200);
    let types: Vec<_> = res.body["items"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(types, [json!("case.referred")]);

    app.patch(&case_path(&id), &rita, &json!({"description": "More detail."})).await.expect(200);
    // a refused edit leaves no event
    app.patch(&case_path(&id), &world.token(YOUTH_CW_Y), &json!({"description": "x"})).await.problem(403, "forbidden");
    screen(&world, YOUTH_LEADER_SOC, &id, json!({"outcome": "declined", "reason": "not_complex_enough"}))
        .await
        .expect(200);
    // a refused move leaves no event
    screen(&world, YOUTH_LEADER_SOC, &id, json!({"outcome": "accepted"})).await.problem(409, "invalid_transition");

    let res = app.get(&history_path(&id), &rita).await.expect(200);
    let items = res.body["items"].as_array().unwrap().clone();
    let types: Vec<_> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["case.referred", "case.updated", "case.screened"]);
    let actors: Vec<_> = items
        .iter()
        .map(|e| (e["actor"]["sub"].as_str().unwrap(), e["actor"]["department"].as_str().unwrap()))
        .collect();
    assert_eq!(actors, [("rita", "social"), ("rita", "social"), (YOUTH_LEADER_SOC.sub, YOUTH_LEADER_SOC.dept)]);
    let times: Vec<_> =
        items.iter().map(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first: {times:?}");
    assert!(res.body["next_cursor"].is_null());

    // paged one at a time, the same order
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("{}?limit=1&cursor={c}", history_path(&id)),
            None => format!("{}?limit=1", history_path(&id)),
        };
        let res = app.get(&path, &rita).await.expect(200);
        paged.extend(res.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()));
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, types);

    // another case's history is its own
    let other = world.referred(21).await;
    let res = app.get(&history_path(&other), &rita).await.expect(200);
    assert_eq!(res.body["items"].as_array().unwrap().len(), 1);
}

// 8. The case view ------------------------------------------------------------------------------

#[tokio::test]
async fn the_case_view_shows_the_citizen_without_cpr_and_an_empty_budget() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, cpr) = citizen_aged(&world, 24).await;
    let id = refer_as(&world, REFERRER, &citizen, json!({})).await.expect(201).id();

    let res = app.get(&case_path(&id), &world.token(REFERRER)).await.expect(200);
    assert!(res.header("etag").is_some());
    let v = &res.body;
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "referred");
    assert_eq!(v["track"], "youth");
    assert_eq!(v["committee"]["id"], world.youth_committee.as_str());
    assert_eq!(v["citizen"], json!({"id": citizen, "name": "Test Borger", "age": 24}));
    assert_eq!(v["budget"], json!({"frame_ore": 0, "spent_ore": 0, "remaining_ore": 0}));
    assert!(v["screening"].is_null());
    assert!(v["coordinator"].is_null());
    assert!(v["follow_up_on"].is_null());
    assert_eq!(v["referral"]["referred_by"]["sub"], REFERRER.sub);
    assert_eq!(v["referral"]["referred_by"]["department"], REFERRER.dept);
    assert_eq!(v["referral"]["problem_areas"], json!(["mental_health", "homelessness"]));
    assert_eq!(v["referral"]["involved_departments"], json!(["social", "labour_market"]));
    assert_eq!(
        v["referral"]["exclusions"],
        json!({"disability_pension": false, "expected_disability_pension": false, "acquired_brain_injury": false, "labour_market_case": false})
    );
    assert!(!has_key(v, "cpr"), "{}", res.text);
    assert!(!has_key(v, "birth_date"), "{}", res.text);
    assert!(!res.text.contains(&cpr), "{}", res.text);
    for field in ["created_at", "updated_at"] {
        let at = v[field].as_str().unwrap_or_else(|| panic!("{field}"));
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{field}: {at}");
    }

    // the citizen's id does not open the case
    app.get(&case_path(&citizen), &world.token(REFERRER)).await.problem(404, "not_found");
}

// Conventions that apply to cases -------------------------------------------------------------

#[tokio::test]
async fn a_screening_honours_if_match() {
    // api.md, Conventions: a write to a mutable resource (a case) with an If-Match that does not
    // match → 412; a screening changes the case and answers with its new ETag.
    let world = World::new().await;
    let app = &world.app;
    let id = world.referred(20).await;
    let stale = app.get(&case_path(&id), &world.token(REFERRER)).await.expect(200).header("etag").unwrap().to_string();
    app.patch(&case_path(&id), &world.token(REFERRER), &json!({"description": "newer"})).await.expect(200);
    let before = app.get(&case_path(&id), &world.token(REFERRER)).await.expect(200);
    let current = before.header("etag").unwrap().to_string();

    let post = |etag: String| {
        let token = world.token(YOUTH_LEADER_SOC);
        let url = format!("{}{}", app.base, screening_path(&id));
        async move {
            let res = app
                .client
                .post(url)
                .bearer_auth(token)
                .header("if-match", etag)
                .json(&json!({"outcome": "accepted"}))
                .send()
                .await
                .unwrap();
            TestApp::read(res).await
        }
    };
    post(stale).await.problem(412, "precondition_failed");
    assert_eq!(snapshot(&world, &id).await, before.body, "a refused screening changes nothing");
    let res = post(current.clone()).await.expect(200);
    assert_eq!(res.body["status"], "awaiting_committee");
    assert_ne!(res.header("etag"), Some(current.as_str()));
}

#[tokio::test]
async fn a_referral_replays_for_the_same_idempotency_key() {
    // api.md, Conventions: a POST that creates accepts Idempotency-Key; a repeat with the same
    // key and body replays the first response; the same key with another body → 422.
    let world = World::new().await;
    let app = &world.app;
    let (citizen, _) = citizen_aged(&world, 25).await;
    let body = referral(&citizen);
    let send = |key: &'static str, body: Value| {
        let token = world.token(REFERRER);
        let url = format!("{}{CASES}", app.base);
        async move {
            let res = app
                .client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            TestApp::read(res).await
        }
    };
    let first = send("referral-1", body.clone()).await.expect(201);
    let again = send("referral-1", body.clone()).await.expect(201);
    assert_eq!(again.id(), first.id(), "the first response is replayed");
    assert_eq!(count_cases(app), 1);
    let mut other = body.clone();
    other["description"] = json!("another text");
    send("referral-1", other).await.problem(422, "idempotency_key_reused");
    assert_eq!(count_cases(app), 1);
    // another key is another referral
    send("referral-2", body).await.expect(201);
    assert_eq!(count_cases(app), 2);
}

#[tokio::test]
async fn follow_up_filters_take_dates() {
    let world = World::new().await;
    let app = &world.app;
    let rita = world.token(REFERRER);
    world.referred(20).await;
    // no case has a follow-up date before its first decision
    let res = app.get(&format!("{CASES}?follow_up_before=2100-01-01"), &rita).await.expect(200);
    assert!(ids(&res).is_empty(), "{}", res.text);
    let res = app.get(&format!("{CASES}?coordinator=rita"), &rita).await.expect(200);
    assert!(ids(&res).is_empty(), "{}", res.text);
    let res = app.get(&format!("{CASES}?follow_up_before=2100-13-01"), &rita).await.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["follow_up_before"]);
}

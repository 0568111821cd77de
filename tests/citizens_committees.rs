mod common;

// Citizens (CPR parsing, the century rule, registration by CPR, who may read a citizen) and
// committees (who may read and write them, the departments of a track, one active committee
// per track, the composition of the fixed members, ETag / If-Match, strict bodies).

use common::world::{
    cpr_for_age, referral, Person, World, ADMIN, ADULT_CW_LM, ADULT_LEADER_LM, AUDITOR, OUTSIDER, REFERRER, YOUTH_CW_Y,
};
use common::{Response, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

const SYSTEM: Person = Person { sub: "sys-social", dept: "social", roles: &["system"] };
const LEADER: Person = Person { sub: "lea", dept: "social", roles: &["leader"] };

async fn register(app: &TestApp, token: &str, cpr: &str, name: &str) -> Response {
    app.post("/api/v1/citizens", token, &json!({"cpr": cpr, "name": name})).await
}

fn citizens(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM citizens")
}

fn committees(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM committees")
}

fn members_rows(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM committee_members")
}

/// A request with an `If-Match` header.
async fn with_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: &str,
    body: &Value,
) -> Response {
    let res = app
        .client
        .request(method, format!("{}{}", app.base, path))
        .bearer_auth(token)
        .header("if-match", if_match)
        .json(body)
        .send()
        .await
        .expect("request sent");
    TestApp::read(res).await
}

fn seat(sub: &str, department: &str, role: &str) -> Value {
    json!({"sub": sub, "name": format!("Member {sub}"), "department": department, "role": role})
}

/// A valid composition for an adult committee (labour_market, social, health_care).
fn adult_seats() -> Vec<Value> {
    vec![
        seat("m-l1", "labour_market", "leader"),
        seat("m-l2", "social", "leader"),
        seat("m-c1", "labour_market", "caseworker"),
        seat("m-c2", "social", "caseworker"),
        seat("m-f", "health_care", "fixed_staff"),
    ]
}

fn members_path(id: &str) -> String {
    format!("/api/v1/committees/{id}/members")
}

fn committee_path(id: &str) -> String {
    format!("/api/v1/committees/{id}")
}

/// The committee as an admin reads it: its members and its ETag.
async fn read_committee(app: &TestApp, id: &str) -> (Value, String) {
    let res = app.get(&committee_path(id), &app.as_(ADMIN)).await.expect(200);
    let etag = res.header("etag").expect("GET committee carries an ETag").to_string();
    (res.body, etag)
}

fn subs(committee: &Value) -> Vec<String> {
    committee["members"].as_array().expect("members").iter().map(|m| m["sub"].as_str().unwrap().to_string()).collect()
}

async fn create_committee(app: &TestApp, token: &str, name: &str, track: &str, departments: &[&str]) -> Response {
    app.post("/api/v1/committees", token, &json!({"name": name, "track": track, "departments": departments})).await
}

// ---------------------------------------------------------------------------------------------
// citizens

#[tokio::test]
async fn cpr_numbers_give_the_birth_date_by_the_century_rule() {
    let app = TestApp::spawn().await;
    let token = app.as_(REFERRER);
    let cases = [
        ("0101901234", "1990-01-01"),
        ("0101204000", "2020-01-01"), // 7th digit 4, yy <= 36 → 2000s
        ("0101374000", "1937-01-01"), // 7th digit 4, yy > 36 → 1900s
        ("0101205000", "2020-01-01"), // 7th digit 5–8, yy <= 57 → 2000s
        ("0101209000", "2020-01-01"), // 7th digit 9, yy <= 36 → 2000s
        ("0101379000", "1937-01-01"), // 7th digit 9, yy > 36 → 1900s
        ("2902004000", "2000-02-29"), // 2000 is a leap year
        ("0101003999", "1900-01-01"), // 7th digit 0–3 → 1900s
    ];
    for (cpr, birth_date) in cases {
        let res = register(&app, &token, cpr, "Test Borger").await.expect(201);
        assert_eq!(res.body["birth_date"], birth_date, "{cpr}: {}", res.text);
        assert_eq!(res.body["cpr"], cpr, "{cpr}");
        assert_eq!(res.body["name"], "Test Borger");
        assert!(uuid::Uuid::parse_str(&res.id()).is_ok(), "{}", res.text);
    }
    // The rule reads 0101364000 as 1 January 2036 and 0101575000 as 2057: births still to come;
    // 0101585000 as 1858 (7th digit 5–8, yy > 57): before 1900, the first date the service takes.
    for cpr in ["0101364000", "0101575000", "0101585000"] {
        register(&app, &token, cpr, "Test Borger").await.problem(422, "cpr_invalid");
    }
    assert_eq!(citizens(&app), cases.len() as i64);

    // the hyphen form is accepted and stored as ten digits
    let res = register(&app, &token, "010190-2345", "Bindestreg").await.expect(201);
    assert_eq!(res.body["cpr"], "0101902345");
    assert_eq!(res.body["birth_date"], "1990-01-01");
    let id = res.id();
    assert_eq!(app.count(&format!("SELECT count(*) FROM citizens WHERE id = '{id}' AND cpr = '0101902345'")), 1);
    // and is the same citizen as the ten-digit form
    let again = register(&app, &token, "0101902345", "Another").await.expect(201);
    assert_eq!(again.id(), id);
}

#[tokio::test]
async fn invalid_cpr_numbers_are_refused_without_echoing_them() {
    let app = TestApp::spawn().await;
    let token = app.as_(REFERRER);
    for cpr in [
        "010190123",   // 9 digits
        "01019012345", // 11 digits
        "01019O1234",  // a letter
        "abcdefghij",  // letters
        "0101-901234", // the hyphen in the wrong place
        "",
    ] {
        let res = register(&app, &token, cpr, "Test Borger").await.problem(422, "validation_failed");
        assert_eq!(res.fields(), ["cpr"], "{cpr:?}: {}", res.text);
        assert!(cpr.is_empty() || !res.text.contains(cpr), "{}", res.text);
    }
    // The document's form, but no real date: the CPR rules refuse it, with their own code.
    for cpr in [
        "3102901234", // 31 February
        "2902001000", // 29 February 1900: not a leap year
        "0013901234", // month 13
        "0001901234", // day 0
    ] {
        let res = register(&app, &token, cpr, "Test Borger").await.problem(422, "cpr_invalid");
        assert_eq!(res.fields(), ["cpr"], "{cpr:?}: {}", res.text);
        if !cpr.is_empty() {
            assert!(!res.text.contains(cpr), "the response echoes {cpr}: {}", res.text);
            let digits: String = cpr.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 6 {
                assert!(!res.text.contains(&digits), "the response echoes {digits}: {}", res.text);
            }
        }
    }
    assert_eq!(citizens(&app), 0, "nothing was stored");
}

#[tokio::test]
async fn registering_needs_a_referring_role() {
    let app = TestApp::spawn().await;
    for p in [ADMIN, AUDITOR] {
        register(&app, &app.as_(p), "0101901234", "Test Borger").await.problem(403, "forbidden");
    }
    assert_eq!(citizens(&app), 0);
    register(&app, &app.as_(LEADER), "0101901234", "Test Borger").await.expect(201);
    register(&app, &app.as_(SYSTEM), "0202901234", "Test Borger").await.expect(201);
    assert_eq!(citizens(&app), 2);
}

#[tokio::test]
async fn the_same_cpr_twice_is_the_same_citizen() {
    let app = TestApp::spawn().await;
    let token = app.as_(REFERRER);
    let first = register(&app, &token, "0101901234", "Første Navn").await.expect(201);
    // The same status and shape again; the caller sees none of the citizen's cases, so the
    // answer carries the name they sent, and the stored name is kept.
    let second = register(&app, &token, "0101901234", "Andet Navn").await.expect(201);
    assert_eq!(second.id(), first.id());
    assert_eq!(second.body["name"], "Andet Navn", "the stored name is only for those who see a case");
    assert_eq!(second.body["cpr"], "0101901234");
    assert_eq!(second.body["birth_date"], "1990-01-01");
    // another caller, the hyphen form: still the same citizen
    let third = register(&app, &app.as_(OUTSIDER), "010190-1234", "Tredje").await.expect(201);
    assert_eq!(third.id(), first.id());
    assert_eq!(citizens(&app), 1);
    assert_eq!(app.count("SELECT count(*) FROM citizens WHERE name = 'Første Navn'"), 1);
}

#[tokio::test]
async fn a_citizen_is_read_only_by_those_who_see_one_of_their_cases() {
    let world = World::new().await;
    let app = &world.app;
    let referrer = app.as_(REFERRER);
    let cpr = cpr_for_age(40, 20);
    let id = register(app, &referrer, &cpr, "Test Borger").await.expect(201).id();
    let path = format!("/api/v1/citizens/{id}");

    // no case yet: nobody sees the citizen, not even the caseworker who registered them
    for p in [REFERRER, OUTSIDER, ADULT_CW_LM, ADMIN] {
        let res = app.get(&path, &app.as_(p)).await.problem(404, "not_found");
        assert!(!res.text.contains(&cpr), "{}", res.text);
    }
    app.get(&path, &app.as_(AUDITOR)).await.problem(403, "forbidden");

    // the caseworker refers a case for the citizen (aged 40: the adult track)
    app.post("/api/v1/cases", &referrer, &referral(&id)).await.expect(201);

    let res = app.get(&path, &referrer).await.expect(200);
    assert_eq!(res.id(), id);
    assert_eq!(res.body["cpr"], cpr.as_str());
    assert_eq!(res.body["name"], "Test Borger");
    assert!(res.body["birth_date"].is_string(), "{}", res.text);
    // a member of the adult committee takes part in the case
    let res = app.get(&path, &app.as_(ADULT_CW_LM)).await.expect(200);
    assert_eq!(res.body["cpr"], cpr.as_str());

    // still nobody else: an outsider, a member of the other track's committee
    for p in [OUTSIDER, YOUTH_CW_Y] {
        let res = app.get(&path, &app.as_(p)).await.problem(404, "not_found");
        assert!(!res.text.contains(&cpr), "{}", res.text);
    }
    app.get(&path, &app.as_(AUDITOR)).await.problem(403, "forbidden");

    // unknown and malformed ids
    app.get(&format!("/api/v1/citizens/{}", uuid::Uuid::new_v4()), &referrer).await.problem(404, "not_found");
    app.get("/api/v1/citizens/not-a-uuid", &referrer).await.problem(404, "not_found");
    app.get("/api/v1/citizens/0101901234", &referrer).await.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// committees: reading

#[tokio::test]
async fn committees_are_read_by_every_role_but_a_bare_auditor() {
    let world = World::new().await;
    let app = &world.app;
    let one = committee_path(&world.adult_committee);
    let readers = [
        app.as_(REFERRER),
        app.as_(ADULT_LEADER_LM),
        app.as_(ADMIN),
        app.as_(SYSTEM),
        app.token("mixed", "social", &["auditor", "caseworker"]),
    ];
    for token in &readers {
        let res = app.get("/api/v1/committees", token).await.expect(200);
        assert_eq!(res.body["items"].as_array().map(Vec::len), Some(2), "{}", res.text);
        assert!(res.body["next_cursor"].is_null(), "{}", res.text);
        let res = app.get(&one, token).await.expect(200);
        assert_eq!(res.body["id"], world.adult_committee.as_str());
        assert_eq!(res.body["track"], "adult");
        assert_eq!(res.body["departments"], json!(["labour_market", "social", "health_care"]));
        assert_eq!(res.body["active"], true);
        assert_eq!(subs(&res.body), ["al1", "al2", "ac1", "ac2", "af"]);
        assert!(res.header("etag").is_some());
    }
    let auditor = app.as_(AUDITOR);
    app.get("/api/v1/committees", &auditor).await.problem(403, "forbidden");
    app.get(&one, &auditor).await.problem(403, "forbidden");

    // unknown and malformed ids
    let token = app.as_(REFERRER);
    app.get(&committee_path(&uuid::Uuid::new_v4().to_string()), &token).await.problem(404, "not_found");
    app.get("/api/v1/committees/nope", &token).await.problem(404, "not_found");
}

#[tokio::test]
async fn the_committee_list_is_paginated() {
    let world = World::new().await;
    let app = &world.app;
    let token = app.as_(REFERRER);

    let first = app.get("/api/v1/committees?limit=1", &token).await.expect(200);
    let items = first.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", first.text);
    let cursor = first.body["next_cursor"].as_str().expect("a next_cursor on the first of two pages").to_string();
    let second = app.get(&format!("/api/v1/committees?limit=1&cursor={cursor}"), &token).await.expect(200);
    let items2 = second.body["items"].as_array().expect("items");
    assert_eq!(items2.len(), 1, "{}", second.text);
    assert!(second.body["next_cursor"].is_null(), "{}", second.text);

    let mut ids = vec![items[0]["id"].as_str().unwrap().to_string(), items2[0]["id"].as_str().unwrap().to_string()];
    ids.sort();
    let mut expected = vec![world.adult_committee.clone(), world.youth_committee.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    // members come with the list
    assert_eq!(items[0]["members"].as_array().map(Vec::len), Some(5));

    app.get("/api/v1/committees?limit=0", &token).await.problem(422, "validation_failed");
    app.get("/api/v1/committees?limit=201", &token).await.problem(422, "validation_failed");
    app.get("/api/v1/committees?cursor=garbage", &token).await.problem(422, "invalid_cursor");
}

// ---------------------------------------------------------------------------------------------
// committees: creating, one active per track

#[tokio::test]
async fn only_an_admin_creates_committees() {
    let app = TestApp::spawn().await;
    for p in [LEADER, REFERRER, AUDITOR, SYSTEM] {
        create_committee(&app, &app.as_(p), "Voksne", "adult", &["labour_market", "social", "health_care"])
            .await
            .problem(403, "forbidden");
    }
    assert_eq!(committees(&app), 0);
    let res = create_committee(&app, &app.as_(ADMIN), "Voksne", "adult", &["labour_market", "social", "health_care"])
        .await
        .expect(201);
    assert_eq!(res.body["track"], "adult");
    assert_eq!(res.body["name"], "Voksne");
    assert_eq!(res.body["active"], true);
    assert_eq!(res.body["members"], json!([]));
    assert!(res.header("etag").is_some(), "a created committee carries its ETag");
    assert_eq!(committees(&app), 1);
}

#[tokio::test]
async fn a_committee_has_its_tracks_departments() {
    let app = TestApp::spawn().await;
    let admin = app.as_(ADMIN);
    let wrong: &[(&str, &[&str])] = &[
        ("youth", &["youth", "school", "social"]),      // fixed staff from social
        ("youth", &["school", "social", "youth"]),      // school is not a first-two department
        ("youth", &["youth", "social", "health_care"]), // the adult third
        ("youth", &["youth", "youth", "school"]),       // a department twice
        ("adult", &["youth", "social", "school"]),      // the youth departments
        ("adult", &["labour_market", "health_care", "social"]), // fixed staff from social
        ("adult", &["labour_market", "social", "school"]), // fixed staff from school
        ("adult", &["social", "youth", "health_care"]), // youth is not adult's
    ];
    for (track, departments) in wrong {
        let res =
            create_committee(&app, &admin, "Udvalg", track, departments).await.problem(422, "composition_invalid");
        let fields = res.fields();
        assert!(!fields.is_empty(), "{track} {departments:?}: {}", res.text);
        assert!(fields.iter().all(|f| f.starts_with("departments")), "{track} {departments:?}: {}", res.text);
    }
    // Two or four departments the document itself refuses (exactly three items).
    for departments in [&["youth", "social"][..], &["youth", "social", "school", "labour_market"]] {
        let res =
            create_committee(&app, &admin, "Udvalg", "youth", departments).await.problem(422, "validation_failed");
        assert_eq!(res.fields(), vec!["departments"], "{}", res.text);
    }
    assert_eq!(committees(&app), 0, "nothing was stored");

    // the first two in either order, the fixed-staff department last
    let res = create_committee(&app, &admin, "Unge", "youth", &["social", "youth", "school"]).await.expect(201);
    assert_eq!(res.body["departments"], json!(["social", "youth", "school"]));
    let res = create_committee(&app, &admin, "Voksne", "adult", &["social", "labour_market", "health_care"])
        .await
        .expect(201);
    assert_eq!(res.body["departments"], json!(["social", "labour_market", "health_care"]));
    assert_eq!(committees(&app), 2);
}

#[tokio::test]
async fn one_active_committee_per_track() {
    let app = TestApp::spawn().await;
    let admin = app.as_(ADMIN);
    let adult = ["labour_market", "social", "health_care"];
    let old = create_committee(&app, &admin, "Voksne 1", "adult", &adult).await.expect(201).id();
    // the youth track is independent
    create_committee(&app, &admin, "Unge", "youth", &["youth", "social", "school"]).await.expect(201);

    create_committee(&app, &admin, "Voksne 2", "adult", &["social", "labour_market", "health_care"])
        .await
        .problem(409, "conflict");
    assert_eq!(committees(&app), 2, "the refused committee was not stored");

    // deactivate the old one: now a new one can be created
    let res = app.patch(&committee_path(&old), &admin, &json!({"active": false})).await.expect(200);
    assert_eq!(res.body["active"], false);
    let new = create_committee(&app, &admin, "Voksne 2", "adult", &adult).await.expect(201);
    assert_eq!(new.body["active"], true);
    let new = new.id();

    // re-activating the old one while the new one is active
    app.patch(&committee_path(&old), &admin, &json!({"active": true})).await.problem(409, "conflict");
    let (old_view, _) = read_committee(&app, &old).await;
    assert_eq!(old_view["active"], false);
    let (new_view, _) = read_committee(&app, &new).await;
    assert_eq!(new_view["active"], true);
    assert_eq!(app.count("SELECT count(*) FROM committees WHERE track = 'adult' AND active"), 1);
    assert_eq!(committees(&app), 3);

    // only an admin changes a committee
    app.patch(&committee_path(&new), &app.as_(LEADER), &json!({"active": false})).await.problem(403, "forbidden");
    let (new_view, _) = read_committee(&app, &new).await;
    assert_eq!(new_view["active"], true);
    app.patch(&committee_path(&uuid::Uuid::new_v4().to_string()), &admin, &json!({"active": false}))
        .await
        .problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// committees: members

#[tokio::test]
async fn a_valid_composition_is_stored() {
    let world = World::new().await;
    let app = &world.app;
    let admin = app.as_(ADMIN);
    let id = &world.adult_committee;

    let res = app.put(&members_path(id), &admin, &json!(adult_seats())).await.expect(200);
    assert_eq!(subs(&res.body), ["m-l1", "m-l2", "m-c1", "m-c2", "m-f"]);
    assert_eq!(res.body["members"][4], seat("m-f", "health_care", "fixed_staff"));
    let (view, _) = read_committee(app, id).await;
    assert_eq!(subs(&view), ["m-l1", "m-l2", "m-c1", "m-c2", "m-f"]);

    // 7 members: 2 leaders, 4 caseworkers (from either of the first two departments), 1 fixed staff
    let mut seven = adult_seats();
    seven.push(seat("m-c3", "labour_market", "caseworker"));
    seven.push(seat("m-c4", "social", "caseworker"));
    let res = app.put(&members_path(id), &admin, &json!(seven)).await.expect(200);
    assert_eq!(res.body["members"].as_array().map(Vec::len), Some(7));
    assert_eq!(app.count(&format!("SELECT count(*) FROM committee_members WHERE committee_id = '{id}'")), 7);

    // a youth committee created with its first two departments swapped
    let youth = &world.youth_committee;
    let res = app
        .put(
            &members_path(youth),
            &admin,
            &json!([
                seat("y-l1", "social", "leader"),
                seat("y-l2", "social", "leader"),
                seat("y-c1", "youth", "caseworker"),
                seat("y-c2", "youth", "caseworker"),
                seat("y-c3", "social", "caseworker"),
                seat("y-f", "school", "fixed_staff"),
            ]),
        )
        .await
        .expect(200);
    assert_eq!(res.body["members"].as_array().map(Vec::len), Some(6));

    // only an admin sets members
    for p in [LEADER, ADULT_LEADER_LM, REFERRER, AUDITOR, SYSTEM] {
        app.put(&members_path(id), &app.as_(p), &json!(adult_seats())).await.problem(403, "forbidden");
    }
    assert_eq!(app.count(&format!("SELECT count(*) FROM committee_members WHERE committee_id = '{id}'")), 7);
    app.put(&members_path(&uuid::Uuid::new_v4().to_string()), &admin, &json!(adult_seats()))
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn each_broken_composition_rule_is_named_and_nothing_changes() {
    let world = World::new().await;
    let app = &world.app;
    let admin = app.as_(ADMIN);
    let id = &world.adult_committee;
    let (before, etag_before) = read_committee(app, id).await;
    let rows_before = members_rows(app);

    let with = |f: &dyn Fn(&mut Vec<Value>)| {
        let mut seats = adult_seats();
        f(&mut seats);
        seats
    };
    let cases: Vec<(&str, Vec<Value>, Vec<&str>)> = vec![
        (
            "1 leader",
            with(&|s| {
                s.remove(1);
            }),
            vec!["leader"],
        ),
        ("3 leaders", with(&|s| s.push(seat("m-l3", "social", "leader"))), vec!["leader"]),
        (
            "1 caseworker",
            with(&|s| {
                s.remove(3);
            }),
            vec!["caseworker"],
        ),
        (
            "5 caseworkers",
            with(&|s| {
                for sub in ["m-c3", "m-c4", "m-c5"] {
                    s.push(seat(sub, "labour_market", "caseworker"));
                }
            }),
            vec!["caseworker"],
        ),
        (
            "0 fixed staff",
            with(&|s| {
                s.remove(4);
            }),
            vec!["fixed_staff"],
        ),
        ("2 fixed staff", with(&|s| s.push(seat("m-f2", "health_care", "fixed_staff"))), vec!["fixed_staff"]),
        (
            "a leader from the third department",
            with(&|s| s[1]["department"] = json!("health_care")),
            vec!["[1].department"],
        ),
        (
            "a caseworker from outside the committee",
            with(&|s| s[2]["department"] = json!("school")),
            vec!["[2].department"],
        ),
        (
            "fixed staff from the first department",
            with(&|s| s[4]["department"] = json!("labour_market")),
            vec!["[4].department"],
        ),
        ("the same sub twice", with(&|s| s[3]["sub"] = json!("m-c1")), vec!["[3].sub"]),
        ("no members", vec![], vec!["leader", "caseworker", "fixed_staff"]),
        (
            "several rules at once",
            vec![
                seat("a", "labour_market", "leader"),
                seat("a", "social", "caseworker"),
                seat("f", "social", "fixed_staff"),
            ],
            vec!["[1].sub", "[2].department", "leader", "caseworker"],
        ),
    ];
    for (what, seats, fields) in cases {
        let res = app.put(&members_path(id), &admin, &json!(seats)).await.problem(422, "composition_invalid");
        assert_eq!(res.fields(), fields, "{what}: {}", res.text);
        let (after, etag_after) = read_committee(app, id).await;
        assert_eq!(after["members"], before["members"], "{what}: the members are unchanged");
        assert_eq!(etag_after, etag_before, "{what}: the version is unchanged");
    }
    assert_eq!(members_rows(app), rows_before);
    assert_eq!(subs(&before), ["al1", "al2", "ac1", "ac2", "af"]);
}

// ---------------------------------------------------------------------------------------------
// committees: ETag / If-Match

#[tokio::test]
async fn members_writes_honour_if_match() {
    let world = World::new().await;
    let app = &world.app;
    let admin = app.as_(ADMIN);
    let id = &world.adult_committee;
    let (before, etag1) = read_committee(app, id).await;

    // with the current ETag: applied, and a new ETag
    let res =
        with_if_match(app, Method::PUT, &members_path(id), &admin, &etag1, &json!(adult_seats())).await.expect(200);
    let etag2 = res.header("etag").expect("an ETag on the answer").to_string();
    assert_ne!(etag2, etag1);
    assert_eq!(subs(&res.body), ["m-l1", "m-l2", "m-c1", "m-c2", "m-f"]);
    let (after, etag) = read_committee(app, id).await;
    assert_eq!(etag, etag2);
    assert_ne!(after["members"], before["members"]);

    // with the stale ETag: 412, nothing changes
    let mut other = adult_seats();
    other.push(seat("m-c3", "social", "caseworker"));
    with_if_match(app, Method::PUT, &members_path(id), &admin, &etag1, &json!(other))
        .await
        .problem(412, "precondition_failed");
    let (unchanged, etag) = read_committee(app, id).await;
    assert_eq!(etag, etag2);
    assert_eq!(unchanged["members"], after["members"]);
    // an ETag that never existed
    with_if_match(app, Method::PUT, &members_path(id), &admin, "\"9999\"", &json!(other))
        .await
        .problem(412, "precondition_failed");
    assert_eq!(read_committee(app, id).await.1, etag2);
}

#[tokio::test]
async fn committee_patches_honour_if_match() {
    let world = World::new().await;
    let app = &world.app;
    let admin = app.as_(ADMIN);
    let id = &world.youth_committee;
    let (_, etag1) = read_committee(app, id).await;

    let res = with_if_match(app, Method::PATCH, &committee_path(id), &admin, &etag1, &json!({"name": "Ungeudvalget"}))
        .await
        .expect(200);
    assert_eq!(res.body["name"], "Ungeudvalget");
    let etag2 = res.header("etag").expect("an ETag on the answer").to_string();
    assert_ne!(etag2, etag1);

    // stale: 412, neither the name nor the state changes
    with_if_match(app, Method::PATCH, &committee_path(id), &admin, &etag1, &json!({"name": "Andet", "active": false}))
        .await
        .problem(412, "precondition_failed");
    let (view, etag) = read_committee(app, id).await;
    assert_eq!(etag, etag2);
    assert_eq!(view["name"], "Ungeudvalget");
    assert_eq!(view["active"], true);

    // a members write moves the ETag on, so a PATCH with the ETag from before it is stale
    let youth = json!([
        seat("y-l1", "youth", "leader"),
        seat("y-l2", "social", "leader"),
        seat("y-c1", "youth", "caseworker"),
        seat("y-c2", "social", "caseworker"),
        seat("y-f", "school", "fixed_staff"),
    ]);
    let etag3 = with_if_match(app, Method::PUT, &members_path(id), &admin, &etag2, &youth)
        .await
        .expect(200)
        .header("etag")
        .expect("an ETag")
        .to_string();
    assert_ne!(etag3, etag2);
    with_if_match(app, Method::PATCH, &committee_path(id), &admin, &etag2, &json!({"active": false}))
        .await
        .problem(412, "precondition_failed");
    assert_eq!(read_committee(app, id).await.0["active"], true);
    let res = with_if_match(app, Method::PATCH, &committee_path(id), &admin, &etag3, &json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(res.body["active"], false);
    assert_ne!(res.header("etag"), Some(etag3.as_str()));
}

// ---------------------------------------------------------------------------------------------
// committees: strict bodies

#[tokio::test]
async fn unknown_fields_in_committee_bodies_are_refused() {
    let world = World::new().await;
    let app = &world.app;
    let admin = app.as_(ADMIN);
    let id = &world.adult_committee;
    let (before, etag) = read_committee(app, id).await;

    // create: a field the API does not have (even one that sounds right)
    let res = app
        .post(
            "/api/v1/committees",
            &admin,
            &json!({"name": "X", "track": "adult", "departments": ["labour_market", "social", "health_care"], "active": false}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(res.fields(), ["active"]);
    let res = app
        .post(
            "/api/v1/committees",
            &admin,
            &json!({"name": "X", "track": "adult", "departmnts": ["labour_market", "social", "health_care"]}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(!res.fields().is_empty(), "{}", res.text);
    assert_eq!(committees(app), 2);

    // patch
    let res = app.patch(&committee_path(id), &admin, &json!({"nmae": "Y"})).await.problem(422, "validation_failed");
    assert_eq!(res.fields(), ["nmae"]);
    app.patch(&committee_path(id), &admin, &json!({"active": false, "track": "youth"}))
        .await
        .problem(422, "validation_failed");

    // members: an unknown field on a seat
    let mut seats = adult_seats();
    seats[0]["email"] = json!("a@example.org");
    app.put(&members_path(id), &admin, &json!(seats)).await.problem(422, "validation_failed");
    // an unknown role or department
    let mut seats = adult_seats();
    seats[0]["role"] = json!("chair");
    app.put(&members_path(id), &admin, &json!(seats)).await.problem(422, "validation_failed");

    let (after, etag_after) = read_committee(app, id).await;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(etag_after, etag);
}

mod common;

// The audit log: one entry for every request that reads or writes personal data, committed
// with the write it records; denials recorded although their transaction rolled back; list
// reads recording the cases they returned; the consultation report of a citizen; reading the
// log only for `auditor`; and a table that neither the service's role nor anyone else changes.

use std::collections::{BTreeMap, BTreeSet};

use common::world::{
    cpr_for_age, referral, Person, World, ADMIN, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, ADULT_LEADER_LM,
    ADULT_LEADER_SOC, AUDITOR, OUTSIDER, REFERRER,
};
use common::{TestApp, TEST_ISSUER};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{json, Value};

const SYSTEM: Person = Person { sub: "social-sys", dept: "social", roles: &["system"] };

// ---------------------------------------------------------------------------------------------
// helpers

/// A request carrying our own X-Request-Id, which the answer must echo.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
    rid: &str,
) -> common::Response {
    let mut req =
        app.client.request(method, format!("{}{}", app.base, path)).bearer_auth(token).header("x-request-id", rid);
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = TestApp::read(req.send().await.expect("request sent")).await;
    assert_eq!(res.header("x-request-id"), Some(rid), "the request id is echoed; body: {}", res.text);
    res
}

/// The audit log as the auditor reads it (200 expected).
async fn audit(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/api/v1/audit?{query}"), &app.as_(AUDITOR)).await.expect(200).body
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().unwrap_or_else(|| panic!("an items array: {body}"))
}

/// The only entry written under this request id.
fn by_request<'a>(items: &'a [Value], rid: &str) -> &'a Value {
    let found: Vec<&Value> = items.iter().filter(|e| e["request_id"] == rid).collect();
    assert_eq!(found.len(), 1, "exactly one entry for request {rid}; entries: {items:#?}");
    found[0]
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|e| e["id"].as_i64().expect("an entry id")).collect()
}

fn assert_actor(e: &Value, p: Person) {
    assert_eq!(e["actor"]["iss"], TEST_ISSUER, "{e}");
    assert_eq!(e["actor"]["sub"], p.sub, "{e}");
    assert_eq!(e["actor"]["dept"], p.dept, "{e}");
}

fn assert_entry(e: &Value, action: &str, resource: &str, purpose: &str, status: u16, actor: Person) {
    assert_eq!(e["action"], action, "{e}");
    assert_eq!(e["resource"], resource, "{e}");
    assert_eq!(e["purpose"], purpose, "{e}");
    assert_eq!(e["status"], status, "{e}");
    assert_actor(e, actor);
    let at = e["at"].as_str().unwrap_or_else(|| panic!("an `at`: {e}"));
    chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|_| panic!("`at` is RFC 3339: {at}"));
}

fn uuids(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|i| i.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// Whether `key: value` occurs anywhere in a JSON document.
fn has_pair(v: &Value, key: &str, value: &str) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, v)| (k == key && v == value) || has_pair(v, key, value)),
        Value::Array(items) => items.iter().any(|v| has_pair(v, key, value)),
        _ => false,
    }
}

fn scalar(conn: &mut PgConnection, query: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT ({query})::bigint AS n")).get_result::<N>(conn).unwrap().n
}

/// A fingerprint of every row of the audit log, to show that nothing in it changed.
fn fingerprint(conn: &mut PgConnection) -> String {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(
        "SELECT count(*)::text || ':' || coalesce(md5(string_agg(a::text, '|' ORDER BY id)), '') AS t FROM audit_log a",
    )
    .get_result::<T>(conn)
    .unwrap()
    .t
}

fn fails(conn: &mut PgConnection, sql: &str) -> bool {
    conn.batch_execute(sql).is_err()
}

/// Registers a citizen of `age` as the referrer and refers them; returns (citizen, case).
async fn refer(app: &TestApp, age: i32) -> (String, String) {
    let token = app.as_(REFERRER);
    let citizen = app
        .post("/api/v1/citizens", &token, &json!({"cpr": cpr_for_age(age, 20), "name": "Test Borger"}))
        .await
        .expect(201)
        .id();
    let case = app.post("/api/v1/cases", &token, &referral(&citizen)).await.expect(201).id();
    (citizen, case)
}

fn seat(p: Person, role: &str) -> Value {
    json!({"sub": p.sub, "name": format!("Member {}", p.sub), "department": p.dept, "role": role})
}

// ---------------------------------------------------------------------------------------------
// 1. the entries each request writes

#[tokio::test]
async fn every_access_to_personal_data_is_one_entry_with_actor_purpose_status_and_request_id() {
    let world = World::new().await;
    let app = &world.app;
    let rita = app.as_(REFERRER);

    let res = send(
        app,
        Method::POST,
        "/api/v1/citizens",
        &rita,
        Some(&json!({"cpr": cpr_for_age(40, 20), "name": "Test Borger"})),
        "t1-citizen",
    )
    .await
    .expect(201);
    let citizen = res.id();
    let res = send(app, Method::POST, "/api/v1/cases", &rita, Some(&referral(&citizen)), "t1-refer").await.expect(201);
    let case = res.id();
    send(app, Method::GET, &format!("/api/v1/cases/{case}"), &rita, None, "t1-read").await.expect(200);
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/cases/{case}"),
        &rita,
        Some(&json!({"citizen_view": "Wants one contact person and a job."})),
        "t1-patch",
    )
    .await
    .expect(200);
    let list = send(app, Method::GET, "/api/v1/cases?status=referred", &rita, None, "t1-list").await.expect(200);
    assert!(uuids(&Value::Array(items(&list.body).iter().map(|c| c["id"].clone()).collect())).contains(&case));
    send(app, Method::GET, &format!("/api/v1/cases/{case}/history"), &rita, None, "t1-history").await.expect(200);
    send(
        app,
        Method::POST,
        &format!("/api/v1/cases/{case}/screening"),
        &app.as_(ADULT_LEADER_SOC),
        Some(&json!({"outcome": "accepted"})),
        "t1-screen",
    )
    .await
    .expect(200);

    // the case's log, oldest first
    let body = audit(app, &format!("case_id={case}")).await;
    assert!(body.get("consultations").is_none(), "no consultation report without citizen_id: {body}");
    let log = items(&body);
    let order: Vec<&str> = log.iter().map(|e| e["request_id"].as_str().unwrap()).collect();
    assert_eq!(order, ["t1-refer", "t1-read", "t1-patch", "t1-list", "t1-history", "t1-screen"], "{log:#?}");
    let listed = ids(log);
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "oldest first: {listed:?}");

    let e = by_request(log, "t1-refer");
    assert_entry(e, "create", "case", "referral", 201, REFERRER);
    assert_eq!(
        (e["case_id"].as_str(), e["citizen_id"].as_str(), e["resource_id"].as_str()),
        (Some(&*case), Some(&*citizen), Some(&*case))
    );
    let e = by_request(log, "t1-read");
    assert_entry(e, "read", "case", "referral", 200, REFERRER);
    assert_eq!((e["case_id"].as_str(), e["citizen_id"].as_str()), (Some(&*case), Some(&*citizen)));
    let e = by_request(log, "t1-patch");
    assert_entry(e, "update", "case", "referral", 200, REFERRER);
    assert_eq!((e["case_id"].as_str(), e["citizen_id"].as_str()), (Some(&*case), Some(&*citizen)));
    let e = by_request(log, "t1-list");
    assert_entry(e, "read", "case_list", "referral", 200, REFERRER);
    assert!(uuids(&e["case_ids"]).contains(&case), "{e}");
    let e = by_request(log, "t1-history");
    assert_entry(e, "read", "case_history", "referral", 200, REFERRER);
    assert_eq!((e["case_id"].as_str(), e["citizen_id"].as_str()), (Some(&*case), Some(&*citizen)));
    let e = by_request(log, "t1-screen");
    assert_entry(e, "update", "case", "screening", 200, ADULT_LEADER_SOC);
    assert_eq!((e["case_id"].as_str(), e["citizen_id"].as_str()), (Some(&*case), Some(&*citizen)));

    // the citizen's log also holds the registration
    let body = audit(app, &format!("citizen_id={citizen}")).await;
    let log = items(&body);
    let e = by_request(log, "t1-citizen");
    assert_entry(e, "create", "citizen", "referral", 201, REFERRER);
    assert_eq!((e["citizen_id"].as_str(), e["resource_id"].as_str()), (Some(&*citizen), Some(&*citizen)));
    assert!(e["case_id"].is_null(), "{e}");
    for rid in ["t1-refer", "t1-read", "t1-patch", "t1-list", "t1-history", "t1-screen"] {
        by_request(log, rid);
    }

    // in the database, each request wrote exactly one entry
    for rid in ["t1-citizen", "t1-refer", "t1-read", "t1-patch", "t1-list", "t1-history", "t1-screen"] {
        assert_eq!(app.count(&format!("SELECT count(*) FROM audit_log WHERE request_id = '{rid}'")), 1, "{rid}");
    }
}

#[tokio::test]
async fn a_case_read_is_recorded_for_the_purpose_of_the_stage_the_case_is_at() {
    // GET case writes its audit row in the statement that reads the case; the purpose comes
    // from the case's status there, and must say what `purpose_for` says for every status.
    let world = World::new().await;
    let app = &world.app;
    let (citizen, case) = refer(app, 40).await;
    let rita = app.as_(REFERRER);
    let mut conn = app.conn();
    for (status, purpose) in [
        ("referred", "referral"),
        ("awaiting_committee", "committee"),
        ("declined", "screening"),
        ("active", "coordination"),
        ("closed", "coordination"),
    ] {
        conn.batch_execute(&format!("UPDATE cases SET status = '{status}' WHERE id = '{case}'")).unwrap();
        let rid = format!("stage-{status}");
        send(app, Method::GET, &format!("/api/v1/cases/{case}"), &rita, None, &rid).await.expect(200);
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_log WHERE request_id = '{rid}' AND action = 'read' AND resource = 'case' \
                 AND resource_id = '{case}' AND case_id = '{case}' AND citizen_id = '{citizen}' AND purpose = '{purpose}' \
                 AND status = 200 AND actor_iss = '{TEST_ISSUER}' AND actor_sub = 'rita' AND actor_dept = 'social' \
                 AND case_ids = '{{}}' AND citizen_ids = '{{}}' AND filters IS NULL"
            )),
            1,
            "{status}: one entry, for {purpose}"
        );
        assert_eq!(app.count(&format!("SELECT count(*) FROM audit_log WHERE request_id = '{rid}'")), 1, "{status}");
    }
    // a system reads for integration, whatever the stage
    send(app, Method::GET, &format!("/api/v1/cases/{case}"), &app.as_(SYSTEM), None, "stage-system").await.expect(200);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE request_id = 'stage-system' AND purpose = 'integration' AND status = 200"),
        1
    );
}

#[tokio::test]
async fn registering_a_known_citizen_again_is_recorded_as_a_read() {
    let world = World::new().await;
    let app = &world.app;
    let rita = app.as_(REFERRER);
    let body = json!({"cpr": cpr_for_age(40, 20), "name": "Test Borger"});
    let citizen = send(app, Method::POST, "/api/v1/citizens", &rita, Some(&body), "again-1").await.expect(201).id();
    let again =
        send(app, Method::POST, "/api/v1/citizens", &app.as_(ADULT_CW_SOC), Some(&body), "again-2").await.expect(201);
    assert_eq!(again.id(), citizen);
    let log = audit(app, &format!("citizen_id={citizen}")).await;
    assert_entry(by_request(items(&log), "again-1"), "create", "citizen", "referral", 201, REFERRER);
    assert_entry(by_request(items(&log), "again-2"), "read", "citizen", "referral", 201, ADULT_CW_SOC);
}

#[tokio::test]
async fn a_departmental_system_reads_for_integration() {
    let world = World::new().await;
    let app = &world.app;
    // the referral involves the social department, so its system sees the case
    let (citizen, case) = refer(app, 40).await;
    send(app, Method::GET, &format!("/api/v1/cases/{case}"), &app.as_(SYSTEM), None, "sys-read").await.expect(200);
    let log = audit(app, &format!("case_id={case}")).await;
    let e = by_request(items(&log), "sys-read");
    assert_entry(e, "read", "case", "integration", 200, SYSTEM);
    assert_eq!(e["citizen_id"], citizen.as_str());
}

#[tokio::test]
async fn a_citizen_read_is_recorded() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, _case) = refer(app, 40).await;
    let res = send(app, Method::GET, &format!("/api/v1/citizens/{citizen}"), &app.as_(REFERRER), None, "cit-read")
        .await
        .expect(200);
    assert_eq!(res.id(), citizen);
    let log = audit(app, &format!("citizen_id={citizen}")).await;
    let e = by_request(items(&log), "cit-read");
    assert_eq!(
        (e["action"].as_str(), e["resource"].as_str(), e["status"].as_i64()),
        (Some("read"), Some("citizen"), Some(200)),
        "{e}"
    );
    assert_actor(e, REFERRER);
    assert_eq!(e["citizen_id"], citizen.as_str());
}

// ---------------------------------------------------------------------------------------------
// 2. list reads: filters and the cases returned

#[tokio::test]
async fn a_list_read_records_its_filters_and_the_cases_it_returned() {
    let world = World::new().await;
    let app = &world.app;
    let first = world.referred(40).await;
    let second = world.referred(45).await;
    let awaiting = world.awaiting(50).await;

    let res = send(app, Method::GET, "/api/v1/cases?status=referred", &app.as_(REFERRER), None, "list-referred")
        .await
        .expect(200);
    let returned: BTreeSet<String> = items(&res.body).iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(returned, BTreeSet::from([first.clone(), second.clone()]));

    // "who saw this case, even in a list"
    for case in [&first, &second] {
        let log = audit(app, &format!("case_id={case}")).await;
        let e = by_request(items(&log), "list-referred");
        assert_entry(e, "read", "case_list", "referral", 200, REFERRER);
        let recorded: BTreeSet<String> = uuids(&e["case_ids"]).into_iter().collect();
        assert_eq!(recorded, returned, "exactly the cases returned: {e}");
        assert!(has_pair(&e["filters"], "status", "referred"), "the filters are recorded: {e}");
    }
    // a case the list did not return does not have the list in its log
    let log = audit(app, &format!("case_id={awaiting}")).await;
    assert!(items(&log).iter().all(|e| e["request_id"] != "list-referred"), "{log:#?}");

    // a page records only the cases on that page
    let res = send(app, Method::GET, "/api/v1/cases?limit=1", &app.as_(REFERRER), None, "list-page").await.expect(200);
    let on_page: Vec<String> = items(&res.body).iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(on_page.len(), 1);
    let log = audit(app, &format!("case_id={}", on_page[0])).await;
    let e = by_request(items(&log), "list-page");
    assert_eq!(uuids(&e["case_ids"]), on_page, "{e}");
    let not_on_page = [&first, &second, &awaiting].into_iter().find(|c| **c != on_page[0]).unwrap();
    let log = audit(app, &format!("case_id={not_on_page}")).await;
    assert!(items(&log).iter().all(|e| e["request_id"] != "list-page"), "{log:#?}");
}

// ---------------------------------------------------------------------------------------------
// 3. denials

#[tokio::test]
async fn a_denied_read_is_404_and_recorded_although_its_transaction_rolled_back() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, case) = refer(app, 40).await;
    let otto = app.as_(OUTSIDER);

    send(app, Method::GET, &format!("/api/v1/cases/{case}"), &otto, None, "deny-case").await.problem(404, "not_found");
    send(app, Method::GET, &format!("/api/v1/cases/{case}/history"), &otto, None, "deny-history")
        .await
        .problem(404, "not_found");
    let version = app.count(&format!("SELECT version FROM cases WHERE id = '{case}'"));
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/cases/{case}"),
        &otto,
        Some(&json!({"description": "changed"})),
        "deny-patch",
    )
    .await
    .problem(404, "not_found");
    assert_eq!(app.count(&format!("SELECT version FROM cases WHERE id = '{case}'")), version, "the case is unchanged");
    let res = send(app, Method::GET, &format!("/api/v1/citizens/{citizen}"), &otto, None, "deny-citizen")
        .await
        .problem(404, "not_found");
    assert!(!res.text.contains("Test Borger"));

    let log = audit(app, &format!("case_id={case}")).await;
    let log = items(&log);
    for rid in ["deny-case", "deny-history", "deny-patch"] {
        let e = by_request(log, rid);
        assert_eq!(e["action"], "denied", "{e}");
        assert_eq!(e["status"], 404, "{e}");
        assert_eq!(e["case_id"], case.as_str(), "{e}");
        assert_actor(e, OUTSIDER);
    }
    let log = audit(app, &format!("citizen_id={citizen}")).await;
    let e = by_request(items(&log), "deny-citizen");
    assert_eq!(e["action"], "denied", "{e}");
    assert_eq!(e["status"], 404, "{e}");
    assert_eq!(e["resource"], "citizen", "{e}");
    assert_eq!(e["citizen_id"], citizen.as_str(), "{e}");
    assert_actor(e, OUTSIDER);

    // and in the database: one denied row per refused request, and nothing else of theirs
    for rid in ["deny-case", "deny-history", "deny-patch", "deny-citizen"] {
        assert_eq!(
            app.count(&format!("SELECT count(*) FROM audit_log WHERE request_id = '{rid}' AND action = 'denied' AND status = 404 AND actor_sub = 'otto'")),
            1,
            "{rid}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE actor_sub = 'otto' AND action <> 'denied'"), 0);
}

#[tokio::test]
async fn an_entry_commits_with_the_access_it_records_or_the_access_does_not_happen() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, case) = refer(app, 40).await;
    let rita = app.as_(REFERRER);
    let mut conn = app.conn();

    // the database refuses entries of `create`: the writes they would record must not commit
    conn.batch_execute("ALTER TABLE audit_log ADD CONSTRAINT test_no_create CHECK (action <> 'create') NOT VALID")
        .unwrap();
    let (citizens, cases, events) = (
        app.count("SELECT count(*) FROM citizens"),
        app.count("SELECT count(*) FROM cases"),
        app.count("SELECT count(*) FROM case_events"),
    );
    app.post("/api/v1/citizens", &rita, &json!({"cpr": cpr_for_age(41, 20), "name": "Ny Borger"}))
        .await
        .problem(500, "internal_error");
    app.post("/api/v1/cases", &rita, &referral(&citizen)).await.problem(500, "internal_error");
    assert_eq!(app.count("SELECT count(*) FROM citizens"), citizens, "no citizen without its entry");
    assert_eq!(app.count("SELECT count(*) FROM cases"), cases, "no case without its entry");
    assert_eq!(app.count("SELECT count(*) FROM case_events"), events, "no event without its entry");
    conn.batch_execute("ALTER TABLE audit_log DROP CONSTRAINT test_no_create").unwrap();

    // ... nor reads: a read that cannot be recorded is not answered
    conn.batch_execute("ALTER TABLE audit_log ADD CONSTRAINT test_no_read CHECK (action <> 'read') NOT VALID").unwrap();
    let res = app.get(&format!("/api/v1/cases/{case}"), &rita).await.problem(500, "internal_error");
    assert!(!res.text.contains("Test Borger") && !res.text.contains("contact person"), "{}", res.text);
    app.get(&format!("/api/v1/citizens/{citizen}"), &rita).await.problem(500, "internal_error");
    conn.batch_execute("ALTER TABLE audit_log DROP CONSTRAINT test_no_read").unwrap();
    app.get(&format!("/api/v1/cases/{case}"), &rita).await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 4. the consultation report, filters, pagination, and reading the log is audited

fn seed(
    conn: &mut PgConnection,
    at: &str,
    action: &str,
    purpose: &str,
    citizen_id: Option<&str>,
    citizen_ids: &[&str],
) {
    let citizen = citizen_id.map(|c| format!("'{c}'")).unwrap_or_else(|| "NULL".into());
    let list = citizen_ids.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(",");
    let status = if action == "denied" { 404 } else { 200 };
    conn.batch_execute(&format!(
        "INSERT INTO audit_log (at, actor_iss, actor_sub, actor_dept, action, resource, citizen_id, purpose, status, request_id, citizen_ids) \
         VALUES ('{at}', 'helhed-test', 'seeded', 'social', '{action}', 'case', {citizen}, '{purpose}', {status}, 'seeded', ARRAY[{list}]::uuid[])"
    ))
    .unwrap();
}

type Report = BTreeMap<String, (BTreeSet<String>, i64)>;

fn report(body: &Value) -> Report {
    let rows = body["consultations"].as_array().unwrap_or_else(|| panic!("a consultations array: {body}"));
    let mut out = Report::new();
    for row in rows {
        let date = row["date"].as_str().unwrap().to_string();
        let purposes: Vec<String> = uuids(&row["purposes"]);
        let set: BTreeSet<String> = purposes.iter().cloned().collect();
        assert_eq!(set.len(), purposes.len(), "each purpose once a day: {row}");
        assert!(out.insert(date, (set, row["accesses"].as_i64().unwrap())).is_none(), "one row per date: {body}");
    }
    out
}

fn day(purposes: &[&str], accesses: i64) -> (BTreeSet<String>, i64) {
    (purposes.iter().map(|p| p.to_string()).collect(), accesses)
}

#[tokio::test]
async fn the_consultation_report_gives_every_date_and_purpose_and_leaves_out_denials() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, case) = refer(app, 40).await; // create citizen, create case
    let rita = app.as_(REFERRER);
    app.get(&format!("/api/v1/cases/{case}"), &rita).await.expect(200); // read
    app.get("/api/v1/cases?status=referred", &rita).await.expect(200); // a list that returned the case
    app.post(&format!("/api/v1/cases/{case}/screening"), &app.as_(ADULT_LEADER_SOC), &json!({"outcome": "accepted"}))
        .await
        .expect(200);
    app.get(&format!("/api/v1/cases/{case}"), &app.as_(OUTSIDER)).await.problem(404, "not_found");
    app.get(&format!("/api/v1/citizens/{citizen}"), &app.as_(OUTSIDER)).await.problem(404, "not_found");
    // an unrelated citizen's accesses never show
    let (other, _) = refer(app, 50).await;

    // earlier days, in UTC
    let mut conn = app.conn();
    seed(&mut conn, "2025-01-10T09:00:00Z", "read", "committee", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-10T22:30:00Z", "update", "coordination", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-11T01:59:59+02:00", "read", "committee", Some(&citizen), &[]); // 2025-01-10 in UTC
    seed(&mut conn, "2025-01-11T12:00:00Z", "denied", "coordination", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-12T00:00:00Z", "read", "budget", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-13T10:00:00Z", "read", "budget", Some(&other), &[]);
    seed(&mut conn, "2025-01-14T10:00:00Z", "read", "coordination", None, &[&other, &citizen]);

    let body = audit(app, &format!("citizen_id={citizen}")).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let expected = Report::from([
        ("2025-01-10".to_string(), day(&["committee", "coordination"], 3)),
        ("2025-01-12".to_string(), day(&["budget"], 1)),
        ("2025-01-14".to_string(), day(&["coordination"], 1)),
        // registration, referral, read, list, screening; not the two denials
        (today.clone(), day(&["referral", "screening"], 5)),
    ]);
    assert_eq!(report(&body), expected, "{body:#}");
    // the items are the log itself, denials included
    let log = items(&body);
    let denied = |sub: &str| log.iter().filter(|e| e["action"] == "denied" && e["actor"]["sub"] == sub).count();
    assert_eq!(denied("seeded"), 1, "{log:#?}");
    assert!(denied(OUTSIDER.sub) >= 1, "at least the refused read of the citizen: {log:#?}");
    assert!(
        log.iter().all(|e| e["citizen_id"] == citizen.as_str() || uuids(&e["citizen_ids"]).contains(&citizen)),
        "{log:#?}"
    );
    assert_eq!(log.iter().filter(|e| e["action"] != "denied").count(), 5 + 5, "{log:#?}");

    // without citizen_id there is no report
    let body = audit(app, &format!("case_id={case}")).await;
    assert!(body.get("consultations").is_none(), "{body}");
    let body = audit(app, "").await;
    assert!(body.get("consultations").is_none(), "{body}");
}

#[tokio::test]
async fn actor_from_and_to_narrow_the_items() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, case) = refer(app, 40).await;
    send(
        app,
        Method::POST,
        &format!("/api/v1/cases/{case}/screening"),
        &app.as_(ADULT_LEADER_SOC),
        Some(&json!({"outcome": "accepted"})),
        "f-screen",
    )
    .await
    .expect(200);
    app.get(&format!("/api/v1/cases/{case}"), &app.as_(OUTSIDER)).await.problem(404, "not_found");
    app.get(&format!("/api/v1/cases/{case}"), &app.as_(REFERRER)).await.expect(200);
    let mut conn = app.conn();
    seed(&mut conn, "2025-01-10T09:00:00Z", "read", "committee", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-10T22:30:00Z", "read", "committee", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-10T23:59:59Z", "read", "committee", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-11T12:00:00Z", "denied", "coordination", Some(&citizen), &[]);
    seed(&mut conn, "2025-01-12T00:00:00Z", "read", "budget", Some(&citizen), &[]);

    let at =
        |body: &Value| -> Vec<String> { items(body).iter().map(|e| e["at"].as_str().unwrap().to_string()).collect() };
    let instants = |body: &Value| -> Vec<chrono::DateTime<chrono::Utc>> {
        at(body).iter().map(|a| chrono::DateTime::parse_from_rfc3339(a).unwrap().with_timezone(&chrono::Utc)).collect()
    };
    let utc = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);

    // actor
    let body = audit(app, &format!("case_id={case}&actor={}", OUTSIDER.sub)).await;
    assert_eq!(items(&body).len(), 1, "{body:#}");
    assert_eq!(items(&body)[0]["action"], "denied");
    let body = audit(app, &format!("case_id={case}&actor={}", ADULT_LEADER_SOC.sub)).await;
    assert_eq!(items(&body).len(), 1, "{body:#}");
    assert_eq!(items(&body)[0]["request_id"], "f-screen");
    let body = audit(app, "actor=nobody-at-all").await;
    assert!(items(&body).is_empty(), "{body:#}");

    // from inclusive, to exclusive
    let body = audit(app, &format!("citizen_id={citizen}&from=2025-01-10T22:30:00Z&to=2025-01-12T00:00:00Z")).await;
    assert_eq!(
        instants(&body),
        [utc("2025-01-10T22:30:00Z"), utc("2025-01-10T23:59:59Z"), utc("2025-01-11T12:00:00Z")],
        "{body:#}"
    );
    // times are UTC (api.md): +00:00 is Z, another offset is refused by the document
    let body =
        audit(app, &format!("citizen_id={citizen}&from=2025-01-10T22:30:00%2B00:00&to=2025-01-11T00:00:00Z")).await;
    assert_eq!(instants(&body), [utc("2025-01-10T22:30:00Z"), utc("2025-01-10T23:59:59Z")], "{body:#}");
    app.get(&format!("/api/v1/audit?citizen_id={citizen}&from=2025-01-11T00:30:00%2B02:00"), &app.as_(AUDITOR))
        .await
        .problem(422, "validation_failed");
    let body = audit(app, &format!("citizen_id={citizen}&to=2025-01-10T09:00:00Z")).await;
    assert!(items(&body).is_empty(), "{body:#}");
    let body =
        audit(app, &format!("citizen_id={citizen}&from=2025-01-12T00:00:00Z&to=2025-01-12T00:00:00.000001Z")).await;
    assert_eq!(instants(&body), [utc("2025-01-12T00:00:00Z")], "{body:#}");

    // on the instant of a real entry, as the log gave it
    let body = audit(app, &format!("case_id={case}&actor={}", ADULT_LEADER_SOC.sub)).await;
    let screened_at = at(&body)[0].clone();
    let body = audit(app, &format!("case_id={case}&from={screened_at}")).await;
    assert_eq!(items(&body)[0]["request_id"], "f-screen", "from is inclusive: {body:#}");
    let body = audit(app, &format!("case_id={case}&to={screened_at}")).await;
    assert!(items(&body).iter().all(|e| e["request_id"] != "f-screen"), "to is exclusive: {body:#}");
    assert!(!items(&body).is_empty(), "the referral came before: {body:#}");

    // filters are checked
    let auditor = app.as_(AUDITOR);
    app.get("/api/v1/audit?from=yesterday", &auditor).await.problem(422, "validation_failed");
    app.get("/api/v1/audit?case_id=not-a-uuid", &auditor).await.problem(422, "validation_failed");
    app.get("/api/v1/audit?cpr=0101901234", &auditor).await.problem(422, "unexpected_parameter");
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_and_reading_the_log_is_itself_recorded() {
    let world = World::new().await;
    let app = &world.app;
    let (_citizen, case) = refer(app, 40).await;
    let rita = app.as_(REFERRER);
    for _ in 0..10 {
        app.get(&format!("/api/v1/cases/{case}"), &rita).await.expect(200);
    }
    let filter = format!("case_id={case}&actor={}", REFERRER.sub);
    let all = audit(app, &format!("{filter}&limit=200")).await;
    assert!(all["next_cursor"].is_null(), "{all}");
    let all = ids(items(&all));
    assert_eq!(all.len(), 11, "one referral and ten reads");

    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            None => format!("{filter}&limit=3"),
            Some(c) => format!("{filter}&limit=3&cursor={c}"),
        };
        let page = audit(app, &query).await;
        let got = ids(items(&page));
        assert!(got.len() <= 3, "{page}");
        paged.extend(got);
        pages += 1;
        assert!(pages <= 10, "the cursor ends");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, all, "every entry once, in order");
    assert_eq!(pages, 4);

    let auditor = app.as_(AUDITOR);
    app.get("/api/v1/audit?limit=0", &auditor).await.problem(422, "validation_failed");
    app.get("/api/v1/audit?limit=201", &auditor).await.problem(422, "validation_failed");
    app.get("/api/v1/audit?cursor=not-a-cursor", &auditor).await.problem(422, "invalid_cursor");

    // reading the audit log is itself audited
    let res = send(app, Method::GET, &format!("/api/v1/audit?case_id={case}"), &auditor, None, "audit-read-1")
        .await
        .expect(200);
    assert!(items(&res.body).iter().all(|e| e["request_id"] != "audit-read-1"));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE request_id = 'audit-read-1' AND action = 'read' AND purpose = 'audit' AND status = 200 AND actor_sub = 'auditor' AND actor_dept = 'social'"),
        1
    );
    let body = audit(app, &format!("actor={}", AUDITOR.sub)).await;
    let e = by_request(items(&body), "audit-read-1");
    assert_eq!(
        (e["action"].as_str(), e["purpose"].as_str(), e["status"].as_i64()),
        (Some("read"), Some("audit"), Some(200)),
        "{e}"
    );
    assert_actor(e, AUDITOR);
    assert!(items(&body).iter().all(|e| e["purpose"] == "audit" && e["action"] == "read"), "{body:#}");
}

// ---------------------------------------------------------------------------------------------
// 5. only `auditor`

#[tokio::test]
async fn only_an_auditor_reads_the_log_and_an_auditor_reads_nothing_else() {
    let world = World::new().await;
    let app = &world.app;
    let (citizen, case) = refer(app, 40).await;
    for p in [ADULT_LEADER_SOC, ADMIN, REFERRER, SYSTEM, OUTSIDER] {
        app.get("/api/v1/audit", &app.as_(p)).await.problem(403, "forbidden");
        app.get(&format!("/api/v1/audit?case_id={case}"), &app.as_(p)).await.problem(403, "forbidden");
        app.get(&format!("/api/v1/audit?citizen_id={citizen}"), &app.as_(p)).await.problem(403, "forbidden");
    }
    let all_roles = app.token("many", "social", &["leader", "admin", "caseworker", "system"]);
    app.get("/api/v1/audit", &all_roles).await.problem(403, "forbidden");
    let res = app.request(Method::GET, "/api/v1/audit", None, None).await.problem(401, "unauthorized");
    assert!(res.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
    app.request(Method::POST, "/api/v1/audit", Some(&app.as_(AUDITOR)), Some(&json!({})))
        .await
        .problem(405, "method_not_allowed");

    // the auditor reads the log and nothing else
    let auditor = app.as_(AUDITOR);
    app.get("/api/v1/audit", &auditor).await.expect(200);
    app.get("/api/v1/cases", &auditor).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/cases/{case}"), &auditor).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/cases/{case}/history"), &auditor).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/citizens/{citizen}"), &auditor).await.problem(403, "forbidden");
    app.post("/api/v1/citizens", &auditor, &json!({"cpr": cpr_for_age(40, 20), "name": "A"}))
        .await
        .problem(403, "forbidden");
    app.post("/api/v1/cases", &auditor, &referral(&citizen)).await.problem(403, "forbidden");
}

// ---------------------------------------------------------------------------------------------
// 6. immutability: the service's role owns its database (the default here)

#[tokio::test]
async fn the_owning_service_role_can_neither_change_nor_delete_entries() {
    let world = World::new().await;
    let app = &world.app;
    let (_citizen, case) = refer(app, 40).await;
    app.get(&format!("/api/v1/cases/{case}"), &app.as_(REFERRER)).await.expect(200);
    let mut conn = app.conn();
    let before = fingerprint(&mut conn);
    let rows = app.count("SELECT count(*) FROM audit_log");
    assert!(rows >= 3, "{rows}");

    assert!(fails(&mut conn, "UPDATE audit_log SET purpose = 'audit'"), "UPDATE");
    assert!(
        fails(&mut conn, "UPDATE audit_log SET actor_sub = 'someone' WHERE id = (SELECT min(id) FROM audit_log)"),
        "UPDATE one"
    );
    assert!(fails(&mut conn, "DELETE FROM audit_log"), "DELETE");
    assert!(fails(&mut conn, "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"), "DELETE one");
    assert!(fails(&mut conn, "TRUNCATE audit_log"), "TRUNCATE");
    assert_eq!(app.count("SELECT count(*) FROM audit_log"), rows);
    assert_eq!(fingerprint(&mut conn), before);

    // the owner can grant itself the privileges back, and the trigger still refuses
    conn.batch_execute(&format!("GRANT UPDATE, DELETE, TRUNCATE ON audit_log TO {}", common::APP_ROLE)).unwrap();
    assert!(fails(&mut conn, "UPDATE audit_log SET purpose = 'audit'"), "UPDATE past the trigger");
    assert!(fails(&mut conn, "DELETE FROM audit_log"), "DELETE past the trigger");
    assert!(fails(&mut conn, "TRUNCATE audit_log"), "TRUNCATE past the trigger");
    assert_eq!(fingerprint(&mut conn), before);

    // the service goes on recording
    app.get(&format!("/api/v1/cases/{case}"), &app.as_(REFERRER)).await.expect(200);
    assert_eq!(app.count("SELECT count(*) FROM audit_log"), rows + 1);
}

// ---------------------------------------------------------------------------------------------
// 7. immutability, strict deployment: an owner role migrates, the service runs as a role that
//    owns nothing

/// Drops the schema and the roles of a strict deployment, also when the test fails.
struct Strict {
    schema: String,
    owner: String,
    service: String,
}

impl Drop for Strict {
    fn drop(&mut self) {
        let mut admin = common::admin_test_db_conn();
        let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        for role in [&self.service, &self.owner] {
            let _ = admin.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"));
        }
    }
}

#[tokio::test]
async fn a_service_role_that_owns_nothing_works_and_cannot_touch_the_audit_log() {
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let mut strict =
        Strict { schema: String::new(), owner: format!("helhed_own_{tag}"), service: format!("helhed_svc_{tag}") };
    let (owner, svc) = (strict.owner.clone(), strict.service.clone());
    let mut admin = common::admin_conn();
    admin
        .batch_execute(&format!(
            "CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; \
             CREATE ROLE {svc} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;"
        ))
        .unwrap();
    // The owner role owns the deployment's schema and migrates it.
    let schema = common::fresh_schema_owned_by(&owner);
    strict.schema = schema.clone();
    let owner_url = common::url_in_schema(&owner, &schema);
    let svc_url = common::url_in_schema(&svc, &schema);
    assert_eq!(helhed::db::migrate(&owner_url).expect("the owner migrates"), Vec::<String>::new(), "already migrated");
    helhed::db::grant_service_role(&owner_url, &svc).expect("the owner grants the service role");
    helhed::db::migrate_if_needed(&svc_url).expect("nothing pending: the service role starts without DDL rights");

    // the service, as the service role, end to end
    let app = TestApp::spawn_on(None, svc_url.clone()).await;
    let admin_token = app.as_(ADMIN);
    let committee = app
        .post(
            "/api/v1/committees",
            &admin_token,
            &json!({"name": "Voksne", "track": "adult", "departments": ["labour_market", "social", "health_care"]}),
        )
        .await
        .expect(201)
        .id();
    app.put(
        &format!("/api/v1/committees/{committee}/members"),
        &admin_token,
        &json!([
            seat(ADULT_LEADER_LM, "leader"),
            seat(ADULT_LEADER_SOC, "leader"),
            seat(ADULT_CW_LM, "caseworker"),
            seat(ADULT_CW_SOC, "caseworker"),
            seat(ADULT_FIXED, "fixed_staff")
        ]),
    )
    .await
    .expect(200);
    let rita = app.as_(REFERRER);
    let citizen = send(
        &app,
        Method::POST,
        "/api/v1/citizens",
        &rita,
        Some(&json!({"cpr": cpr_for_age(40, 20), "name": "Test Borger"})),
        "s-citizen",
    )
    .await
    .expect(201)
    .id();
    let case =
        send(&app, Method::POST, "/api/v1/cases", &rita, Some(&referral(&citizen)), "s-refer").await.expect(201).id();
    send(&app, Method::GET, &format!("/api/v1/cases/{case}"), &rita, None, "s-read").await.expect(200);
    send(&app, Method::GET, "/api/v1/cases?status=referred", &rita, None, "s-list").await.expect(200);
    send(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/screening"),
        &app.as_(ADULT_LEADER_SOC),
        Some(&json!({"outcome": "accepted"})),
        "s-screen",
    )
    .await
    .expect(200);
    send(&app, Method::GET, &format!("/api/v1/cases/{case}"), &app.as_(OUTSIDER), None, "s-denied")
        .await
        .problem(404, "not_found");

    let body = audit(&app, &format!("case_id={case}")).await;
    let log = items(&body);
    assert_entry(by_request(log, "s-refer"), "create", "case", "referral", 201, REFERRER);
    assert_entry(by_request(log, "s-read"), "read", "case", "referral", 200, REFERRER);
    assert_entry(by_request(log, "s-list"), "read", "case_list", "referral", 200, REFERRER);
    assert_entry(by_request(log, "s-screen"), "update", "case", "screening", 200, ADULT_LEADER_SOC);
    let denied = by_request(log, "s-denied");
    assert_eq!((denied["action"].as_str(), denied["status"].as_i64()), (Some("denied"), Some(404)), "{denied}");
    assert_actor(denied, OUTSIDER);
    let body = audit(&app, &format!("citizen_id={citizen}")).await;
    assert_entry(by_request(items(&body), "s-citizen"), "create", "citizen", "referral", 201, REFERRER);

    // connected as the service role
    let mut conn = PgConnection::establish(&svc_url).unwrap();
    let rows = scalar(&mut conn, "SELECT count(*) FROM audit_log");
    assert!(rows >= 8, "{rows}");
    let before = fingerprint(&mut conn);
    assert!(fails(&mut conn, "UPDATE audit_log SET purpose = 'audit'"), "UPDATE");
    assert!(fails(&mut conn, "DELETE FROM audit_log"), "DELETE");
    assert!(fails(&mut conn, "TRUNCATE audit_log"), "TRUNCATE");
    assert!(fails(&mut conn, "DROP TRIGGER audit_log_no_update_delete ON audit_log"), "DROP TRIGGER");
    assert!(fails(&mut conn, "ALTER TABLE audit_log DISABLE TRIGGER ALL"), "DISABLE TRIGGER");
    assert!(fails(&mut conn, "DROP TABLE audit_log"), "DROP TABLE");
    assert!(fails(&mut conn, "ALTER TABLE audit_log RENAME TO audit_log_old"), "RENAME");
    assert!(
        fails(
            &mut conn,
            "CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$"
        ),
        "replacing the trigger function"
    );
    assert!(fails(&mut conn, "SET session_replication_role = replica"), "turning triggers off for the session");
    assert!(fails(&mut conn, "CREATE TABLE x(i int)"), "CREATE TABLE");
    assert!(fails(&mut conn, "CREATE SCHEMA helhed_elsewhere"), "CREATE SCHEMA");
    assert!(fails(&mut conn, &format!("SET ROLE {owner}")), "becoming the owner");
    assert!(fails(&mut conn, "DELETE FROM __diesel_schema_migrations"), "forgetting migrations");
    assert_eq!(scalar(&mut conn, "SELECT count(*) FROM audit_log"), rows, "every entry is still there");
    assert_eq!(fingerprint(&mut conn), before, "and unchanged");

    // and the service still works, and still records
    app.get(&format!("/api/v1/cases/{case}"), &rita).await.expect(200);
    assert_eq!(scalar(&mut conn, "SELECT count(*) FROM audit_log"), rows + 1);
    helhed::db::migrate_if_needed(&svc_url).expect("still nothing pending");
    drop(conn);
    drop(strict);
}

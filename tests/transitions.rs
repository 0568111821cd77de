mod common;

// Youth to adult over HTTP: the transitions list (who may read it, the window, paging, what it
// leaves out, the audit entry) and the `transfer` decision that moves an active youth case to
// the adult committee with its plan (a new version), coordinator, frame and follow-up. Every
// refusal is checked to leave the case exactly as it was.

use std::collections::BTreeSet;
use std::future::Future;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::world::{
    cpr_for, initial_decision, referral, Person, World, ADMIN, ADULT_CW_LM, ADULT_LEADER_LM, ADULT_LEADER_SOC, AUDITOR,
    COORDINATOR, NEW_COORDINATOR, REFERRER, YOUTH_CW_Y, YOUTH_LEADER_SOC, YOUTH_LEADER_Y,
};
use common::{Response, TestApp};
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

/// The age the youth helpers refer a citizen at (youth track: under 30).
const YOUTH: i32 = 29;
const ADULT: i32 = 45;

/// A leader of health care, on no committee: health care is on neither the youth committee's
/// list nor in `referral()`, and coordinates nothing, so they see no youth case.
const HC_LEADER: Person = Person { sub: "hcl", dept: "health_care", roles: &["leader"] };
/// The labour-market department's system account.
const LM_SYSTEM: Person = Person { sub: "lm-system", dept: "labour_market", roles: &["system"] };

const TRANSITIONS: &str = "/api/v1/transitions";

/// Tables whose row counts a refused transfer must leave alone.
const TABLES: &[&str] = &["decisions", "plan_versions", "plan_amendments", "case_events"];

fn case_path(case: &str) -> String {
    format!("/api/v1/cases/{case}")
}

fn decisions_path(meeting: &str) -> String {
    format!("/api/v1/meetings/{meeting}/decisions")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A date `days` from today, as the API writes dates.
fn date(days: i64) -> String {
    ymd(today() + Duration::days(days))
}

/// `d` moved by whole years (none of the dates here is a 29 February).
fn plus_years(d: NaiveDate, years: i32) -> NaiveDate {
    d.with_year(d.year() + years).unwrap_or_else(|| panic!("no {d} in {}", d.year() + years))
}

/// A birth date whose 30th birthday is `days` from today (moved a day later past a 29 February,
/// so that the birthday is unambiguous).
fn born_turning_30_in(days: i64) -> NaiveDate {
    let mut on = today() + Duration::days(days);
    if on.month() == 2 && on.day() == 29 {
        on += Duration::days(1);
    }
    plus_years(on, -30)
}

/// Registers a citizen born on `born`; returns the citizen id.
async fn citizen_born(world: &World, born: NaiveDate) -> String {
    world
        .app
        .post("/api/v1/citizens", &world.token(REFERRER), &json!({"cpr": cpr_for(born), "name": "Test Borger"}))
        .await
        .expect(201)
        .id()
}

/// An active youth case (screened, consented, initial decision at a youth meeting) of a citizen
/// born on `born`, who must be under 30 today; returns (case id, citizen id).
async fn active_born(world: &World, born: NaiveDate) -> (String, String) {
    let citizen = citizen_born(world, born).await;
    let case = world.app.post("/api/v1/cases", &world.token(REFERRER), &referral(&citizen)).await.expect(201).id();
    world
        .app
        .post(
            &format!("{}/screening", case_path(&case)),
            &world.token(YOUTH_LEADER_SOC),
            &json!({"outcome": "accepted"}),
        )
        .await
        .expect(200);
    world.plan_consents(&case, YOUTH).await;
    let meeting = world.meeting(YOUTH).await;
    world.on_agenda(&meeting, &case, YOUTH).await;
    world
        .app
        .post(&decisions_path(&meeting), &world.token(World::leader(YOUTH)), &initial_decision(&case, YOUTH))
        .await
        .expect(201);
    let view = world.app.get(&case_path(&case), &world.token(ADULT_LEADER_SOC)).await.expect(200).body;
    assert_eq!(view["track"], "youth", "a citizen of 29 is on the youth track: {view}");
    (case, citizen)
}

/// The citizen of a case, as the case view shows it.
async fn citizen_of(world: &World, case: &str) -> String {
    let view = world.app.get(&case_path(case), &world.token(ADULT_LEADER_SOC)).await.expect(200).body;
    view["citizen"]["id"].as_str().unwrap_or_else(|| panic!("a citizen id: {view}")).to_string()
}

/// The stored birth date of a citizen.
fn birth_date(app: &TestApp, citizen: &str) -> NaiveDate {
    #[derive(diesel::QueryableByName)]
    struct B {
        #[diesel(sql_type = diesel::sql_types::Date)]
        b: NaiveDate,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("SELECT birth_date AS b FROM citizens WHERE id = '{citizen}'"))
        .get_result::<B>(&mut app.conn())
        .unwrap()
        .b
}

/// Time passes for one citizen: they are now born on `born` (CPR and birth date alike).
fn reborn(app: &TestApp, citizen: &str, born: NaiveDate) {
    let cpr = cpr_for(born);
    app.conn()
        .batch_execute(&format!(
            "UPDATE citizens SET cpr = '{cpr}', birth_date = '{}' WHERE id = '{citizen}'",
            ymd(born)
        ))
        .unwrap();
}

async fn transitions(world: &World, who: Person, query: &str) -> Response {
    world.app.get(&format!("{TRANSITIONS}?{query}"), &world.token(who)).await
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().unwrap_or_else(|| panic!("an items array: {body}"))
}

/// The case ids of a transitions page, in order.
fn listed(res: &Response) -> Vec<String> {
    items(&res.body)
        .iter()
        .map(|t| t["case"]["id"].as_str().unwrap_or_else(|| panic!("a case id: {t}")).to_string())
        .collect()
}

/// The item about `case`, if the page lists it.
fn item<'a>(res: &'a Response, case: &str) -> Option<&'a Value> {
    items(&res.body).iter().find(|t| t["case"]["id"] == case)
}

/// A youth meeting with `case` on its agenda.
async fn youth_meeting_with(world: &World, case: &str) -> String {
    let meeting = world.meeting(YOUTH).await;
    world.on_agenda(&meeting, case, YOUTH).await;
    meeting
}

/// A transfer decision with a quorum and the citizen taking part.
fn transfer(case: &str) -> Value {
    json!({
        "case_id": case,
        "kind": "transfer",
        "members_present": World::quorum(YOUTH),
        "citizen_participation": {"took_part": true, "form": "meeting", "citizen_view": "Fine by me."}
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body.as_object_mut().unwrap().insert(key.to_string(), value);
    body
}

async fn decide_as(world: &World, who: Person, meeting: &str, body: &Value) -> Response {
    world.app.post(&decisions_path(meeting), &world.token(who), body).await
}

/// The case view as ADULT_LEADER_SOC sees it (a member of the adult committee who leads social,
/// a department of both committees: they see every case of both tracks), and the row counts.
#[derive(Debug, PartialEq)]
struct Snapshot {
    case: Value,
    plan: Value,
    counts: Vec<(&'static str, i64)>,
}

async fn snapshot(world: &World, case: &str) -> Snapshot {
    let who = world.token(ADULT_LEADER_SOC);
    let view = world.app.get(&case_path(case), &who).await.expect(200).body;
    let plan = world.app.get(&format!("{}/plan", case_path(case)), &who).await.expect(200).body;
    let counts = TABLES.iter().map(|t| (*t, world.app.count(&format!("SELECT count(*) FROM {t}")))).collect();
    Snapshot { case: view, plan, counts }
}

/// A request that must be refused with `status` and `code`, and change nothing.
async fn refused(
    world: &World,
    case: &str,
    status: u16,
    code: &str,
    request: impl Future<Output = Response>,
) -> Response {
    let before = snapshot(world, case).await;
    let res = request.await.problem(status, code);
    let after = snapshot(world, case).await;
    assert_eq!(before, after, "a refused request changed the case");
    res
}

async fn history(world: &World, case: &str) -> Vec<String> {
    let res = world.app.get(&format!("{}/history?limit=200", case_path(case)), &world.token(ADULT_LEADER_SOC)).await;
    items(&res.expect(200).body).iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

/// Goals or interventions without their ids (a new version may give them new ones).
fn without_ids(v: &Value) -> Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|x| {
            let mut x = x.clone();
            x.as_object_mut().unwrap().remove("id");
            x
        })
        .collect()
}

// ---- 1. The transitions list -----------------------------------------------------------------

#[tokio::test]
async fn transitions_lists_a_due_youth_case_with_its_30th_birthday() {
    let world = World::new().await;
    let born = born_turning_30_in(40);
    let (due, citizen) = active_born(&world, born).await;
    let (not_due, _) = world.active(25).await;
    let (adult, _) = world.active(ADULT).await;
    // Referred and accepted, due, but not active yet: not a case to transfer.
    let awaiting_citizen = citizen_born(&world, born_turning_30_in(30)).await;
    let awaiting =
        world.app.post("/api/v1/cases", &world.token(REFERRER), &referral(&awaiting_citizen)).await.expect(201).id();
    assert_eq!(birth_date(&world.app, &citizen), born, "the CPR's birth date is stored");

    // ADULT_LEADER_SOC sees every case here, of both tracks.
    for who in [ADULT_LEADER_SOC, YOUTH_LEADER_Y] {
        let res = transitions(&world, who, "within_days=90").await.expect(200);
        assert_eq!(listed(&res), vec![due.clone()], "only the due active youth case: {}", res.text);
        let t = item(&res, &due).unwrap();
        assert_eq!(t["turns_30_on"], ymd(plus_years(born, 30)), "{t}");
        assert_eq!(t["turns_30_on"], date(40), "{t}");
        assert_eq!(t["overdue"], false, "{t}");
        assert_eq!(t["case"]["status"], "active", "{t}");
        assert_eq!(t["case"]["track"], "youth", "{t}");
        assert_eq!(t["case"]["committee_id"], world.youth_committee.as_str(), "{t}");
        assert_eq!(t["case"]["citizen_id"], citizen.as_str(), "{t}");
        assert!(res.body.as_object().unwrap().contains_key("next_cursor"), "{}", res.text);
        assert!(res.body["next_cursor"].is_null(), "one page: {}", res.text);
    }
    // The default window is 90 days.
    let res = transitions(&world, ADULT_LEADER_SOC, "").await.expect(200);
    assert_eq!(listed(&res), vec![due.clone()], "{}", res.text);
    // Nor does the widest window bring in the others.
    let res = transitions(&world, ADULT_LEADER_SOC, "within_days=365").await.expect(200);
    for other in [&not_due, &adult, &awaiting] {
        assert!(item(&res, other).is_none(), "{other} is not listed: {}", res.text);
    }
}

#[tokio::test]
async fn transitions_honours_within_days() {
    let world = World::new().await;
    // world.active(29): turned 29 some 20 days ago, so turns 30 in about 345 days.
    let (far, _) = world.active(YOUTH).await;
    let citizen = citizen_of(&world, &far).await;
    let turns_30_on = plus_years(birth_date(&world.app, &citizen), 30);
    let days = (turns_30_on - today()).num_days();
    assert!((300..=365).contains(&days), "turns 30 in {days} days");
    let (near, _) = active_born(&world, born_turning_30_in(10)).await;

    let res = transitions(&world, YOUTH_LEADER_Y, "within_days=365").await.expect(200);
    assert_eq!(listed(&res), [near.clone(), far.clone()], "both, the soonest first: {}", res.text);
    assert_eq!(item(&res, &far).unwrap()["turns_30_on"], ymd(turns_30_on));
    for query in ["within_days=90", "", &format!("within_days={}", days - 1)] {
        let res = transitions(&world, YOUTH_LEADER_Y, query).await.expect(200);
        assert_eq!(listed(&res), vec![near.clone()], "{query}: {}", res.text);
    }
    // The window includes its last day.
    let res = transitions(&world, YOUTH_LEADER_Y, &format!("within_days={days}")).await.expect(200);
    assert_eq!(listed(&res), [near.clone(), far.clone()], "within_days={days}: {}", res.text);
    let res = transitions(&world, YOUTH_LEADER_Y, "within_days=10").await.expect(200);
    assert_eq!(listed(&res), vec![near.clone()], "{}", res.text);
    let res = transitions(&world, YOUTH_LEADER_Y, "within_days=9").await.expect(200);
    assert_eq!(listed(&res), Vec::<String>::new(), "{}", res.text);
}

#[tokio::test]
async fn transitions_marks_a_citizen_already_30_overdue_and_lists_them_first() {
    let world = World::new().await;
    let (tomorrow, _) = active_born(&world, born_turning_30_in(1)).await;
    let (late, citizen) = active_born(&world, born_turning_30_in(1)).await;
    // Time passes for this citizen: they turned 30 five days ago, still on the youth track.
    let born = born_turning_30_in(-5);
    reborn(&world.app, &citizen, born);

    let res = transitions(&world, YOUTH_LEADER_Y, "within_days=1").await.expect(200);
    assert_eq!(listed(&res), [late.clone(), tomorrow.clone()], "the soonest first: {}", res.text);
    let t = item(&res, &late).unwrap();
    assert_eq!(t["overdue"], true, "{t}");
    assert_eq!(t["turns_30_on"], date(-5), "{t}");
    assert_eq!(t["case"]["track"], "youth", "{t}");
    let t = item(&res, &tomorrow).unwrap();
    assert_eq!(t["overdue"], false, "{t}");
    assert_eq!(t["turns_30_on"], date(1), "{t}");

    // Turning 30 today is being 30.
    reborn(&world.app, &citizen, born_turning_30_in(0));
    let res = transitions(&world, YOUTH_LEADER_Y, "within_days=1").await.expect(200);
    let t = item(&res, &late).unwrap_or_else(|| panic!("listed: {}", res.text));
    assert_eq!(t["turns_30_on"], date(0), "{t}");
    assert_eq!(t["overdue"], true, "30 today: {t}");

    // An overdue case is transferred all the same (older than 30 is due), and leaves the list.
    reborn(&world.app, &citizen, born);
    let meeting = youth_meeting_with(&world, &late).await;
    decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&late)).await.expect(201);
    assert_eq!(snapshot(&world, &late).await.case["track"], "adult");
    let res = transitions(&world, ADULT_LEADER_SOC, "within_days=1").await.expect(200);
    assert_eq!(listed(&res), vec![tomorrow.clone()], "{}", res.text);
}

#[tokio::test]
async fn transitions_pages_without_gaps_or_repeats() {
    let world = World::new().await;
    let mut expected = vec![];
    for days in [70, 10, 40, 55] {
        expected.push((days, active_born(&world, born_turning_30_in(days)).await.0));
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, c)| c).collect();

    let mut seen = vec![];
    let mut dates = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let query = match &cursor {
            Some(c) => format!("within_days=90&limit=1&cursor={}", urlencode(c)),
            None => "within_days=90&limit=1".to_string(),
        };
        let res = transitions(&world, YOUTH_LEADER_Y, &query).await.expect(200);
        let page = listed(&res);
        assert!(page.len() <= 1, "limit=1: {}", res.text);
        seen.extend(page);
        dates.extend(items(&res.body).iter().map(|t| t["turns_30_on"].as_str().unwrap().to_string()));
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(res.body["next_cursor"].is_null(), "{}", res.text);
                cursor = None;
                break;
            }
        }
    }
    assert!(cursor.is_none(), "the paging ends");
    assert_eq!(seen, expected, "every case once, the soonest first");
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);

    // A bad cursor and limits outside 1–200 are refused.
    transitions(&world, YOUTH_LEADER_Y, "cursor=not-a-cursor!").await.problem(422, "invalid_cursor");
    transitions(&world, YOUTH_LEADER_Y, "limit=0").await.problem(422, "validation_failed");
    transitions(&world, YOUTH_LEADER_Y, "limit=201").await.problem(422, "validation_failed");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn transitions_is_for_leaders_and_admins_only() {
    let world = World::new().await;
    active_born(&world, born_turning_30_in(20)).await;
    for who in [REFERRER, COORDINATOR, YOUTH_CW_Y, LM_SYSTEM, AUDITOR] {
        let res = transitions(&world, who, "within_days=90").await.problem(403, "forbidden");
        assert!(!res.text.contains("items"), "{}", res.text);
    }
    for who in [YOUTH_LEADER_Y, ADMIN] {
        transitions(&world, who, "within_days=90").await.expect(200);
    }
    world.app.request(reqwest::Method::GET, TRANSITIONS, None, None).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn transitions_refuses_a_window_outside_1_to_365() {
    let world = World::new().await;
    for bad in ["0", "366", "-1", "1000", "ninety"] {
        let res = transitions(&world, YOUTH_LEADER_Y, &format!("within_days={bad}")).await;
        assert_eq!(res.status.as_u16(), 422, "within_days={bad}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("application/problem+json"), "{}", res.text);
    }
    for bad in ["0", "366"] {
        let res =
            transitions(&world, YOUTH_LEADER_Y, &format!("within_days={bad}")).await.problem(422, "validation_failed");
        assert_eq!(res.fields(), ["within_days"], "{}", res.text);
    }
    for good in ["1", "365"] {
        transitions(&world, YOUTH_LEADER_Y, &format!("within_days={good}")).await.expect(200);
    }
}

#[tokio::test]
async fn transitions_shows_only_the_cases_the_leader_sees() {
    let world = World::new().await;
    let (case, _) = active_born(&world, born_turning_30_in(20)).await;
    // A leader of a department that is not involved does not see the case, in the list or alone.
    world.app.get(&case_path(&case), &world.token(HC_LEADER)).await.problem(404, "not_found");
    let res = transitions(&world, HC_LEADER, "within_days=365").await.expect(200);
    assert!(listed(&res).is_empty(), "{}", res.text);
    // A leader of the coordinator's department (labour market) does.
    let res = transitions(&world, ADULT_LEADER_LM, "within_days=365").await.expect(200);
    assert_eq!(listed(&res), vec![case.clone()], "{}", res.text);
}

#[tokio::test]
async fn a_transitions_read_is_audited_as_a_list_read() {
    let world = World::new().await;
    let app = &world.app;
    let (listed_case, _) = active_born(&world, born_turning_30_in(15)).await;
    let (other, _) = active_born(&world, born_turning_30_in(200)).await;

    let res = app
        .client
        .get(format!("{}{TRANSITIONS}?within_days=90", app.base))
        .bearer_auth(world.token(YOUTH_LEADER_Y))
        .header("x-request-id", "transitions-read")
        .send()
        .await
        .unwrap();
    let res = TestApp::read(res).await.expect(200);
    assert_eq!(listed(&res), vec![listed_case.clone()]);

    let auditor = app.as_(AUDITOR);
    let log = app.get(&format!("/api/v1/audit?case_id={listed_case}"), &auditor).await.expect(200).body;
    let found: Vec<&Value> = items(&log).iter().filter(|e| e["request_id"] == "transitions-read").collect();
    assert_eq!(found.len(), 1, "one entry for the read: {log:#}");
    let e = found[0];
    assert_eq!(e["action"], "read", "{e}");
    assert_eq!(e["resource"], "transitions", "{e}");
    assert_eq!(e["status"], 200, "{e}");
    assert_eq!(e["actor"]["sub"], YOUTH_LEADER_Y.sub, "{e}");
    assert_eq!(e["case_ids"], json!([listed_case]), "exactly the cases returned: {e}");

    // The case the list did not return does not have the read in its log.
    let log = app.get(&format!("/api/v1/audit?case_id={other}"), &auditor).await.expect(200).body;
    assert!(items(&log).iter().all(|e| e["request_id"] != "transitions-read"), "{log:#}");
}

// ---- 2. The transfer decision ----------------------------------------------------------------

#[tokio::test]
async fn a_transfer_moves_the_case_to_the_adult_committee_with_its_plan() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(YOUTH).await;
    let cora = world.token(COORDINATOR);

    // Before: the coordinator amends the plan, spends, and the committees' members see it or not.
    app.post(
        &format!("{}/plan/interventions", case_path(&case)),
        &cora,
        &json!({"title": "Befordring til praktik", "responsible_department": "labour_market",
                "start_on": date(0), "cost_estimate_ore": 120000, "note": "Buskort"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("{}/budget/spends", case_path(&case)),
        &cora,
        &json!({"amount_ore": 1_000_000, "category": "transport", "description": "Bus card"}),
    )
    .await
    .expect(201);
    let before = snapshot(&world, &case).await;
    assert_eq!(before.case["track"], "youth");
    assert_eq!(before.case["committee"]["id"], world.youth_committee.as_str());
    assert_eq!(before.plan["version"], 1);
    assert_eq!(before.plan["kind"], "ungeplan");
    assert_eq!(before.plan["interventions"].as_array().unwrap().len(), 3, "{}", before.plan);
    app.get(&case_path(&case), &world.token(YOUTH_CW_Y)).await.expect(200);
    app.get(&case_path(&case), &world.token(ADULT_CW_LM)).await.problem(404, "not_found");

    let meeting = youth_meeting_with(&world, &case).await;
    let res = decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)).await.expect(201);
    assert_eq!(res.body["kind"], "transfer", "{}", res.text);
    assert_eq!(res.body["case_id"], case.as_str(), "{}", res.text);

    let after = snapshot(&world, &case).await;
    let view = &after.case;
    assert_eq!(view["status"], "active", "{view}");
    assert_eq!(view["track"], "adult", "{view}");
    assert_eq!(view["committee"]["id"], world.adult_committee.as_str(), "{view}");
    assert_eq!(view["coordinator"], before.case["coordinator"], "the coordinator is kept");
    assert_eq!(view["coordinator"]["sub"], COORDINATOR.sub);
    assert_eq!(view["budget"], json!({"frame_ore": 5_000_000, "spent_ore": 1_000_000, "remaining_ore": 4_000_000}));
    assert_eq!(view["follow_up_on"], before.case["follow_up_on"], "the follow-up date is kept");
    assert_eq!(view["follow_up_on"], date(60));
    assert_eq!(view["plan"]["version"], 2, "{view}");
    assert_eq!(view["plan"]["kind"], "indsatsplan", "{view}");

    // The plan: version 2, an indsatsplan, with the same goals and interventions (as amended).
    let plan = &after.plan;
    assert_eq!(plan["version"], 2, "{plan}");
    assert_eq!(plan["kind"], "indsatsplan", "{plan}");
    assert_eq!(plan["current"], true, "{plan}");
    assert_eq!(plan["decision_id"], res.body["id"], "{plan}");
    assert_eq!(plan["citizen_goals"], before.plan["citizen_goals"], "{plan}");
    assert_eq!(without_ids(&plan["goals"]), without_ids(&before.plan["goals"]), "{plan}");
    assert_eq!(without_ids(&plan["interventions"]), without_ids(&before.plan["interventions"]), "{plan}");
    let old = app.get(&format!("{}/plan/versions/1", case_path(&case)), &cora).await.expect(200).body;
    assert_eq!(old["version"], 1, "{old}");
    assert_eq!(old["kind"], "ungeplan", "{old}");
    assert_eq!(old["current"], false, "{old}");
    assert_eq!(old["goals"], before.plan["goals"], "{old}");
    assert_eq!(old["interventions"], before.plan["interventions"], "{old}");
    let versions = app.get(&format!("{}/plan/versions", case_path(&case)), &cora).await.expect(200).body;
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "{versions}");

    // One decision, one new plan version, the event in the history.
    let counts: Vec<(&str, i64)> = before.counts.iter().zip(&after.counts).map(|(b, a)| (b.0, a.1 - b.1)).collect();
    assert!(counts.contains(&("decisions", 1)) && counts.contains(&("plan_versions", 1)), "{counts:?}");
    let events = history(&world, &case).await;
    assert_eq!(events.iter().filter(|e| *e == "case.transferred").count(), 1, "{events:?}");

    // Visibility moves with the case.
    app.get(&case_path(&case), &world.token(ADULT_CW_LM)).await.expect(200);
    app.get(&case_path(&case), &world.token(YOUTH_CW_Y)).await.problem(404, "not_found");
    app.get(&format!("{}/plan", case_path(&case)), &world.token(YOUTH_CW_Y)).await.problem(404, "not_found");
    app.get(&case_path(&case), &cora).await.expect(200);
}

#[tokio::test]
async fn a_transfer_may_appoint_a_new_coordinator_frame_and_follow_up() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let meeting = youth_meeting_with(&world, &case).await;
    let mut body = transfer(&case);
    body = with(body, "to_committee_id", json!(world.adult_committee));
    body = with(
        body,
        "coordinator",
        json!({"sub": NEW_COORDINATOR.sub, "name": "Nils Ny", "department": NEW_COORDINATOR.dept}),
    );
    body = with(body, "budget_frame_ore", json!(3_000_000));
    body = with(body, "follow_up_on", json!(date(30)));
    world.app.get(&case_path(&case), &world.token(NEW_COORDINATOR)).await.problem(404, "not_found");

    let res = decide_as(&world, YOUTH_LEADER_Y, &meeting, &body).await.expect(201);
    assert_eq!(res.body["kind"], "transfer");
    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["track"], "adult", "{view}");
    assert_eq!(view["committee"]["id"], world.adult_committee.as_str());
    assert_eq!(view["coordinator"]["sub"], NEW_COORDINATOR.sub, "{view}");
    assert_eq!(view["coordinator"]["department"], NEW_COORDINATOR.dept, "{view}");
    assert_eq!(view["budget"], json!({"frame_ore": 3_000_000, "spent_ore": 0, "remaining_ore": 3_000_000}));
    assert_eq!(view["follow_up_on"], date(30));
    assert_eq!(view["plan"]["version"], 2);
    assert_eq!(view["plan"]["kind"], "indsatsplan");
    // The new coordinator takes part now.
    world.app.get(&case_path(&case), &world.token(NEW_COORDINATOR)).await.expect(200);
}

#[tokio::test]
async fn a_transfer_before_the_citizen_is_due_is_refused_and_changes_nothing() {
    let world = World::new().await;
    let (case, _) = world.active(25).await;
    let meeting = youth_meeting_with(&world, &case).await;
    refused(&world, &case, 422, "transfer_not_due", decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)))
        .await;
    let after = snapshot(&world, &case).await;
    assert_eq!(after.case["track"], "youth");
    assert_eq!(after.case["committee"]["id"], world.youth_committee.as_str());
    assert_eq!(after.plan["version"], 1);
    assert_eq!(after.plan["kind"], "ungeplan");
    assert!(!history(&world, &case).await.contains(&"case.transferred".to_string()));

    // The window is counted from today, the day the decision is recorded (a meeting dated
    // ahead moves no one sooner): just outside it, 30 on the 366th day from today.
    let (late, _) = active_born(&world, born_turning_30_in(366)).await;
    let meeting = youth_meeting_with(&world, &late).await;
    refused(&world, &late, 422, "transfer_not_due", decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&late)))
        .await;
    // The last day of the window: 30 on the 365th day from today.
    let (edge, _) = active_born(&world, born_turning_30_in(365)).await;
    let meeting = youth_meeting_with(&world, &edge).await;
    decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&edge)).await.expect(201);
}

// A red-team finding: a meeting dated years ahead made a 16-year-old "due", since the window
// was counted from the meeting's day.
#[tokio::test]
async fn a_meeting_dated_years_ahead_makes_no_one_due() {
    let world = World::new().await;
    let (case, _) = world.active(16).await;
    let at = format!("{}-06-01T09:00:00Z", Utc::now().year() + 14);
    let path = format!("/api/v1/committees/{}/meetings", world.youth_committee);
    let meeting =
        world.app.post(&path, &world.token(YOUTH_LEADER_Y), &json!({"scheduled_at": at})).await.expect(201).id();
    world.on_agenda(&meeting, &case, 16).await;
    refused(&world, &case, 422, "transfer_not_due", decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)))
        .await;
    assert_eq!(snapshot(&world, &case).await.case["track"], "youth");
}

// A red-team finding: after a transfer the youth committee, through an agenda item made before
// it, still decided the (now adult) case.
#[tokio::test]
async fn after_a_transfer_the_youth_committee_decides_the_case_no_more() {
    let world = World::new().await;
    let (case, _) = active_born(&world, born_turning_30_in(60)).await;
    let meeting = youth_meeting_with(&world, &case).await;
    decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)).await.expect(201);
    let before = snapshot(&world, &case).await;
    // YOUTH_LEADER_SOC (social) still sees the case, and the item is still on the youth agenda
    let revision = json!({
        "case_id": case, "kind": "revision", "members_present": World::quorum(YOUTH),
        "citizen_participation": {"took_part": true, "form": "meeting"}, "budget_frame_ore": 4_000_000
    });
    let res = decide_as(&world, YOUTH_LEADER_SOC, &meeting, &revision).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.code(), "invalid_transition");
    assert_eq!(snapshot(&world, &case).await.case, before.case, "nothing changed");
}

#[tokio::test]
async fn a_transfer_goes_only_to_the_active_adult_committee() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let meeting = youth_meeting_with(&world, &case).await;
    for to in [json!(world.youth_committee), json!(uuid::Uuid::new_v4().to_string())] {
        let body = with(transfer(&case), "to_committee_id", to);
        refused(&world, &case, 422, "inconsistent_request", decide_as(&world, YOUTH_LEADER_Y, &meeting, &body)).await;
    }
}

#[tokio::test]
async fn a_transfer_carries_no_plan_or_closure_reason() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let meeting = youth_meeting_with(&world, &case).await;
    for (field, value) in [("plan", common::world::plan()), ("closure_reason", json!("education"))] {
        let body = with(transfer(&case), field, value);
        let res =
            refused(&world, &case, 422, "inconsistent_request", decide_as(&world, YOUTH_LEADER_Y, &meeting, &body))
                .await;
        assert!(res.fields().contains(&field.to_string()) || res.text.contains(field), "{field}: {}", res.text);
    }
}

#[tokio::test]
async fn a_transfer_is_decided_by_a_leader_member_of_the_youth_committee() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let meeting = youth_meeting_with(&world, &case).await;
    // ADULT_LEADER_LM sees the case (labour market coordinates it) but sits on no youth committee;
    // YOUTH_CW_Y sits on it, but as a caseworker.
    for who in [ADULT_LEADER_LM, YOUTH_CW_Y] {
        refused(&world, &case, 403, "forbidden", decide_as(&world, who, &meeting, &transfer(&case))).await;
    }
}

#[tokio::test]
async fn a_closed_case_is_not_transferred() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let meeting = youth_meeting_with(&world, &case).await;
    let closure = json!({
        "case_id": case, "kind": "closure", "members_present": World::quorum(YOUTH),
        "citizen_participation": {"took_part": true, "form": "meeting"}, "closure_reason": "employment"
    });
    decide_as(&world, YOUTH_LEADER_Y, &meeting, &closure).await.expect(201);
    refused(&world, &case, 409, "invalid_transition", decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)))
        .await;
    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["track"], "youth");
}

#[tokio::test]
async fn a_transfer_needs_a_current_plan_consent() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let meeting = youth_meeting_with(&world, &case).await;
    let consents = world.app.get(&format!("{}/consents", case_path(&case)), &world.token(REFERRER)).await.expect(200);
    let plan_consents: Vec<&Value> =
        consents.body.as_array().expect("a list of consents").iter().filter(|c| c["kind"] == "plan").collect();
    assert_eq!(plan_consents.len(), 1, "{}", consents.text);
    let cid = plan_consents[0]["id"].as_str().unwrap();
    world
        .app
        .post(
            &format!("{}/consents/{cid}/withdrawal", case_path(&case)),
            &world.token(REFERRER),
            &json!({"on": date(0)}),
        )
        .await
        .expect(200);
    refused(&world, &case, 409, "consent_withdrawn", decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)))
        .await;
    assert_eq!(snapshot(&world, &case).await.case["track"], "youth");
}

#[tokio::test]
async fn a_transferred_case_leaves_the_transitions_list_and_is_not_transferred_again() {
    let world = World::new().await;
    let (case, _) = world.active(YOUTH).await;
    let (stays, _) = world.active(YOUTH).await;
    let res = transitions(&world, ADULT_LEADER_SOC, "within_days=365").await.expect(200);
    assert_eq!(listed(&res).into_iter().collect::<BTreeSet<_>>(), BTreeSet::from([case.clone(), stays.clone()]));

    let meeting = youth_meeting_with(&world, &case).await;
    decide_as(&world, YOUTH_LEADER_Y, &meeting, &transfer(&case)).await.expect(201);
    let res = transitions(&world, ADULT_LEADER_SOC, "within_days=365").await.expect(200);
    assert_eq!(listed(&res), vec![stays.clone()], "{}", res.text);

    // It is an adult case now: a second transfer is refused, at the youth meeting whose agenda
    // still holds it (by a youth leader who still sees it: social is an adult department too).
    refused(&world, &case, 409, "invalid_transition", decide_as(&world, YOUTH_LEADER_SOC, &meeting, &transfer(&case)))
        .await;
    assert_eq!(snapshot(&world, &case).await.case["plan"]["version"], 2);
    assert_eq!(history(&world, &case).await.iter().filter(|e| *e == "case.transferred").count(), 1);
}

#[tokio::test]
async fn an_adult_case_is_not_transferred() {
    let world = World::new().await;
    let (case, _) = world.active(ADULT).await;
    let meeting = world.meeting(ADULT).await;
    world.on_agenda(&meeting, &case, ADULT).await;
    let body = json!({
        "case_id": case, "kind": "transfer", "members_present": World::quorum(ADULT),
        "citizen_participation": {"took_part": true, "form": "meeting"}
    });
    refused(&world, &case, 409, "invalid_transition", decide_as(&world, World::leader(ADULT), &meeting, &body)).await;
}

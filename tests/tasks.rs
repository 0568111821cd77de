mod common;

// "My tasks" (`GET /api/v1/me/tasks`, docs/api.md, My tasks): what waits for the caller, most
// urgent first, paged like every list, only for cases the caller sees, without CPR or names, and
// audited as a list read. Each kind is checked for exactly the people it is for, and against
// others who see the same case.
//
// Time passing is simulated in SQL: `cases.referred_at` / `cases.screened_at` moved into the
// past, `cases.follow_up_on` set to a past day, a meeting moved into the past, a consent's dates
// moved so it has expired, and a citizen's birth date (and CPR alike) moved so they turn 30
// soon. Every such update is marked with a `// SQL:` comment.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::world::{
    cpr_for, initial_decision, Person, World, ADMIN, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, ADULT_LEADER_LM,
    ADULT_LEADER_SOC, AUDITOR, COORDINATOR, OUTSIDER, REFERRER, YOUTH_CW_Y, YOUTH_LEADER_SOC, YOUTH_LEADER_Y,
};
use common::{Response, TestApp};
use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use reqwest::Method;
use serde_json::{json, Value};

const TASKS: &str = "/api/v1/me/tasks";
const ADULT: i32 = 45;
const YOUTH: i32 = 25;

/// A leader of health_care, the adult committee's third department, holding no seat.
const HEALTH_LEADER: Person = Person { sub: "hanne", dept: "health_care", roles: &["leader"] };
/// A leader of school, the youth committee's third department, holding no seat; school is on
/// no adult committee, so this leader sees no adult case.
const SCHOOL_LEADER: Person = Person { sub: "sally", dept: "school", roles: &["leader"] };
/// The adult leader-seat holder's sub, but speaking for a department that sees no adult case.
const SEAT_SUB_ELSEWHERE: Person = Person { sub: "al1", dept: "school", roles: &["leader"] };
/// The coordinator's sub, but speaking for a department that sees no adult case.
const COORDINATOR_ELSEWHERE: Person = Person { sub: "cora", dept: "school", roles: &["caseworker"] };
const SYSTEM: Person = Person { sub: "social-sys", dept: "social", roles: &["system"] };

// ---------------------------------------------------------------------------------------------
// helpers

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The day `n` days from today (negative: ago), as `YYYY-MM-DD`.
fn day(n: i64) -> String {
    ymd(today() + Duration::days(n))
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Noon (UTC) `n` days from today, so the calendar day is the same in any European zone.
fn noon(n: i64) -> String {
    format!("{}T12:00:00Z", day(n))
}

fn sql(app: &TestApp, statement: &str) {
    app.conn().batch_execute(statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
}

fn text(app: &TestApp, query: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(format!("SELECT ({query})::text AS t")).get_result::<T>(&mut app.conn()).unwrap().t
}

fn texts(app: &TestApp, query: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(query).load::<T>(&mut app.conn()).unwrap().into_iter().map(|r| r.t).collect()
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().unwrap_or_else(|| panic!("an items array: {body}"))
}

/// Every task of `who`, in one page of 200 (asserted to be the last).
async fn tasks(world: &World, who: Person) -> Vec<Value> {
    let res = world.app.get(&format!("{TASKS}?limit=200"), &world.token(who)).await.expect(200);
    assert!(res.body["next_cursor"].is_null(), "one page holds them all: {}", res.text);
    for t in items(&res.body) {
        let keys: BTreeSet<&str> = t.as_object().expect("a task object").keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, BTreeSet::from(["kind", "case_id", "due_on", "overdue", "detail"]), "task fields: {t}");
    }
    items(&res.body).clone()
}

/// The tasks of one kind for one case.
fn find<'a>(tasks: &'a [Value], kind: &str, case: &str) -> Vec<&'a Value> {
    tasks.iter().filter(|t| t["kind"] == kind && t["case_id"] == case).collect()
}

/// Exactly one task of `kind` for `case`, due on `due_on`, with this `overdue`.
fn assert_task(tasks: &[Value], who: Person, kind: &str, case: &str, due_on: &str, overdue: bool) {
    let found = find(tasks, kind, case);
    assert_eq!(found.len(), 1, "{} should have one {kind} task for {case}; tasks: {tasks:#?}", who.sub);
    let t = found[0];
    assert_eq!(t["due_on"], due_on, "{}'s {kind} task for {case}: {t}", who.sub);
    assert_eq!(t["overdue"], overdue, "{}'s {kind} task for {case}: {t}", who.sub);
}

fn assert_no_task(tasks: &[Value], who: Person, kind: &str, case: &str) {
    assert!(find(tasks, kind, case).is_empty(), "{} should have no {kind} task for {case}; tasks: {tasks:#?}", who.sub);
}

/// No task of any kind for `case`.
fn assert_nothing_for(tasks: &[Value], who: Person, case: &str) {
    assert!(
        tasks.iter().all(|t| t["case_id"] != case),
        "{} should have no task at all for {case}; tasks: {tasks:#?}",
        who.sub
    );
}

/// Screens a referred case as accepted by a leader of its committee.
async fn screen(world: &World, case: &str, age: i32) {
    let leader = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
    world
        .app
        .post(&format!("/api/v1/cases/{case}/screening"), &world.token(leader), &json!({"outcome": "accepted"}))
        .await
        .expect(200);
}

/// Takes an awaiting case to `active` with an initial decision at tomorrow's meeting, after
/// `change` has adjusted the decision's body.
async fn decide(world: &World, case: &str, age: i32, change: impl FnOnce(&mut Value)) {
    let meeting = world.meeting(age).await;
    world.on_agenda(&meeting, case, age).await;
    let mut body = initial_decision(case, age);
    change(&mut body);
    world
        .app
        .post(&format!("/api/v1/meetings/{meeting}/decisions"), &world.token(World::leader(age)), &body)
        .await
        .expect(201);
}

/// An active case (coordinator `COORDINATOR`) whose follow-up is `n` days from today.
async fn active_following_up_in(world: &World, age: i32, n: i64) -> String {
    let case = world.awaiting(age).await;
    decide(world, &case, age, |b| b["follow_up_on"] = json!(day(n))).await;
    case
}

fn citizen_of(app: &TestApp, case: &str) -> String {
    text(app, &format!("SELECT citizen_id FROM cases WHERE id = '{case}'"))
}

/// SQL: time passes for one citizen, who is now born on `born` (birth date and CPR alike).
fn reborn(app: &TestApp, citizen: &str, born: NaiveDate) {
    let cpr = cpr_for(born);
    sql(app, &format!("UPDATE citizens SET cpr = '{cpr}', birth_date = '{}' WHERE id = '{citizen}'", ymd(born)));
}

/// A birth date whose 30th birthday is `n` days from today (skipping a 29 February); returns
/// (birth date, 30th birthday).
fn turning_30_in(n: i64) -> (NaiveDate, NaiveDate) {
    let mut birthday = today() + Duration::days(n);
    loop {
        if let Some(born) = NaiveDate::from_ymd_opt(birthday.year() - 30, birthday.month(), birthday.day()) {
            return (born, birthday);
        }
        birthday += Duration::days(1);
    }
}

/// A request carrying our own X-Request-Id.
async fn traced(app: &TestApp, path: &str, token: &str, rid: &str) -> Response {
    let req =
        app.client.request(Method::GET, format!("{}{path}", app.base)).bearer_auth(token).header("x-request-id", rid);
    TestApp::read(req.send().await.expect("request sent")).await
}

fn case_ids(tasks: &[Value]) -> BTreeSet<String> {
    tasks.iter().map(|t| t["case_id"].as_str().expect("a case id").to_string()).collect()
}

/// (due_on, kind, case_id) of a task.
fn key(t: &Value) -> (String, String, String) {
    (
        t["due_on"].as_str().unwrap_or_else(|| panic!("a due_on: {t}")).to_string(),
        t["kind"].as_str().unwrap().to_string(),
        t["case_id"].as_str().unwrap().to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// screening_waiting

#[tokio::test]
async fn screening_waiting_is_for_the_leaders_of_the_committees_departments_and_no_one_else() {
    let world = World::new().await;
    let app = &world.app;
    let fresh = world.referred(ADULT).await;
    let old = world.referred(ADULT).await;
    let edge = world.referred(ADULT).await;
    // SQL: `old` was referred 15 days ago (waiting more than 14 days), `edge` exactly 14 days ago.
    sql(app, &format!("UPDATE cases SET referred_at = '{}' WHERE id = '{old}'", noon(-15)));
    sql(app, &format!("UPDATE cases SET referred_at = '{}' WHERE id = '{edge}'", noon(-14)));

    // leaders of labour_market, social and health_care, seat or not
    for leader in [ADULT_LEADER_LM, ADULT_LEADER_SOC, YOUTH_LEADER_SOC, HEALTH_LEADER] {
        let t = tasks(&world, leader).await;
        assert_task(&t, leader, "screening_waiting", &fresh, &day(0), false);
        assert_task(&t, leader, "screening_waiting", &old, &day(-15), true);
        assert_task(&t, leader, "screening_waiting", &edge, &day(-14), false);
        for case in [&fresh, &old, &edge] {
            assert_eq!(find(&t, "agenda_waiting", case).len(), 0, "a referred case is not awaiting an agenda: {t:#?}");
        }
    }
    // others who see the case, and a leader of a department that sees no adult case
    for who in [ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, COORDINATOR, REFERRER, ADMIN, SYSTEM, SCHOOL_LEADER] {
        let t = tasks(&world, who).await;
        for case in [&fresh, &old, &edge] {
            assert_nothing_for(&t, who, case);
        }
    }

    // once screened, it waits no longer for screening (but for an agenda, for the seats)
    screen(&world, &fresh, ADULT).await;
    let t = tasks(&world, HEALTH_LEADER).await;
    assert_no_task(&t, HEALTH_LEADER, "screening_waiting", &fresh);
    assert_task(&t, HEALTH_LEADER, "screening_waiting", &old, &day(-15), true);
    let t = tasks(&world, ADULT_LEADER_LM).await;
    assert_no_task(&t, ADULT_LEADER_LM, "screening_waiting", &fresh);
    assert_task(&t, ADULT_LEADER_LM, "agenda_waiting", &fresh, &day(0), false);

    // a youth referral: school's leader screens it; labour_market's leader, whose department the
    // referral names but without a data-sharing consent, does not see it
    let youth = world.referred(YOUTH).await;
    for leader in [SCHOOL_LEADER, YOUTH_LEADER_Y, YOUTH_LEADER_SOC, ADULT_LEADER_SOC] {
        let t = tasks(&world, leader).await;
        assert_task(&t, leader, "screening_waiting", &youth, &day(0), false);
    }
    for who in [ADULT_LEADER_LM, HEALTH_LEADER, YOUTH_CW_Y] {
        assert_nothing_for(&tasks(&world, who).await, who, &youth);
    }
}

// ---------------------------------------------------------------------------------------------
// agenda_waiting

#[tokio::test]
async fn agenda_waiting_is_for_the_leader_seats_until_the_case_is_on_a_coming_agenda() {
    let world = World::new().await;
    let app = &world.app;
    let a = world.awaiting(ADULT).await;
    let old = world.awaiting(ADULT).await;
    let edge = world.awaiting(ADULT).await;
    // SQL: `old` was screened 15 days ago (waiting more than 14 days), `edge` exactly 14 days ago.
    sql(
        app,
        &format!("UPDATE cases SET referred_at = '{}', screened_at = '{}' WHERE id = '{old}'", noon(-20), noon(-15)),
    );
    sql(
        app,
        &format!("UPDATE cases SET referred_at = '{}', screened_at = '{}' WHERE id = '{edge}'", noon(-20), noon(-14)),
    );

    for leader in [ADULT_LEADER_LM, ADULT_LEADER_SOC] {
        let t = tasks(&world, leader).await;
        assert_task(&t, leader, "agenda_waiting", &a, &day(0), false);
        assert_task(&t, leader, "agenda_waiting", &old, &day(-15), true);
        assert_task(&t, leader, "agenda_waiting", &edge, &day(-14), false);
        for case in [&a, &old, &edge] {
            assert_no_task(&t, leader, "screening_waiting", case);
        }
    }
    // who sees the case but holds no leader seat on its committee
    for who in [YOUTH_LEADER_SOC, HEALTH_LEADER, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, COORDINATOR, REFERRER, ADMIN] {
        let t = tasks(&world, who).await;
        for case in [&a, &old, &edge] {
            assert_nothing_for(&t, who, case);
        }
    }

    // on tomorrow's agenda: no longer waiting
    let meeting = world.meeting(ADULT).await;
    world.on_agenda(&meeting, &a, ADULT).await;
    let t = tasks(&world, ADULT_LEADER_SOC).await;
    assert_no_task(&t, ADULT_LEADER_SOC, "agenda_waiting", &a);
    assert_task(&t, ADULT_LEADER_SOC, "agenda_waiting", &old, &day(-15), true);

    // SQL: the meeting is now in the past, and `a` was never decided: it waits again
    sql(app, &format!("UPDATE meetings SET scheduled_at = now() - interval '1 hour' WHERE id = '{meeting}'"));
    let t = tasks(&world, ADULT_LEADER_LM).await;
    assert_task(&t, ADULT_LEADER_LM, "agenda_waiting", &a, &day(0), false);

    // a youth case waits for the youth seats, not for the social leader of the adult committee
    let youth = world.awaiting(YOUTH).await;
    for leader in [YOUTH_LEADER_Y, YOUTH_LEADER_SOC] {
        assert_task(&tasks(&world, leader).await, leader, "agenda_waiting", &youth, &day(0), false);
    }
    for who in [ADULT_LEADER_SOC, ADULT_LEADER_LM, SCHOOL_LEADER, YOUTH_CW_Y] {
        assert_nothing_for(&tasks(&world, who).await, who, &youth);
    }
}

// ---------------------------------------------------------------------------------------------
// follow_up_due

#[tokio::test]
async fn follow_up_due_within_14_days_or_past_for_the_coordinator_and_the_leader_members() {
    let world = World::new().await;
    let app = &world.app;
    let soon = active_following_up_in(&world, ADULT, 3).await;
    let edge = active_following_up_in(&world, ADULT, 14).await;
    let later = active_following_up_in(&world, ADULT, 15).await;
    let past = active_following_up_in(&world, ADULT, 10).await;
    // SQL: the follow-up of `past` was two days ago
    sql(app, &format!("UPDATE cases SET follow_up_on = '{}' WHERE id = '{past}'", day(-2)));
    let (usual, _) = world.active(ADULT).await; // follow-up in 60 days
    let closed = active_following_up_in(&world, ADULT, 3).await;
    app.post(
        &format!("/api/v1/cases/{closed}/closure"),
        &world.token(COORDINATOR),
        &json!({"reason": "employment", "note": "Fik job"}),
    )
    .await
    .expect(200);

    for who in [COORDINATOR, ADULT_LEADER_LM, ADULT_LEADER_SOC] {
        let t = tasks(&world, who).await;
        assert_task(&t, who, "follow_up_due", &soon, &day(3), false);
        assert_task(&t, who, "follow_up_due", &edge, &day(14), false);
        assert_task(&t, who, "follow_up_due", &past, &day(-2), true);
        assert_no_task(&t, who, "follow_up_due", &later);
        assert_no_task(&t, who, "follow_up_due", &usual);
        assert_nothing_for(&t, who, &closed);
    }
    for who in [ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, YOUTH_LEADER_SOC, HEALTH_LEADER, REFERRER, ADMIN] {
        let t = tasks(&world, who).await;
        for case in [&soon, &edge, &past, &later, &usual, &closed] {
            assert_nothing_for(&t, who, case);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// intervention_overdue

fn intervention(title: &str, status: &str, start: i64, end: i64) -> Value {
    json!({"title": title, "responsible_department": "social", "status": status,
           "start_on": day(start), "end_on": day(end)})
}

#[tokio::test]
async fn intervention_overdue_is_one_task_per_case_for_the_coordinator_from_the_plan_as_amended() {
    let world = World::new().await;
    let app = &world.app;
    let cora = world.token(COORDINATOR);
    let path = |case: &str| format!("/api/v1/cases/{case}/plan/interventions");

    // two overdue (planned and active), an earlier one completed, one ending today
    let (several, _) = world.active(ADULT).await;
    app.post(&path(&several), &cora, &intervention("Praktik", "planned", -30, -5)).await.expect(201);
    app.post(&path(&several), &cora, &intervention("Mentor 2", "active", -30, -2)).await.expect(201);
    app.post(&path(&several), &cora, &intervention("Afsluttet", "completed", -40, -20)).await.expect(201);
    app.post(&path(&several), &cora, &intervention("Slutter i dag", "active", -10, 0)).await.expect(201);
    // the earliest of them all ends 10 days ago, but is then cancelled by an amendment
    let cancelled =
        app.post(&path(&several), &cora, &intervention("Aflyst", "planned", -30, -10)).await.expect(201).id();
    app.patch(&format!("{}/{cancelled}", path(&several)), &cora, &json!({"status": "cancelled"})).await.expect(200);

    // an intervention the committee adopted without an end, given one in the past by an amendment
    let (amended, _) = world.active(ADULT).await;
    let plan = app.get(&format!("/api/v1/cases/{amended}/plan"), &cora).await.expect(200).body;
    let mentor = plan["interventions"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["title"] == "Mentor"))
        .unwrap_or_else(|| panic!("the adopted Mentor intervention: {plan}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(&format!("{}/{mentor}", path(&amended)), &cora, &json!({"end_on": day(-1)})).await.expect(200);

    // ends today: not past its end; completed in the past: done
    let (today_only, _) = world.active(ADULT).await;
    app.post(&path(&today_only), &cora, &intervention("I dag", "planned", -3, 0)).await.expect(201);
    let (done, _) = world.active(ADULT).await;
    app.post(&path(&done), &cora, &intervention("Færdig", "completed", -30, -5)).await.expect(201);
    let done_later = app.post(&path(&done), &cora, &intervention("Færdig 2", "active", -30, -3)).await.expect(201).id();
    app.patch(&format!("{}/{done_later}", path(&done)), &cora, &json!({"status": "completed"})).await.expect(200);

    let t = tasks(&world, COORDINATOR).await;
    assert_task(&t, COORDINATOR, "intervention_overdue", &several, &day(-5), true);
    assert_task(&t, COORDINATOR, "intervention_overdue", &amended, &day(-1), true);
    assert_no_task(&t, COORDINATOR, "intervention_overdue", &today_only);
    assert_no_task(&t, COORDINATOR, "intervention_overdue", &done);

    for who in [ADULT_LEADER_LM, ADULT_LEADER_SOC, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, REFERRER, ADMIN] {
        let t = tasks(&world, who).await;
        for case in [&several, &amended] {
            assert_no_task(&t, who, "intervention_overdue", case);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// consent_expiring and consent_withdrawn

/// Records a consent as the referrer; returns its id.
async fn give(world: &World, case: &str, body: &Value) -> String {
    world.app.post(&format!("/api/v1/cases/{case}/consents"), &world.token(REFERRER), body).await.expect(201).id()
}

#[tokio::test]
async fn consent_expiring_and_consent_withdrawn_are_for_the_coordinator() {
    let world = World::new().await;
    let app = &world.app;
    let cora = world.token(COORDINATOR);
    let consent = |kind: &str, expires: Option<i64>| {
        let mut body = json!({"kind": kind, "given_by": "citizen", "form": "written", "given_on": day(0)});
        if kind == "data_sharing" {
            body["departments"] = json!(["social"]);
        }
        if let Some(e) = expires {
            body["expires_on"] = json!(day(e));
        }
        body
    };

    // a plan consent running out in 20 days
    let plan_expiring = world.awaiting_without_consent(ADULT).await;
    give(&world, &plan_expiring, &consent("plan", Some(20))).await;
    decide(&world, &plan_expiring, ADULT, |_| {}).await;
    // a data-sharing consent running out in 30 days (the plan consent has no end)
    let (sharing_expiring, _) = world.active(ADULT).await;
    give(&world, &sharing_expiring, &consent("data_sharing", Some(30))).await;
    // one running out in 31 days: not yet
    let (sharing_later, _) = world.active(ADULT).await;
    give(&world, &sharing_later, &consent("data_sharing", Some(31))).await;
    // the plan consent withdrawn today
    let withdrawn = world.awaiting_without_consent(ADULT).await;
    let plan_consent = give(&world, &withdrawn, &consent("plan", None)).await;
    decide(&world, &withdrawn, ADULT, |_| {}).await;
    app.post(&format!("/api/v1/cases/{withdrawn}/consents/{plan_consent}/withdrawal"), &cora, &json!({"on": day(0)}))
        .await
        .expect(200);
    // the plan consent expired yesterday
    let expired = world.awaiting_without_consent(ADULT).await;
    let expiring = give(&world, &expired, &consent("plan", Some(20))).await;
    decide(&world, &expired, ADULT, |_| {}).await;
    // SQL: time passes: that consent was given 10 days ago and ran out yesterday
    sql(
        app,
        &format!("UPDATE consents SET given_on = '{}', expires_on = '{}' WHERE id = '{expiring}'", day(-10), day(-1)),
    );
    // withdrawn and given anew: a current plan consent again
    let renewed = world.awaiting_without_consent(ADULT).await;
    let first = give(&world, &renewed, &consent("plan", None)).await;
    decide(&world, &renewed, ADULT, |_| {}).await;
    app.post(&format!("/api/v1/cases/{renewed}/consents/{first}/withdrawal"), &cora, &json!({"on": day(0)}))
        .await
        .expect(200);
    give(&world, &renewed, &consent("plan", None)).await;

    let t = tasks(&world, COORDINATOR).await;
    assert_task(&t, COORDINATOR, "consent_expiring", &plan_expiring, &day(20), false);
    assert_task(&t, COORDINATOR, "consent_expiring", &sharing_expiring, &day(30), false);
    assert_nothing_for(&t, COORDINATOR, &sharing_later);
    assert_task(&t, COORDINATOR, "consent_withdrawn", &withdrawn, &day(0), true);
    assert_no_task(&t, COORDINATOR, "consent_expiring", &withdrawn);
    // the day after the expiry (docs/api.md, My tasks); an expired consent is not "expiring"
    assert_task(&t, COORDINATOR, "consent_withdrawn", &expired, &day(0), true);
    assert_no_task(&t, COORDINATOR, "consent_expiring", &expired);
    assert_nothing_for(&t, COORDINATOR, &renewed);
    for case in [&plan_expiring, &sharing_expiring] {
        assert_no_task(&t, COORDINATOR, "consent_withdrawn", case);
    }

    let all = [&plan_expiring, &sharing_expiring, &sharing_later, &withdrawn, &expired, &renewed];
    for who in [ADULT_LEADER_LM, ADULT_LEADER_SOC, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, REFERRER, ADMIN] {
        let t = tasks(&world, who).await;
        for case in all {
            assert_nothing_for(&t, who, case);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// transition_due

#[tokio::test]
async fn transition_due_is_for_the_youth_committees_leader_seats_within_90_days_of_30() {
    let world = World::new().await;
    let app = &world.app;
    let (soon, _) = world.active(29).await;
    let (turned, _) = world.active(29).await;
    let (later, _) = world.active(29).await;
    let (usual, _) = world.active(29).await; // turned 29 twenty days ago: 30 in about 345 days
    let (_, soon_birthday) = {
        let (born, birthday) = turning_30_in(60);
        reborn(app, &citizen_of(app, &soon), born); // SQL: turns 30 in 60 days
        (born, birthday)
    };
    let (_, turned_birthday) = {
        let (born, birthday) = turning_30_in(-5);
        reborn(app, &citizen_of(app, &turned), born); // SQL: turned 30 five days ago
        (born, birthday)
    };
    let (born, _) = turning_30_in(100);
    reborn(app, &citizen_of(app, &later), born); // SQL: turns 30 in 100 days

    // a referred youth case near 30: not active, no transition
    let referred = world.referred(29).await;
    let (born, _) = turning_30_in(30);
    reborn(app, &citizen_of(app, &referred), born); // SQL: turns 30 in 30 days

    for leader in [YOUTH_LEADER_Y, YOUTH_LEADER_SOC] {
        let t = tasks(&world, leader).await;
        assert_task(&t, leader, "transition_due", &soon, &ymd(soon_birthday), false);
        assert_task(&t, leader, "transition_due", &turned, &ymd(turned_birthday), true);
        assert_no_task(&t, leader, "transition_due", &later);
        assert_no_task(&t, leader, "transition_due", &usual);
        assert_no_task(&t, leader, "transition_due", &referred);
    }
    // the coordinator, caseworkers, and leaders who see the case (social; labour_market, the
    // coordinator's department) without a youth leader seat
    for who in [COORDINATOR, YOUTH_CW_Y, ADULT_LEADER_SOC, ADULT_LEADER_LM, SCHOOL_LEADER, ADMIN] {
        let t = tasks(&world, who).await;
        for case in [&soon, &turned] {
            assert_no_task(&t, who, "transition_due", case);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ordering and paging

/// A world where ADULT_LEADER_SOC and COORDINATOR have tasks of several kinds, some due the
/// same day.
async fn busy_world() -> World {
    let world = World::new().await;
    let app = &world.app;
    // screening_waiting: 20 days ago, and two today
    let old_referral = world.referred(ADULT).await;
    sql(app, &format!("UPDATE cases SET referred_at = '{}' WHERE id = '{old_referral}'", noon(-20))); // SQL
    world.referred(ADULT).await;
    world.referred(ADULT).await;
    // agenda_waiting: screened 10 days ago, and two today
    let old_screened = world.awaiting(ADULT).await;
    sql(
        app,
        &format!(
            "UPDATE cases SET referred_at = '{}', screened_at = '{}' WHERE id = '{old_screened}'",
            noon(-12),
            noon(-10)
        ),
    ); // SQL
    world.awaiting(ADULT).await;
    world.awaiting(ADULT).await;
    // follow_up_due in 3 days (leaders and coordinator), one two days ago
    let follow_up = active_following_up_in(&world, ADULT, 3).await;
    let past = active_following_up_in(&world, ADULT, 10).await;
    sql(app, &format!("UPDATE cases SET follow_up_on = '{}' WHERE id = '{past}'", day(-2))); // SQL
                                                                                             // the coordinator: an overdue intervention (5 days ago), a withdrawn plan consent (today), and
                                                                                             // a consent running out in 20 days
    let cora = world.token(COORDINATOR);
    app.post(
        &format!("/api/v1/cases/{follow_up}/plan/interventions"),
        &cora,
        &intervention("Praktik", "planned", -30, -5),
    )
    .await
    .expect(201);
    let (withdrawn, _) = world.active(ADULT).await;
    let consents = app.get(&format!("/api/v1/cases/{withdrawn}/consents"), &cora).await.expect(200).body;
    let list = consents.as_array().or_else(|| consents["items"].as_array()).cloned().unwrap_or_default();
    let plan = list.iter().find(|c| c["kind"] == "plan").unwrap_or_else(|| panic!("a plan consent: {consents}"));
    app.post(
        &format!("/api/v1/cases/{withdrawn}/consents/{}/withdrawal", plan["id"].as_str().unwrap()),
        &cora,
        &json!({"on": day(0)}),
    )
    .await
    .expect(200);
    let (expiring, _) = world.active(ADULT).await;
    app.post(
        &format!("/api/v1/cases/{expiring}/consents"),
        &cora,
        &json!({"kind": "data_sharing", "given_by": "citizen", "form": "written", "given_on": day(0),
                "expires_on": day(20), "departments": ["social"]}),
    )
    .await
    .expect(201);
    world
}

#[tokio::test]
async fn tasks_come_most_urgent_first_across_kinds() {
    let world = busy_world().await;

    let t = tasks(&world, ADULT_LEADER_SOC).await;
    let keys: Vec<(String, String, String)> = t.iter().map(key).collect();
    let kinds_days: Vec<(String, String)> = keys.iter().map(|(d, k, _)| (d.clone(), k.clone())).collect();
    // the days and kinds, in order: first by due_on
    let expected_days = [day(-20), day(-10), day(-2), day(0), day(0), day(0), day(0), day(3)];
    assert_eq!(keys.iter().map(|k| k.0.clone()).collect::<Vec<_>>(), expected_days, "by due_on: {t:#?}");
    assert_eq!(kinds_days[0].1, "screening_waiting", "{t:#?}");
    assert_eq!(kinds_days[1].1, "agenda_waiting", "{t:#?}");
    assert_eq!(kinds_days[2].1, "follow_up_due", "{t:#?}");
    assert_eq!(kinds_days[7].1, "follow_up_due", "{t:#?}");
    // today's four: two of each kind; ties by kind (so each kind's together), then case id
    let today_tasks = &keys[3..7];
    let mut by_kind: Vec<&str> = today_tasks.iter().map(|k| k.1.as_str()).collect();
    by_kind.dedup();
    assert_eq!(by_kind.len(), 2, "same-day tasks are grouped by kind: {t:#?}");
    assert_eq!(
        BTreeSet::from_iter(by_kind.iter().copied()),
        BTreeSet::from(["agenda_waiting", "screening_waiting"]),
        "{t:#?}"
    );
    // Which kind comes first on a tie is not fixed by the contract ("ties by kind": by name, or in
    // the documented order of kinds?); only that a day's tasks are grouped by kind, then by case.
    for pair in today_tasks.chunks(2) {
        assert_eq!(pair[0].1, pair[1].1, "{t:#?}");
        assert!(pair[0].2 < pair[1].2, "same day and kind: by case id: {t:#?}");
    }
    // overdue as each kind defines it
    let overdue: Vec<bool> = t.iter().map(|t| t["overdue"].as_bool().expect("a boolean overdue")).collect();
    assert_eq!(overdue, [true, false, true, false, false, false, false, false], "{t:#?}");

    // the coordinator: intervention (-5), follow-up (-2), withdrawn consent (0), follow-up (+3),
    // expiring consent (+20)
    let t = tasks(&world, COORDINATOR).await;
    let got: Vec<(String, String)> = t.iter().map(key).map(|(d, k, _)| (d, k)).collect();
    let want: Vec<(String, String)> = [
        (day(-5), "intervention_overdue"),
        (day(-2), "follow_up_due"),
        (day(0), "consent_withdrawn"),
        (day(3), "follow_up_due"),
        (day(20), "consent_expiring"),
    ]
    .into_iter()
    .map(|(d, k)| (d, k.to_string()))
    .collect();
    assert_eq!(got, want, "{t:#?}");
}

#[tokio::test]
async fn paging_with_limit_1_gives_each_task_once_in_order() {
    let world = busy_world().await;
    let app = &world.app;
    for who in [ADULT_LEADER_SOC, COORDINATOR] {
        let all = tasks(&world, who).await;
        assert!(all.len() >= 5, "{all:#?}");
        let token = world.token(who);
        let mut paged: Vec<Value> = vec![];
        let mut cursor: Option<String> = None;
        for _ in 0..=all.len() {
            let path = match &cursor {
                None => format!("{TASKS}?limit=1"),
                Some(c) => format!("{TASKS}?limit=1&cursor={}", urlencode(c)),
            };
            let res = app.get(&path, &token).await.expect(200);
            let page = items(&res.body);
            assert!(page.len() <= 1, "limit=1: {}", res.text);
            paged.extend(page.iter().cloned());
            match res.body["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(page.len(), 1, "a page with a next cursor is full: {}", res.text);
                    cursor = Some(c.to_string());
                }
                None => {
                    assert!(res.body.get("next_cursor").is_some(), "next_cursor is there, null: {}", res.text);
                    cursor = None;
                    break;
                }
            }
        }
        assert!(cursor.is_none(), "the last page has a null next_cursor");
        assert_eq!(paged, all, "pages of one give every task once, in the same order ({})", who.sub);
        // and pages of two
        let first = app.get(&format!("{TASKS}?limit=2"), &token).await.expect(200);
        assert_eq!(items(&first.body)[..], all[..2]);
        let c = first.body["next_cursor"].as_str().expect("a next cursor").to_string();
        let second = app.get(&format!("{TASKS}?limit=2&cursor={}", urlencode(&c)), &token).await.expect(200);
        assert_eq!(items(&second.body)[..], all[2..4]);
    }

    // the paging parameters are checked like every list's
    let token = world.token(ADULT_LEADER_SOC);
    for bad in ["limit=0", "limit=201", "limit=ten"] {
        app.get(&format!("{TASKS}?{bad}"), &token).await.problem(422, "validation_failed");
    }
    app.get(&format!("{TASKS}?limit=200"), &token).await.expect(200);
    app.get(&format!("{TASKS}?cursor=not-a-cursor"), &token).await.problem(422, "invalid_cursor");
    // a cursor of the right shape with a date this API never wrote (a red-team finding)
    for date in ["0001-01-01", "+10000-01-01"] {
        use base64::Engine;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{date}/follow_up_due/{}", uuid::Uuid::new_v4()));
        app.get(&format!("{TASKS}?cursor={forged}"), &token).await.problem(422, "invalid_cursor");
    }
    app.get(&format!("{TASKS}?kind=follow_up_due"), &token).await.problem(422, "unexpected_parameter");
    app.get(&format!("{TASKS}?limit=1&limit=2"), &token).await.problem(422, "unexpected_parameter");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// the access rule, roles

#[tokio::test]
async fn no_task_for_a_case_the_caller_does_not_see() {
    let world = busy_world().await;
    let app = &world.app;
    // every adult case of the busy world has tasks for someone
    let adult_cases = texts(app, "SELECT id::text AS t FROM cases");
    assert!(!tasks(&world, ADULT_LEADER_SOC).await.is_empty());
    assert!(!tasks(&world, COORDINATOR).await.is_empty());

    // a caseworker on no committee, in school; the seat holder's and the coordinator's subs when
    // they speak for school; school's leader: none of them sees an adult case
    for who in [OUTSIDER, SEAT_SUB_ELSEWHERE, COORDINATOR_ELSEWHERE, SCHOOL_LEADER] {
        let t = tasks(&world, who).await;
        for case in &adult_cases {
            assert_nothing_for(&t, who, case);
        }
        // and indeed they do not see it
        app.get(&format!("/api/v1/cases/{}", adult_cases[0]), &world.token(who)).await.problem(404, "not_found");
    }
}

#[tokio::test]
async fn a_bare_auditor_is_refused_and_the_other_roles_read_their_tasks() {
    let world = World::new().await;
    let app = &world.app;
    world.referred(ADULT).await;
    app.get(TASKS, &world.token(AUDITOR)).await.problem(403, "forbidden");
    app.request(Method::GET, TASKS, None, None).await.problem(401, "unauthorized");

    for who in [ADULT_CW_LM, ADULT_LEADER_SOC, ADMIN, SYSTEM] {
        let res = app.get(TASKS, &world.token(who)).await.expect(200);
        assert!(res.body["items"].is_array(), "{}", res.text);
        assert!(res.body.get("next_cursor").is_some(), "{}", res.text);
    }
    // the roles alone give no task: a referred case waits for leaders only
    for who in [ADULT_CW_LM, ADMIN, SYSTEM] {
        assert!(tasks(&world, who).await.is_empty(), "{} has no task", who.sub);
    }
    assert_eq!(tasks(&world, ADULT_LEADER_SOC).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// no CPR, no name; audited

#[tokio::test]
async fn the_answer_carries_no_cpr_and_no_citizen_name() {
    let world = busy_world().await;
    let app = &world.app;
    // a youth case near 30, with a distinctive citizen name
    let (youth, _) = world.active(29).await;
    let citizen = citizen_of(app, &youth);
    let (born, _) = turning_30_in(40);
    reborn(app, &citizen, born); // SQL: turns 30 in 40 days
    sql(app, &format!("UPDATE citizens SET name = 'Ingeborg Særnavn' WHERE id = '{citizen}'")); // SQL
    assert_eq!(find(&tasks(&world, YOUTH_LEADER_Y).await, "transition_due", &youth).len(), 1);

    let cprs = texts(app, "SELECT cpr AS t FROM citizens");
    let names = texts(app, "SELECT name AS t FROM citizens");
    assert!(!cprs.is_empty());
    for who in [ADULT_LEADER_SOC, ADULT_LEADER_LM, COORDINATOR, YOUTH_LEADER_Y] {
        let res = app.get(&format!("{TASKS}?limit=200"), &world.token(who)).await.expect(200);
        assert!(!items(&res.body).is_empty(), "{} has tasks", who.sub);
        for cpr in &cprs {
            let dashed = format!("{}-{}", &cpr[..6], &cpr[6..]);
            assert!(!res.text.contains(cpr.as_str()) && !res.text.contains(&dashed), "a CPR in {}", res.text);
        }
        for name in &names {
            assert!(!res.text.contains(name.as_str()), "a citizen name in {}", res.text);
        }
        assert!(!res.text.contains("Borger") && !res.text.contains("Særnavn"), "{}", res.text);
        assert!(!res.text.contains("\"cpr\""), "{}", res.text);
    }
}

#[tokio::test]
async fn the_read_is_audited_as_a_list_read_with_the_cases_returned() {
    let world = busy_world().await;
    let app = &world.app;
    let all = tasks(&world, ADULT_LEADER_SOC).await;
    let returned = case_ids(&all);
    assert!(returned.len() >= 5);

    let token = world.token(ADULT_LEADER_SOC);
    let res = traced(app, &format!("{TASKS}?limit=200"), &token, "tasks-all").await.expect(200);
    assert_eq!(case_ids(items(&res.body)), returned);
    let log = app.get(&format!("/api/v1/audit?actor={}&limit=200", ADULT_LEADER_SOC.sub), &world.token(AUDITOR)).await;
    let log = log.expect(200).body;
    let entries: Vec<&Value> = items(&log).iter().filter(|e| e["request_id"] == "tasks-all").collect();
    assert_eq!(entries.len(), 1, "one entry for the read: {log:#}");
    let e = entries[0];
    assert_eq!(e["action"], "read", "{e}");
    assert_eq!(e["resource"], "tasks", "{e}");
    assert_eq!(e["status"], 200, "{e}");
    assert_eq!(e["actor"]["sub"], ADULT_LEADER_SOC.sub, "{e}");
    assert_eq!(e["actor"]["dept"], ADULT_LEADER_SOC.dept, "{e}");
    let recorded: BTreeSet<String> = e["case_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("case_ids: {e}"))
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recorded, returned, "the cases the tasks name: {e}");

    // each case's own log shows the read
    for case in &returned {
        let log = app.get(&format!("/api/v1/audit?case_id={case}&limit=200"), &world.token(AUDITOR)).await.expect(200);
        assert!(items(&log.body).iter().any(|e| e["request_id"] == "tasks-all"), "{case}: {}", log.text);
    }

    // a page records only the cases on it
    let res = traced(app, &format!("{TASKS}?limit=1"), &token, "tasks-page").await.expect(200);
    let on_page = case_ids(items(&res.body));
    assert_eq!(on_page.len(), 1);
    let log = app.get(&format!("/api/v1/audit?actor={}&limit=200", ADULT_LEADER_SOC.sub), &world.token(AUDITOR)).await;
    let log = log.expect(200).body;
    let e = items(&log).iter().find(|e| e["request_id"] == "tasks-page").unwrap_or_else(|| panic!("{log:#}"));
    let recorded: BTreeSet<String> =
        e["case_ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_string()).collect();
    assert_eq!(recorded, on_page, "{e}");
    let not_on_page = returned.iter().find(|c| !on_page.contains(*c)).unwrap();
    let log =
        app.get(&format!("/api/v1/audit?case_id={not_on_page}&limit=200"), &world.token(AUDITOR)).await.expect(200);
    assert!(items(&log.body).iter().all(|e| e["request_id"] != "tasks-page"), "{}", log.text);
}

mod common;

// Committee decisions over HTTP: the agenda a decision needs, quorum, the citizen's
// participation, the package of an initial decision, revisions (new plan versions, frame,
// coordinator change), follow-ups, closure, immutability, and two initial decisions racing.
// Every refusal is checked to leave the case exactly as it was.

use std::future::Future;

use chrono::{Duration, Utc};
use common::world::{
    initial_decision, plan, Person, World, ADMIN, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, ADULT_LEADER_LM,
    ADULT_LEADER_SOC, COORDINATOR, NEW_COORDINATOR, OUTSIDER, REFERRER, YOUTH_CW_SOC, YOUTH_LEADER_SOC, YOUTH_LEADER_Y,
};
use common::Response;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

const ADULT: i32 = 45;
const YOUTH: i32 = 22;

/// A leader of labour market on no committee (labour market is involved in every referral here).
const LM_LEADER: Person = Person { sub: "lml", dept: "labour_market", roles: &["leader"] };

/// Tables whose row counts a refusal must leave alone.
const TABLES: &[&str] = &[
    "decisions",
    "plan_versions",
    "plan_amendments",
    "case_events",
    "agenda_items",
    "case_presenters",
    "background_members",
    "participation_notes",
];

/// A date `days` from today, as the API writes dates.
fn date(days: i64) -> String {
    (Utc::now() + Duration::days(days)).format("%Y-%m-%d").to_string()
}

fn case_path(case: &str) -> String {
    format!("/api/v1/cases/{case}")
}

fn decisions_path(meeting: &str) -> String {
    format!("/api/v1/meetings/{meeting}/decisions")
}

fn agenda_path(meeting: &str) -> String {
    format!("/api/v1/meetings/{meeting}/agenda")
}

/// The full case view as a member of both committees' departments sees it, and the row counts.
#[derive(Debug, PartialEq)]
struct Snapshot {
    case: Value,
    counts: Vec<(&'static str, i64)>,
}

async fn snapshot(world: &World, case: &str) -> Snapshot {
    // ADULT_LEADER_SOC sits on the adult committee and leads social, a department of the youth
    // committee: they see every case of both tracks.
    let case = world.app.get(&case_path(case), &world.token(ADULT_LEADER_SOC)).await.expect(200).body;
    let counts = TABLES.iter().map(|t| (*t, world.app.count(&format!("SELECT count(*) FROM {t}")))).collect();
    Snapshot { case, counts }
}

/// Runs a request that must be refused with `status` and `code`, and checks that it changed
/// nothing: the case as the API shows it, and the rows behind it.
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
    assert_eq!(before, after, "a refusal ({status} {code}) changed the case; answer: {}", res.text);
    res
}

/// `refused` for a 422 validation_failed (the request breaks the OpenAPI document) that names
/// exactly these fields.
async fn invalid(world: &World, case: &str, fields: &[&str], request: impl Future<Output = Response>) -> Response {
    rejected(world, case, "validation_failed", fields, request).await
}

/// `refused` for a 422 with this code (a schema-valid request a rule refuses), naming exactly
/// these fields.
async fn rejected(
    world: &World,
    case: &str,
    code: &str,
    fields: &[&str],
    request: impl Future<Output = Response>,
) -> Response {
    let res = refused(world, case, 422, code, request).await;
    assert_eq!(res.fields(), fields, "body: {}", res.text);
    res
}

/// Posts a decision as the leader member of the committee for `age`.
async fn decide(world: &World, meeting: &str, age: i32, body: &Value) -> Response {
    world.app.post(&decisions_path(meeting), &world.token(World::leader(age)), body).await
}

/// `body` with `key` set to `value` (or removed, for `Value::Null`).
fn with(mut body: Value, key: &str, value: Value) -> Value {
    let map = body.as_object_mut().unwrap();
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.to_string(), value);
    }
    body
}

/// An awaiting case on a new meeting's agenda: (case, meeting).
async fn awaiting_on_agenda(world: &World, age: i32) -> (String, String) {
    let case = world.awaiting(age).await;
    let meeting = world.meeting(age).await;
    world.on_agenda(&meeting, &case, age).await;
    (case, meeting)
}

/// An active case on the agenda of a second, new meeting: (case, new meeting).
async fn active_on_new_agenda(world: &World, age: i32) -> (String, String) {
    let (case, _) = world.active(age).await;
    let meeting = world.meeting(age).await;
    world.on_agenda(&meeting, &case, age).await;
    (case, meeting)
}

/// A decision of `kind` about an active case with a quorum and the citizen taking part.
fn decision(case: &str, age: i32, kind: &str) -> Value {
    json!({
        "case_id": case,
        "kind": kind,
        "members_present": World::quorum(age),
        "citizen_participation": {"took_part": true, "form": "meeting"}
    })
}

/// A second plan, different from `plan()`.
fn plan_two() -> Value {
    json!({
        "citizen_goals": "Et uddannelsesforløb.",
        "goals": [{"area": "education", "description": "Start at the production school"}],
        "interventions": [{"title": "Produktionsskole", "responsible_department": "youth", "status": "planned"}]
    })
}

/// The types of the case's events, oldest first.
async fn history(world: &World, case: &str) -> Vec<String> {
    let res = world.app.get(&format!("{}/history?limit=200", case_path(case)), &world.token(ADULT_LEADER_SOC)).await;
    let res = res.expect(200);
    res.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

fn occurrences(events: &[String], kind: &str) -> usize {
    events.iter().filter(|e| *e == kind).count()
}

fn messages(res: &Response) -> Vec<String> {
    res.body["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_string()).collect()
}

// ---- 1. Refusals of an initial decision ------------------------------------------------------

#[tokio::test]
async fn a_decision_needs_the_case_on_this_meetings_agenda() {
    let world = World::new().await;
    // On no agenda at all.
    let case = world.awaiting(ADULT).await;
    let meeting = world.meeting(ADULT).await;
    refused(&world, &case, 422, "not_on_agenda", decide(&world, &meeting, ADULT, &initial_decision(&case, ADULT)))
        .await;

    // On the agenda of another meeting of the same committee.
    let other = world.meeting(ADULT).await;
    world.on_agenda(&other, &case, ADULT).await;
    refused(&world, &case, 422, "not_on_agenda", decide(&world, &meeting, ADULT, &initial_decision(&case, ADULT)))
        .await;

    // At a meeting of the other committee, by a leader member of that committee who sees the case.
    let youth_meeting = world.meeting(YOUTH).await;
    let (path, token, body) =
        (decisions_path(&youth_meeting), world.token(YOUTH_LEADER_SOC), initial_decision(&case, ADULT));
    refused(&world, &case, 422, "not_on_agenda", world.app.post(&path, &token, &body)).await;

    // At the meeting whose agenda holds it, the same decision is taken.
    let res = decide(&world, &other, ADULT, &initial_decision(&case, ADULT)).await.expect(201);
    assert_eq!(res.body["meeting_id"], other.as_str());
}

#[tokio::test]
async fn quorum_needs_fixed_members_a_leader_and_all_three_departments() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    let body = |present: Value| with(initial_decision(&case, ADULT), "members_present", present);

    // No one from health care (the fixed staff member is away).
    let res = refused(
        &world,
        &case,
        422,
        "quorum_not_met",
        decide(&world, &meeting, ADULT, &body(json!([ADULT_LEADER_LM.sub, ADULT_LEADER_SOC.sub, ADULT_CW_SOC.sub]))),
    )
    .await;
    assert_eq!(res.fields(), ["members_present"], "body: {}", res.text);
    assert!(messages(&res)[0].contains("health_care"), "body: {}", res.text);

    // No leader: only caseworkers and the fixed staff member.
    let res = refused(
        &world,
        &case,
        422,
        "quorum_not_met",
        decide(&world, &meeting, ADULT, &body(json!([ADULT_CW_LM.sub, ADULT_CW_SOC.sub, ADULT_FIXED.sub]))),
    )
    .await;
    assert_eq!(res.fields(), ["members_present"], "body: {}", res.text);
    assert!(messages(&res)[0].contains("leader"), "body: {}", res.text);

    // Someone present who is not a fixed member: the referrer, or a member of the other committee.
    for stranger in [REFERRER.sub, YOUTH_LEADER_SOC.sub, YOUTH_CW_SOC.sub] {
        let present = json!([ADULT_LEADER_LM.sub, ADULT_CW_SOC.sub, ADULT_FIXED.sub, stranger]);
        let res = refused(&world, &case, 422, "quorum_not_met", decide(&world, &meeting, ADULT, &body(present))).await;
        assert_eq!(res.fields(), ["members_present[3]"], "{stranger}; body: {}", res.text);
    }

    // Nobody: no leader, and each of the three departments missing.
    let res = refused(&world, &case, 422, "quorum_not_met", decide(&world, &meeting, ADULT, &body(json!([])))).await;
    assert_eq!(res.fields(), ["members_present"; 4], "body: {}", res.text);

    // Several rules at once are all named: a stranger and no leader.
    let present = json!([ADULT_CW_LM.sub, ADULT_CW_SOC.sub, ADULT_FIXED.sub, REFERRER.sub]);
    let res = refused(&world, &case, 422, "quorum_not_met", decide(&world, &meeting, ADULT, &body(present))).await;
    assert_eq!(res.fields(), ["members_present[3]", "members_present"], "body: {}", res.text);

    // The youth committee's quorum is its own: the adult quorum does not count there.
    let (youth_case, youth_meeting) = awaiting_on_agenda(&world, YOUTH).await;
    let res = refused(
        &world,
        &youth_case,
        422,
        "quorum_not_met",
        decide(
            &world,
            &youth_meeting,
            YOUTH,
            &with(initial_decision(&youth_case, YOUTH), "members_present", World::quorum(ADULT)),
        ),
    )
    .await;
    assert!(res.fields().contains(&"members_present[0]".to_string()), "body: {}", res.text);

    // A quorate meeting decides: a leader, one from each department, duplicates ignored.
    let present = json!([ADULT_LEADER_SOC.sub, ADULT_CW_LM.sub, ADULT_FIXED.sub, ADULT_FIXED.sub]);
    let res = decide(&world, &meeting, ADULT, &body(present)).await.expect(201);
    assert_eq!(res.body["members_present"], json!([ADULT_LEADER_SOC.sub, ADULT_CW_LM.sub, ADULT_FIXED.sub]));
}

#[tokio::test]
async fn the_citizens_participation_is_recorded_either_way() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    let body = |participation: Value| with(initial_decision(&case, ADULT), "citizen_participation", participation);

    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["citizen_participation.form"],
        decide(&world, &meeting, ADULT, &body(json!({"took_part": true, "citizen_view": "fine"}))),
    )
    .await;
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["citizen_participation.reason_not"],
        decide(&world, &meeting, ADULT, &body(json!({"took_part": false}))),
    )
    .await;
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["citizen_participation.reason_not"],
        decide(&world, &meeting, ADULT, &body(json!({"took_part": false, "reason_not": "  \n "}))),
    )
    .await;
    // took_part itself is required.
    let res = refused(
        &world,
        &case,
        422,
        "validation_failed",
        decide(&world, &meeting, ADULT, &body(json!({"form": "phone"}))),
    )
    .await;
    assert_eq!(res.fields(), ["citizen_participation.took_part"], "body: {}", res.text);
}

#[tokio::test]
async fn an_initial_decision_is_the_whole_package() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    let full = initial_decision(&case, ADULT);

    // An empty plan.
    let mut no_goals = plan();
    no_goals["goals"] = json!([]);
    invalid(&world, &case, &["plan.goals"], decide(&world, &meeting, ADULT, &with(full.clone(), "plan", no_goals)))
        .await;
    let mut no_interventions = plan();
    no_interventions["interventions"] = json!([]);
    invalid(
        &world,
        &case,
        &["plan.interventions"],
        decide(&world, &meeting, ADULT, &with(full.clone(), "plan", no_interventions)),
    )
    .await;
    invalid(
        &world,
        &case,
        &["plan.goals", "plan.interventions"],
        decide(&world, &meeting, ADULT, &with(full.clone(), "plan", json!({"citizen_goals": "x"}))),
    )
    .await;

    // Each part of the package is required.
    for field in ["plan", "coordinator", "budget_frame_ore", "follow_up_on"] {
        rejected(
            &world,
            &case,
            "inconsistent_request",
            &[field],
            decide(&world, &meeting, ADULT, &with(full.clone(), field, Value::Null)),
        )
        .await;
    }

    // A closure reason is not part of an initial decision.
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["closure_reason"],
        decide(&world, &meeting, ADULT, &with(full.clone(), "closure_reason", json!("education"))),
    )
    .await;

    // An unknown field is refused, not dropped.
    invalid(
        &world,
        &case,
        &["budget_frame_kr"],
        decide(&world, &meeting, ADULT, &with(full.clone(), "budget_frame_kr", json!(50_000))),
    )
    .await;
    invalid(
        &world,
        &case,
        &["citizen_participation.mood"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(full.clone(), "citizen_participation", json!({"took_part": true, "form": "meeting", "mood": "ok"})),
        ),
    )
    .await;

    // A kind the API does not have.
    refused(
        &world,
        &case,
        422,
        "validation_failed",
        decide(&world, &meeting, ADULT, &with(full.clone(), "kind", json!("final"))),
    )
    .await;
}

#[tokio::test]
async fn the_frame_is_from_one_ore_to_the_maximum() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    // Below one øre the document itself refuses; above the municipality's maximum (which the
    // document cannot know: HELHED_MAX_FRAME_ORE) is its own refusal.
    for (frame, code) in [
        (0i64, "validation_failed"),
        (-1, "validation_failed"),
        (-5_000_000, "validation_failed"),
        (5_000_001, "frame_above_maximum"),
        (9_000_000_000, "frame_above_maximum"),
        (100_000_000_001, "validation_failed"),
    ] {
        rejected(
            &world,
            &case,
            code,
            &["budget_frame_ore"],
            decide(&world, &meeting, ADULT, &with(initial_decision(&case, ADULT), "budget_frame_ore", json!(frame))),
        )
        .await;
    }
    // A fraction of an øre is no amount of money.
    refused(
        &world,
        &case,
        422,
        "validation_failed",
        decide(&world, &meeting, ADULT, &with(initial_decision(&case, ADULT), "budget_frame_ore", json!(100.5))),
    )
    .await;

    for frame in [5_000_000, 1] {
        let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
        let res =
            decide(&world, &meeting, ADULT, &with(initial_decision(&case, ADULT), "budget_frame_ore", json!(frame)))
                .await
                .expect(201);
        assert_eq!(res.body["budget_frame_ore"], frame);
        let view = snapshot(&world, &case).await.case;
        assert_eq!(view["budget"], json!({"frame_ore": frame, "spent_ore": 0, "remaining_ore": frame}));
    }
}

#[tokio::test]
async fn the_follow_up_lies_after_the_meeting() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    // The meeting is tomorrow: yesterday, today and tomorrow itself are all too early.
    for days in [-1, 0, 1] {
        rejected(
            &world,
            &case,
            "date_not_allowed",
            &["follow_up_on"],
            decide(&world, &meeting, ADULT, &with(initial_decision(&case, ADULT), "follow_up_on", json!(date(days)))),
        )
        .await;
    }
    refused(
        &world,
        &case,
        422,
        "validation_failed",
        decide(&world, &meeting, ADULT, &with(initial_decision(&case, ADULT), "follow_up_on", json!("2027-02-30"))),
    )
    .await;
    // The day after the meeting is the first possible follow-up.
    let res = decide(&world, &meeting, ADULT, &with(initial_decision(&case, ADULT), "follow_up_on", json!(date(2))))
        .await
        .expect(201);
    assert_eq!(res.body["follow_up_on"], date(2));
    assert_eq!(snapshot(&world, &case).await.case["follow_up_on"], date(2));
}

#[tokio::test]
async fn only_a_leader_member_of_the_committee_records_a_decision() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    let body = initial_decision(&case, ADULT);

    // The other committee's leader from social sees the case (social is on both committees)...
    world.app.get(&case_path(&case), &world.token(YOUTH_LEADER_SOC)).await.expect(200);
    // ...and a labour-market leader on no committee sees it by involvement; neither decides.
    world.app.get(&case_path(&case), &world.token(LM_LEADER)).await.expect(200);
    for who in [ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED, YOUTH_LEADER_SOC, YOUTH_LEADER_Y, LM_LEADER, ADMIN, REFERRER] {
        refused(&world, &case, 403, "forbidden", world.app.post(&decisions_path(&meeting), &world.token(who), &body))
            .await;
    }
    // The leader member's sub speaking for another department is another person.
    let elsewhere = Person { sub: ADULT_LEADER_LM.sub, dept: "youth", roles: &["leader"] };
    refused(&world, &case, 403, "forbidden", world.app.post(&decisions_path(&meeting), &world.token(elsewhere), &body))
        .await;

    // Both leader members may record it.
    let res = world.app.post(&decisions_path(&meeting), &world.token(ADULT_LEADER_SOC), &body).await.expect(201);
    assert_eq!(res.body["recorded_by"]["sub"], ADULT_LEADER_SOC.sub);
    assert_eq!(res.body["recorded_by"]["department"], ADULT_LEADER_SOC.dept);
}

#[tokio::test]
async fn a_second_initial_decision_is_an_invalid_transition() {
    let world = World::new().await;
    let (case, meeting) = world.active(ADULT).await;
    let again = with(initial_decision(&case, ADULT), "budget_frame_ore", json!(1_000_000));
    refused(&world, &case, 409, "invalid_transition", decide(&world, &meeting, ADULT, &again)).await;
    // Nor at a new meeting.
    let next = world.meeting(ADULT).await;
    world.on_agenda(&next, &case, ADULT).await;
    refused(&world, &case, 409, "invalid_transition", decide(&world, &next, ADULT, &again)).await;
    assert_eq!(snapshot(&world, &case).await.case["budget"]["frame_ore"], 5_000_000);
}

#[tokio::test]
async fn a_case_that_is_not_awaiting_or_active_goes_on_no_agenda_and_gets_no_decision() {
    let world = World::new().await;
    let meeting = world.meeting(ADULT).await;
    let leader = world.token(World::leader(ADULT));

    // Referred, not yet screened.
    let referred = world.referred(ADULT).await;
    refused(
        &world,
        &referred,
        409,
        "invalid_transition",
        world.app.post(&agenda_path(&meeting), &leader, &json!({"case_id": referred})),
    )
    .await;
    // It is on no agenda, so no decision can be taken about it.
    refused(
        &world,
        &referred,
        422,
        "not_on_agenda",
        decide(&world, &meeting, ADULT, &initial_decision(&referred, ADULT)),
    )
    .await;
    assert_eq!(snapshot(&world, &referred).await.case["status"], "referred");

    // Declined at screening.
    let declined = world.referred(ADULT).await;
    world
        .app
        .post(
            &format!("{}/screening", case_path(&declined)),
            &world.token(ADULT_LEADER_SOC),
            &json!({"outcome": "declined", "reason": "not_complex_enough"}),
        )
        .await
        .expect(200);
    refused(
        &world,
        &declined,
        409,
        "invalid_transition",
        world.app.post(&agenda_path(&meeting), &leader, &json!({"case_id": declined})),
    )
    .await;
}

#[tokio::test]
async fn agenda_rules() {
    let world = World::new().await;
    let meeting = world.meeting(ADULT).await;
    let leader = world.token(World::leader(ADULT));

    // A case of the youth track on an adult meeting (the leader sees it by involvement: the
    // referral involves labour_market, and the citizen's data_sharing consent names it).
    let youth_case = world.awaiting(YOUTH).await;
    world.data_sharing(&youth_case, YOUTH, &["labour_market"]).await;
    world.app.get(&case_path(&youth_case), &leader).await.expect(200);
    let res = refused(
        &world,
        &youth_case,
        422,
        "inconsistent_request",
        world.app.post(&agenda_path(&meeting), &leader, &json!({"case_id": youth_case})),
    )
    .await;
    assert_eq!(res.fields(), ["case_id"], "body: {}", res.text);

    // The same case twice on one agenda.
    let case = world.awaiting(ADULT).await;
    world.on_agenda(&meeting, &case, ADULT).await;
    refused(&world, &case, 409, "conflict", world.app.post(&agenda_path(&meeting), &leader, &json!({"case_id": case})))
        .await;

    // Only an admin or a leader member organises the agenda.
    for who in [OUTSIDER, REFERRER, ADULT_CW_LM, ADULT_FIXED, YOUTH_LEADER_SOC, LM_LEADER] {
        let other = world.awaiting(ADULT).await;
        refused(
            &world,
            &other,
            403,
            "forbidden",
            world.app.post(&agenda_path(&meeting), &world.token(who), &json!({"case_id": other})),
        )
        .await;
    }

    // A case of the right track goes on another meeting of the committee too.
    let next = world.meeting(ADULT).await;
    world.on_agenda(&next, &case, ADULT).await;
}

// ---- 2. Acceptance ---------------------------------------------------------------------------

#[tokio::test]
async fn an_initial_decision_makes_the_case_active_with_its_package() {
    let world = World::new().await;
    let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
    let follow_up = date(45);
    let body = json!({
        "case_id": case,
        "kind": "initial",
        "members_present": World::quorum(ADULT),
        "citizen_participation": {"took_part": false, "reason_not": "Admitted to hospital this week"},
        "plan": plan(),
        "coordinator": {"sub": COORDINATOR.sub, "name": "Cora Koordinator", "department": COORDINATOR.dept},
        "budget_frame_ore": 3_500_000,
        "follow_up_on": follow_up,
        "background_group": [{"sub": "bo", "name": "Bo", "department": "social", "side": "provider"}],
        "note": "Start with housing."
    });
    let leader = World::leader(ADULT);
    let res = decide(&world, &meeting, ADULT, &body).await.expect(201);
    let d = &res.body;
    assert!(d["id"].is_string());
    assert_eq!(d["kind"], "initial");
    assert_eq!(d["case_id"], case.as_str());
    assert_eq!(d["meeting_id"], meeting.as_str());
    assert_eq!(d["members_present"], World::quorum(ADULT));
    assert_eq!(d["citizen_participation"]["took_part"], false);
    assert_eq!(d["citizen_participation"]["reason_not"], "Admitted to hospital this week");
    assert_eq!(d["plan_version"], 1);
    assert_eq!(
        d["coordinator"],
        json!({"sub": COORDINATOR.sub, "name": "Cora Koordinator", "department": COORDINATOR.dept})
    );
    assert_eq!(d["budget_frame_ore"], 3_500_000);
    assert_eq!(d["follow_up_on"], follow_up);
    assert_eq!(d["background_group"], body["background_group"]);
    assert_eq!(d["note"], "Start with housing.");
    assert_eq!(d["recorded_by"]["sub"], leader.sub);
    assert_eq!(d["recorded_by"]["department"], leader.dept);
    assert!(d["recorded_at"].is_string());

    // The decision is stored with the participation as recorded.
    assert_eq!(
        world.app.count(&format!(
            "SELECT count(*) FROM decisions WHERE case_id = '{case}' AND kind = 'initial' AND NOT took_part \
             AND reason_not = 'Admitted to hospital this week' AND participation_form IS NULL"
        )),
        1
    );

    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["status"], "active");
    assert_eq!(view["coordinator"], d["coordinator"]);
    assert_eq!(view["budget"], json!({"frame_ore": 3_500_000, "spent_ore": 0, "remaining_ore": 3_500_000}));
    assert_eq!(view["follow_up_on"], follow_up);
    assert_eq!(view["background_group"], body["background_group"]);
    assert_eq!(view["plan"]["version"], 1);
    assert_eq!(view["plan"]["kind"], "indsatsplan");

    let events = history(&world, &case).await;
    for kind in ["decision.recorded", "plan.adopted", "coordinator.changed"] {
        assert_eq!(occurrences(&events, kind), 1, "{kind} in {events:?}");
    }

    // The coordinator and the background group now take part in the case.
    world.app.get(&case_path(&case), &world.token(COORDINATOR)).await.expect(200);
    let bo = Person { sub: "bo", dept: "social", roles: &["caseworker"] };
    world.app.get(&case_path(&case), &world.token(bo)).await.expect(200);

    // The minutes carry the decision.
    let minutes = world.app.get(&format!("/api/v1/meetings/{meeting}/minutes"), &world.token(leader)).await.expect(200);
    assert_eq!(minutes.body["items"][0]["decision"]["id"], d["id"]);
}

// ---- 3. Revision -----------------------------------------------------------------------------

#[tokio::test]
async fn a_revision_adopts_a_new_plan_version_and_keeps_the_old_one() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    let coordinator = world.token(COORDINATOR);
    let v1 = world.app.get(&format!("{}/plan", case_path(&case)), &coordinator).await.expect(200).body;

    let res = decide(&world, &meeting, ADULT, &with(decision(&case, ADULT, "revision"), "plan", plan_two()))
        .await
        .expect(201);
    assert_eq!(res.body["kind"], "revision");
    assert_eq!(res.body["plan_version"], 2);
    assert!(res.body["coordinator"].is_null());

    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["plan"]["version"], 2);
    assert_eq!(view["status"], "active");
    assert_eq!(view["coordinator"]["sub"], COORDINATOR.sub, "a plan revision keeps the coordinator");
    assert_eq!(view["budget"]["frame_ore"], 5_000_000);

    let current = world.app.get(&format!("{}/plan", case_path(&case)), &coordinator).await.expect(200).body;
    assert_eq!(current["version"], 2);
    assert_eq!(current["current"], true);
    assert_eq!(current["goals"][0]["description"], "Start at the production school");
    assert_eq!(current["decision_id"], res.body["id"]);

    let old = world.app.get(&format!("{}/plan/versions/1", case_path(&case)), &coordinator).await.expect(200).body;
    assert_eq!(old["version"], 1);
    assert_eq!(old["current"], false);
    assert_eq!(old["goals"], v1["goals"]);
    assert_eq!(old["interventions"], v1["interventions"]);

    let all = world.app.get(&format!("{}/plan/versions", case_path(&case)), &coordinator).await.expect(200).body;
    let versions: Vec<(i64, bool)> = all
        .as_array()
        .expect("a list of versions")
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(versions, [(1, false), (2, true)]);
    world.app.get(&format!("{}/plan/versions/3", case_path(&case)), &coordinator).await.problem(404, "not_found");

    let events = history(&world, &case).await;
    assert_eq!(occurrences(&events, "plan.adopted"), 2, "{events:?}");
    assert_eq!(occurrences(&events, "decision.recorded"), 2, "{events:?}");
    assert_eq!(occurrences(&events, "coordinator.changed"), 1, "{events:?}");

    // An empty plan in a revision is refused like in an initial decision.
    invalid(
        &world,
        &case,
        &["plan.goals"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(decision(&case, ADULT, "revision"), "plan", json!({"interventions": plan_two()["interventions"]})),
        ),
    )
    .await;
}

#[tokio::test]
async fn a_revision_sets_no_frame_below_what_is_spent() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    world.app.conn().batch_execute(&format!("UPDATE cases SET spent_ore = 3000000 WHERE id = '{case}'")).unwrap();

    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["budget_frame_ore"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(decision(&case, ADULT, "revision"), "budget_frame_ore", json!(2_000_000)),
        ),
    )
    .await;
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["budget_frame_ore"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(decision(&case, ADULT, "revision"), "budget_frame_ore", json!(2_999_999)),
        ),
    )
    .await;
    rejected(
        &world,
        &case,
        "frame_above_maximum",
        &["budget_frame_ore"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(decision(&case, ADULT, "revision"), "budget_frame_ore", json!(5_000_001)),
        ),
    )
    .await;

    let res = decide(
        &world,
        &meeting,
        ADULT,
        &with(decision(&case, ADULT, "revision"), "budget_frame_ore", json!(3_000_000)),
    )
    .await
    .expect(201);
    assert_eq!(res.body["budget_frame_ore"], 3_000_000);
    assert!(res.body["plan_version"].is_null());
    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["budget"], json!({"frame_ore": 3_000_000, "spent_ore": 3_000_000, "remaining_ore": 0}));
    assert_eq!(view["plan"]["version"], 1, "a frame revision adopts no plan");
}

#[tokio::test]
async fn a_revision_changes_something_and_closes_nothing() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    let res = rejected(
        &world,
        &case,
        "inconsistent_request",
        &["body"],
        decide(&world, &meeting, ADULT, &decision(&case, ADULT, "revision")),
    )
    .await;
    assert!(messages(&res)[0].contains("at least one"), "body: {}", res.text);
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["closure_reason"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(decision(&case, ADULT, "revision"), "closure_reason", json!("education")),
        ),
    )
    .await;
    rejected(
        &world,
        &case,
        "date_not_allowed",
        &["follow_up_on"],
        decide(&world, &meeting, ADULT, &with(decision(&case, ADULT, "revision"), "follow_up_on", json!(date(1)))),
    )
    .await;

    // A revision needs an active case: an awaiting one gets its initial decision first.
    let (awaiting, meeting2) = awaiting_on_agenda(&world, ADULT).await;
    refused(
        &world,
        &awaiting,
        409,
        "invalid_transition",
        decide(&world, &meeting2, ADULT, &with(decision(&awaiting, ADULT, "revision"), "plan", plan_two())),
    )
    .await;

    // A new follow-up date and background group alone is a revision.
    let group = json!([{"sub": "hanne", "name": "Hanne", "department": "health_care", "side": "authority"}]);
    let body = with(
        with(decision(&case, ADULT, "revision"), "follow_up_on", json!(date(20))),
        "background_group",
        group.clone(),
    );
    decide(&world, &meeting, ADULT, &body).await.expect(201);
    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["follow_up_on"], date(20));
    assert_eq!(view["background_group"], group);
}

// ---- 4. A change of coordinator ---------------------------------------------------------------

fn intervention() -> Value {
    json!({"title": "Transport til praktik", "responsible_department": "social"})
}

fn participation_note() -> Value {
    json!({"on": date(0), "form": "phone", "citizen_view": "Going well."})
}

fn new_coordinator() -> Value {
    json!({"sub": NEW_COORDINATOR.sub, "name": "Nils Ny", "department": NEW_COORDINATOR.dept})
}

#[tokio::test]
async fn a_change_of_coordinator_moves_every_permission_at_once() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    let (old, new) = (world.token(COORDINATOR), world.token(NEW_COORDINATOR));
    let interventions = format!("{}/plan/interventions", case_path(&case));
    let participation = format!("{}/participation", case_path(&case));

    // Before: the coordinator adjusts the plan; the caseworker-to-be does not see the case.
    world.app.post(&interventions, &old, &intervention()).await.expect(201);
    world.app.get(&case_path(&case), &new).await.problem(404, "not_found");
    refused(&world, &case, 404, "not_found", world.app.post(&interventions, &new, &intervention())).await;

    let res =
        decide(&world, &meeting, ADULT, &with(decision(&case, ADULT, "revision"), "coordinator", new_coordinator()))
            .await
            .expect(201);
    assert_eq!(res.body["coordinator"], new_coordinator());
    assert!(res.body["plan_version"].is_null());

    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["coordinator"], new_coordinator());
    let events = history(&world, &case).await;
    assert_eq!(occurrences(&events, "coordinator.changed"), 2, "{events:?}");

    // The old coordinator no longer takes part (a labour-market caseworker on no committee):
    // the case and everything under it is 404 to them (api.md, "Who may see and do what").
    world.app.get(&case_path(&case), &old).await.problem(404, "not_found");
    refused(&world, &case, 404, "not_found", world.app.post(&interventions, &old, &intervention())).await;
    refused(&world, &case, 404, "not_found", world.app.post(&participation, &old, &participation_note())).await;

    // The new coordinator has every permission at once.
    world.app.get(&case_path(&case), &new).await.expect(200);
    world.app.post(&interventions, &new, &intervention()).await.expect(201);
    world.app.post(&participation, &new, &participation_note()).await.expect(201);
}

#[tokio::test]
async fn an_old_coordinator_who_still_takes_part_is_forbidden_to_coordinate() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    let (old, new) = (world.token(COORDINATOR), world.token(NEW_COORDINATOR));
    let interventions = format!("{}/plan/interventions", case_path(&case));
    let participation = format!("{}/participation", case_path(&case));

    // The committee hands over to a new coordinator and keeps the old one in the background group.
    let group = json!([{"sub": COORDINATOR.sub, "name": "Cora", "department": COORDINATOR.dept, "side": "authority"}]);
    let body =
        with(with(decision(&case, ADULT, "revision"), "coordinator", new_coordinator()), "background_group", group);
    decide(&world, &meeting, ADULT, &body).await.expect(201);

    // Cora still sees the case, but no longer coordinates it: 403 on what only a coordinator does.
    world.app.get(&case_path(&case), &old).await.expect(200);
    refused(&world, &case, 403, "forbidden", world.app.post(&interventions, &old, &intervention())).await;
    refused(&world, &case, 403, "forbidden", world.app.post(&participation, &old, &participation_note())).await;
    let plan = world.app.get(&format!("{}/plan", case_path(&case)), &old).await.expect(200).body;
    let iid = plan["interventions"][0]["id"].as_str().unwrap().to_string();
    refused(
        &world,
        &case,
        403,
        "forbidden",
        world.app.patch(&format!("{interventions}/{iid}"), &old, &json!({"status": "completed"})),
    )
    .await;

    world.app.post(&interventions, &new, &intervention()).await.expect(201);
    world.app.post(&participation, &new, &participation_note()).await.expect(201);
    world.app.patch(&format!("{interventions}/{iid}"), &new, &json!({"status": "completed"})).await.expect(200);
}

// ---- 5. Follow-up ----------------------------------------------------------------------------

#[tokio::test]
async fn a_follow_up_sets_the_next_follow_up_date() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;

    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["follow_up_on"],
        decide(&world, &meeting, ADULT, &decision(&case, ADULT, "follow_up")),
    )
    .await;
    let with_date = with(decision(&case, ADULT, "follow_up"), "follow_up_on", json!(date(90)));
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["plan"],
        decide(&world, &meeting, ADULT, &with(with_date.clone(), "plan", plan_two())),
    )
    .await;
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["budget_frame_ore"],
        decide(&world, &meeting, ADULT, &with(with_date.clone(), "budget_frame_ore", json!(1_000_000))),
    )
    .await;
    rejected(
        &world,
        &case,
        "date_not_allowed",
        &["follow_up_on"],
        decide(&world, &meeting, ADULT, &with(with_date.clone(), "follow_up_on", json!(date(-3)))),
    )
    .await;

    let res = decide(&world, &meeting, ADULT, &with_date).await.expect(201);
    assert_eq!(res.body["kind"], "follow_up");
    assert_eq!(res.body["follow_up_on"], date(90));
    assert!(res.body["plan_version"].is_null());
    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["follow_up_on"], date(90));
    assert_eq!(view["status"], "active");
    assert_eq!(view["plan"]["version"], 1);
    assert_eq!(view["coordinator"]["sub"], COORDINATOR.sub);
    assert_eq!(occurrences(&history(&world, &case).await, "decision.recorded"), 2);
}

// ---- 6. Closure ------------------------------------------------------------------------------

#[tokio::test]
async fn a_closure_decision_closes_the_case_for_good() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    let coordinator = world.token(COORDINATOR);
    let plan = world.app.get(&format!("{}/plan", case_path(&case)), &coordinator).await.expect(200).body;
    let iid = plan["interventions"][0]["id"].as_str().unwrap().to_string();

    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["closure_reason"],
        decide(&world, &meeting, ADULT, &decision(&case, ADULT, "closure")),
    )
    .await;
    rejected(
        &world,
        &case,
        "inconsistent_request",
        &["follow_up_on"],
        decide(
            &world,
            &meeting,
            ADULT,
            &with(
                with(decision(&case, ADULT, "closure"), "closure_reason", json!("employment")),
                "follow_up_on",
                json!(date(30)),
            ),
        ),
    )
    .await;

    let res = decide(
        &world,
        &meeting,
        ADULT,
        &with(decision(&case, ADULT, "closure"), "closure_reason", json!("employment")),
    )
    .await
    .expect(201);
    assert_eq!(res.body["kind"], "closure");
    assert_eq!(res.body["closure_reason"], "employment");
    let view = snapshot(&world, &case).await.case;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["closure_reason"], "employment");
    assert!(view["closed_at"].is_string());
    let events = history(&world, &case).await;
    assert_eq!(occurrences(&events, "case.closed"), 1, "{events:?}");

    // No further decision of any kind, at the meeting whose agenda still holds the case.
    let kinds = [
        with(decision(&case, ADULT, "revision"), "plan", plan_two()),
        with(decision(&case, ADULT, "follow_up"), "follow_up_on", json!(date(30))),
        with(decision(&case, ADULT, "closure"), "closure_reason", json!("moved")),
        initial_decision(&case, ADULT),
    ];
    for body in &kinds {
        refused(&world, &case, 409, "invalid_transition", decide(&world, &meeting, ADULT, body)).await;
    }
    // A closed case goes on no new agenda.
    let next = world.meeting(ADULT).await;
    refused(
        &world,
        &case,
        409,
        "invalid_transition",
        world.app.post(&agenda_path(&next), &world.token(World::leader(ADULT)), &json!({"case_id": case})),
    )
    .await;
    // Nor is it closed again, by its coordinator or a leader member.
    for who in [COORDINATOR, ADULT_LEADER_SOC] {
        refused(
            &world,
            &case,
            409,
            "invalid_transition",
            world.app.post(&format!("{}/closure", case_path(&case)), &world.token(who), &json!({"reason": "other"})),
        )
        .await;
    }
    // The coordinator adjusts nothing any more.
    let interventions = format!("{}/plan/interventions", case_path(&case));
    refused(&world, &case, 409, "invalid_transition", world.app.post(&interventions, &coordinator, &intervention()))
        .await;
    refused(
        &world,
        &case,
        409,
        "invalid_transition",
        world.app.patch(&format!("{interventions}/{iid}"), &coordinator, &json!({"status": "completed"})),
    )
    .await;
    refused(
        &world,
        &case,
        409,
        "invalid_transition",
        world.app.post(&format!("{}/participation", case_path(&case)), &coordinator, &participation_note()),
    )
    .await;
}

// ---- 7. Immutability -------------------------------------------------------------------------

#[tokio::test]
async fn decisions_and_plan_versions_cannot_be_changed_even_by_the_apps_own_role() {
    let world = World::new().await;
    let (case, meeting) = active_on_new_agenda(&world, ADULT).await;
    decide(&world, &meeting, ADULT, &with(decision(&case, ADULT, "revision"), "plan", plan_two())).await.expect(201);
    world
        .app
        .post(&format!("{}/plan/interventions", case_path(&case)), &world.token(COORDINATOR), &intervention())
        .await
        .expect(201);
    let before = snapshot(&world, &case).await;
    let plan_v1 = world.app.get(&format!("{}/plan/versions/1", case_path(&case)), &world.token(COORDINATOR)).await;
    assert_eq!(before.counts.iter().find(|(t, _)| *t == "decisions").unwrap().1, 2);

    for statement in [
        "UPDATE decisions SET note = 'x'".to_string(),
        "UPDATE decisions SET budget_frame_ore = 1".to_string(),
        format!("DELETE FROM decisions WHERE case_id = '{case}'"),
        "DELETE FROM decisions".to_string(),
        "UPDATE plan_versions SET citizen_goals = 'x'".to_string(),
        "UPDATE plan_versions SET goals = '[]'".to_string(),
        "DELETE FROM plan_versions".to_string(),
        "UPDATE plan_amendments SET note = 'x'".to_string(),
        "DELETE FROM plan_amendments".to_string(),
    ] {
        let result = world.app.conn().batch_execute(&statement);
        assert!(result.is_err(), "the app role could run: {statement}");
    }

    assert_eq!(world.app.count("SELECT count(*) FROM decisions WHERE note IS NOT NULL"), 0);
    assert_eq!(snapshot(&world, &case).await, before);
    let again = world.app.get(&format!("{}/plan/versions/1", case_path(&case)), &world.token(COORDINATOR)).await;
    assert_eq!(plan_v1.body, again.body);
}

// ---- 8. Two initial decisions racing ---------------------------------------------------------

#[tokio::test]
async fn two_concurrent_initial_decisions_make_one() {
    let world = World::new().await;
    for _ in 0..3 {
        let (case, meeting) = awaiting_on_agenda(&world, ADULT).await;
        let a = with(initial_decision(&case, ADULT), "budget_frame_ore", json!(1_000_000));
        let b = with(initial_decision(&case, ADULT), "budget_frame_ore", json!(2_000_000));
        let (ra, rb) = tokio::join!(decide(&world, &meeting, ADULT, &a), decide(&world, &meeting, ADULT, &b));
        let (winner, loser, frame) = match (ra.status.as_u16(), rb.status.as_u16()) {
            (201, _) => (ra, rb, 1_000_000),
            (_, 201) => (rb, ra, 2_000_000),
            _ => panic!("neither decision was recorded: {} / {}", ra.text, rb.text),
        };
        loser.problem(409, "invalid_transition");
        assert_eq!(winner.body["budget_frame_ore"], frame);
        assert_eq!(world.app.count(&format!("SELECT count(*) FROM decisions WHERE case_id = '{case}'")), 1);
        assert_eq!(world.app.count(&format!("SELECT count(*) FROM plan_versions WHERE case_id = '{case}'")), 1);
        let view = snapshot(&world, &case).await.case;
        assert_eq!(view["status"], "active");
        assert_eq!(view["budget"]["frame_ore"], frame);
        assert_eq!(view["plan"]["version"], 1);
        let events = history(&world, &case).await;
        assert_eq!(occurrences(&events, "decision.recorded"), 1, "{events:?}");
        assert_eq!(occurrences(&events, "plan.adopted"), 1, "{events:?}");
    }
}

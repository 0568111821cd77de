mod common;

// Plans, the coordinator's minor adjustments, participation notes, closure, follow-ups,
// meetings and their agendas, and the minutes — over HTTP, against the contract in
// `api.md` and the rules in `domain.md` (steps 3–5). Every refusal is checked to change nothing.

use chrono::{Duration, NaiveDate, Utc};
use common::world::{
    cpr_for_age, initial_decision, referral, Person, World, ADMIN, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED,
    ADULT_LEADER_LM, ADULT_LEADER_SOC, AUDITOR, COORDINATOR, OUTSIDER, REFERRER, YOUTH_LEADER_SOC, YOUTH_LEADER_Y,
};
use common::{Response, TestApp};
use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// A social caseworker who takes part in nothing until she presents a case at a meeting.
const PIA: Person = Person { sub: "pia", dept: "social", roles: &["caseworker"] };
/// An admin who also refers cases as a caseworker: takes part in the cases they referred only.
const ADMIN_REFERRER: Person = Person { sub: "adam", dept: "social", roles: &["admin", "caseworker"] };

const AMENDMENTS: &str = "SELECT count(*) FROM plan_amendments";
const NOTES: &str = "SELECT count(*) FROM participation_notes";
const MEETINGS: &str = "SELECT count(*) FROM meetings";

fn case_path(id: &str) -> String {
    format!("/api/v1/cases/{id}")
}

fn plan_path(id: &str) -> String {
    format!("/api/v1/cases/{id}/plan")
}

fn interventions_path(id: &str) -> String {
    format!("/api/v1/cases/{id}/plan/interventions")
}

fn intervention_path(id: &str, iid: &str) -> String {
    format!("/api/v1/cases/{id}/plan/interventions/{iid}")
}

fn participation_path(id: &str) -> String {
    format!("/api/v1/cases/{id}/participation")
}

fn closure_path(id: &str) -> String {
    format!("/api/v1/cases/{id}/closure")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).format("%Y-%m-%d").to_string()
}

/// A request with extra headers.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Response {
    let mut req = app.client.request(method, format!("{}{}", app.base, path)).bearer_auth(token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    TestApp::read(req.send().await.expect("request sent")).await
}

fn items(res: &Response) -> &Vec<Value> {
    res.body["items"].as_array().unwrap_or_else(|| panic!("an items array: {}", res.text))
}

fn array(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("an array: {v}"))
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| Uuid::parse_str(s).is_ok())
}

/// Whether a JSON value has a key `key` anywhere inside it.
fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, v)| k == key || has_key(v, key)),
        Value::Array(items) => items.iter().any(|v| has_key(v, key)),
        _ => false,
    }
}

/// Asserts that neither form of the CPR number (`DDMMYYSSSS`, `DDMMYY-SSSS`) is in a text.
fn assert_no_cpr(text: &str, cpr: &str) {
    let dashed = format!("{}-{}", &cpr[..6], &cpr[6..]);
    assert!(!text.contains(cpr), "the CPR number {cpr} leaked: {text}");
    assert!(!text.contains(&dashed), "the CPR number {dashed} leaked: {text}");
}

/// A citizen registered with a known CPR number and name, referred by `referrer` and accepted
/// by a leader of the adult (age ≥ 30) or youth committee. Returns (case id, citizen id, CPR).
async fn named_awaiting(world: &World, age: i32, name: &str, referrer: Person) -> (String, String, String) {
    let app = &world.app;
    let cpr = cpr_for_age(age, 20);
    let citizen =
        app.post("/api/v1/citizens", &world.token(referrer), &json!({"cpr": cpr, "name": name})).await.expect(201).id();
    let mut body = referral(&citizen);
    if age < 18 {
        body["under_18_justification"] = json!("individual professional assessment");
    }
    let case = app.post("/api/v1/cases", &world.token(referrer), &body).await.expect(201).id();
    let leader = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
    app.post(&format!("/api/v1/cases/{case}/screening"), &world.token(leader), &json!({"outcome": "accepted"}))
        .await
        .expect(200);
    world.plan_consents(&case, age).await;
    (case, citizen, cpr)
}

/// Records the initial decision of a case on a meeting's agenda; returns the decision.
async fn decide_initial(world: &World, meeting: &str, case: &str, age: i32) -> Value {
    world
        .app
        .post(
            &format!("/api/v1/meetings/{meeting}/decisions"),
            &world.token(World::leader(age)),
            &initial_decision(case, age),
        )
        .await
        .expect(201)
        .body
}

async fn current_plan(world: &World, case: &str) -> Value {
    world.app.get(&plan_path(case), &world.token(COORDINATOR)).await.expect(200).body
}

fn new_intervention() -> Value {
    json!({
        "title": "Befordring til praktik",
        "responsible_department": "labour_market",
        "start_on": day(0),
        "cost_estimate_ore": 120000,
        "note": "Buskort, så praktikken kan begynde"
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Plans
// ---------------------------------------------------------------------------------------------

// api.md, Plans: `ungeplan` for youth, `indsatsplan` for adults; version, citizen_goals, goals and
// interventions with ids the server assigns, default status `planned`, statutory_plans.
#[tokio::test]
async fn the_first_decision_adopts_plan_version_one_of_the_tracks_kind() {
    let world = World::new().await;
    let app = &world.app;
    for (age, kind) in [(22, "ungeplan"), (45, "indsatsplan")] {
        let (case, _) = world.active(age).await;
        let plan = app.get(&plan_path(&case), &world.token(COORDINATOR)).await.expect(200).body;
        assert_eq!(plan["version"], 1, "{plan}");
        assert_eq!(plan["kind"], kind, "{plan}");
        assert_eq!(plan["current"], true, "{plan}");
        assert!(is_uuid(&plan["decision_id"]), "{plan}");
        assert!(plan["adopted_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{plan}");
        assert_eq!(plan["citizen_goals"], "Min egen lejlighed og et job.");

        let goals = array(&plan["goals"]);
        assert_eq!(goals.len(), 2, "{plan}");
        assert!(goals.iter().all(|g| is_uuid(&g["id"])), "every goal gets an id: {plan}");
        assert_ne!(goals[0]["id"], goals[1]["id"]);
        assert_eq!(goals[0]["area"], "housing");
        assert_eq!(goals[0]["description"], "Own flat within a year");
        assert_eq!(goals[0]["target_date"], "2027-12-31");
        assert_eq!(goals[1]["area"], "employment");
        assert_eq!(goals[1]["target_date"], Value::Null);

        let interventions = array(&plan["interventions"]);
        assert_eq!(interventions.len(), 2, "{plan}");
        assert!(interventions.iter().all(|i| is_uuid(&i["id"])), "every intervention gets an id: {plan}");
        assert_ne!(interventions[0]["id"], interventions[1]["id"]);
        assert_eq!(interventions[0]["title"], "Bostøtte");
        assert_eq!(interventions[0]["status"], "active");
        assert_eq!(interventions[0]["responsible_department"], "social");
        assert_eq!(interventions[0]["cost_estimate_ore"], 1_500_000);
        assert_eq!(interventions[1]["title"], "Mentor");
        assert_eq!(interventions[1]["status"], "planned", "the default status: {plan}");
        assert_eq!(interventions[1]["responsible_department"], "labour_market");

        assert_eq!(
            plan["statutory_plans"],
            json!([{"department": "labour_market", "system": "Momentum", "reference": "JP-123"}])
        );
        assert_eq!(array(&plan["amendments"]).len(), 0);

        // The case view names the current version; the versions list and version 1 agree.
        let view = app.get(&case_path(&case), &world.token(COORDINATOR)).await.expect(200).body;
        assert_eq!(view["plan"]["version"], 1);
        assert_eq!(view["plan"]["kind"], kind);
        let versions = app.get(&format!("{}/versions", plan_path(&case)), &world.token(COORDINATOR)).await.expect(200);
        let versions = array(&versions.body);
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0]["version"], 1);
        assert_eq!(versions[0]["goals"], plan["goals"]);
        let v1 = app.get(&format!("{}/versions/1", plan_path(&case)), &world.token(COORDINATOR)).await.expect(200);
        assert_eq!(v1.body["interventions"], plan["interventions"]);
        assert_eq!(v1.body["goals"], plan["goals"]);
        // Members of the committee read it too.
        app.get(&plan_path(&case), &world.token(World::leader(age))).await.expect(200);
    }
}

// api.md, Plans / Who may see: no plan before the first decision (404, though the case is
// visible); an outsider gets 404 for everything under the case; unknown versions are 404.
#[tokio::test]
async fn plans_that_do_not_exist_or_are_not_yours_are_404() {
    let world = World::new().await;
    let app = &world.app;
    let awaiting = world.awaiting(45).await;
    let leader = world.token(ADULT_LEADER_LM);
    app.get(&case_path(&awaiting), &leader).await.expect(200);
    app.get(&plan_path(&awaiting), &leader).await.problem(404, "not_found");
    let versions = app.get(&format!("{}/versions", plan_path(&awaiting)), &leader).await.expect(200);
    assert_eq!(array(&versions.body).len(), 0, "no versions yet");
    app.get(&format!("{}/versions/1", plan_path(&awaiting)), &leader).await.problem(404, "not_found");

    let (case, _) = world.active(45).await;
    let outsider = world.token(OUTSIDER);
    for path in [plan_path(&case), format!("{}/versions", plan_path(&case)), format!("{}/versions/1", plan_path(&case))]
    {
        app.get(&path, &outsider).await.problem(404, "not_found");
    }
    let coordinator = world.token(COORDINATOR);
    app.get(&format!("{}/versions/99", plan_path(&case)), &coordinator).await.problem(404, "not_found");
    app.get(&format!("{}/versions/0", plan_path(&case)), &coordinator).await.problem(404, "not_found");
    app.get(&format!("{}/versions/abc", plan_path(&case)), &coordinator).await.problem(404, "not_found");
    app.get(&plan_path(&Uuid::new_v4().to_string()), &coordinator).await.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// 2. Minor adjustments by the coordinator
// ---------------------------------------------------------------------------------------------

// api.md, Plans: minor adjustments by the coordinator are recorded as amendments of the current
// version; the version stays; the case's history shows `plan.amended`.
#[tokio::test]
async fn the_coordinator_adds_and_changes_interventions_as_amendments() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let coordinator = world.token(COORDINATOR);
    let before = current_plan(&world, &case).await;
    let old_ids: Vec<Value> = array(&before["interventions"]).iter().map(|i| i["id"].clone()).collect();

    let added = app.post(&interventions_path(&case), &coordinator, &new_intervention()).await.expect(201).body;
    assert!(is_uuid(&added["id"]), "{added}");
    assert!(!old_ids.contains(&added["id"]), "a new id: {added}");
    assert_eq!(added["title"], "Befordring til praktik");
    assert_eq!(added["status"], "planned", "the default status: {added}");
    assert_eq!(added["start_on"], day(0));
    let iid = added["id"].as_str().unwrap().to_string();

    let plan = current_plan(&world, &case).await;
    assert_eq!(plan["version"], 1, "an amendment keeps the version: {plan}");
    let interventions = array(&plan["interventions"]);
    assert_eq!(interventions.len(), 3, "{plan}");
    let listed = interventions.iter().find(|i| i["id"] == added["id"]).expect("the plan lists it");
    assert_eq!(listed["title"], "Befordring til praktik");
    assert_eq!(listed["cost_estimate_ore"], 120000);
    assert_eq!(plan["goals"], before["goals"], "goals do not move");
    let amendments = array(&plan["amendments"]);
    assert_eq!(amendments.len(), 1, "{plan}");
    assert_eq!(amendments[0]["kind"], "intervention_added");
    assert_eq!(amendments[0]["intervention"]["id"], added["id"]);
    assert_eq!(amendments[0]["note"], "Buskort, så praktikken kan begynde");
    assert_eq!(amendments[0]["by"]["sub"], COORDINATOR.sub);
    assert_eq!(app.count(AMENDMENTS), 1);
    assert_eq!(app.get(&plan_path(&case), &coordinator).await.body["version"], 1);
    let versions = app.get(&format!("{}/versions", plan_path(&case)), &coordinator).await.expect(200);
    assert_eq!(array(&versions.body).len(), 1, "no new version");

    let history = app.get(&format!("{}/history", case_path(&case)), &coordinator).await.expect(200);
    assert_eq!(items(&history).iter().filter(|e| e["type"] == "plan.amended").count(), 1, "{}", history.text);

    // Change the new intervention: completed, with an end date and a note.
    let end_on = day(30);
    let changed = app
        .patch(
            &intervention_path(&case, &iid),
            &coordinator,
            &json!({"status": "completed", "end_on": end_on, "note": "Praktikken er slut"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["id"], added["id"]);
    assert_eq!(changed["status"], "completed");
    assert_eq!(changed["end_on"], end_on);
    assert_eq!(changed["title"], "Befordring til praktik", "the rest stays");

    let plan = current_plan(&world, &case).await;
    assert_eq!(plan["version"], 1);
    let listed = array(&plan["interventions"]).iter().find(|i| i["id"] == added["id"]).cloned().unwrap();
    assert_eq!(listed["status"], "completed");
    assert_eq!(listed["end_on"], end_on);
    assert_eq!(array(&plan["interventions"]).len(), 3, "a change adds nothing");
    let amendments = array(&plan["amendments"]);
    assert_eq!(amendments.len(), 2);
    assert_eq!(amendments[1]["kind"], "intervention_changed");
    assert_eq!(amendments[1]["note"], "Praktikken er slut");
    assert_eq!(amendments[1]["intervention"]["status"], "completed");

    // An intervention adopted by the committee changes the same way.
    let mentor = array(&before["interventions"])[1]["id"].as_str().unwrap().to_string();
    app.patch(&intervention_path(&case, &mentor), &coordinator, &json!({"status": "active"})).await.expect(200);
    let plan = current_plan(&world, &case).await;
    assert_eq!(array(&plan["interventions"])[1]["status"], "active");
    assert_eq!(app.count(AMENDMENTS), 3);
    let history = app.get(&format!("{}/history", case_path(&case)), &coordinator).await.expect(200);
    assert_eq!(items(&history).iter().filter(|e| e["type"] == "plan.amended").count(), 3, "{}", history.text);
}

// api.md, Plans and Conventions: dates in order, a known intervention, a change that changes
// something, offers from the catalog, and no goals through this door (unknown field → 422).
#[tokio::test]
async fn adjustments_are_validated_and_goals_cannot_change_this_way() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let coordinator = world.token(COORDINATOR);
    let plan_before = current_plan(&world, &case).await;

    // POST: end before start; an offer not in the catalog; goals; a typo'd field; no title.
    let mut body = new_intervention();
    body["end_on"] = json!(day(-1));
    let res = app.post(&interventions_path(&case), &coordinator, &body).await.problem(422, "inconsistent_request");
    assert!(res.fields().iter().any(|f| f.ends_with("end_on")), "{}", res.text);
    let mut body = new_intervention();
    body["offer_id"] = json!(Uuid::new_v4());
    let res = app.post(&interventions_path(&case), &coordinator, &body).await.problem(422, "unknown_reference");
    assert!(res.fields().iter().any(|f| f.ends_with("offer_id")), "{}", res.text);
    let mut body = new_intervention();
    body["goals"] = json!([{"area": "housing", "description": "A new goal"}]);
    app.post(&interventions_path(&case), &coordinator, &body).await.problem(422, "validation_failed");
    let mut body = new_intervention();
    body["statuss"] = json!("active");
    app.post(&interventions_path(&case), &coordinator, &body).await.problem(422, "validation_failed");
    app.post(&interventions_path(&case), &coordinator, &json!({"responsible_department": "social"}))
        .await
        .problem(422, "validation_failed");
    let mut body = new_intervention();
    body["status"] = json!("finished");
    app.post(&interventions_path(&case), &coordinator, &body).await.problem(422, "validation_failed");
    assert_eq!(app.count(AMENDMENTS), 0);

    // An offer that is in the catalog is accepted.
    let offer = Uuid::new_v4();
    app.conn()
        .batch_execute(&format!(
            "INSERT INTO offers (id, name, department, category, track) \
             VALUES ('{offer}', 'Mentorordning', 'labour_market', 'mentor_support', 'adult')"
        ))
        .unwrap();
    let mut body = new_intervention();
    body["offer_id"] = json!(offer);
    let added = app.post(&interventions_path(&case), &coordinator, &body).await.expect(201).body;
    assert_eq!(added["offer_id"], json!(offer));
    let iid = added["id"].as_str().unwrap().to_string();
    assert_eq!(app.count(AMENDMENTS), 1);

    // PATCH: end before start; unknown intervention; empty body; goals; offer_id; bad status.
    let res = app
        .patch(&intervention_path(&case, &iid), &coordinator, &json!({"end_on": day(-1)}))
        .await
        .problem(422, "inconsistent_request");
    assert!(res.fields().iter().any(|f| f.ends_with("end_on")), "{}", res.text);
    app.patch(&intervention_path(&case, &Uuid::new_v4().to_string()), &coordinator, &json!({"status": "active"}))
        .await
        .problem(404, "not_found");
    app.patch(&intervention_path(&case, "not-a-uuid"), &coordinator, &json!({"status": "active"}))
        .await
        .problem(404, "not_found");
    app.patch(&intervention_path(&case, &iid), &coordinator, &json!({})).await.problem(422, "validation_failed");
    app.patch(
        &intervention_path(&case, &iid),
        &coordinator,
        &json!({"status": "active", "goals": [{"area": "housing", "description": "x"}]}),
    )
    .await
    .problem(422, "validation_failed");
    app.patch(&intervention_path(&case, &iid), &coordinator, &json!({"offer_id": Uuid::new_v4()}))
        .await
        .problem(422, "validation_failed");
    app.patch(&intervention_path(&case, &iid), &coordinator, &json!({"status": "finished"}))
        .await
        .problem(422, "validation_failed");
    // A goal's id is not an intervention.
    let goal = array(&plan_before["goals"])[0]["id"].as_str().unwrap().to_string();
    app.patch(&intervention_path(&case, &goal), &coordinator, &json!({"status": "active"}))
        .await
        .problem(404, "not_found");

    assert_eq!(app.count(AMENDMENTS), 1, "no refused change was recorded");
    let plan = current_plan(&world, &case).await;
    assert_eq!(plan["goals"], plan_before["goals"]);
    let listed = array(&plan["interventions"]).iter().find(|i| i["id"] == added["id"]).cloned().unwrap();
    assert_eq!(listed["status"], "planned");
    assert_eq!(listed["end_on"], Value::Null);
}

// api.md, Who may see and do what: minor plan adjustments are for the case's current
// coordinator; others who see the case get 403, those who do not 404. Nothing changes.
#[tokio::test]
async fn only_the_current_coordinator_adjusts_the_plan() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let before = current_plan(&world, &case).await;
    let iid = array(&before["interventions"])[1]["id"].as_str().unwrap().to_string();
    let change = json!({"status": "cancelled", "note": "not wanted"});
    for (who, status, code) in [
        (ADULT_LEADER_LM, 403, "forbidden"),
        (ADULT_LEADER_SOC, 403, "forbidden"),
        (ADULT_CW_SOC, 403, "forbidden"),
        (ADULT_FIXED, 403, "forbidden"),
        (REFERRER, 403, "forbidden"),
        (OUTSIDER, 404, "not_found"),
    ] {
        let token = world.token(who);
        app.post(&interventions_path(&case), &token, &new_intervention()).await.problem(status, code);
        app.patch(&intervention_path(&case, &iid), &token, &change).await.problem(status, code);
    }
    // The coordinator's sub speaking for another department is another person.
    let elsewhere = app.token(COORDINATOR.sub, "social", &["caseworker"]);
    app.post(&interventions_path(&case), &elsewhere, &new_intervention()).await.problem(404, "not_found");
    // A bare auditor works with no case.
    app.post(&interventions_path(&case), &world.token(AUDITOR), &new_intervention()).await.problem(403, "forbidden");

    assert_eq!(app.count(AMENDMENTS), 0, "no refused adjustment was recorded");
    let after = current_plan(&world, &case).await;
    assert_eq!(after["interventions"], before["interventions"]);
    assert_eq!(array(&after["amendments"]).len(), 0);
    let history = app.get(&format!("{}/history", case_path(&case)), &world.token(COORDINATOR)).await.expect(200);
    assert!(items(&history).iter().all(|e| e["type"] != "plan.amended"), "{}", history.text);
}

// ---------------------------------------------------------------------------------------------
// 3. Participation notes
// ---------------------------------------------------------------------------------------------

// api.md, Cases: `POST /cases/{id}/participation` by the current coordinator; the case view lists
// the notes.
#[tokio::test]
async fn the_coordinator_notes_the_citizens_participation() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let coordinator = world.token(COORDINATOR);
    let on = day(-2);
    let note = app
        .post(
            &participation_path(&case),
            &coordinator,
            &json!({"on": on, "form": "home_visit", "citizen_view": "Glad for besøget."}),
        )
        .await
        .expect(201)
        .body;
    assert!(is_uuid(&note["id"]), "{note}");
    assert_eq!(note["on"], on);
    assert_eq!(note["form"], "home_visit");
    assert_eq!(note["citizen_view"], "Glad for besøget.");
    // Today is not in the future.
    app.post(&participation_path(&case), &coordinator, &json!({"on": day(0), "form": "phone"})).await.expect(201);

    let view = app.get(&case_path(&case), &coordinator).await.expect(200).body;
    let notes = array(&view["participation_notes"]);
    assert_eq!(notes.len(), 2, "{view}");
    let first = notes.iter().find(|n| n["id"] == note["id"]).expect("the case view lists the note");
    assert_eq!(first["on"], on);
    assert_eq!(first["form"], "home_visit");
    assert_eq!(first["citizen_view"], "Glad for besøget.");
    assert!(notes.iter().any(|n| n["form"] == "phone"));
    // Members see the same notes.
    let seen = app.get(&case_path(&case), &world.token(ADULT_LEADER_LM)).await.expect(200).body;
    assert_eq!(array(&seen["participation_notes"]).len(), 2);
}

#[tokio::test]
async fn participation_notes_are_validated_and_for_the_coordinator_only() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let coordinator = world.token(COORDINATOR);

    let res = app
        .post(&participation_path(&case), &coordinator, &json!({"on": day(1), "form": "meeting"}))
        .await
        .problem(422, "date_not_allowed");
    assert!(res.fields().contains(&"on".to_string()), "{}", res.text);
    let res = app
        .post(&participation_path(&case), &coordinator, &json!({"on": day(-1), "form": "carrier_pigeon"}))
        .await
        .problem(422, "validation_failed");
    assert!(res.fields().contains(&"form".to_string()), "{}", res.text);
    app.post(&participation_path(&case), &coordinator, &json!({"on": "2026-02-30", "form": "meeting"}))
        .await
        .problem(422, "validation_failed");
    app.post(&participation_path(&case), &coordinator, &json!({"form": "meeting"}))
        .await
        .problem(422, "validation_failed");
    app.post(&participation_path(&case), &coordinator, &json!({"on": day(-1), "form": "meeting", "mood": "good"}))
        .await
        .problem(422, "validation_failed");

    let body = json!({"on": day(-1), "form": "meeting", "citizen_view": "x"});
    for (who, status, code) in [
        (ADULT_LEADER_LM, 403, "forbidden"),
        (ADULT_CW_LM, 403, "forbidden"),
        (YOUTH_LEADER_SOC, 403, "forbidden"),
        (REFERRER, 403, "forbidden"),
        (OUTSIDER, 404, "not_found"),
    ] {
        app.post(&participation_path(&case), &world.token(who), &body).await.problem(status, code);
    }

    // A case not yet active has no coordinator: a leader member of its committee is refused.
    let awaiting = world.awaiting(45).await;
    app.post(&participation_path(&awaiting), &world.token(ADULT_LEADER_LM), &body).await.problem(403, "forbidden");
    app.post(&participation_path(&awaiting), &coordinator, &body).await.problem(404, "not_found");

    assert_eq!(app.count(NOTES), 0, "no refused note was stored");
    let view = app.get(&case_path(&case), &coordinator).await.expect(200).body;
    assert_eq!(array(&view["participation_notes"]).len(), 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Closure
// ---------------------------------------------------------------------------------------------

// api.md, Cases: a case is closed by its coordinator or a leader member of its committee;
// If-Match guards it; a closed case takes no further adjustments (409).
#[tokio::test]
async fn the_coordinator_closes_a_case_and_a_closed_case_stays_closed() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let coordinator = world.token(COORDINATOR);
    let iid = array(&current_plan(&world, &case).await["interventions"])[1]["id"].as_str().unwrap().to_string();

    let current = app.get(&case_path(&case), &coordinator).await.expect(200);
    let etag = current.header("etag").expect("a case carries an ETag").to_string();
    let version: i32 = etag.trim_matches('"').parse().expect("a numeric ETag");
    let stale = format!("\"{}\"", version - 1);
    let body = json!({"reason": "education", "note": "Startet på HF"});
    send(app, Method::POST, &closure_path(&case), &coordinator, &[("if-match", stale.as_str())], Some(&body))
        .await
        .problem(412, "precondition_failed");
    assert_eq!(app.get(&case_path(&case), &coordinator).await.body["status"], "active", "412 changed nothing");

    let closed =
        send(app, Method::POST, &closure_path(&case), &coordinator, &[("if-match", etag.as_str())], Some(&body))
            .await
            .expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["closure_reason"], "education");
    assert!(closed.body["closed_at"].is_string(), "{}", closed.text);
    assert_ne!(closed.header("etag"), Some(etag.as_str()), "a new ETag");
    let history = app.get(&format!("{}/history", case_path(&case)), &coordinator).await.expect(200);
    assert_eq!(items(&history).iter().filter(|e| e["type"] == "case.closed").count(), 1, "{}", history.text);

    // Closed is final.
    app.post(&closure_path(&case), &coordinator, &json!({"reason": "moved"})).await.problem(409, "invalid_transition");
    app.post(&closure_path(&case), &world.token(ADULT_LEADER_LM), &json!({"reason": "moved"}))
        .await
        .problem(409, "invalid_transition");
    app.post(&interventions_path(&case), &coordinator, &new_intervention()).await.problem(409, "invalid_transition");
    app.patch(&intervention_path(&case, &iid), &coordinator, &json!({"status": "completed"}))
        .await
        .problem(409, "invalid_transition");
    app.post(&participation_path(&case), &coordinator, &json!({"on": day(0), "form": "phone"}))
        .await
        .problem(409, "invalid_transition");
    let view = app.get(&case_path(&case), &coordinator).await.expect(200).body;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["closure_reason"], "education");
    assert_eq!(app.count(AMENDMENTS), 0);
    assert_eq!(app.count(NOTES), 0);
}

#[tokio::test]
async fn closure_by_a_leader_member_and_the_refusals() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let body = json!({"reason": "employment", "note": "Fast job, 25 timer"});
    for (who, status, code) in [
        (ADULT_CW_SOC, 403, "forbidden"),
        (ADULT_FIXED, 403, "forbidden"),
        (YOUTH_LEADER_SOC, 403, "forbidden"), // a leader who sees the case, but not a member of its committee
        (REFERRER, 403, "forbidden"),
        (OUTSIDER, 404, "not_found"),
    ] {
        app.post(&closure_path(&case), &world.token(who), &body).await.problem(status, code);
    }
    let leader = world.token(ADULT_LEADER_LM);
    app.post(&closure_path(&case), &leader, &json!({"reason": "bored"})).await.problem(422, "validation_failed");
    app.post(&closure_path(&case), &leader, &json!({"note": "no reason"})).await.problem(422, "validation_failed");
    app.post(&closure_path(&case), &leader, &json!({"reason": "moved", "closed": true}))
        .await
        .problem(422, "validation_failed");
    let view = app.get(&case_path(&case), &leader).await.expect(200).body;
    assert_eq!(view["status"], "active", "the refusals changed nothing");
    assert_eq!(view["closure_reason"], Value::Null);

    let closed = app.post(&closure_path(&case), &leader, &body).await.expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["closure_reason"], "employment");
    assert_eq!(app.get(&case_path(&case), &world.token(COORDINATOR)).await.body["status"], "closed");

    // A case not yet active cannot be closed this way.
    let awaiting = world.awaiting(45).await;
    app.post(&closure_path(&awaiting), &leader, &json!({"reason": "citizen_declined"}))
        .await
        .problem(409, "invalid_transition");
    assert_eq!(app.get(&case_path(&awaiting), &leader).await.body["status"], "awaiting_committee");
}

// ---------------------------------------------------------------------------------------------
// 5. Follow-ups
// ---------------------------------------------------------------------------------------------

fn set_follow_up(app: &TestApp, case: &str, on: &str) {
    app.conn().batch_execute(&format!("UPDATE cases SET follow_up_on = '{on}' WHERE id = '{case}'")).unwrap();
}

fn follow_up_ids(res: &Response) -> Vec<String> {
    items(res).iter().map(|i| i["case"]["id"].as_str().unwrap().to_string()).collect()
}

/// Three active cases (adult overdue by 3 days, youth due in 5, adult due in 10) and a closed
/// adult case (due yesterday). Returns (overdue, youth, later, closed).
async fn follow_up_world(world: &World) -> (String, String, String, String) {
    let app = &world.app;
    let (overdue, _) = world.active(45).await;
    let (youth, _) = world.active(22).await;
    let (later, _) = world.active(45).await;
    let (closed, _) = world.active(45).await;
    set_follow_up(app, &overdue, &day(-3));
    set_follow_up(app, &youth, &day(5));
    set_follow_up(app, &later, &day(10));
    set_follow_up(app, &closed, &day(-1));
    app.post(&closure_path(&closed), &world.token(COORDINATOR), &json!({"reason": "moved"})).await.expect(200);
    (overdue, youth, later, closed)
}

// api.md, Overview: active cases due for follow-up, overdue flagged, earliest first, only the
// cases the caller sees, closed cases never.
#[tokio::test]
async fn follow_ups_list_active_cases_earliest_first_with_overdue_flagged() {
    let world = World::new().await;
    let app = &world.app;
    let (overdue, youth, later, closed) = follow_up_world(&world).await;
    let coordinator = world.token(COORDINATOR);

    let res = app.get("/api/v1/follow-ups", &coordinator).await.expect(200);
    assert_eq!(follow_up_ids(&res), [overdue.clone(), youth.clone(), later.clone()], "{}", res.text);
    assert!(!follow_up_ids(&res).contains(&closed), "closed cases are not listed");
    assert_eq!(res.body["next_cursor"], Value::Null);
    let list = items(&res);
    assert_eq!(list[0]["follow_up_on"], day(-3));
    assert_eq!(list[0]["overdue"], true);
    assert_eq!(list[0]["days_overdue"], 3);
    assert_eq!(list[0]["case"]["status"], "active");
    assert_eq!(list[1]["follow_up_on"], day(5));
    assert_eq!(list[1]["overdue"], false);
    assert_eq!(list[1]["days_overdue"], 0);
    assert_eq!(list[2]["follow_up_on"], day(10));
    assert_eq!(list[2]["overdue"], false);
    assert_eq!(list[2]["days_overdue"], 0);
    assert!(!has_key(&res.body, "cpr"), "no CPR in a list: {}", res.text);

    // Due today is not overdue.
    set_follow_up(app, &youth, &day(0));
    let res = app.get("/api/v1/follow-ups", &coordinator).await.expect(200);
    let due_today = items(&res).iter().find(|i| i["case"]["id"] == youth.as_str()).cloned().unwrap();
    assert_eq!(due_today["overdue"], false);
    assert_eq!(due_today["days_overdue"], 0);

    // Someone who takes part in none of them sees none.
    let res = app.get("/api/v1/follow-ups", &world.token(OUTSIDER)).await.expect(200);
    assert_eq!(items(&res).len(), 0, "{}", res.text);
    // A bare auditor works with no case.
    app.get("/api/v1/follow-ups", &world.token(AUDITOR)).await.problem(403, "forbidden");
}

#[tokio::test]
async fn follow_ups_filter_by_date_and_committee_and_page_without_gaps() {
    let world = World::new().await;
    let app = &world.app;
    let (overdue, youth, later, _) = follow_up_world(&world).await;
    let coordinator = world.token(COORDINATOR);
    let list = |query: String| {
        let token = coordinator.clone();
        async move { app.get(&format!("/api/v1/follow-ups?{query}"), &token).await.expect(200) }
    };

    // due_before is strict.
    let res = list(format!("due_before={}", day(10))).await;
    assert_eq!(follow_up_ids(&res), [overdue.as_str(), youth.as_str()], "{}", res.text);
    let res = list(format!("due_before={}", day(11))).await;
    assert_eq!(follow_up_ids(&res), [overdue.as_str(), youth.as_str(), later.as_str()]);
    let res = list(format!("due_before={}", day(-3))).await;
    assert_eq!(follow_up_ids(&res), Vec::<String>::new());
    let res = list(format!("due_before={}", day(0))).await;
    assert_eq!(follow_up_ids(&res), [overdue.as_str()]);

    // committee_id.
    let res = list(format!("committee_id={}", world.youth_committee)).await;
    assert_eq!(follow_up_ids(&res), [youth.as_str()]);
    let res = list(format!("committee_id={}", world.adult_committee)).await;
    assert_eq!(follow_up_ids(&res), [overdue.as_str(), later.as_str()]);
    let res = list(format!("committee_id={}&due_before={}", world.adult_committee, day(0))).await;
    assert_eq!(follow_up_ids(&res), [overdue.as_str()]);

    // Pages of one neither skip nor repeat.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let query = match &cursor {
            Some(c) => format!("limit=1&cursor={c}"),
            None => "limit=1".to_string(),
        };
        let res = list(query).await;
        assert!(items(&res).len() <= 1, "{}", res.text);
        seen.extend(follow_up_ids(&res));
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, [overdue, youth, later]);

    // Bad parameters.
    for query in ["cursor=garbage", "cursor=%21%21%21"] {
        app.get(&format!("/api/v1/follow-ups?{query}"), &coordinator).await.problem(422, "invalid_cursor");
    }
    for query in [
        "limit=0".to_string(),
        "limit=201".to_string(),
        "due_before=tomorrow".to_string(),
        "committee_id=not-a-uuid".to_string(),
    ] {
        app.get(&format!("/api/v1/follow-ups?{query}"), &coordinator).await.problem(422, "validation_failed");
    }
    app.get("/api/v1/follow-ups?overdue=true", &coordinator).await.problem(422, "unexpected_parameter");
}

// api.md, Audit: a list read records the ids of the cases it returned.
#[tokio::test]
async fn reading_follow_ups_is_audited_with_the_cases_returned() {
    let world = World::new().await;
    let app = &world.app;
    let (overdue, youth, _, closed) = follow_up_world(&world).await;
    app.get(&format!("/api/v1/follow-ups?due_before={}", day(0)), &world.token(COORDINATOR)).await.expect(200);

    let log = app
        .get(&format!("/api/v1/audit?case_id={overdue}&actor={}&limit=200", COORDINATOR.sub), &world.token(AUDITOR))
        .await
        .expect(200);
    let reads: Vec<&Value> = items(&log).iter().filter(|e| e["resource"] == "follow_ups").collect();
    assert_eq!(reads.len(), 1, "one follow_ups entry: {}", log.text);
    let entry = reads[0];
    assert_eq!(entry["action"], "read");
    assert_eq!(entry["actor"]["sub"], COORDINATOR.sub);
    assert_eq!(entry["status"], 200);
    let case_ids = array(&entry["case_ids"]);
    assert!(case_ids.contains(&json!(overdue)), "{entry}");
    assert!(!case_ids.contains(&json!(youth)), "only the cases returned: {entry}");
    assert!(!case_ids.contains(&json!(closed)), "{entry}");
    assert_eq!(entry["filters"]["due_before"], day(0), "{entry}");

    // The youth case was not returned by that read.
    let log = app
        .get(&format!("/api/v1/audit?case_id={youth}&actor={}&limit=200", COORDINATOR.sub), &world.token(AUDITOR))
        .await
        .expect(200);
    assert!(items(&log).iter().all(|e| e["resource"] != "follow_ups"), "{}", log.text);
}

// ---------------------------------------------------------------------------------------------
// 6. Meetings and agendas
// ---------------------------------------------------------------------------------------------

// api.md, Who may see and do what: meetings are for `admin` or a leader member of the committee.
#[tokio::test]
async fn meetings_are_planned_by_admins_and_leader_members_and_read_by_members() {
    let world = World::new().await;
    let app = &world.app;
    let committee = &world.adult_committee;
    let path = format!("/api/v1/committees/{committee}/meetings");
    let at1 = format!("{}T09:00:00Z", day(7));
    let at2 = format!("{}T13:30:00Z", day(14));

    let first = app.post(&path, &world.token(ADMIN), &json!({"scheduled_at": at1})).await.expect(201).body;
    assert!(is_uuid(&first["id"]), "{first}");
    assert_eq!(first["committee_id"], committee.as_str());
    assert_eq!(first["scheduled_at"], at1);
    let second = app.post(&path, &world.token(ADULT_LEADER_SOC), &json!({"scheduled_at": at2})).await.expect(201).body;
    assert_eq!(second["committee_id"], committee.as_str());
    assert_eq!(app.count(MEETINGS), 2);

    let body = json!({"scheduled_at": at1});
    for who in [ADULT_CW_LM, ADULT_FIXED, YOUTH_LEADER_Y, YOUTH_LEADER_SOC, REFERRER, OUTSIDER, AUDITOR] {
        app.post(&path, &world.token(who), &body).await.problem(403, "forbidden");
    }
    app.post(&path, &world.token(ADMIN), &json!({"scheduled_at": "next tuesday"}))
        .await
        .problem(422, "validation_failed");
    app.post(&path, &world.token(ADMIN), &json!({})).await.problem(422, "validation_failed");
    app.post(&format!("/api/v1/committees/{}/meetings", Uuid::new_v4()), &world.token(ADMIN), &body)
        .await
        .problem(404, "not_found");
    assert_eq!(app.count(MEETINGS), 2, "the refusals planned nothing");

    for who in [ADMIN, ADULT_LEADER_LM, ADULT_CW_SOC, ADULT_FIXED] {
        let res = app.get(&path, &world.token(who)).await.expect(200);
        let mut ids: Vec<&str> = items(&res).iter().map(|m| m["id"].as_str().unwrap()).collect();
        ids.sort();
        let mut expected = vec![first["id"].as_str().unwrap(), second["id"].as_str().unwrap()];
        expected.sort();
        assert_eq!(ids, expected, "{}", res.text);
    }
    app.get(&path, &world.token(OUTSIDER)).await.problem(403, "forbidden");
    app.get(&path, &world.token(REFERRER)).await.problem(403, "forbidden");
    // The youth committee's meetings list holds none of these.
    let youth = app
        .get(&format!("/api/v1/committees/{}/meetings", world.youth_committee), &world.token(YOUTH_LEADER_Y))
        .await
        .expect(200);
    assert_eq!(items(&youth).len(), 0);
}

// api.md, Committees and meetings: the agenda names the citizen, never the CPR; a presenting
// caseworker takes part in the case from then on; agenda items of cases the caller does not
// take part in are left out.
#[tokio::test]
async fn the_agenda_names_citizens_and_presenters_take_part() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _, cpr) = named_awaiting(&world, 45, "Karen Agenda", REFERRER).await;
    let meeting = world.meeting(45).await;
    let pia = world.token(PIA);
    app.get(&case_path(&case), &pia).await.problem(404, "not_found");

    let agenda_path = format!("/api/v1/meetings/{meeting}/agenda");
    let presenter = json!({"sub": PIA.sub, "name": "Pia Præsentør", "department": PIA.dept});
    let body = json!({"case_id": case, "presenting_caseworkers": [presenter]});
    for who in [ADULT_CW_SOC, ADULT_FIXED, YOUTH_LEADER_Y, REFERRER] {
        app.post(&agenda_path, &world.token(who), &body).await.problem(403, "forbidden");
    }
    app.get(&case_path(&case), &pia).await.problem(404, "not_found");
    assert_eq!(app.count("SELECT count(*) FROM agenda_items"), 0);

    let item = app.post(&agenda_path, &world.token(ADULT_LEADER_LM), &body).await.expect(201).body;
    assert_eq!(item["case"]["id"], case.as_str());
    assert_eq!(item["presenting_caseworkers"], json!([presenter]));
    app.post(&agenda_path, &world.token(ADULT_LEADER_LM), &body).await.problem(409, "conflict");

    // The presenter now takes part in the case.
    let seen = app.get(&case_path(&case), &pia).await.expect(200).body;
    assert_eq!(seen["id"], case.as_str());

    let res = app.get(&format!("/api/v1/meetings/{meeting}"), &world.token(ADULT_LEADER_LM)).await.expect(200);
    assert_eq!(res.body["id"], meeting.as_str());
    assert_eq!(res.body["committee_id"], world.adult_committee.as_str());
    let agenda = array(&res.body["agenda"]);
    assert_eq!(agenda.len(), 1, "{}", res.text);
    assert_eq!(agenda[0]["case"]["id"], case.as_str());
    assert_eq!(agenda[0]["case"]["status"], "awaiting_committee");
    assert_eq!(agenda[0]["case"]["citizen"]["name"], "Karen Agenda");
    assert!(is_uuid(&agenda[0]["case"]["citizen"]["id"]));
    assert_eq!(agenda[0]["presenting_caseworkers"], json!([presenter]));
    assert!(!has_key(&res.body, "cpr"), "no cpr key: {}", res.text);
    assert_no_cpr(&res.text, &cpr);
    // Members read the meeting too.
    let member = app.get(&format!("/api/v1/meetings/{meeting}"), &world.token(ADULT_CW_SOC)).await.expect(200);
    assert_eq!(array(&member.body["agenda"]).len(), 1);

    // The admin organises meetings but takes part in no case: the meeting, without the item.
    let res = app.get(&format!("/api/v1/meetings/{meeting}"), &world.token(ADMIN)).await.expect(200);
    assert_eq!(res.body["id"], meeting.as_str());
    assert_eq!(array(&res.body["agenda"]).len(), 0, "{}", res.text);
    assert!(!res.text.contains("Karen Agenda"), "{}", res.text);

    app.get(&format!("/api/v1/meetings/{meeting}"), &world.token(OUTSIDER)).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/meetings/{}", Uuid::new_v4()), &world.token(ADMIN)).await.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// 7. Minutes
// ---------------------------------------------------------------------------------------------

struct MinutesWorld {
    world: World,
    meeting: String,
    /// (case, citizen, cpr, name, decision)
    cases: Vec<(String, String, String, &'static str, Value)>,
}

/// One adult meeting deciding two cases: Karen's (referred by the admin-caseworker) and Jens's
/// (referred by `REFERRER`).
async fn minutes_world() -> MinutesWorld {
    let world = World::new().await;
    let meeting = world.meeting(45).await;
    let mut cases = Vec::new();
    for (name, referrer) in [("Karen Referat", ADMIN_REFERRER), ("Jens Referat", REFERRER)] {
        let (case, citizen, cpr) = named_awaiting(&world, 45, name, referrer).await;
        world.on_agenda(&meeting, &case, 45).await;
        let decision = decide_initial(&world, &meeting, &case, 45).await;
        cases.push((case, citizen, cpr, name, decision));
    }
    MinutesWorld { world, meeting, cases }
}

// api.md, Committees and meetings: the meeting's decisions as JSON, with the citizen by name,
// participation, coordinator, frame, follow-up and the adopted plan; members present by name.
#[tokio::test]
async fn minutes_as_json_list_each_decision_with_its_plan() {
    let mw = minutes_world().await;
    let (world, meeting) = (&mw.world, &mw.meeting);
    let app = &world.app;
    let res = app.get(&format!("/api/v1/meetings/{meeting}/minutes"), &world.token(ADULT_LEADER_LM)).await.expect(200);
    assert!(res.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{:?}", res.headers);
    let m = &res.body;
    assert_eq!(m["meeting"]["id"], meeting.as_str());
    assert_eq!(m["committee"]["name"], "Voksne");
    let items = array(&m["items"]);
    assert_eq!(items.len(), 2, "{}", res.text);
    for (case, citizen, cpr, name, decision) in &mw.cases {
        let item = items.iter().find(|i| i["decision"]["case_id"] == case.as_str()).expect("an item per decision");
        assert_eq!(item["citizen"], json!({"id": citizen, "name": name}));
        let d = &item["decision"];
        assert_eq!(d["id"], decision["id"]);
        assert_eq!(d["kind"], "initial");
        assert_eq!(d["citizen_participation"]["took_part"], true);
        assert_eq!(d["citizen_participation"]["form"], "meeting");
        assert_eq!(d["citizen_participation"]["citizen_view"], "I want a home first.");
        assert_eq!(d["coordinator"]["sub"], COORDINATOR.sub);
        assert_eq!(d["coordinator"]["name"], "Cora Koordinator");
        assert_eq!(d["coordinator"]["department"], COORDINATOR.dept);
        assert_eq!(d["budget_frame_ore"], 5_000_000);
        assert_eq!(d["follow_up_on"], decision["follow_up_on"]);
        assert!(d["follow_up_on"].is_string());
        let plan = &item["plan"];
        assert_eq!(plan["version"], 1, "the adopted plan: {item}");
        assert_eq!(plan["kind"], "indsatsplan");
        let goals: Vec<&str> = array(&plan["goals"]).iter().map(|g| g["description"].as_str().unwrap()).collect();
        assert_eq!(goals, ["Own flat within a year", "Ten hours a week of work"]);
        let titles: Vec<&str> = array(&plan["interventions"]).iter().map(|i| i["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Bostøtte", "Mentor"]);
        assert_no_cpr(&res.text, cpr);
    }
    assert!(!has_key(m, "cpr"), "{}", res.text);
    let mut present: Vec<(&str, &str)> = array(&m["members_present"])
        .iter()
        .map(|p| (p["sub"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    present.sort();
    assert_eq!(present, [("ac2", "Member ac2"), ("af", "Member af"), ("al1", "Member al1")]);
}

// The minutes as Markdown: everything a secretary files, and never the citizen's CPR.
#[tokio::test]
async fn minutes_as_markdown_carry_the_decisions_but_never_a_cpr_number() {
    let mw = minutes_world().await;
    let (world, meeting) = (&mw.world, &mw.meeting);
    let app = &world.app;
    let path = format!("/api/v1/meetings/{meeting}/minutes");
    let res = send(app, Method::GET, &path, &world.token(ADULT_LEADER_LM), &[("accept", "text/markdown")], None)
        .await
        .expect(200);
    assert!(res.header("content-type").is_some_and(|c| c.starts_with("text/markdown")), "{:?}", res.headers);
    let md = &res.text;
    let scheduled = app.get(&format!("/api/v1/meetings/{meeting}"), &world.token(ADMIN)).await.expect(200);
    // Danish dates, and the meeting's time in Danish local time (Europe/Copenhagen).
    let at: chrono::DateTime<chrono::Utc> = scheduled.body["scheduled_at"].as_str().unwrap().parse().unwrap();
    let local = at.with_timezone(&chrono_tz::Europe::Copenhagen);
    let when = format!("{} kl. {}", danish_date(local.date_naive()), local.format("%H.%M"));
    for expected in [
        "Voksne",
        when.as_str(),
        "Målgruppe:** voksne 30+",
        "Arbejdsmarkedsafdelingen, leder",
        "Sundhed og Omsorg, fast medarbejder",
        "deltog på mødet",
        "Bolig: Own flat within a year",
        "ansvar: Socialområdet, i gang",
        "Indsatsplan, version 1",
        "Karen Referat",
        "Jens Referat",
        "Cora Koordinator",
        "50.000 kr.",
        "I want a home first.",
        "Own flat within a year",
        "Ten hours a week of work",
        "Bostøtte",
        "Mentor",
        "Member al1",
        "Member af",
    ] {
        assert!(md.contains(expected), "the minutes name {expected:?}:\n{md}");
    }
    for (_, _, cpr, _, decision) in &mw.cases {
        let follow_up: chrono::NaiveDate = decision["follow_up_on"].as_str().unwrap().parse().unwrap();
        let follow_up = danish_date(follow_up);
        assert!(md.contains(&follow_up), "the follow-up date {follow_up}:\n{md}");
        assert_no_cpr(md, cpr);
    }
    let lower = md.to_lowercase();
    assert!(
        lower.lines().any(|l| l.contains("deltag") || l.contains("particip")),
        "a line on the citizen's participation:\n{md}"
    );
    assert!(!md.contains("5000000"), "money in kroner, not øre:\n{md}");
    // no code of the service's own vocabulary, no UTC, no ISO date
    for code in
        ["labour_market", "health_care", "fixed staff", "leader)", "UTC", "adult", "(meeting)", "planned", "housing:"]
    {
        assert!(!md.contains(code), "Danish words, not {code:?}:\n{md}");
    }
    assert!(!md.contains(&at.format("%Y-%m-%d").to_string()), "no ISO date:\n{md}");
}

/// A date as Danes write it: `1. december 2026`.
fn danish_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let months = [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ];
    format!("{}. {} {}", d.day(), months[d.month0() as usize], d.year())
}

// Minutes follow the one access rule: items about cases the caller does not take part in are
// left out, in JSON and in Markdown.
#[tokio::test]
async fn minutes_leave_out_cases_the_caller_does_not_take_part_in() {
    let mw = minutes_world().await;
    let (world, meeting) = (&mw.world, &mw.meeting);
    let app = &world.app;
    let path = format!("/api/v1/meetings/{meeting}/minutes");
    let (karen_case, ..) = &mw.cases[0];

    // The admin-caseworker referred Karen's case only.
    let res = app.get(&path, &world.token(ADMIN_REFERRER)).await.expect(200);
    let items = array(&res.body["items"]);
    assert_eq!(items.len(), 1, "{}", res.text);
    assert_eq!(items[0]["decision"]["case_id"], karen_case.as_str());
    assert!(!res.text.contains("Jens Referat"), "{}", res.text);
    let md = send(app, Method::GET, &path, &world.token(ADMIN_REFERRER), &[("accept", "text/markdown")], None)
        .await
        .expect(200)
        .text;
    assert!(md.contains("Karen Referat"), "{md}");
    assert!(!md.contains("Jens Referat"), "{md}");

    // A plain admin takes part in neither.
    let res = app.get(&path, &world.token(ADMIN)).await.expect(200);
    assert_eq!(array(&res.body["items"]).len(), 0, "{}", res.text);
    assert!(!res.text.contains("Karen Referat") && !res.text.contains("Jens Referat"), "{}", res.text);
    let md =
        send(app, Method::GET, &path, &world.token(ADMIN), &[("accept", "text/markdown")], None).await.expect(200).text;
    assert!(!md.contains("Karen Referat") && !md.contains("Jens Referat"), "{md}");

    // Members see both; outsiders not the meeting at all.
    let res = app.get(&path, &world.token(ADULT_CW_SOC)).await.expect(200);
    assert_eq!(array(&res.body["items"]).len(), 2);
    app.get(&path, &world.token(OUTSIDER)).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/meetings/{}/minutes", Uuid::new_v4()), &world.token(ADMIN))
        .await
        .problem(404, "not_found");
}

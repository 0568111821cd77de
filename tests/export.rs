mod common;

// api.md, Citizens: `GET /citizens/{id}/export` answers the citizen's access request (GDPR art.
// 15) for the `auditor`: the citizen, every case with everything under it, and the consultation
// report; audited with purpose `access_request`.

use chrono::Utc;
use common::world::{World, ADULT_LEADER_SOC, AUDITOR, COORDINATOR, OUTSIDER, REFERRER};
use serde_json::{json, Value};

fn export_path(citizen: &str) -> String {
    format!("/api/v1/citizens/{citizen}/export")
}

fn today() -> String {
    Utc::now().format("%Y-%m-%d").to_string()
}

fn types(history: &Value) -> Vec<String> {
    history.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_export_holds_everything_held_about_the_citizen() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let cora = world.token(COORDINATOR);
    let spend = json!({"amount_ore": 25_000, "category": "transport", "description": "Buskort"});
    app.post(&format!("/api/v1/cases/{case}/budget/spends"), &cora, &spend).await.expect(201);
    let intervention = json!({"title": "Mentor, ekstra", "responsible_department": "social", "note": "aftalt"});
    app.post(&format!("/api/v1/cases/{case}/plan/interventions"), &cora, &intervention).await.expect(201);
    let note = json!({"on": today(), "form": "phone", "citizen_view": "Det går bedre."});
    app.post(&format!("/api/v1/cases/{case}/participation"), &cora, &note).await.expect(201);
    world.data_sharing(&case, 45, &["labour_market"]).await;
    let viewed = app.get(&format!("/api/v1/cases/{case}"), &cora).await.expect(200).body;
    let citizen = viewed["citizen"]["id"].as_str().unwrap().to_string();
    // another citizen's case, which must not appear
    let (other, _) = world.active(50).await;

    let res = app.get(&export_path(&citizen), &world.token(AUDITOR)).await.expect(200);
    let e = &res.body;
    assert_eq!(e["citizen"]["id"], citizen.as_str());
    assert!(e["citizen"]["cpr"].as_str().is_some_and(|c| c.len() == 10 && c.bytes().all(|b| b.is_ascii_digit())));
    assert_eq!(e["citizen"]["name"], viewed["citizen"]["name"]);
    let cases = e["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{}", res.text);
    let c = &cases[0];
    assert_eq!(c["case"]["id"], case.as_str());
    assert_eq!(c["case"]["referral"], viewed["referral"], "the referral as the case shows it");
    assert_eq!(c["case"]["participation_notes"].as_array().unwrap().len(), 1);
    assert_eq!(c["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(c["decisions"][0]["kind"], "initial");
    assert_eq!(c["plan_versions"].as_array().unwrap().len(), 1);
    assert_eq!(c["plan_versions"][0]["amendments"].as_array().unwrap().len(), 1, "the amendment");
    let kinds: Vec<&str> = c["consents"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["plan", "data_sharing"]);
    assert_eq!(c["ledger"].as_array().unwrap().len(), 1);
    assert_eq!(c["ledger"][0]["amount_ore"], 25_000);
    let history = types(&c["history"]);
    for t in ["case.referred", "case.screened", "consent.given", "decision.recorded", "plan.adopted", "budget.spent"] {
        assert!(history.contains(&t.to_string()), "{t} in {history:?}");
    }
    let consultations = e["consultations"].as_array().unwrap();
    assert!(!consultations.is_empty(), "the consultation report: {}", res.text);
    assert!(consultations.iter().all(|d| d["accesses"].as_i64().unwrap() > 0));
    assert!(!res.text.contains(&other), "another citizen's case is not in the export");

    // on record, as an access request naming the citizen and the case
    let rid = res.header("x-request-id").unwrap().to_string();
    let entries = app.count(&format!(
        "SELECT count(*) FROM audit_log WHERE request_id = '{rid}' AND purpose = 'access_request' \
         AND action = 'read' AND citizen_id = '{citizen}' AND case_ids @> ARRAY['{case}'::uuid]"
    ));
    assert_eq!(entries, 1);
}

#[tokio::test]
async fn only_the_auditor_exports_and_a_refusal_is_on_record() {
    let world = World::new().await;
    let app = &world.app;
    let (case, _) = world.active(45).await;
    let viewed = app.get(&format!("/api/v1/cases/{case}"), &world.token(COORDINATOR)).await.expect(200).body;
    let citizen = viewed["citizen"]["id"].as_str().unwrap().to_string();
    for who in [COORDINATOR, REFERRER, ADULT_LEADER_SOC, OUTSIDER] {
        let res = app.get(&export_path(&citizen), &world.token(who)).await.problem(403, "forbidden");
        let rid = res.header("x-request-id").unwrap().to_string();
        let denied = app.count(&format!(
            "SELECT count(*) FROM audit_log WHERE request_id = '{rid}' AND action = 'denied' AND citizen_id = '{citizen}'"
        ));
        assert_eq!(denied, 1, "{who:?}'s refusal is on record");
    }
    let nobody = uuid::Uuid::new_v4();
    app.get(&export_path(&nobody.to_string()), &world.token(AUDITOR)).await.problem(404, "not_found");
    app.get(&export_path("not-a-uuid"), &world.token(AUDITOR)).await.problem(404, "not_found");
}

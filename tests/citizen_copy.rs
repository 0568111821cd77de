mod common;

// api.md, Plans: `GET /cases/{id}/plan` answers by `Accept`: JSON by default; the citizen's own
// copy as a self-contained HTML page or a PDF, in plain Danish, audited as `citizen_copy`; and a
// FHIR R4 Bundle for health and care systems. Each passes the one access rule.

use chrono::{Duration, Utc};
use common::world::{
    cpr_for_age, initial_decision, referral, World, ADULT_LEADER_SOC, AUDITOR, COORDINATOR, OUTSIDER, REFERRER,
};
use common::Response;
use reqwest::Method;
use serde_json::{json, Value};

const ADULT: i32 = 45;
const NAME: &str = "Åse Ærø-Søndergård";
const MONTHS: [&str; 12] = [
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

fn danish(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}. {} {}", date.day(), MONTHS[date.month0() as usize], date.year())
}

struct Case {
    id: String,
    citizen: String,
    cpr: String,
    follow_up: chrono::NaiveDate,
}

/// An active case of a citizen named `NAME`, whose coordinator can be reached by phone and
/// e-mail.
async fn active(world: &World) -> Case {
    let app = &world.app;
    let cpr = cpr_for_age(ADULT, 20);
    let citizen = app.post("/api/v1/citizens", &world.token(REFERRER), &json!({"cpr": cpr, "name": NAME})).await;
    let citizen = citizen.expect(201).id();
    let mut body = referral(&citizen);
    body["description"] = json!("Hemmelig henvisningstekst om misbrug");
    let id = app.post("/api/v1/cases", &world.token(REFERRER), &body).await.expect(201).id();
    app.post(&format!("/api/v1/cases/{id}/screening"), &world.token(ADULT_LEADER_SOC), &json!({"outcome": "accepted"}))
        .await
        .expect(200);
    world.plan_consents(&id, ADULT).await;
    let meeting = world.meeting(ADULT).await;
    world.on_agenda(&meeting, &id, ADULT).await;
    let mut decision = initial_decision(&id, ADULT);
    decision["coordinator"]["phone"] = json!("+45 33 66 33 66");
    decision["coordinator"]["email"] = json!("c.koordinator@kommune.example");
    decision["plan"]["interventions"][1]["start_on"] = json!("2027-01-04");
    decision["plan"]["interventions"][1]["end_on"] = json!("2027-06-30");
    let follow_up = (Utc::now() + Duration::days(60)).date_naive();
    decision["follow_up_on"] = json!(follow_up.to_string());
    app.post(&format!("/api/v1/meetings/{meeting}/decisions"), &world.token(World::leader(ADULT)), &decision)
        .await
        .expect(201);
    Case { id, citizen, cpr, follow_up }
}

async fn plan_as(world: &World, case: &str, token: &str, accept: Option<&str>) -> (Response, Vec<u8>) {
    let mut req = world
        .app
        .client
        .request(Method::GET, format!("{}/api/v1/cases/{case}/plan", world.app.base))
        .bearer_auth(token);
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap().to_vec();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (Response { status, headers, body, text }, bytes)
}

fn purposes(world: &World, rid: &str) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        purpose: String,
    }
    let mut conn = world.app.conn();
    diesel::sql_query(format!("SELECT purpose || '/' || action AS purpose FROM audit_log WHERE request_id = '{rid}'"))
        .load::<Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.purpose)
        .collect()
}

/// What the citizen reads in either copy.
fn assert_reads_as_the_citizens_copy(text: &str, case: &Case) {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Din plan",
        NAME,
        "Min egen lejlighed og et job.",
        "Det arbejder vi hen imod sammen",
        "Bolig",
        "Own flat within a year",
        "Inden 31. december 2027",
        "Bostøtte",
        "Ansvarlig: Socialområdet",
        "Mentor",
        "Ansvarlig: Arbejdsmarkedsafdelingen",
        "Fra 4. januar 2027 til 30. juni 2027",
        "Cora Koordinator",
        "Telefon: +45 33 66 33 66",
        "E-mail: c.koordinator@kommune.example",
        "Næste opfølgning",
        &danish(case.follow_up),
        "version 1, vedtaget",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from the copy:\n{text}");
    }
    let own = text.find("Min egen lejlighed").unwrap();
    assert!(own < text.find("Own flat").unwrap(), "the citizen's own goals come first");
    assert!(!text.contains(&case.cpr), "no CPR number in the copy");
    assert!(!text.contains(&case.cpr[..6]), "not even the birth date part of the CPR number");
    for code in
        ["labour_market", "housing", "employment", "active", "planned", "indsatsplan", "JP-123", "Momentum", "cora"]
    {
        assert!(!text.contains(code), "internal code {code:?} in the copy:\n{text}");
    }
    assert!(!text.contains("Hemmelig henvisningstekst"), "the referral is not the citizen's plan");
}

#[tokio::test]
async fn the_html_copy_is_the_citizens_plan_in_danish_self_contained_and_audited() {
    let world = World::new().await;
    let case = active(&world).await;
    let cora = world.token(COORDINATOR);
    let (res, _) = plan_as(&world, &case.id, &cora, Some("text/html")).await;
    let res = res.expect(200);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(res.header("vary").is_some_and(|v| v.contains("Accept")));
    let csp = res.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = &res.text;
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<html lang=\"da\">"));
    // self-contained: nothing to fetch, nothing to run
    for external in ["src=", "href=", "url(", "@import", "<script", "<link", "http://", "https://"] {
        assert!(!html.contains(external), "{external} in the page");
    }
    // the text as a reader sees it: tags out
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let title = "Din plan –";
    let body = &text[text.find(title).unwrap() + title.len()..]; // past the <title>
    assert_reads_as_the_citizens_copy(body, &case);

    let rid = res.header("x-request-id").unwrap();
    assert_eq!(purposes(&world, rid), ["citizen_copy/read"], "one entry, with the copy's own purpose");

    // a departmental system that fetches the page does its own work, and the log says so
    let system = world.app.token("dept-system", "social", &["system"]);
    let (res, _) = plan_as(&world, &case.id, &system, Some("text/html")).await;
    let rid = res.expect(200).header("x-request-id").unwrap().to_string();
    assert_eq!(purposes(&world, &rid), ["integration/read"]);
}

#[tokio::test]
async fn the_pdf_copy_says_the_same_with_its_font_embedded() {
    let world = World::new().await;
    let case = active(&world).await;
    let (res, bytes) = plan_as(&world, &case.id, &world.token(COORDINATOR), Some("application/pdf")).await;
    let res = res.expect(200);
    assert_eq!(res.header("content-type"), Some("application/pdf"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(bytes.starts_with(b"%PDF-"), "a PDF file");
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/FontFile2"), "the TrueType font is embedded");
    assert!(raw.contains("DejaVuSans"), "the font is DejaVu Sans");
    assert!(raw.contains("pdfaid:part>2<") || raw.contains("pdfaid:part=\"2\""), "declares PDF/A-2");
    let text = pdf_extract::extract_text_from_mem(&bytes).expect("an independent reader extracts the text");
    assert_reads_as_the_citizens_copy(&text, &case);
    assert!(text.contains("Side 1 af "), "each page says which it is: {text}");
    let rid = res.header("x-request-id").unwrap();
    assert_eq!(purposes(&world, rid), ["citizen_copy/read"]);
}

#[tokio::test]
async fn a_long_plan_flows_onto_more_pages_with_every_intervention_in_it() {
    let world = World::new().await;
    let case = active(&world).await;
    let cora = world.token(COORDINATOR);
    for n in 0..45 {
        let title =
            format!("Ekstra indsats nummer {n} med en titel, der er lang nok til at fylde en hel linje på siden");
        let body = json!({"title": title, "responsible_department": "health_care", "start_on": "2027-02-01"});
        world.app.post(&format!("/api/v1/cases/{}/plan/interventions", case.id), &cora, &body).await.expect(201);
    }
    let (res, bytes) = plan_as(&world, &case.id, &cora, Some("application/pdf")).await;
    res.expect(200);
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for n in 0..45 {
        assert!(flat.contains(&format!("Ekstra indsats nummer {n} med")), "intervention {n} missing");
    }
    assert!(flat.contains("Ansvarlig: Sundhed og Omsorg"));
    let pages = flat.matches("Side ").count();
    assert!(pages >= 3 && flat.contains(&format!("Side {pages} af {pages}")), "{pages} pages:\n{flat}");
}

#[tokio::test]
async fn the_fhir_bundle_holds_the_care_plan_goals_team_and_a_patient_without_cpr() {
    let world = World::new().await;
    let case = active(&world).await;
    let system = world.app.token("dept-system", "social", &["system"]);
    for token in [world.token(COORDINATOR), system] {
        let (res, _) = plan_as(&world, &case.id, &token, Some("application/fhir+json")).await;
        let res = res.expect(200);
        assert!(res.header("content-type").unwrap().starts_with("application/fhir+json"));
        let b = &res.body;
        assert_eq!((b["resourceType"].as_str(), b["type"].as_str()), (Some("Bundle"), Some("collection")));
        let entries = b["entry"].as_array().unwrap();
        let by_url = |url: &str| entries.iter().find(|e| e["fullUrl"] == url).map(|e| &e["resource"]);
        let of_type = |t: &str| entries.iter().filter(|e| e["resource"]["resourceType"] == t).count();
        assert_eq!((of_type("CarePlan"), of_type("Goal"), of_type("CareTeam"), of_type("Patient")), (1, 2, 1, 1));
        for e in entries {
            let id = e["resource"]["id"].as_str().unwrap();
            assert_eq!(e["fullUrl"], format!("urn:uuid:{id}"), "each entry's fullUrl names its resource");
        }
        let plan = entries.iter().find(|e| e["resource"]["resourceType"] == "CarePlan").unwrap();
        let plan = &plan["resource"];
        assert_eq!((plan["status"].as_str(), plan["intent"].as_str()), (Some("active"), Some("plan")));
        assert!(plan["period"]["start"].as_str().is_some());
        assert_eq!(plan["identifier"][0], json!({"system": "urn:helhed:case", "value": case.id}));
        for goal in plan["goal"].as_array().unwrap() {
            let goal = by_url(goal["reference"].as_str().unwrap()).expect("the goal reference resolves");
            assert_eq!(goal["lifecycleStatus"], "active");
            assert!(goal["description"]["text"].as_str().is_some());
        }
        let housing =
            entries.iter().map(|e| &e["resource"]).find(|r| r["description"]["text"] == "Own flat within a year");
        assert_eq!(housing.unwrap()["target"][0]["dueDate"], "2027-12-31");
        let team = by_url(plan["careTeam"][0]["reference"].as_str().unwrap()).expect("the care team resolves");
        let coordinator = by_url(team["participant"][0]["member"]["reference"].as_str().unwrap()).unwrap();
        assert_eq!(coordinator["resourceType"], "Practitioner");
        assert_eq!(coordinator["name"][0]["text"], "Cora Koordinator");
        let telecom: Vec<&str> =
            coordinator["telecom"].as_array().unwrap().iter().map(|t| t["value"].as_str().unwrap()).collect();
        assert_eq!(telecom, ["+45 33 66 33 66", "c.koordinator@kommune.example"]);
        let details: Vec<(&str, &str)> = plan["activity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["detail"]["description"].as_str().unwrap(), a["detail"]["status"].as_str().unwrap()))
            .collect();
        assert_eq!(details, [("Bostøtte", "in-progress"), ("Mentor", "scheduled")]);
        assert_eq!(
            plan["activity"][1]["detail"]["scheduledPeriod"],
            json!({"start": "2027-01-04", "end": "2027-06-30"})
        );
        let patient = by_url(plan["subject"]["reference"].as_str().unwrap()).expect("the subject resolves");
        assert_eq!(patient["identifier"], json!([{"system": "urn:helhed:citizen", "value": case.citizen}]));
        assert_eq!(patient["name"][0]["text"], NAME);
        assert!(!res.text.contains(&case.cpr) && !res.text.contains(&case.cpr[..6]), "no CPR in the bundle");
        let rid = res.header("x-request-id").unwrap();
        let purposes = purposes(&world, rid);
        assert!(purposes == ["coordination/read"] || purposes == ["integration/read"], "{purposes:?}");
    }

    // once the case is closed because the citizen declined, the plan is revoked
    let cora = world.token(COORDINATOR);
    world
        .app
        .post(&format!("/api/v1/cases/{}/closure", case.id), &cora, &json!({"reason": "citizen_declined"}))
        .await
        .expect(200);
    let (res, _) = plan_as(&world, &case.id, &cora, Some("application/fhir+json")).await;
    let entries = res.expect(200).body["entry"].as_array().unwrap().clone();
    let status = |t: &str, field: &str| {
        entries.iter().find(|e| e["resource"]["resourceType"] == t).unwrap()["resource"][field]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("CarePlan", "status"), "revoked");
    assert_eq!(status("Goal", "lifecycleStatus"), "cancelled");
    assert_eq!(status("CareTeam", "status"), "inactive");
}

#[tokio::test]
async fn accept_chooses_the_answer_and_an_unknown_one_is_406() {
    let world = World::new().await;
    let case = active(&world).await;
    let cora = world.token(COORDINATOR);
    let kind = |res: &Response| res.header("content-type").unwrap_or("").split(';').next().unwrap().to_string();
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for (accept, expected) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some(browser), "text/html"),
        (Some("application/json;q=0.5, application/pdf"), "application/pdf"),
        (Some("text/*"), "text/html"),
        (Some("application/*;q=0.9, application/fhir+json"), "application/fhir+json"),
        (Some("application/fhir+json; fhirVersion=4.0"), "application/fhir+json"),
        // a weight that is not one refuses its range, rather than counting as 1
        (Some("application/json;q=0.5, text/html;q=0x1"), "application/json"),
        (Some("application/json;q=0.5, text/html;q= 0"), "application/json"),
        (Some("application/json;q=0.5, application/pdf;q=1.000"), "application/pdf"),
    ] {
        let (res, _) = plan_as(&world, &case.id, &cora, accept).await;
        assert_eq!(kind(&res.expect(200)), expected, "Accept: {accept:?}");
    }
    let before = world.app.count("SELECT count(*) FROM audit_log");
    for accept in ["application/xml", "image/png", "text/html;q=0, application/json;q=0", "text/html;q=2"] {
        let (res, _) = plan_as(&world, &case.id, &cora, Some(accept)).await;
        res.problem(406, "not_acceptable");
    }
    assert_eq!(world.app.count("SELECT count(*) FROM audit_log"), before, "a 406 reads no personal data");
}

#[tokio::test]
async fn an_outsider_gets_404_in_every_form_on_record_as_denied() {
    let world = World::new().await;
    let case = active(&world).await;
    let otto = world.token(OUTSIDER);
    for accept in ["application/json", "text/html", "application/pdf", "application/fhir+json"] {
        let (res, _) = plan_as(&world, &case.id, &otto, Some(accept)).await;
        let res = res.problem(404, "not_found");
        assert!(!res.text.contains(NAME) && !res.text.contains("Cora"), "{}", res.text);
        let rid = res.header("x-request-id").unwrap();
        let recorded = purposes(&world, rid);
        assert_eq!(recorded.len(), 1, "{accept}: {recorded:?}");
        assert!(recorded[0].ends_with("/denied"), "{accept}: {recorded:?}");
        if accept == "text/html" || accept == "application/pdf" {
            assert_eq!(recorded[0], "citizen_copy/denied");
        }
    }
    // the auditor reads no plans, in any form
    let (res, _) = plan_as(&world, &case.id, &world.token(AUDITOR), Some("application/pdf")).await;
    assert!(res.status == 403 || res.status == 404, "{}", res.status);
}

#[tokio::test]
async fn goal_ids_a_plan_copied_from_another_citizen_keeps_do_not_cross_into_the_bundle() {
    let world = World::new().await;
    let first = active(&world).await;
    let cora = world.token(COORDINATOR);
    let (plan, _) = plan_as(&world, &first.id, &cora, Some("application/json")).await;
    let goals = plan.expect(200).body["goals"].clone();
    // the second citizen's plan is the first one's, ids and all
    let second = world.awaiting(ADULT).await;
    let meeting = world.meeting(ADULT).await;
    world.on_agenda(&meeting, &second, ADULT).await;
    let mut decision = initial_decision(&second, ADULT);
    decision["plan"]["goals"] = goals.clone();
    world
        .app
        .post(&format!("/api/v1/meetings/{meeting}/decisions"), &world.token(World::leader(ADULT)), &decision)
        .await
        .expect(201);
    let urls = |bundle: &Value| -> Vec<String> {
        bundle["entry"].as_array().unwrap().iter().map(|e| e["fullUrl"].as_str().unwrap().to_string()).collect()
    };
    let (a, _) = plan_as(&world, &first.id, &cora, Some("application/fhir+json")).await;
    let (b, _) = plan_as(&world, &second, &cora, Some("application/fhir+json")).await;
    let (a, b) = (urls(&a.expect(200).body), urls(&b.expect(200).body));
    for bundle in [&a, &b] {
        let unique: std::collections::HashSet<&String> = bundle.iter().collect();
        assert_eq!(unique.len(), bundle.len(), "every fullUrl once in a bundle: {bundle:?}");
    }
    let shared: Vec<&String> = a.iter().filter(|u| b.contains(u)).collect();
    assert!(shared.is_empty(), "two citizens' bundles share no resource: {shared:?}");
}

#[tokio::test]
async fn blank_texts_never_reach_a_rendering() {
    let world = World::new().await;
    let case = world.awaiting(ADULT).await;
    let meeting = world.meeting(ADULT).await;
    world.on_agenda(&meeting, &case, ADULT).await;
    let leader = world.token(World::leader(ADULT));
    let decisions = format!("/api/v1/meetings/{meeting}/decisions");
    for (path, blank) in [
        ("/plan/goals/0/description", json!("\u{a0}")),
        ("/plan/goals/0/description", json!("\u{b}\u{c}")),
        ("/plan/interventions/0/title", json!(" ")),
        ("/coordinator/name", json!("   ")),
        ("/coordinator/phone", json!("+4")),
        ("/coordinator/phone", json!("1")),
        ("/coordinator/email", json!("a@-.dk")),
        ("/coordinator/email", json!("..@b.dk")),
    ] {
        let mut decision = initial_decision(&case, ADULT);
        let (parent, field) = path.rsplit_once('/').unwrap();
        decision.pointer_mut(parent).unwrap()[field] = blank.clone();
        let res = world.app.post(&decisions, &leader, &decision).await;
        assert_eq!(res.status, 422, "{path} = {blank}: {}", res.text);
        res.problem(422, "validation_failed");
    }
    let mut decision = initial_decision(&case, ADULT);
    decision["coordinator"]["phone"] = json!("+45 33 66 33 66");
    world.app.post(&decisions, &leader, &decision).await.expect(201);
    let body = json!({"title": " ", "responsible_department": "social"});
    let cora = world.token(COORDINATOR);
    world
        .app
        .post(&format!("/api/v1/cases/{case}/plan/interventions"), &cora, &body)
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn a_plan_stops_growing_at_a_hundred_interventions() {
    let world = World::new().await;
    let case = active(&world).await;
    let cora = world.token(COORDINATOR);
    let path = format!("/api/v1/cases/{}/plan/interventions", case.id);
    for n in 2..100 {
        let body = json!({"title": format!("Indsats {n}"), "responsible_department": "social"});
        world.app.post(&path, &cora, &body).await.expect(201);
    }
    let body = json!({"title": "Indsats 100", "responsible_department": "social"});
    let refused = world.app.post(&path, &cora, &body).await.problem(422, "inconsistent_request");
    assert!(refused.text.contains("100 interventions"), "{}", refused.text);
    let (plan, _) = plan_as(&world, &case.id, &cora, None).await;
    assert_eq!(plan.expect(200).body["interventions"].as_array().unwrap().len(), 100);
}

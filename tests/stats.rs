//! Flow statistics on a constructed data set whose medians and percentiles are known.

mod common;

use common::world::{initial_decision, World, ADULT_CW_SOC, ADULT_LEADER_SOC, COORDINATOR, YOUTH_LEADER_Y};
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

fn close(actual: &Value, expected: f64) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("a number, not {actual}"));
    assert!((actual - expected).abs() < 0.02, "{actual} ≉ {expected}");
}

#[tokio::test]
async fn medians_percentiles_waits_participation_and_frame_use() {
    let world = World::new().await;
    let app = &world.app;
    let leader = world.token(World::leader(45));
    // Five adult cases, screened s days ago after r days from referral.
    let (r, s) = ([1, 2, 3, 4, 10], [2, 4, 6, 5, 9]);
    let mut cases = Vec::new();
    for i in 0..5 {
        cases.push(world.awaiting(40 + i).await);
    }
    let meeting = world.meeting(45).await;
    for (i, case) in cases.iter().enumerate().take(3) {
        world.on_agenda(&meeting, case, 45).await;
        let mut decision = initial_decision(case, 45);
        if i == 2 {
            decision["citizen_participation"] = json!({"took_part": false, "reason_not": "in hospital"});
        }
        app.post(&format!("/api/v1/meetings/{meeting}/decisions"), &leader, &decision).await.expect(201);
    }
    // a spend of 1,500,000 øre from one of the three 5,000,000 øre frames
    let body = json!({"amount_ore": 1_500_000, "category": "mentor_support", "description": "Mentor"});
    app.post(&format!("/api/v1/cases/{}/budget/spends", cases[0]), &world.token(COORDINATOR), &body).await.expect(201);
    let mut conn = app.conn();
    for (i, case) in cases.iter().enumerate() {
        conn.batch_execute(&format!(
            "UPDATE cases SET screened_at = now() - interval '{} days', \
             referred_at = now() - interval '{} days' WHERE id = '{case}'",
            s[i],
            s[i] + r[i]
        ))
        .unwrap();
    }
    conn.batch_execute(&format!("UPDATE cases SET follow_up_on = current_date - 1 WHERE id = '{}'", cases[1])).unwrap();
    // a youth case, to see that committees are kept apart
    world.referred(20).await;

    let res = app.get(&format!("/api/v1/stats/flow?committee_id={}", world.adult_committee), &leader).await.expect(200);
    let adult = &res.body["committees"][0];
    assert_eq!(res.body["committees"].as_array().unwrap().len(), 1);
    assert_eq!(adult["cases_by_status"], json!({"active": 3, "awaiting_committee": 2}));
    // referral → screening over [1, 2, 3, 4, 10]: median 3, p90 4 + 0.6 × 6 = 7.6
    close(&adult["referral_to_screening"]["median_days"], 3.0);
    close(&adult["referral_to_screening"]["p90_days"], 7.6);
    assert_eq!(adult["referral_to_screening"]["count"], 5);
    // screening → first decision over [2, 4, 6]: median 4, p90 4 + 0.8 × 2 = 5.6
    close(&adult["screening_to_first_decision"]["median_days"], 4.0);
    close(&adult["screening_to_first_decision"]["p90_days"], 5.6);
    assert_eq!(adult["screening_to_first_decision"]["count"], 3);
    assert_eq!(adult["waiting"]["count"], 2);
    close(&adult["waiting"]["longest_days"], 9.0);
    assert_eq!(adult["overdue_follow_ups"], 1);
    assert_eq!(adult["citizen_participation"], json!({"decisions": 3, "took_part": 2, "share": 0.6667}));
    assert_eq!(adult["frame_use"], json!({"frame_ore": 15_000_000, "spent_ore": 1_500_000, "share": 0.1}));
    assert!(!res.text.contains("Test Borger"), "no personal data");

    // A period that began yesterday: no case was referred in it, but the decisions were.
    let from = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let res = app
        .get(&format!("/api/v1/stats/flow?committee_id={}&from={from}", world.adult_committee), &leader)
        .await
        .expect(200);
    assert_eq!(res.body["committees"][0]["cases_by_status"], json!({}));
    assert_eq!(res.body["committees"][0]["referral_to_screening"]["count"], 0);
    assert_eq!(res.body["committees"][0]["citizen_participation"]["decisions"], 3);

    // All committees at once; the youth committee has its one referral.
    let res = app.get("/api/v1/stats/flow", &world.token(ADULT_LEADER_SOC)).await.expect(200);
    let youth = res.body["committees"].as_array().unwrap().iter().find(|c| c["track"] == "youth").unwrap();
    assert_eq!(youth["cases_by_status"], json!({"referred": 1}));
    // A leader counts only the cases they see: youth's leader sees no adult case.
    let res = app
        .get(&format!("/api/v1/stats/flow?committee_id={}", world.adult_committee), &world.token(YOUTH_LEADER_Y))
        .await
        .expect(200);
    assert_eq!(res.body["committees"][0]["cases_by_status"], json!({}));
    // Who may read statistics
    app.get("/api/v1/stats/flow", &world.token(ADULT_CW_SOC)).await.problem(403, "forbidden");
    app.get("/api/v1/stats/flow", &app.token("a", "social", &["admin"])).await.expect(200);
    app.get(&format!("/api/v1/stats/flow?committee_id={}", uuid::Uuid::new_v4()), &leader)
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/stats/flow?from={from}&to={from}"), &leader).await.problem(422, "inconsistent_request");
}

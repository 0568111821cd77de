//! Builders that make the world of a test readable: committees with members, citizens of a
//! given age, referrals at each stage.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use super::TestApp;

/// A person in the test world: sub, department, roles.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub sub: &'static str,
    pub dept: &'static str,
    pub roles: &'static [&'static str],
}

pub const ADMIN: Person = Person { sub: "admin", dept: "social", roles: &["admin"] };
pub const AUDITOR: Person = Person { sub: "auditor", dept: "social", roles: &["auditor"] };
/// A caseworker of the social department who sits on no committee.
pub const REFERRER: Person = Person { sub: "rita", dept: "social", roles: &["caseworker"] };
/// A caseworker on no committee, in a department on neither committee's list but youth's.
pub const OUTSIDER: Person = Person { sub: "otto", dept: "school", roles: &["caseworker"] };

/// Adult committee: leaders, caseworkers, fixed staff.
pub const ADULT_LEADER_LM: Person = Person { sub: "al1", dept: "labour_market", roles: &["leader"] };
pub const ADULT_LEADER_SOC: Person = Person { sub: "al2", dept: "social", roles: &["leader"] };
pub const ADULT_CW_LM: Person = Person { sub: "ac1", dept: "labour_market", roles: &["caseworker"] };
pub const ADULT_CW_SOC: Person = Person { sub: "ac2", dept: "social", roles: &["caseworker"] };
pub const ADULT_FIXED: Person = Person { sub: "af", dept: "health_care", roles: &["caseworker"] };
/// Youth committee.
pub const YOUTH_LEADER_Y: Person = Person { sub: "yl1", dept: "youth", roles: &["leader"] };
pub const YOUTH_LEADER_SOC: Person = Person { sub: "yl2", dept: "social", roles: &["leader"] };
pub const YOUTH_CW_Y: Person = Person { sub: "yc1", dept: "youth", roles: &["caseworker"] };
pub const YOUTH_CW_SOC: Person = Person { sub: "yc2", dept: "social", roles: &["caseworker"] };
pub const YOUTH_FIXED: Person = Person { sub: "yf", dept: "school", roles: &["caseworker"] };

/// The coordinating caseworker the committee appoints in `World::active`.
pub const COORDINATOR: Person = Person { sub: "cora", dept: "labour_market", roles: &["caseworker"] };
/// Another caseworker, appointed by a revision in tests of a coordinator change.
pub const NEW_COORDINATOR: Person = Person { sub: "nils", dept: "social", roles: &["caseworker"] };

pub struct World {
    pub app: TestApp,
    pub youth_committee: String,
    pub adult_committee: String,
}

fn seat(p: Person, role: &str) -> Value {
    json!({"sub": p.sub, "name": format!("Member {}", p.sub), "department": p.dept, "role": role})
}

impl World {
    /// A fresh service with both committees and their members.
    pub async fn new() -> World {
        World::on(TestApp::spawn().await).await
    }

    /// Both committees and their members, on a service already running (e.g. as the service
    /// role of a strict deployment).
    pub async fn on(app: TestApp) -> World {
        let admin = app.as_(ADMIN);
        let adult = app
            .post(
                "/api/v1/committees",
                &admin,
                &json!({"name": "Voksne", "track": "adult", "departments": ["labour_market", "social", "health_care"]}),
            )
            .await
            .expect(201)
            .id();
        app.put(
            &format!("/api/v1/committees/{adult}/members"),
            &admin,
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
        let youth = app
            .post(
                "/api/v1/committees",
                &admin,
                &json!({"name": "Unge", "track": "youth", "departments": ["youth", "social", "school"]}),
            )
            .await
            .expect(201)
            .id();
        app.put(
            &format!("/api/v1/committees/{youth}/members"),
            &admin,
            &json!([
                seat(YOUTH_LEADER_Y, "leader"),
                seat(YOUTH_LEADER_SOC, "leader"),
                seat(YOUTH_CW_Y, "caseworker"),
                seat(YOUTH_CW_SOC, "caseworker"),
                seat(YOUTH_FIXED, "fixed_staff")
            ]),
        )
        .await
        .expect(200);
        World { app, youth_committee: youth, adult_committee: adult }
    }

    pub fn token(&self, p: Person) -> String {
        self.app.as_(p)
    }

    /// Registers a citizen who turned `age` some days ago; returns the citizen id.
    pub async fn citizen(&self, age: i32) -> String {
        let cpr = cpr_for_age(age, 20);
        self.app
            .post("/api/v1/citizens", &self.token(REFERRER), &json!({"cpr": cpr, "name": "Test Borger"}))
            .await
            .expect(201)
            .id()
    }

    /// A complete referral by `REFERRER` of a citizen of `age`; returns the case id.
    pub async fn referred(&self, age: i32) -> String {
        let citizen = self.citizen(age).await;
        let mut body = referral(&citizen);
        if age < 18 {
            body["under_18_justification"] = json!("individual professional assessment");
        }
        self.app.post("/api/v1/cases", &self.token(REFERRER), &body).await.expect(201).id()
    }

    /// A case screened and accepted by a leader of its committee; returns the case id.
    pub async fn awaiting(&self, age: i32) -> String {
        let id = self.referred(age).await;
        let leader = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
        self.app
            .post(&format!("/api/v1/cases/{id}/screening"), &self.token(leader), &json!({"outcome": "accepted"}))
            .await
            .expect(200);
        self.plan_consents(&id, age).await;
        id
    }

    /// A case screened and accepted, without any consent yet.
    pub async fn awaiting_without_consent(&self, age: i32) -> String {
        let id = self.referred(age).await;
        let leader = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
        self.app
            .post(&format!("/api/v1/cases/{id}/screening"), &self.token(leader), &json!({"outcome": "accepted"}))
            .await
            .expect(200);
        id
    }

    /// A data-sharing consent of the citizen naming `departments`, given today and recorded by a
    /// leader of the committee for `age`: the referral's other involved departments see the case
    /// only while one names them. Returns the consent id.
    pub async fn data_sharing(&self, case: &str, age: i32, departments: &[&str]) -> String {
        let today = Utc::now().format("%Y-%m-%d").to_string();
        let leader = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
        self.app
            .post(
                &format!("/api/v1/cases/{case}/consents"),
                &self.token(leader),
                &json!({"kind": "data_sharing", "given_by": "citizen", "form": "written", "given_on": today,
                        "departments": departments}),
            )
            .await
            .expect(201)
            .id()
    }

    /// The plan consents an initial decision needs: the citizen's, and a custody holder's
    /// under 18.
    pub async fn plan_consents(&self, case: &str, age: i32) {
        self.plan_consent(case, age, "citizen").await;
        if age < 18 {
            self.plan_consent(case, age, "custody_holder").await;
        }
    }

    /// The plan consent of the citizen (or of a custody holder), given today in writing and
    /// recorded by the leader who screened the case; returns the consent id.
    pub async fn plan_consent(&self, case: &str, age: i32, given_by: &str) -> String {
        let today = Utc::now().format("%Y-%m-%d").to_string();
        let leader = if age < 30 { YOUTH_LEADER_SOC } else { ADULT_LEADER_SOC };
        self.app
            .post(
                &format!("/api/v1/cases/{case}/consents"),
                &self.token(leader),
                &json!({"kind": "plan", "given_by": given_by, "form": "written", "given_on": today}),
            )
            .await
            .expect(201)
            .id()
    }
}

impl World {
    pub fn committee(&self, age: i32) -> &str {
        if age < 30 {
            &self.youth_committee
        } else {
            &self.adult_committee
        }
    }

    /// A leader member of the committee of a citizen of `age`.
    pub fn leader(age: i32) -> Person {
        if age < 30 {
            YOUTH_LEADER_Y
        } else {
            ADULT_LEADER_LM
        }
    }

    /// The fixed members present at a quorate meeting of the committee for `age`.
    pub fn quorum(age: i32) -> Value {
        if age < 30 {
            json!([YOUTH_LEADER_Y.sub, YOUTH_CW_SOC.sub, YOUTH_FIXED.sub])
        } else {
            json!([ADULT_LEADER_LM.sub, ADULT_CW_SOC.sub, ADULT_FIXED.sub])
        }
    }

    /// A meeting of the committee for `age`, tomorrow; returns its id.
    pub async fn meeting(&self, age: i32) -> String {
        let at = (Utc::now() + Duration::days(1)).format("%Y-%m-%dT10:00:00Z").to_string();
        self.app
            .post(
                &format!("/api/v1/committees/{}/meetings", self.committee(age)),
                &self.token(Self::leader(age)),
                &json!({"scheduled_at": at}),
            )
            .await
            .expect(201)
            .id()
    }

    /// Puts a case on a meeting's agenda.
    pub async fn on_agenda(&self, meeting: &str, case: &str, age: i32) {
        self.app
            .post(
                &format!("/api/v1/meetings/{meeting}/agenda"),
                &self.token(Self::leader(age)),
                &json!({"case_id": case}),
            )
            .await
            .expect(201);
    }

    /// A case with an initial decision: plan v1, `COORDINATOR`, a frame of 50,000 DKK and a
    /// follow-up in 60 days. Returns (case id, meeting id).
    pub async fn active(&self, age: i32) -> (String, String) {
        let case = self.awaiting(age).await;
        let meeting = self.meeting(age).await;
        self.on_agenda(&meeting, &case, age).await;
        self.app
            .post(
                &format!("/api/v1/meetings/{meeting}/decisions"),
                &self.token(Self::leader(age)),
                &initial_decision(&case, age),
            )
            .await
            .expect(201);
        (case, meeting)
    }
}

/// A complete plan.
pub fn plan() -> Value {
    json!({
        "citizen_goals": "Min egen lejlighed og et job.",
        "goals": [
            {"area": "housing", "description": "Own flat within a year", "target_date": "2027-12-31"},
            {"area": "employment", "description": "Ten hours a week of work"}
        ],
        "interventions": [
            {"title": "Bostøtte", "responsible_department": "social", "status": "active", "cost_estimate_ore": 1500000},
            {"title": "Mentor", "responsible_department": "labour_market"}
        ],
        "statutory_plans": [{"department": "labour_market", "system": "Momentum", "reference": "JP-123"}]
    })
}

/// An initial decision for a case of a citizen of `age`, with everything it needs.
pub fn initial_decision(case: &str, age: i32) -> Value {
    json!({
        "case_id": case,
        "kind": "initial",
        "members_present": World::quorum(age),
        "citizen_participation": {"took_part": true, "form": "meeting", "citizen_view": "I want a home first."},
        "plan": plan(),
        "coordinator": {"sub": COORDINATOR.sub, "name": "Cora Koordinator", "department": COORDINATOR.dept},
        "budget_frame_ore": 5_000_000,
        "follow_up_on": (Utc::now() + Duration::days(60)).format("%Y-%m-%d").to_string()
    })
}

impl TestApp {
    pub fn as_(&self, p: Person) -> String {
        self.token(p.sub, p.dept, p.roles)
    }
}

/// A complete referral body.
pub fn referral(citizen_id: &str) -> Value {
    json!({
        "citizen_id": citizen_id,
        "problem_areas": ["mental_health", "homelessness"],
        "description": "Several departments involved without one plan.",
        "involved_departments": ["social", "labour_market"],
        "involved_caseworkers": [{"sub": "rita", "name": "Rita", "department": "social"}],
        "current_interventions": ["Bostøtte"],
        "citizen_view": "Wants one contact person.",
        "exclusions": {"disability_pension": false}
    })
}

static SERIAL: AtomicU32 = AtomicU32::new(0);

/// A CPR number for someone who turned `age` `days_ago` days ago, with the century digit the
/// CPR rules give their birth year.
pub fn cpr_for_age(age: i32, days_ago: i64) -> String {
    let today = Utc::now().date_naive();
    let birthday_this_year = today - Duration::days(days_ago);
    let born = NaiveDate::from_ymd_opt(
        birthday_this_year.year() - age,
        birthday_this_year.month(),
        birthday_this_year.day().min(28),
    )
    .unwrap();
    cpr_for(born)
}

pub fn cpr_for(born: NaiveDate) -> String {
    let seventh = match born.year() {
        1900..=1999 => 1,
        2000..=2036 => 4,
        y => panic!("no CPR century rule for {y} here"),
    };
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed) % 1000;
    format!("{:02}{:02}{:02}{seventh}{serial:03}", born.day(), born.month(), born.year() % 100)
}

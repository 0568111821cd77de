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
        let app = TestApp::spawn().await;
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
        id
    }
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

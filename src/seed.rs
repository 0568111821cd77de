//! Demo data for newcomers: the two Norddjurs committees with fictional members and a handful
//! of fictional cases at different stages. Every person and CPR number here is invented.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::api::meetings::decisions::DecisionRequest;
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::domain::consent::{ConsentKind, GivenBy};
use crate::domain::{cpr, eligibility, Department, Role};
use crate::error::AppError;
use crate::store::cases::{NewCase, Screening};
use crate::store::committees::Member;
use crate::store::events::{self, EventType};
use crate::store::{self};

/// The issuer the demo set-up signs its tokens with (see `scripts/serve`).
pub const DEMO_ISSUER: &str = "helhed-demo";

/// (sub, name, department, role on the committee)
type Seat = (&'static str, &'static str, Department, &'static str);

const YOUTH_MEMBERS: [Seat; 5] = [
    ("ulla.leder", "Ulla Holm", Department::Youth, "leader"),
    ("sofie.leder", "Sofie Bach", Department::Social, "leader"),
    ("jonas.uu", "Jonas Krogh", Department::Youth, "caseworker"),
    ("karen.social", "Karen Vinther", Department::Social, "caseworker"),
    ("lars.skole", "Lars Mikkelsen", Department::School, "fixed_staff"),
];

const ADULT_MEMBERS: [Seat; 5] = [
    ("per.leder", "Per Lund", Department::LabourMarket, "leader"),
    ("sofie.leder", "Sofie Bach", Department::Social, "leader"),
    ("mads.jobcenter", "Mads Dahl", Department::LabourMarket, "caseworker"),
    ("karen.social", "Karen Vinther", Department::Social, "caseworker"),
    ("hanne.sundhed", "Hanne Friis", Department::HealthCare, "fixed_staff"),
];

fn person(sub: &str, name: &str, dept: Department, roles: &[Role]) -> Principal {
    Principal {
        iss: DEMO_ISSUER.into(),
        sub: sub.into(),
        dept,
        roles: roles.to_vec(),
        name: Some(name.into()),
        request_id: "seed".into(),
        trace: None,
    }
}

/// Loads the demo data unless committees exist already. Returns whether it loaded.
pub fn demo(database_url: &str) -> Result<bool, String> {
    let mut conn = PgConnection::establish(&crate::db::with_timeouts(database_url))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    conn.transaction(load).map_err(|e| format!("demo data: {e}"))
}

fn load(conn: &mut PgConnection) -> Result<bool, AppError> {
    if !store::committees::list(conn, None, 1)?.is_empty() {
        return Ok(false);
    }
    let youth = committee(conn, "Koordinations- og visitationsudvalget, unge 15–29 år", "youth", &YOUTH_MEMBERS)?;
    let adult = committee(conn, "Koordinations- og visitationsudvalget, voksne 30+", "adult", &ADULT_MEMBERS)?;
    let karen = person("karen.social", "Karen Vinther", Department::Social, &[Role::Caseworker]);
    let jonas = person("jonas.uu", "Jonas Krogh", Department::Youth, &[Role::Caseworker]);
    let sofie = person("sofie.leder", "Sofie Bach", Department::Social, &[Role::Leader]);

    // A young person who turns 30 in about two months: on the transitions list and in the youth
    // leaders' tasks, ready for a transfer to the adult committee.
    let born = cpr::birthday(Utc::now().date_naive() + chrono::Duration::days(60), -eligibility::ADULT_FROM);
    let soon_30 = format!("{}1234", born.format("%d%m%y"));
    let cases = [
        // (referrer, cpr, name, committee, complete, screening, decided)
        (&karen, "1204851234", "Bo Jensen", adult, true, None, false),
        (&karen, "0307792678", "Lise Mortensen", adult, true, Some("accepted"), true),
        (&karen, "1409712345", "Jens Pedersen", adult, true, Some("accepted"), false),
        (&karen, "2506681122", "Henrik Sørensen", adult, true, Some("declined"), false),
        (&jonas, "2211034321", "Emma Nielsen", youth, false, None, false),
        (&jonas, "1503104123", "Mikkel Andersen", youth, true, Some("accepted"), true),
        (&jonas, soon_30.as_str(), "Sara Holm", youth, true, Some("accepted"), true),
    ];
    let per = person("per.leder", "Per Lund", Department::LabourMarket, &[Role::Leader]);
    let ulla = person("ulla.leder", "Ulla Holm", Department::Youth, &[Role::Leader]);
    let yesterday = Utc::now() - chrono::Duration::days(1);
    let adult_meeting = store::meetings::create(conn, &per, adult, yesterday)?;
    let youth_meeting = store::meetings::create(conn, &ulla, youth, yesterday)?;
    for (referrer, number, name, committee_id, complete, screening, decided) in cases {
        let cpr = cpr::Cpr::parse(number).expect("demo CPR numbers are valid");
        let (citizen, _) = store::citizens::register(conn, cpr.digits(), name, cpr.birth_date())?;
        audit::record(conn, referrer, Entry::citizen(Action::Create, Purpose::Referral, citizen.id, 201))?;
        let age = cpr::age_on(citizen.birth_date, Utc::now().date_naive());
        let justification = (age < eligibility::YOUTH_FROM)
            .then_some("Individuel faglig vurdering: massivt skolefravær og misbrug; UU og socialrådgiver er enige.");
        let track = if age < eligibility::ADULT_FROM { "youth" } else { "adult" };
        let caseworkers = json!([{"sub": referrer.sub, "name": referrer.name, "department": referrer.dept}]);
        let areas = vec!["mental_health".to_string(), "substance_abuse".to_string(), "homelessness".to_string()];
        let departments = vec![referrer.dept.as_str().to_string(), "social".to_string()];
        let interventions = vec!["Bostøtte 5 timer om ugen".to_string(), "Misbrugsbehandling, ambulant".to_string()];
        let case = store::cases::insert(
            conn,
            &NewCase {
                id: Uuid::now_v7(),
                citizen_id: citizen.id,
                track,
                committee_id,
                status: "referred",
                age_at_referral: age,
                problem_areas: &areas,
                description: Some(
                    "Komplekse og sammensatte problemer; flere forvaltninger er involveret uden fælles plan.",
                ),
                involved_departments: &departments,
                involved_caseworkers: &caseworkers,
                current_interventions: &interventions,
                citizen_view: complete.then_some("Vil gerne have én kontaktperson og på sigt i uddannelse eller job."),
                under_18_justification: justification,
                exclusions: &json!({}),
                referred_at: Utc::now(),
                referrer_iss: DEMO_ISSUER,
                referrer_sub: &referrer.sub,
                referrer_dept: referrer.dept.as_str(),
                referrer_name: referrer.name.as_deref(),
            },
        )?;
        events::emit(
            conn,
            referrer,
            case.id,
            EventType::CaseReferred,
            json!({"track": track, "committee_id": committee_id}),
        )?;
        audit::record(conn, referrer, Entry::case(Action::Create, Purpose::Referral, case.id, citizen.id, 201))?;
        if let Some(outcome) = screening {
            let (status, reason) = if outcome == "accepted" {
                ("awaiting_committee", None)
            } else {
                ("declined", Some("not_complex_enough"))
            };
            store::cases::apply_screening(conn, &sofie, case.id, &Screening { status, outcome, reason, note: None })?;
            events::emit(
                conn,
                &sofie,
                case.id,
                EventType::CaseScreened,
                json!({"outcome": outcome, "reason": reason}),
            )?;
            audit::record(conn, &sofie, Entry::case(Action::Update, Purpose::Screening, case.id, citizen.id, 200))?;
        }
        if decided {
            let (leader, meeting, present) = if committee_id == adult {
                (&per, &adult_meeting, ["per.leder", "karen.social", "hanne.sundhed"])
            } else {
                (&ulla, &youth_meeting, ["ulla.leder", "karen.social", "lars.skole"])
            };
            decide(conn, leader, meeting, case.id, &present)?;
        }
    }
    Ok(true)
}

/// Puts a case on the meeting's agenda and records the committee's first decision for it: a
/// plan, Karen as coordinator, a frame of 40,000 DKK and a follow-up in six weeks.
fn decide(
    conn: &mut PgConnection,
    leader: &Principal,
    meeting: &store::meetings::Meeting,
    case_id: Uuid,
    present: &[&str],
) -> Result<(), AppError> {
    store::meetings::add_to_agenda(conn, leader, meeting.id, case_id, &[], &json!([]))?;
    // The citizen accepted the plan as an offer, in writing, the day before the meeting (or
    // yesterday, for a meeting still to come); under 18, a custody holder did too.
    let given_on = meeting.scheduled_at.date_naive().min(Utc::now().date_naive()) - chrono::Duration::days(1);
    let case = store::cases::find_by_id(conn, case_id)?.ok_or(AppError::NotFound)?;
    let citizen = store::citizens::find(conn, case.citizen_id)?.ok_or(AppError::NotFound)?;
    let mut givers = vec![GivenBy::Citizen];
    if cpr::age_on(citizen.birth_date, meeting.scheduled_at.date_naive()) < 18 {
        givers.push(GivenBy::CustodyHolder);
    }
    for given_by in givers {
        let consent = store::consents::insert(
            conn,
            leader,
            &store::consents::NewConsent {
                case_id,
                kind: ConsentKind::Plan,
                given_by,
                form: "written",
                given_on,
                expires_on: None,
                departments: vec![],
                note: None,
            },
        )?;
        let detail = json!({"consent_id": consent.id, "kind": "plan", "given_by": given_by});
        events::emit(conn, leader, case_id, EventType::ConsentGiven, detail)?;
    }
    let request: DecisionRequest = serde_json::from_value(json!({
        "case_id": case_id,
        "kind": "initial",
        "members_present": present,
        "citizen_participation": {"took_part": true, "form": "meeting", "citizen_view": "Vil gerne have ro på boligen først."},
        "plan": {
            "citizen_goals": "En fast bolig, og så et job med få timer.",
            "goals": [
                {"area": "housing", "description": "Egen bolig med bostøtte inden for et år",
                 "target_date": (Utc::now() + chrono::Duration::weeks(52)).date_naive()},
                {"area": "employment", "description": "Virksomhedspraktik 10 timer om ugen"}
            ],
            "interventions": [
                {"title": "Bostøtte, 5 timer om ugen", "responsible_department": "social", "status": "active", "cost_estimate_ore": 1200000,
                 "start_on": Utc::now().date_naive()},
                {"title": "Mentor", "responsible_department": "labour_market", "status": "planned"}
            ],
            "statutory_plans": [{"department": "social", "system": "DUBU", "reference": "SAG-2026-0042"}]
        },
        "coordinator": {"sub": "karen.social", "name": "Karen Vinther", "department": "social",
                        "phone": "+45 33 66 33 66", "email": "karen.vinther@helhed.example"},
        "budget_frame_ore": 4_000_000,
        "follow_up_on": (Utc::now() + chrono::Duration::weeks(6)).date_naive()
    }))
    .map_err(|e| AppError::Internal(format!("demo decision: {e}")))?;
    let committee = store::committees::find(conn, meeting.committee_id)?.ok_or(AppError::NotFound)?;
    let (_, entry) = crate::api::meetings::decisions::decide_on(
        conn,
        leader,
        meeting,
        &committee,
        &case,
        request,
        crate::config::DEFAULT_MAX_FRAME_ORE,
    )?;
    crate::audit::record(conn, leader, entry)
}

fn committee(conn: &mut PgConnection, name: &str, track: &str, seats: &[Seat]) -> Result<Uuid, AppError> {
    let track_value = crate::domain::Track::parse(track).expect("a track");
    let departments: Vec<String> =
        crate::domain::committee::departments_of(track_value).iter().map(|d| d.as_str().to_string()).collect();
    let committee = store::committees::create(conn, name, track, &departments)?;
    let members: Vec<Member> = seats
        .iter()
        .enumerate()
        .map(|(i, (sub, name, dept, role))| Member {
            committee_id: committee.id,
            sub: sub.to_string(),
            name: name.to_string(),
            department: dept.as_str().to_string(),
            role: role.to_string(),
            position: i as i32,
        })
        .collect();
    store::committees::set_members(conn, committee.id, &members)?;
    Ok(committee.id)
}

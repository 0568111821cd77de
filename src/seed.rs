//! Demo data for newcomers: the two Norddjurs committees with fictional members and a handful
//! of fictional cases at different stages. Every person and CPR number here is invented.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
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

    let cases = [
        // (referrer, cpr, name, committee, complete, screening)
        (&karen, "1204851234", "Bo Jensen", adult, true, None),
        (&karen, "0307792678", "Lise Mortensen", adult, true, Some("accepted")),
        (&karen, "2506681122", "Henrik Sørensen", adult, true, Some("declined")),
        (&jonas, "2211034321", "Emma Nielsen", youth, false, None),
        (&jonas, "1503104123", "Mikkel Andersen", youth, true, Some("accepted")),
    ];
    for (referrer, number, name, committee_id, complete, screening) in cases {
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
    }
    Ok(true)
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

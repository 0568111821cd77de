//! The plan for health and care systems: a FHIR R4 `Bundle` (`type: collection`) with a
//! `CarePlan`, a `Goal` per goal, a `CareTeam` (the coordinator and the background group), the
//! coordinator as a `Practitioner` (name, department, phone, e-mail) and a `Patient` that
//! carries only the name and a Helhed identifier — never the CPR number. Shaped after KL's FHIR
//! profiles for planned interventions and goals: the plan is a `CarePlan` with `intent: plan`,
//! each intervention a planned activity with its period and the department that performs it.
//!
//! Every resource has a stable id (a UUID derived from the case and the thing it stands for), so
//! a receiving system that reads the bundle again updates what it has instead of adding to it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::domain::decision::ClosureReason;
use crate::domain::plan::InterventionStatus;
use crate::domain::CaseStatus;
use crate::render::danish;
use crate::views::plan::PlanView;
use crate::views::{BackgroundMemberRef, CoordinatorRef};

/// The identifier system of a citizen in Helhed.
pub const CITIZEN_SYSTEM: &str = "urn:helhed:citizen";
/// The identifier system of a case in Helhed.
pub const CASE_SYSTEM: &str = "urn:helhed:case";
/// The identifier system of a staff member: `department/sub`.
pub const STAFF_SYSTEM: &str = "urn:helhed:staff";
/// The code system of goal areas (the API's `area` values).
pub const GOAL_AREA_SYSTEM: &str = "urn:helhed:goal-area";

/// What the bundle is made from.
pub struct CarePlanBundle<'a> {
    pub case_id: Uuid,
    pub status: CaseStatus,
    pub closure_reason: Option<ClosureReason>,
    pub citizen_id: Uuid,
    pub citizen_name: &'a str,
    pub plan: &'a PlanView,
    pub coordinator: Option<&'a CoordinatorRef>,
    pub background_group: &'a [BackgroundMemberRef],
    pub now: DateTime<Utc>,
}

/// A stable id for the thing `what` of a case.
fn id_of(case_id: Uuid, what: &str) -> Uuid {
    Uuid::new_v5(&case_id, what.as_bytes())
}

fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A person's name as FHIR's `HumanName`: the last word the family name, the rest given names.
fn human_name(name: &str) -> Value {
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut out = Map::new();
    out.insert("text".into(), json!(words.join(" ")));
    if let Some((family, given)) = words.split_last() {
        out.insert("family".into(), json!(family));
        if !given.is_empty() {
            out.insert("given".into(), json!(given));
        }
    }
    Value::Object(out)
}

/// The CarePlan's status: active while the case runs; once closed, completed when the work
/// reached its end and revoked when it was cut short.
fn care_plan_status(status: CaseStatus, reason: Option<ClosureReason>) -> &'static str {
    match (status, reason) {
        (CaseStatus::Closed, Some(ClosureReason::CitizenDeclined | ClosureReason::Moved | ClosureReason::Deceased)) => {
            "revoked"
        }
        (CaseStatus::Closed, _) => "completed",
        _ => "active",
    }
}

fn activity_status(s: InterventionStatus) -> &'static str {
    match s {
        InterventionStatus::Planned => "scheduled",
        InterventionStatus::Active => "in-progress",
        InterventionStatus::Completed => "completed",
        InterventionStatus::Cancelled => "cancelled",
    }
}

/// The plan as a FHIR R4 collection bundle.
pub fn bundle(b: &CarePlanBundle) -> Value {
    let plan = b.plan;
    let patient_id = b.citizen_id;
    let care_plan_id = id_of(b.case_id, "careplan");
    let team_id = id_of(b.case_id, "careteam");
    let patient_ref = json!({"reference": urn(patient_id), "display": b.citizen_name});
    let closed = b.status == CaseStatus::Closed;
    let plan_status = care_plan_status(b.status, b.closure_reason);

    let patient = json!({
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": CITIZEN_SYSTEM, "value": b.citizen_id}],
        "name": [human_name(b.citizen_name)],
    });

    let goals: Vec<(Uuid, Value)> = plan
        .goals
        .iter()
        .map(|g| {
            // Derived from the case as well: a goal id a client sent is not known to be unique
            // beyond its case (a plan copied from another citizen's keeps its ids).
            let id = id_of(b.case_id, &format!("goal:{}", g.id));
            let mut goal = json!({
                "resourceType": "Goal",
                "id": id,
                "lifecycleStatus": match plan_status { "completed" => "completed", "revoked" => "cancelled", _ => "active" },
                "category": [{
                    "coding": [{"system": GOAL_AREA_SYSTEM, "code": g.area.as_str(), "display": danish::goal_area(g.area)}],
                    "text": danish::goal_area(g.area),
                }],
                "description": {"text": g.description},
                "subject": patient_ref,
            });
            if let Some(due) = g.target_date {
                goal["target"] = json!([{"dueDate": due.to_string()}]);
            }
            (id, goal)
        })
        .collect();

    let practitioner = b.coordinator.map(|c| {
        let id = id_of(b.case_id, &format!("practitioner:{}/{}", c.department.as_str(), c.sub));
        let mut telecom = Vec::new();
        if let Some(phone) = &c.phone {
            telecom.push(json!({"system": "phone", "value": phone, "use": "work"}));
        }
        if let Some(email) = &c.email {
            telecom.push(json!({"system": "email", "value": email, "use": "work"}));
        }
        let mut resource = json!({
            "resourceType": "Practitioner",
            "id": id,
            "identifier": [{"system": STAFF_SYSTEM, "value": format!("{}/{}", c.department.as_str(), c.sub)}],
            "name": [human_name(&c.name)],
        });
        if !telecom.is_empty() {
            resource["telecom"] = Value::Array(telecom);
        }
        (id, c, resource)
    });

    let mut participants = Vec::new();
    if let Some((id, c, _)) = &practitioner {
        participants.push(json!({
            "role": [{"text": "Koordinerende sagsbehandler"}],
            "member": {"reference": urn(*id), "display": c.name},
            "onBehalfOf": {"display": danish::department(c.department)},
        }));
    }
    for m in b.background_group {
        participants.push(json!({
            "role": [{"text": format!("Baggrundsgruppe ({})", danish::side(m.side))}],
            "member": {"display": m.name},
            "onBehalfOf": {"display": danish::department(m.department)},
        }));
    }
    let mut team = json!({
        "resourceType": "CareTeam",
        "id": team_id,
        "status": if closed { "inactive" } else { "active" },
        "name": "Koordinerende team",
        "subject": patient_ref,
    });
    if !participants.is_empty() {
        team["participant"] = Value::Array(participants);
    }

    let activities: Vec<Value> = plan
        .interventions
        .iter()
        .map(|i| {
            let mut detail = json!({
                "status": activity_status(i.status),
                "description": i.title,
                "performer": [{"display": danish::department(i.responsible_department)}],
            });
            let mut period = Map::new();
            if let Some(start) = i.start_on {
                period.insert("start".into(), json!(start.to_string()));
            }
            if let Some(end) = i.end_on {
                period.insert("end".into(), json!(end.to_string()));
            }
            if !period.is_empty() {
                detail["scheduledPeriod"] = Value::Object(period);
            }
            json!({"detail": detail})
        })
        .collect();

    let mut care_plan = json!({
        "resourceType": "CarePlan",
        "id": care_plan_id,
        "identifier": [{"system": CASE_SYSTEM, "value": b.case_id}],
        "status": plan_status,
        "intent": "plan",
        "title": format!("{}, version {}", danish::plan_kind(plan.kind), plan.version),
        "subject": patient_ref,
        "period": {"start": instant(plan.adopted_at)},
        "created": instant(plan.adopted_at),
        "careTeam": [{"reference": urn(team_id)}],
        "goal": goals.iter().map(|(id, _)| json!({"reference": urn(*id)})).collect::<Vec<_>>(),
        "activity": activities,
    });
    if let Some(own) = plan.citizen_goals.as_deref().filter(|g| !g.trim().is_empty()) {
        care_plan["description"] = json!(own);
        care_plan["note"] = json!([{"text": format!("Borgerens egne mål: {own}")}]);
    }

    let mut entries = vec![json!({"fullUrl": urn(care_plan_id), "resource": care_plan})];
    entries.extend(goals.into_iter().map(|(id, goal)| json!({"fullUrl": urn(id), "resource": goal})));
    entries.push(json!({"fullUrl": urn(team_id), "resource": team}));
    if let Some((id, _, resource)) = practitioner {
        entries.push(json!({"fullUrl": urn(id), "resource": resource}));
    }
    entries.push(json!({"fullUrl": urn(patient_id), "resource": patient}));
    json!({
        "resourceType": "Bundle",
        "id": id_of(b.case_id, &format!("bundle:{}", plan.version)),
        "type": "collection",
        "timestamp": instant(b.now),
        "entry": entries,
    })
}

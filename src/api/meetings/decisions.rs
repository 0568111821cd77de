//! Decisions at a meeting: initial, revision, follow-up, closure, each with the citizen's
//! participation, adopting a plan version and setting the frame where the kind does.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::PgConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::view::{decision_view, departments, seat_of, trimmed, CitizenParticipation, DecisionView};
use crate::access;
use crate::api::kit::dedup;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::consent;
use crate::domain::decision::{self, ClosureReason, DecisionKind, FixedMember};
use crate::domain::eligibility;
use crate::domain::plan::NewPlan;
use crate::domain::{CaseStatus, Department, FieldError, MemberRole, Track};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::cases::{CaseRow, DecisionEffects};
use crate::store::committees::Committee;
use crate::store::decisions::Decision;
use crate::store::events::{self, EventType};
use crate::store::meetings::Meeting;
use crate::store::{self};
use crate::views::plan::PlanInput;
use crate::views::BackgroundMemberRef;
use crate::views::CoordinatorRef;

/// One decision about one case on the agenda.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub case_id: Uuid,
    pub kind: DecisionKind,
    /// The `sub`s of the fixed members present.
    #[validate(length(max = 20))]
    #[schema(max_items = 20, value_type = Vec<crate::views::SubText>)]
    pub members_present: Vec<String>,
    #[validate(nested)]
    pub citizen_participation: CitizenParticipation,
    /// `initial` (required) and `revision`: the plan; a revision adopts a new version.
    #[validate(nested)]
    pub plan: Option<PlanInput>,
    /// `initial` (required) and `revision`: the coordinating caseworker.
    #[validate(nested)]
    pub coordinator: Option<CoordinatorRef>,
    /// `initial` (required) and `revision`: the budget and action frame, in øre: at least 1, and
    /// at most the municipality's `HELHED_MAX_FRAME_ORE` (default 5,000,000; above it 422
    /// `frame_above_maximum`).
    #[schema(minimum = 1, maximum = 100_000_000_000i64)]
    pub budget_frame_ore: Option<i64>,
    /// `initial`, `follow_up` (required) and `revision`: when the case returns to the committee.
    pub follow_up_on: Option<NaiveDate>,
    /// `initial` and `revision`: the background group, replacing any earlier one.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub background_group: Option<Vec<BackgroundMemberRef>>,
    /// `closure` (required).
    pub closure_reason: Option<ClosureReason>,
    /// `transfer` (optional): the committee the case moves to, which must be the active adult
    /// committee (the one it moves to anyway).
    pub to_committee_id: Option<Uuid>,
    /// The committee's remarks, for the minutes.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub note: Option<String>,
}

/// Which fields each kind of decision takes; the rest must be absent.
fn check_fields(d: &DecisionRequest) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let given = [
        ("plan", d.plan.is_some()),
        ("coordinator", d.coordinator.is_some()),
        ("budget_frame_ore", d.budget_frame_ore.is_some()),
        ("follow_up_on", d.follow_up_on.is_some()),
        ("background_group", d.background_group.is_some()),
        ("closure_reason", d.closure_reason.is_some()),
        ("to_committee_id", d.to_committee_id.is_some()),
    ];
    let (required, allowed): (&[&str], &[&str]) = match d.kind {
        DecisionKind::Initial => (
            &["plan", "coordinator", "budget_frame_ore", "follow_up_on"],
            &["plan", "coordinator", "budget_frame_ore", "follow_up_on", "background_group"],
        ),
        DecisionKind::Revision => {
            (&[], &["plan", "coordinator", "budget_frame_ore", "follow_up_on", "background_group"])
        }
        DecisionKind::FollowUp => (&["follow_up_on"], &["follow_up_on"]),
        DecisionKind::Closure => (&["closure_reason"], &["closure_reason"]),
        DecisionKind::Transfer => (&[], &["coordinator", "budget_frame_ore", "follow_up_on", "to_committee_id"]),
    };
    for (field, present) in given {
        if required.contains(&field) && !present {
            broken.push(FieldError::new(field, format!("is required in a {} decision", d.kind)));
        }
        if present && !allowed.contains(&field) {
            broken.push(FieldError::new(field, format!("is not part of a {} decision", d.kind)));
        }
    }
    if d.kind == DecisionKind::Revision && !given.iter().any(|(_, present)| *present) {
        broken.push(FieldError::new(
            "body",
            "a revision changes at least one of plan, coordinator, budget_frame_ore, follow_up_on, background_group",
        ));
    }
    broken
}

/// Record a decision about a case on the agenda (a leader member of the committee).
#[utoipa::path(post, operation_id = "meetings_decide", path = "/api/v1/meetings/{id}/decisions", tag = "meetings", request_body = DecisionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = DecisionView),
        (status = 403, description = "Not a leader member of the committee", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "invalid_transition: the case's status does not allow this kind; consent_withdrawn: without a current plan consent only closure is possible", body = Problem),
        (status = 422, description = "not_on_agenda, quorum_not_met, consent_missing (an initial decision without the plan consents it needs), validation_failed", body = Problem)),
    security(("bearer" = [])))]
pub async fn decide(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<DecisionRequest>,
    db: web::Data<Db>,
    state: web::Data<crate::state::State>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (meeting_id, d) = (id.0, body.into_inner());
    let max_frame_ore = state.max_frame_ore;
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, d.case_id, Purpose::Committee, |conn| {
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let meeting = store::meetings::find(conn, meeting_id)?.ok_or(AppError::NotFound)?;
                    let committee = store::committees::find(conn, meeting.committee_id)?.ok_or(AppError::NotFound)?;
                    let seat = seat_of(conn, &p, committee.id)?;
                    access::require_leader_member(&p, seat.as_ref(), "recording a decision")?;
                    let case = store::cases::lock_visible(conn, &p, d.case_id)?
                        .ok_or_else(|| audit::deny(&p, "case", d.case_id, Purpose::Committee))?;
                    if !store::meetings::on_agenda(conn, meeting_id, case.id)? {
                        return Err(AppError::NotOnAgenda);
                    }
                    // An agenda item made before the case moved to another committee (a transfer)
                    // gives this committee no say over it any more.
                    if case.committee_id != committee.id {
                        return Err(AppError::InvalidTransition(
                            "the case has moved to another committee; decide it there".into(),
                        ));
                    }
                    let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Closed);
                    if status != d.kind.applies_to() {
                        return Err(AppError::InvalidTransition(format!(
                            "a {} decision needs a {} case; this one is {status}",
                            d.kind,
                            d.kind.applies_to()
                        )));
                    }
                    let (view, entry) = decide_on(conn, &p, &meeting, &committee, &case, d, max_frame_ore)?;
                    Ok(Answer::disclosing(StatusCode::CREATED, &view, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// The rules of a decision and its effects, for a case on the agenda with the right status.
/// The citizen's consent a decision needs: an initial one, a current plan consent of the citizen
/// on the day of the meeting (and of a custody holder while the citizen is under 18 that day);
/// any other but closure, a plan consent current today.
fn check_consent(
    conn: &mut PgConnection,
    case: &CaseRow,
    kind: DecisionKind,
    meeting_day: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    let consents = store::consents::rules_of_case(conn, case.id)?;
    match kind {
        DecisionKind::Initial => {
            let citizen = store::citizens::find(conn, case.citizen_id)?
                .ok_or_else(|| AppError::Internal("a case without its citizen".into()))?;
            let under_18 = crate::domain::cpr::age_on(citizen.birth_date, meeting_day) < 18;
            let missing = consent::missing_for_plan(&consents, meeting_day, under_18);
            if missing.is_empty() {
                Ok(())
            } else {
                Err(AppError::ConsentMissing(missing))
            }
        }
        DecisionKind::Closure => Ok(()),
        DecisionKind::Revision | DecisionKind::FollowUp | DecisionKind::Transfer => {
            if consent::plan_holds(&consents, today, store::consents::under_18_on(conn, case.id, today)?) {
                Ok(())
            } else {
                Err(AppError::ConsentWithdrawn)
            }
        }
    }
}

/// Where a transfer moves a youth case: the active adult committee, once the citizen turns 30
/// within a year of `on` (or has).
fn transfer_to(
    conn: &mut PgConnection,
    case: &CaseRow,
    to_committee_id: Option<Uuid>,
    on: NaiveDate,
) -> Result<Committee, AppError> {
    if case.track != Track::Youth.as_str() {
        return Err(AppError::InvalidTransition("only a case of the youth track moves to the adult committee".into()));
    }
    let adult = store::committees::active_for_track(conn, Track::Adult.as_str())?
        .ok_or_else(|| AppError::Conflict("there is no active adult committee to move the case to".into()))?;
    if to_committee_id.is_some_and(|id| id != adult.id) {
        return Err(AppError::InconsistentRequest(vec![FieldError::new(
            "to_committee_id",
            "a case moves only to the active committee of the adult track",
        )]));
    }
    let citizen = store::citizens::find(conn, case.citizen_id)?
        .ok_or_else(|| AppError::Internal("a case without its citizen".into()))?;
    if let Some(e) = eligibility::check_transfer_due(citizen.birth_date, on) {
        return Err(AppError::TransferNotDue(vec![e]));
    }
    Ok(adult)
}

/// The plan a transfer adopts for the adult track: the current version as amended, unchanged.
fn carried_plan(conn: &mut PgConnection, case_id: Uuid) -> Result<Option<NewPlan>, AppError> {
    let latest = store::plans::latest_version(conn, case_id)?.unwrap_or(0);
    Ok(crate::views::plan::load(conn, case_id, latest)?.map(|v| NewPlan {
        citizen_goals: v.citizen_goals,
        goals: v.goals,
        interventions: v.interventions,
        statutory_plans: v.statutory_plans,
    }))
}

pub(crate) fn decide_on(
    conn: &mut PgConnection,
    p: &Principal,
    meeting: &Meeting,
    committee: &Committee,
    case: &CaseRow,
    d: DecisionRequest,
    max_frame_ore: i64,
) -> Result<(DecisionView, Entry), AppError> {
    let members = store::committees::members(conn, &[committee.id])?;
    let fixed: Vec<FixedMember> = members
        .iter()
        .filter_map(|m| {
            Some(FixedMember {
                sub: &m.sub,
                department: Department::parse(&m.department)?,
                role: MemberRole::parse(&m.role)?,
            })
        })
        .collect();
    let committee_departments: [Department; 3] = departments(committee)
        .try_into()
        .map_err(|_| AppError::Internal("stored committee departments unreadable".into()))?;
    let present = dedup(&d.members_present);
    let broken = decision::check_quorum(&present, &fixed, &committee_departments);
    if !broken.is_empty() {
        return Err(AppError::QuorumNotMet(broken));
    }
    // The fields the schema accepts, held against each other, the calendar and the ledger; the
    // first kind of refusal found is the answer's code, with each field it concerns.
    let participation = &d.citizen_participation;
    let mut inconsistent =
        decision::check_participation(participation.took_part, participation.form, participation.reason_not.as_deref());
    inconsistent.extend(check_fields(&d));
    let mut dates = Vec::new();
    let today = Utc::now().date_naive();
    if let Some(follow_up_on) = d.follow_up_on {
        dates.extend(decision::check_follow_up(follow_up_on, meeting.scheduled_at.date_naive(), today));
    }
    let mut above_maximum = Vec::new();
    match d.budget_frame_ore.and_then(|frame| decision::check_frame(frame, max_frame_ore, case.spent_ore)) {
        Some(decision::FrameRefusal::AboveMaximum(e)) => above_maximum.push(e),
        Some(decision::FrameRefusal::BelowSpent(e)) => inconsistent.push(e),
        None => {}
    }
    if !inconsistent.is_empty() {
        return Err(AppError::InconsistentRequest(inconsistent));
    }
    if !dates.is_empty() {
        return Err(AppError::DateNotAllowed(dates));
    }
    if !above_maximum.is_empty() {
        return Err(AppError::FrameAboveMaximum(above_maximum));
    }
    check_consent(conn, case, d.kind, meeting.scheduled_at.date_naive(), today)?;
    let transfer = match d.kind {
        // Due from today, the day the decision is recorded: a meeting dated years ahead moves no one.
        DecisionKind::Transfer => Some(transfer_to(conn, case, d.to_committee_id, today)?),
        _ => None,
    };
    let plan = match &transfer {
        Some(_) => carried_plan(conn, case.id)?,
        None => d.plan.map(|plan| plan.into_plan(conn)).transpose()?,
    };
    let track = match transfer {
        Some(_) => Track::Adult,
        None => Track::parse(&case.track).ok_or_else(|| AppError::Internal("stored case track unreadable".into()))?,
    };

    let decision_id = Uuid::now_v7();
    let plan_version = match &plan {
        Some(_) => Some(store::plans::latest_version(conn, case.id)?.unwrap_or(0) + 1),
        None => None,
    };
    let background = d.background_group.map(|g| dedup(&g));
    let participation = CitizenParticipation {
        took_part: d.citizen_participation.took_part,
        form: d.citizen_participation.form,
        citizen_view: trimmed(d.citizen_participation.citizen_view),
        reason_not: trimmed(d.citizen_participation.reason_not),
    };
    let row = Decision {
        id: decision_id,
        meeting_id: meeting.id,
        case_id: case.id,
        kind: d.kind.as_str().to_string(),
        members_present: present,
        took_part: participation.took_part,
        participation_form: participation.form.map(|f| f.as_str().to_string()),
        participation_view: participation.citizen_view.clone(),
        reason_not: participation.reason_not.clone(),
        note: trimmed(d.note),
        recorded_at: Utc::now(),
        recorded_by_iss: p.iss.clone(),
        recorded_by_sub: p.sub.clone(),
        recorded_by_dept: p.dept.as_str().to_string(),
        recorded_by_name: p.name.clone(),
        plan_version,
        coordinator: d.coordinator.as_ref().map(|c| serde_json::to_value(c).expect("serialisable")),
        budget_frame_ore: d.budget_frame_ore,
        follow_up_on: d.follow_up_on,
        background_group: background.as_ref().map(|g| serde_json::to_value(g).expect("serialisable")),
        closure_reason: d.closure_reason.map(|r| r.as_str().to_string()),
    };
    store::decisions::insert(conn, &row).map_err(second_initial)?;
    if let Some(plan) = &plan {
        store::plans::adopt(conn, case.id, track, decision_id, plan)?;
    }
    let coordinator_changes = d.coordinator.as_ref().is_some_and(|c| {
        case.coordinator_sub.as_deref() != Some(c.sub.as_str())
            || case.coordinator_dept.as_deref() != Some(c.department.as_str())
    });
    let closing = d.kind == DecisionKind::Closure;
    let effects = DecisionEffects {
        status: (d.kind.leads_to().as_str() != case.status).then(|| d.kind.leads_to().as_str().to_string()),
        coordinator_sub: d.coordinator.as_ref().map(|c| c.sub.clone()),
        coordinator_dept: d.coordinator.as_ref().map(|c| c.department.as_str().to_string()),
        coordinator_name: d.coordinator.as_ref().map(|c| c.name.trim().to_string()),
        coordinator_phone: d.coordinator.as_ref().map(|c| c.phone.as_ref().map(|t| t.trim().to_string())),
        coordinator_email: d.coordinator.as_ref().map(|c| c.email.as_ref().map(|t| t.trim().to_string())),
        frame_ore: d.budget_frame_ore,
        follow_up_on: d.follow_up_on,
        closed_at: closing.then(Utc::now),
        closure_reason: d.closure_reason.map(|r| r.as_str().to_string()),
        track: transfer.as_ref().map(|_| Track::Adult.as_str().to_string()),
        committee_id: transfer.as_ref().map(|c| c.id),
    };
    store::cases::apply(conn, case.id, &effects)?;
    if let Some(group) = &background {
        let members: Vec<store::plans::BackgroundMember> = group
            .iter()
            .enumerate()
            .map(|(i, m)| store::plans::BackgroundMember {
                case_id: case.id,
                sub: m.sub.clone(),
                department: m.department.as_str().to_string(),
                name: m.name.trim().to_string(),
                side: m.side.as_str().to_string(),
                position: i as i32,
            })
            .collect();
        store::plans::set_background_group(conn, case.id, &members)?;
    }

    events::emit(
        conn,
        p,
        case.id,
        EventType::DecisionRecorded,
        json!({"decision_id": decision_id, "kind": d.kind, "meeting_id": meeting.id}),
    )?;
    if let Some(version) = plan_version {
        events::emit(
            conn,
            p,
            case.id,
            EventType::PlanAdopted,
            json!({"version": version, "decision_id": decision_id}),
        )?;
    }
    if coordinator_changes {
        events::emit(conn, p, case.id, EventType::CoordinatorChanged, json!({"decision_id": decision_id}))?;
    }
    if let Some(adult) = &transfer {
        events::emit(
            conn,
            p,
            case.id,
            EventType::CaseTransferred,
            json!({"decision_id": decision_id, "from_committee_id": case.committee_id, "to_committee_id": adult.id}),
        )?;
    }
    if closing {
        events::emit(
            conn,
            p,
            case.id,
            EventType::CaseClosed,
            json!({"reason": d.closure_reason, "decision_id": decision_id}),
        )?;
    }
    let entry = Entry::case(Action::Create, Purpose::Committee, case.id, case.citizen_id, 201)
        .resource("decision", decision_id);
    Ok((decision_view(row), entry))
}

/// Two initial decisions racing for one case meet the database's one-initial index.
fn second_initial(e: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::InvalidTransition("the case already has its initial decision".into())
        }
        other => other.into(),
    }
}

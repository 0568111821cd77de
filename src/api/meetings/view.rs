//! A meeting as its readers see it (its agenda, its decisions, its minutes), and reading a
//! meeting the caller may see.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::views::plan::PlanView;
use crate::api::views::BackgroundMemberRef;
use crate::api::views::PersonRef;
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::domain::decision::{ClosureReason, DecisionKind, ParticipationForm};
use crate::domain::{CaseStatus, Department, MemberRole, Track};
use crate::error::AppError;
use crate::store::cases::CaseRow;
use crate::store::committees::Committee;
use crate::store::decisions::Decision;
use crate::store::meetings::Meeting;
use crate::store::{self};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordedBy {
    pub sub: String,
    pub name: Option<String>,
    pub department: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub kind: DecisionKind,
    pub members_present: Vec<String>,
    pub citizen_participation: CitizenParticipation,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: RecordedBy,
    /// The plan version this decision adopted, if it adopted one.
    pub plan_version: Option<i32>,
    pub coordinator: Option<PersonRef>,
    pub budget_frame_ore: Option<i64>,
    pub follow_up_on: Option<NaiveDate>,
    pub background_group: Option<Vec<BackgroundMemberRef>>,
    pub closure_reason: Option<ClosureReason>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingSummary {
    pub id: Uuid,
    pub committee_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The citizen as an agenda or the minutes show them: by name, never by CPR.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedCitizen {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgendaCase {
    pub id: Uuid,
    pub status: CaseStatus,
    pub track: Track,
    pub citizen: NamedCitizen,
    pub follow_up_on: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgendaItemView {
    pub id: Uuid,
    pub position: i32,
    pub case: AgendaCase,
    pub presenting_caseworkers: Vec<PersonRef>,
    pub added_at: DateTime<Utc>,
}

/// A meeting with its agenda. Items about cases the caller does not take part in are left out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub committee_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub agenda: Vec<AgendaItemView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MinutesCommittee {
    pub id: Uuid,
    pub name: String,
    pub track: Track,
}

/// What the minutes say about one decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MinutesItem {
    pub citizen: NamedCitizen,
    pub decision: DecisionView,
    /// The plan this decision adopted (goals and interventions), if any.
    pub plan: Option<PlanView>,
}

/// A meeting's minutes: its decisions about the cases the caller takes part in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Minutes {
    pub meeting: MeetingSummary,
    pub committee: MinutesCommittee,
    /// Everyone recorded as present at any decision of the meeting, by name.
    pub members_present: Vec<MinutesMember>,
    pub items: Vec<MinutesItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MinutesMember {
    pub sub: String,
    pub name: String,
    pub department: Department,
    pub role: MemberRole,
}

pub(super) fn summary(m: &Meeting) -> MeetingSummary {
    MeetingSummary { id: m.id, committee_id: m.committee_id, scheduled_at: m.scheduled_at, created_at: m.created_at }
}

pub(super) fn departments(c: &Committee) -> Vec<Department> {
    c.departments.iter().filter_map(|d| Department::parse(d)).collect()
}

/// The principal's seat on the committee, if any.
pub(super) fn seat_of(
    conn: &mut PgConnection,
    p: &Principal,
    committee_id: Uuid,
) -> Result<Option<MemberRole>, AppError> {
    Ok(store::committees::seat(conn, committee_id, &p.sub, p.dept.as_str())?.and_then(|m| MemberRole::parse(&m.role)))
}

/// The meeting and its committee, if the principal may read the committee's meetings.
pub(super) fn readable_meeting(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
) -> Result<(Meeting, Committee), AppError> {
    let meeting = store::meetings::find(conn, id)?.ok_or(AppError::NotFound)?;
    let committee = store::committees::find(conn, meeting.committee_id)?.ok_or(AppError::NotFound)?;
    let seat = seat_of(conn, p, committee.id)?;
    access::require_meeting_reader(p, seat.as_ref(), &departments(&committee))?;
    Ok((meeting, committee))
}

pub(super) type CasesWithCitizens = (HashMap<Uuid, CaseRow>, HashMap<Uuid, store::citizens::Citizen>);

/// The cases among `ids` that the principal sees, with their citizens.
pub(super) fn visible_cases(
    conn: &mut PgConnection,
    p: &Principal,
    ids: &[Uuid],
) -> Result<CasesWithCitizens, AppError> {
    let visible = store::cases::visible_among(conn, p, ids)?;
    let cases: HashMap<Uuid, CaseRow> = store::cases::by_ids(conn, &visible)?.into_iter().map(|c| (c.id, c)).collect();
    let citizen_ids: Vec<Uuid> = cases.values().map(|c| c.citizen_id).collect();
    let citizens = store::citizens::by_ids(conn, &citizen_ids)?.into_iter().map(|c| (c.id, c)).collect();
    Ok((cases, citizens))
}

/// Records a read that showed several cases (an agenda, minutes).
pub(super) fn record_list_read(
    conn: &mut PgConnection,
    p: &Principal,
    resource: &'static str,
    id: Uuid,
    cases: &HashMap<Uuid, CaseRow>,
) -> Result<(), AppError> {
    let mut case_ids: Vec<Uuid> = cases.keys().copied().collect();
    case_ids.sort();
    let citizen_ids = case_ids.iter().map(|c| cases[c].citizen_id).collect();
    audit::record(
        conn,
        p,
        Entry {
            action: Action::Read,
            resource: resource.into(),
            resource_id: Some(id),
            case_id: None,
            citizen_id: None,
            purpose: Purpose::Committee,
            status: 200,
            filters: None,
            case_ids,
            citizen_ids,
        },
    )
}

pub(super) fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

pub(super) fn decision_view(d: Decision) -> DecisionView {
    DecisionView {
        id: d.id,
        meeting_id: d.meeting_id,
        case_id: d.case_id,
        kind: DecisionKind::parse(&d.kind).unwrap_or(DecisionKind::Revision),
        members_present: d.members_present,
        citizen_participation: CitizenParticipation {
            took_part: d.took_part,
            form: d.participation_form.as_deref().and_then(ParticipationForm::parse),
            citizen_view: d.participation_view,
            reason_not: d.reason_not,
        },
        note: d.note,
        recorded_at: d.recorded_at,
        recorded_by: RecordedBy { sub: d.recorded_by_sub, name: d.recorded_by_name, department: d.recorded_by_dept },
        plan_version: d.plan_version,
        coordinator: d.coordinator.and_then(|c| serde_json::from_value(c).ok()),
        budget_frame_ore: d.budget_frame_ore,
        follow_up_on: d.follow_up_on,
        background_group: d.background_group.and_then(|g| serde_json::from_value(g).ok()),
        closure_reason: d.closure_reason.as_deref().and_then(ClosureReason::parse),
    }
}

/// Whether and how the citizen took part (*borgerinddragelse*, retssikkerhedsloven § 4).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CitizenParticipation {
    pub took_part: bool,
    /// How, when the citizen took part.
    pub form: Option<ParticipationForm>,
    /// The citizen's view, in their words.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
    /// Why not, when the citizen did not take part.
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub reason_not: Option<String>,
}

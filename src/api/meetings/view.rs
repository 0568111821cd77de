//! A meeting as its readers see it (its agenda, its decisions, its minutes), and reading a
//! meeting the caller may see.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access;
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::domain::{CaseStatus, Department, MemberRole, Track};
use crate::error::AppError;
use crate::store::cases::CaseRow;
use crate::store::committees::Committee;
use crate::store::meetings::Meeting;
use crate::store::{self};
use crate::views::PersonRef;

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
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub added_at: DateTime<Utc>,
}

/// A meeting with its agenda. Items about cases the caller does not take part in are left out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub committee_id: Uuid,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub scheduled_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub agenda: Vec<AgendaItemView>,
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

pub use crate::views::meeting::{
    decision_view, CitizenParticipation, DecisionView, MeetingSummary, Minutes, MinutesCommittee, MinutesItem,
    MinutesMember, NamedCitizen, RecordedBy,
};

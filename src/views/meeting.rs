//! A meeting's decisions and minutes as they are answered, and rendered (`crate::render`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::domain::decision::{ClosureReason, DecisionKind, ParticipationForm};
use crate::domain::{Department, MemberRole, Track};
use crate::store::decisions::Decision;
use crate::views::plan::PlanView;
use crate::views::BackgroundMemberRef;
use crate::views::CoordinatorRef;

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
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: RecordedBy,
    /// The plan version this decision adopted, if it adopted one.
    pub plan_version: Option<i32>,
    pub coordinator: Option<CoordinatorRef>,
    pub budget_frame_ore: Option<i64>,
    pub follow_up_on: Option<NaiveDate>,
    pub background_group: Option<Vec<BackgroundMemberRef>>,
    pub closure_reason: Option<ClosureReason>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingSummary {
    pub id: Uuid,
    pub committee_id: Uuid,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub scheduled_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// The citizen as an agenda or the minutes show them: by name, never by CPR.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedCitizen {
    pub id: Uuid,
    pub name: String,
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

/// A stored decision as it is answered.
pub fn decision_view(d: Decision) -> DecisionView {
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

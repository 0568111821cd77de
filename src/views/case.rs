//! A case as those who take part in it see it (and as a list shows it): the views, how they are
//! loaded from the store, and reading a stored case row into the API's terms.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::consent::{self, PlanConsent};
use crate::domain::decision::ParticipationForm;
use crate::domain::eligibility::Exclusions;
use crate::domain::plan::PlanKind;
use crate::domain::{cpr, DeclineReason, ProblemArea, ScreeningOutcome, Side};
use crate::domain::{CaseStatus, Department, Track};
use crate::error::AppError;
use crate::store::cases::CaseRow;
use crate::store::cases::{CaseContext, CaseParts};
use crate::store::{self};
use crate::views::BackgroundMemberRef;
use crate::views::{CoordinatorRef, PersonRef};

/// A case in a list: enough to pick it, no CPR and no referral text.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub status: CaseStatus,
    pub track: Track,
    pub committee_id: Uuid,
    pub citizen_id: Uuid,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub referred_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::views::time::rfc3339_option")]
    pub screened_at: Option<DateTime<Utc>>,
    pub coordinator: Option<PersonRef>,
    pub follow_up_on: Option<NaiveDate>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A stored case's status.
pub fn status_of(case: &CaseRow) -> Result<CaseStatus, AppError> {
    CaseStatus::parse(&case.status).ok_or_else(|| AppError::Internal("stored case status unknown".into()))
}

/// Stored department names, as departments.
pub fn departments(stored: &[String]) -> Vec<Department> {
    stored.iter().filter_map(|d| Department::parse(d)).collect()
}

/// The person stored in three columns, when there is one.
pub fn person(sub: &Option<String>, name: &Option<String>, dept: &Option<String>) -> Option<PersonRef> {
    match (sub, dept.as_deref().and_then(Department::parse)) {
        (Some(sub), Some(department)) => {
            Some(PersonRef { sub: sub.clone(), name: name.clone().unwrap_or_default(), department })
        }
        _ => None,
    }
}

/// The case's background group, in its order.
pub fn background_group(conn: &mut diesel::PgConnection, case_id: Uuid) -> Result<Vec<BackgroundMemberRef>, AppError> {
    Ok(store::plans::background_group(conn, case_id)?.into_iter().filter_map(BackgroundMemberRef::from_row).collect())
}

impl BackgroundMemberRef {
    /// A stored member; `None` for a row whose vocabulary is unknown.
    fn from_row(m: store::plans::BackgroundMember) -> Option<BackgroundMemberRef> {
        Some(BackgroundMemberRef {
            sub: m.sub,
            name: m.name,
            department: Department::parse(&m.department)?,
            side: Side::parse(&m.side)?,
        })
    }
}

/// The case's coordinator with how to reach them, when there is one.
pub fn coordinator(c: &CaseRow) -> Option<CoordinatorRef> {
    person(&c.coordinator_sub, &c.coordinator_name, &c.coordinator_dept).map(|p| CoordinatorRef {
        sub: p.sub,
        name: p.name,
        department: p.department,
        phone: c.coordinator_phone.clone(),
        email: c.coordinator_email.clone(),
    })
}

impl CaseSummary {
    pub fn from_row(c: &CaseRow) -> Result<CaseSummary, AppError> {
        Ok(CaseSummary {
            id: c.id,
            status: status_of(c)?,
            track: Track::parse(&c.track).unwrap_or(Track::Adult),
            committee_id: c.committee_id,
            citizen_id: c.citizen_id,
            referred_at: c.referred_at,
            screened_at: c.screened_at,
            coordinator: person(&c.coordinator_sub, &c.coordinator_name, &c.coordinator_dept),
            follow_up_on: c.follow_up_on,
            updated_at: c.updated_at,
        })
    }
}

/// The citizen as a case shows them: never the CPR number.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseCitizen {
    pub id: Uuid,
    pub name: String,
    /// Age today, in whole years.
    pub age: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Referral {
    pub problem_areas: Vec<ProblemArea>,
    pub description: Option<String>,
    pub involved_departments: Vec<Department>,
    pub involved_caseworkers: Vec<PersonRef>,
    pub current_interventions: Vec<String>,
    pub citizen_view: Option<String>,
    pub under_18_justification: Option<String>,
    pub exclusions: Exclusions,
    pub age_at_referral: i32,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub referred_at: DateTime<Utc>,
    pub referred_by: Actor,
}

/// Someone who acted on a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub sub: String,
    pub name: Option<String>,
    pub department: Department,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Screening {
    pub outcome: ScreeningOutcome,
    pub reason: Option<DeclineReason>,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub screened_at: DateTime<Utc>,
    pub screened_by: Actor,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitteeRef {
    pub id: Uuid,
    pub name: String,
}

/// The coordinator's budget and action frame (*budget- og handlingsramme*).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BudgetSummary {
    pub frame_ore: i64,
    pub spent_ore: i64,
    pub remaining_ore: i64,
}

/// A case, as those who take part in it see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub status: CaseStatus,
    pub track: Track,
    pub committee: CommitteeRef,
    pub citizen: CaseCitizen,
    pub referral: Referral,
    pub screening: Option<Screening>,
    /// The coordinating caseworker (*koordinerende sagsbehandler*), once the committee has
    /// appointed one, with the phone and e-mail the decision gave.
    pub coordinator: Option<CoordinatorRef>,
    /// The current plan version, once the committee has adopted one (details at `/plan`).
    pub plan: Option<PlanRef>,
    pub budget: BudgetSummary,
    pub follow_up_on: Option<NaiveDate>,
    /// The background group (*baggrundsgruppe*) the coordinator can call on.
    pub background_group: Vec<BackgroundMemberRef>,
    /// The citizen's participation between meetings, as the coordinator noted it.
    pub participation_notes: Vec<ParticipationNoteView>,
    /// Where the case stands with the citizen's consents today.
    pub consent: ConsentSummary,
    #[serde(serialize_with = "crate::views::time::rfc3339_option")]
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// The case's consents as they stand today (details at `/consents`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentSummary {
    /// `current`, or why not: `missing` (never given), `withdrawn`, `expired`.
    pub plan: PlanConsent,
    /// The departments current `data_sharing` consents name.
    pub data_sharing_departments: Vec<Department>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanRef {
    pub version: i32,
    pub kind: PlanKind,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub adopted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ParticipationNoteView {
    pub id: Uuid,
    pub on: NaiveDate,
    pub form: ParticipationForm,
    pub citizen_view: Option<String>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: HistoryActor,
}

impl ParticipationNoteView {
    pub fn from_row(n: store::plans::ParticipationNote) -> Option<ParticipationNoteView> {
        Some(ParticipationNoteView {
            id: n.id,
            on: n.on_date,
            form: ParticipationForm::parse(&n.form)?,
            citizen_view: n.citizen_view,
            recorded_at: n.recorded_at,
            recorded_by: HistoryActor {
                iss: n.recorded_by_iss,
                sub: n.recorded_by_sub,
                department: n.recorded_by_dept,
            },
        })
    }
}

impl CaseView {
    /// Assembles the view of a case the caller may see, reading the rest in one statement.
    pub fn load(conn: &mut diesel::PgConnection, c: CaseRow) -> Result<CaseView, AppError> {
        let whole = store::cases::read_whole(conn, c.id, None, |query| query)?.ok_or(AppError::NotFound)?;
        CaseView::from_parts(c, whole.context, whole.parts)
    }

    /// The view of a case from what [`store::cases::read_whole`] read.
    pub fn of(whole: store::cases::WholeCase) -> Result<CaseView, AppError> {
        CaseView::from_parts(whole.case, whole.context, whole.parts)
    }

    fn from_parts(c: CaseRow, context: CaseContext, parts: CaseParts) -> Result<CaseView, AppError> {
        let internal = |what: &str| AppError::Internal(format!("stored {what} unreadable"));
        let plan = parts.plan.map(|(version, kind, adopted_at)| PlanRef {
            version,
            kind: PlanKind::parse(&kind).unwrap_or(PlanKind::Indsatsplan),
            adopted_at,
        });
        let background_group = parts.background_group.into_iter().filter_map(BackgroundMemberRef::from_row).collect();
        let participation_notes = parts.participation.into_iter().filter_map(ParticipationNoteView::from_row).collect();
        let screening = match (&c.screening_outcome, c.screened_at, &c.screener_sub, &c.screener_dept) {
            (Some(outcome), Some(at), Some(sub), Some(dept)) => Some(Screening {
                outcome: ScreeningOutcome::parse(outcome).ok_or_else(|| internal("screening"))?,
                reason: c.screening_reason.as_deref().and_then(DeclineReason::parse),
                note: c.screening_note.clone(),
                screened_at: at,
                screened_by: Actor {
                    sub: sub.clone(),
                    name: c.screener_name.clone(),
                    department: Department::parse(dept).ok_or_else(|| internal("screener"))?,
                },
            }),
            _ => None,
        };
        let consents = parts.consents;
        let today = Utc::now().date_naive();
        let consent = ConsentSummary {
            plan: consent::plan_state(&consents, today, cpr::age_on(context.citizen_birth_date, today) < 18),
            data_sharing_departments: consent::sharing_departments(&consents, today),
        };
        Ok(CaseView {
            id: c.id,
            status: status_of(&c)?,
            track: Track::parse(&c.track).ok_or_else(|| internal("track"))?,
            committee: CommitteeRef { id: c.committee_id, name: context.committee_name },
            citizen: CaseCitizen {
                id: c.citizen_id,
                name: context.citizen_name,
                age: cpr::age_on(context.citizen_birth_date, Utc::now().date_naive()),
            },
            referral: Referral {
                problem_areas: c.problem_areas.iter().filter_map(|a| ProblemArea::parse(a)).collect(),
                description: c.description.clone(),
                involved_departments: departments(&c.involved_departments),
                involved_caseworkers: serde_json::from_value(c.involved_caseworkers.clone())
                    .map_err(|_| internal("caseworkers"))?,
                current_interventions: c.current_interventions.clone(),
                citizen_view: c.citizen_view.clone(),
                under_18_justification: c.under_18_justification.clone(),
                exclusions: serde_json::from_value(c.exclusions.clone()).map_err(|_| internal("exclusions"))?,
                age_at_referral: c.age_at_referral,
                referred_at: c.referred_at,
                referred_by: Actor {
                    sub: c.referrer_sub.clone(),
                    name: c.referrer_name.clone(),
                    department: Department::parse(&c.referrer_dept).ok_or_else(|| internal("referrer"))?,
                },
            },
            screening,
            coordinator: coordinator(&c),
            plan,
            consent,
            budget: BudgetSummary {
                frame_ore: c.frame_ore,
                spent_ore: c.spent_ore,
                remaining_ore: c.frame_ore - c.spent_ore,
            },
            follow_up_on: c.follow_up_on,
            background_group,
            participation_notes,
            closed_at: c.closed_at,
            closure_reason: c.closure_reason.clone(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryActor {
    pub iss: String,
    pub sub: String,
    pub department: String,
}

/// One event in a case's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEvent {
    pub id: i64,
    #[serde(rename = "type")]
    pub type_: store::events::EventTypeName,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: HistoryActor,
    pub detail: serde_json::Value,
}

impl HistoryEvent {
    pub fn from_row(e: store::events::EventRow) -> HistoryEvent {
        HistoryEvent {
            id: e.id,
            type_: store::events::EventTypeName(e.type_),
            at: e.at,
            actor: HistoryActor { iss: e.actor_iss, sub: e.actor_sub, department: e.actor_dept },
            detail: e.detail,
        }
    }
}

//! The plan as more than one resource reads and writes it: the plan a committee decision adopts
//! (checked and given its ids here), and a version as every reader sees it, amendments applied.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::domain::plan::{self, Goal, GoalArea, Intervention, InterventionStatus, NewPlan, PlanKind, StatutoryPlan};
use crate::domain::{Department, FieldError};
use crate::error::AppError;
use crate::store;

/// A goal in a plan a committee adopts. Without an `id` it gets a new one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct GoalInput {
    pub id: Option<Uuid>,
    pub area: GoalArea,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub description: String,
    pub target_date: Option<NaiveDate>,
}

/// An intervention in a plan. Without an `id` it gets a new one; keep the id across versions
/// to keep it the same intervention (spends link to it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct InterventionInput {
    pub id: Option<Uuid>,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub title: String,
    pub offer_id: Option<Uuid>,
    pub responsible_department: Department,
    pub start_on: Option<NaiveDate>,
    pub end_on: Option<NaiveDate>,
    /// Default `planned`.
    pub status: Option<InterventionStatus>,
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000i64)]
    pub cost_estimate_ore: Option<i64>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub external_ref: Option<String>,
}

/// A plan as a committee decision adopts it.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// The citizen's own goals, in their own words.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_goals: Option<String>,
    #[validate(length(max = 50), nested)]
    #[schema(min_items = 1, max_items = 50)]
    pub goals: Vec<GoalInput>,
    #[validate(length(max = 100), nested)]
    #[schema(min_items = 1, max_items = 100)]
    pub interventions: Vec<InterventionInput>,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub statutory_plans: Vec<StatutoryPlan>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AmendmentView {
    pub id: i64,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub at: DateTime<Utc>,
    pub by: AmendedBy,
    /// `intervention_added` or `intervention_changed`.
    pub kind: String,
    pub intervention: Intervention,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AmendedBy {
    pub sub: String,
    pub department: String,
}

/// A plan version: as adopted, with the coordinator's amendments applied and listed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    pub version: i32,
    pub kind: PlanKind,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub adopted_at: DateTime<Utc>,
    pub decision_id: Uuid,
    pub citizen_goals: Option<String>,
    pub goals: Vec<Goal>,
    pub interventions: Vec<Intervention>,
    pub statutory_plans: Vec<StatutoryPlan>,
    /// Whether this is the case's current version.
    pub current: bool,
    pub amendments: Vec<AmendmentView>,
}

fn unreadable() -> AppError {
    AppError::Internal("stored plan unreadable".into())
}

impl GoalInput {
    pub fn into_goal(self) -> Goal {
        Goal {
            id: self.id.unwrap_or_else(Uuid::now_v7),
            area: self.area,
            description: self.description.trim().to_string(),
            target_date: self.target_date,
        }
    }
}

impl InterventionInput {
    pub fn into_intervention(self) -> Intervention {
        Intervention {
            id: self.id.unwrap_or_else(Uuid::now_v7),
            title: self.title.trim().to_string(),
            offer_id: self.offer_id,
            responsible_department: self.responsible_department,
            start_on: self.start_on,
            end_on: self.end_on,
            status: self.status.unwrap_or(InterventionStatus::Planned),
            cost_estimate_ore: self.cost_estimate_ore,
            external_ref: self.external_ref,
        }
    }
}

/// Interventions that name a catalog offer must name one that exists.
pub fn check_offers(conn: &mut PgConnection, interventions: &[Intervention], prefix: &str) -> Result<(), AppError> {
    let ids: Vec<Uuid> = interventions.iter().filter_map(|i| i.offer_id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let known = store::offers::existing(conn, &ids)?;
    let broken: Vec<FieldError> = interventions
        .iter()
        .enumerate()
        .filter(|(_, i)| i.offer_id.is_some_and(|o| !known.contains(&o)))
        .map(|(n, _)| FieldError::new(format!("{prefix}[{n}].offer_id"), "no offer in the catalog has this id"))
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(AppError::UnknownReference(broken))
    }
}

impl PlanInput {
    /// Checks the plan's rules and gives its goals and interventions their ids.
    pub fn into_plan(self, conn: &mut PgConnection) -> Result<NewPlan, AppError> {
        let goals: Vec<Goal> = self.goals.into_iter().map(GoalInput::into_goal).collect();
        let interventions: Vec<Intervention> =
            self.interventions.into_iter().map(InterventionInput::into_intervention).collect();
        let broken = plan::check_plan(&goals, &interventions);
        if !broken.is_empty() {
            return Err(AppError::InconsistentRequest(broken));
        }
        check_offers(conn, &interventions, "plan.interventions")?;
        let citizen_goals = self.citizen_goals.map(|g| g.trim().to_string()).filter(|g| !g.is_empty());
        Ok(NewPlan { citizen_goals, goals, interventions, statutory_plans: self.statutory_plans })
    }
}

/// One version of a case's plan with its amendments applied.
pub fn load(conn: &mut PgConnection, case_id: Uuid, version: i32) -> Result<Option<PlanView>, AppError> {
    let Some(v) = store::plans::version(conn, case_id, version)? else {
        return Ok(None);
    };
    let latest = store::plans::latest_version(conn, case_id)?.unwrap_or(0);
    let mut interventions: Vec<Intervention> = serde_json::from_value(v.interventions).map_err(|_| unreadable())?;
    let mut amendments = Vec::new();
    for a in store::plans::amendments(conn, case_id, version)? {
        let intervention: Intervention = serde_json::from_value(a.intervention).map_err(|_| unreadable())?;
        plan::amend(&mut interventions, intervention.clone());
        amendments.push(AmendmentView {
            id: a.id,
            at: a.at,
            by: AmendedBy { sub: a.actor_sub, department: a.actor_dept },
            kind: a.kind,
            intervention,
            note: a.note,
        });
    }
    Ok(Some(PlanView {
        version: v.version,
        kind: PlanKind::parse(&v.kind).ok_or_else(unreadable)?,
        adopted_at: v.adopted_at,
        decision_id: v.decision_id,
        citizen_goals: v.citizen_goals,
        goals: serde_json::from_value(v.goals).map_err(|_| unreadable())?,
        interventions,
        statutory_plans: serde_json::from_value(v.statutory_plans).map_err(|_| unreadable())?,
        current: v.version == latest,
        amendments,
    }))
}

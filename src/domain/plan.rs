//! The plan (*indsatsplan* for adults, *ungeplan* for youth): the citizen's own goals, shared
//! goals across departments, and the interventions (*indsatser*) with the department
//! responsible for each. Goals change only by a committee decision; the coordinator may add
//! interventions and change their status or end date between meetings.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{vocabulary, Department, FieldError, Track};

vocabulary! {
    /// The plan's name on each track.
    PlanKind { Ungeplan => "ungeplan", Indsatsplan => "indsatsplan" }
}

vocabulary! {
    /// The life area a goal is about.
    GoalArea {
        Education => "education",
        Employment => "employment",
        Income => "income",
        Housing => "housing",
        Health => "health",
        Social => "social",
        Other => "other",
    }
}

vocabulary! {
    /// Where an intervention stands.
    InterventionStatus { Planned => "planned", Active => "active", Completed => "completed", Cancelled => "cancelled" }
}

/// A goal: shared across departments, changed only by a committee decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Goal {
    pub id: Uuid,
    pub area: GoalArea,
    pub description: String,
    pub target_date: Option<NaiveDate>,
}

/// An intervention (*indsats*) and the department responsible for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Intervention {
    pub id: Uuid,
    pub title: String,
    /// The catalog offer it is an instance of, if any.
    pub offer_id: Option<Uuid>,
    pub responsible_department: Department,
    pub start_on: Option<NaiveDate>,
    pub end_on: Option<NaiveDate>,
    pub status: InterventionStatus,
    pub cost_estimate_ore: Option<i64>,
    /// The intervention's id in the responsible department's own system.
    pub external_ref: Option<String>,
}

/// A link to a department's own statutory plan, which the plan links to and does not replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct StatutoryPlan {
    pub department: Department,
    /// The department's system, e.g. its case-management system's name.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub system: String,
    /// The plan's reference in that system.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub reference: String,
}

/// Applies an amendment (the new state of one intervention) to a plan's interventions.
pub fn amend(interventions: &mut Vec<Intervention>, changed: Intervention) {
    match interventions.iter_mut().find(|i| i.id == changed.id) {
        Some(existing) => *existing = changed,
        None => interventions.push(changed),
    }
}

pub fn kind_for(track: Track) -> PlanKind {
    match track {
        Track::Youth => PlanKind::Ungeplan,
        Track::Adult => PlanKind::Indsatsplan,
    }
}

/// A plan needs at least one goal and one intervention; ids are unique within it; no
/// intervention ends before it starts.
pub fn check_plan(goals: &[Goal], interventions: &[Intervention]) -> Vec<FieldError> {
    let goal_ids: Vec<Uuid> = goals.iter().map(|g| g.id).collect();
    let interventions: Vec<(Uuid, Option<NaiveDate>, Option<NaiveDate>)> =
        interventions.iter().map(|i| (i.id, i.start_on, i.end_on)).collect();
    let mut broken = Vec::new();
    if goal_ids.is_empty() {
        broken.push(FieldError::new("plan.goals", "a plan needs at least one goal"));
    }
    if interventions.is_empty() {
        broken.push(FieldError::new("plan.interventions", "a plan needs at least one intervention"));
    }
    for (i, id) in goal_ids.iter().enumerate() {
        if goal_ids[..i].contains(id) {
            broken.push(FieldError::new(format!("plan.goals[{i}].id"), "is used twice"));
        }
    }
    for (i, (id, start, end)) in interventions.iter().enumerate() {
        if interventions[..i].iter().any(|(other, _, _)| other == id) {
            broken.push(FieldError::new(format!("plan.interventions[{i}].id"), "is used twice"));
        }
        if let Some(error) = check_dates(*start, *end) {
            broken.push(FieldError::new(format!("plan.interventions[{i}].end_on"), error));
        }
    }
    broken
}

/// An intervention does not end before it starts.
pub fn check_dates(start_on: Option<NaiveDate>, end_on: Option<NaiveDate>) -> Option<&'static str> {
    match (start_on, end_on) {
        (Some(start), Some(end)) if end < start => Some("must not be before start_on"),
        _ => None,
    }
}

/// A validated plan, ready to be adopted.
pub struct NewPlan {
    pub citizen_goals: Option<String>,
    pub goals: Vec<Goal>,
    pub interventions: Vec<Intervention>,
    pub statutory_plans: Vec<StatutoryPlan>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(id: Uuid) -> Goal {
        Goal { id, area: GoalArea::Housing, description: "a home".into(), target_date: None }
    }

    fn intervention(id: Uuid, start_on: Option<NaiveDate>, end_on: Option<NaiveDate>) -> Intervention {
        Intervention {
            id,
            title: "bostøtte".into(),
            offer_id: None,
            responsible_department: Department::Social,
            start_on,
            end_on,
            status: InterventionStatus::Planned,
            cost_estimate_ore: None,
            external_ref: None,
        }
    }

    #[test]
    fn a_plan_needs_a_goal_and_an_intervention() {
        let id = Uuid::now_v7();
        assert_eq!(check_plan(&[], &[]).len(), 2);
        assert_eq!(check_plan(&[goal(id)], &[])[0].field, "plan.interventions");
        assert!(check_plan(&[goal(id)], &[intervention(id, None, None)]).is_empty());
    }

    #[test]
    fn ids_are_unique_and_dates_ordered() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let d = |day| NaiveDate::from_ymd_opt(2027, 3, day);
        let broken = check_plan(
            &[goal(a), goal(a)],
            &[intervention(a, None, None), intervention(b, d(5), d(4)), intervention(b, d(1), d(2))],
        );
        let fields: Vec<_> = broken.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["plan.goals[1].id", "plan.interventions[1].end_on", "plan.interventions[2].id"]);
    }

    #[test]
    fn amendments_replace_or_add() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut list = vec![intervention(a, None, None)];
        let mut changed = intervention(a, None, None);
        changed.status = InterventionStatus::Active;
        amend(&mut list, changed);
        amend(&mut list, intervention(b, None, None));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].status, InterventionStatus::Active);
    }

    #[test]
    fn kinds_by_track() {
        assert_eq!(kind_for(Track::Youth).as_str(), "ungeplan");
        assert_eq!(kind_for(Track::Adult).as_str(), "indsatsplan");
    }
}

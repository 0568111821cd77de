//! The case history: every change of a case as an event, written in the transaction of the
//! change. It is also the outbox the integration feed reads.

use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::domain::vocabulary;
use crate::schema::case_events;

vocabulary! {
    /// The kinds of event.
    EventType {
        CaseReferred => "case.referred",
        CaseUpdated => "case.updated",
        CaseScreened => "case.screened",
        DecisionRecorded => "decision.recorded",
        PlanAdopted => "plan.adopted",
        PlanAmended => "plan.amended",
        CoordinatorChanged => "coordinator.changed",
        BudgetSpent => "budget.spent",
        BudgetReversed => "budget.reversed",
        CaseClosed => "case.closed",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_events)]
pub struct EventRow {
    pub id: i64,
    pub case_id: Uuid,
    pub type_: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_iss: String,
    pub actor_sub: String,
    pub actor_dept: String,
    pub detail: Value,
}

/// Appends an event to a case's history. `detail` must not hold a CPR number.
pub fn emit(conn: &mut PgConnection, p: &Principal, case_id: Uuid, kind: EventType, detail: Value) -> QueryResult<()> {
    diesel::insert_into(case_events::table)
        .values((
            case_events::case_id.eq(case_id),
            case_events::type_.eq(kind.as_str()),
            case_events::actor_iss.eq(&p.iss),
            case_events::actor_sub.eq(&p.sub),
            case_events::actor_dept.eq(p.dept.as_str()),
            case_events::detail.eq(detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// The history of one case, oldest first.
pub fn history(conn: &mut PgConnection, case_id: Uuid, after: Option<i64>, limit: i64) -> QueryResult<Vec<EventRow>> {
    case_events::table
        .filter(case_events::case_id.eq(case_id))
        .filter(case_events::id.gt(after.unwrap_or(0)))
        .order(case_events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

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
        ConsentGiven => "consent.given",
        ConsentWithdrawn => "consent.withdrawn",
        CaseTransferred => "case.transferred",
    }
}

/// An event's type as the API writes it (`case.referred`, …): a string whose values the
/// OpenAPI document lists as an enum.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EventTypeName(pub String);

impl utoipa::PartialSchema for EventTypeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("What happened to the case."))
            .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for EventTypeName {
    fn name() -> std::borrow::Cow<'static, str> {
        "EventType".into()
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

/// Appends an event to a case's history, with the W3C trace of the request that caused it (so
/// that its webhook deliveries carry the trace on). `detail` must not hold a CPR number.
pub fn emit(conn: &mut PgConnection, p: &Principal, case_id: Uuid, kind: EventType, detail: Value) -> QueryResult<()> {
    diesel::insert_into(case_events::table)
        .values((
            case_events::case_id.eq(case_id),
            case_events::type_.eq(kind.as_str()),
            case_events::actor_iss.eq(&p.iss),
            case_events::actor_sub.eq(&p.sub),
            case_events::actor_dept.eq(p.dept.as_str()),
            case_events::detail.eq(detail),
            case_events::trace_id.eq(p.trace.map(|t| t.id())),
            case_events::trace_sampled.eq(p.trace.map(|t| t.sampled)),
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

/// An event as the integration feed shows it: no actor, no detail, no personal data; and the
/// trace of the request that wrote it, which webhook deliveries carry on (`traceparent`).
#[derive(Debug, Clone, Queryable)]
pub struct FeedRow {
    pub txid: i64,
    pub id: i64,
    pub type_: String,
    pub case_id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    trace_id: Option<String>,
    trace_sampled: Option<bool>,
}

impl FeedRow {
    /// The trace of the request that wrote the event, if it was written by one.
    pub fn trace(&self) -> Option<crate::trace::Trace> {
        crate::trace::Trace::stored(self.trace_id.as_deref()?, self.trace_sampled?)
    }
}

/// The next events after `after` = (txid, id) for the cases `filter` keeps, in commit-safe
/// order: only events of transactions older than every transaction still running, so that no
/// event can later appear behind the cursor.
pub fn feed(
    conn: &mut PgConnection,
    filter: crate::access::CaseFilter,
    after: (i64, i64),
    limit: i64,
) -> QueryResult<Vec<FeedRow>> {
    use crate::db::fixed;
    use crate::schema::cases;
    use diesel::sql_types::BigInt;

    let (txid, id) = after;
    case_events::table
        .filter(case_events::txid.gt(txid).or(case_events::txid.eq(txid).and(case_events::id.gt(id))))
        .filter(case_events::txid.lt(fixed::<BigInt>("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")))
        .filter(case_events::case_id.eq_any(cases::table.filter(filter).select(cases::id).into_boxed()))
        .order((case_events::txid.asc(), case_events::id.asc()))
        .limit(limit)
        .select((
            case_events::txid,
            case_events::id,
            case_events::type_,
            case_events::case_id,
            case_events::at,
            case_events::trace_id,
            case_events::trace_sampled,
        ))
        .load(conn)
}

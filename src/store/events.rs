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

type FeedSql = (
    diesel::sql_types::BigInt,
    diesel::sql_types::BigInt,
    diesel::sql_types::Text,
    diesel::sql_types::Uuid,
    diesel::sql_types::Timestamptz,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Nullable<diesel::sql_types::Bool>,
);

/// The most events one page holds (the API's largest `limit`).
pub const MOST_PER_PAGE: i64 = 200;

/// One page of the feed, as one statement:
///
/// ```sql
/// SELECT * FROM (<the events, in order> LIMIT 200) AS "page" ORDER BY "txid", "id" LIMIT $n
/// ```
///
/// It is run under a generic plan ([`feed_with`]), and a generic plan does not know `$n`:
/// PostgreSQL would reckon on a tenth of all events and choose to sort them all (687 ms at
/// 100 000 cases, measured). The literal bound of the inner query keeps the plan that walks
/// `case_events_feed` in order and stops after `$n` events.
pub struct FeedPage {
    events: case_events::BoxedQuery<'static, diesel::pg::Pg, FeedSql>,
    limit: i64,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for FeedPage {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("SELECT * FROM (");
        diesel::query_builder::QueryFragment::<diesel::pg::Pg>::walk_ast(&self.events, out.reborrow())?;
        out.push_sql(&format!(" LIMIT {MOST_PER_PAGE}) AS \"page\" ORDER BY \"txid\", \"id\" LIMIT "));
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.limit)?;
        Ok(())
    }
}

impl diesel::query_builder::Query for FeedPage {
    type SqlType = FeedSql;
}

impl diesel::query_builder::QueryId for FeedPage {
    type QueryId = ();
    // cached by its text, which depends only on the caller's kind
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl RunQueryDsl<PgConnection> for FeedPage {}

/// The next events after `after` = (txid, id) for the cases `filter` keeps, in commit-safe
/// order: only events of transactions older than every transaction still running, so that no
/// event can later appear behind the cursor. At most [`MOST_PER_PAGE`].
pub fn feed(
    conn: &mut PgConnection,
    filter: crate::access::CaseFilter,
    after: (i64, i64),
    limit: i64,
) -> QueryResult<Vec<FeedRow>> {
    feed_with(conn, filter, after, limit, |page| page)
}

/// How the feed's page is planned, in its own transaction ([`crate::db::with_local_settings`]):
///
/// - `plan_cache_mode = force_generic_plan`: one generic plan per connection. Left to choose,
///   PostgreSQL plans the page afresh for every cursor: it prices the generic plan above the one
///   it makes for a known cursor, by a little, and then pays for planning on every page (1.1 ms
///   of planning for 0.8 ms of execution at 1 000 cases, measured with pg_stat_statements by
///   `scripts/bench`).
/// - `enable_memoize = off`: the generic plan reckons with every event, so it puts a Memoize
///   cache in front of its look-ups in `cases`, sized for as many cases as `work_mem` allows.
///   PostgreSQL allocates and zeroes that table at the start of every run, for the page's few
///   cases: at 1 000 000 cases with `work_mem = 16MB` that zeroing was 48 % of the machine's CPU
///   (`perf`), and the feed answered a third as fast as at 1 000 cases.
pub const FEED_PLAN: &str = "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_memoize = off";

/// [`feed`], with the statement wrapped by `wrap` (into the read that records itself,
/// `audit::feed_read`), which must answer the page's rows in their order. The statement runs
/// under [`FEED_PLAN`], which holds for its transaction only.
pub fn feed_with<W>(
    conn: &mut PgConnection,
    filter: crate::access::CaseFilter,
    after: (i64, i64),
    limit: i64,
    wrap: impl FnOnce(FeedPage) -> W,
) -> QueryResult<Vec<FeedRow>>
where
    W: RunQueryDsl<PgConnection> + for<'a> diesel::query_dsl::LoadQuery<'a, PgConnection, FeedRow>,
{
    crate::db::with_local_settings(conn, FEED_PLAN, |conn| wrap(feed_page(filter, after, limit)).load(conn))
}

/// The statement of [`feed`]'s page, unrun: its text is the same for every `filter` of one
/// shape, with `after` and `limit` as parameters.
pub fn feed_page(filter: crate::access::CaseFilter, after: (i64, i64), limit: i64) -> FeedPage {
    use crate::db::fixed;
    use crate::schema::cases;
    use diesel::sql_types::BigInt;

    let (txid, id) = after;
    let events = case_events::table
        .filter(case_events::txid.gt(txid).or(case_events::txid.eq(txid).and(case_events::id.gt(id))))
        .filter(case_events::txid.lt(fixed::<BigInt>("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")))
        .filter(case_events::case_id.eq_any(cases::table.filter(filter).select(cases::id).into_boxed()))
        .order((case_events::txid.asc(), case_events::id.asc()))
        .select((
            case_events::txid,
            case_events::id,
            case_events::type_,
            case_events::case_id,
            case_events::at,
            case_events::trace_id,
            case_events::trace_sampled,
        ))
        .into_boxed();
    FeedPage { events, limit: limit.clamp(1, MOST_PER_PAGE) }
}

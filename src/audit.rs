//! The audit log: one entry for every request that reads or writes personal data, written in
//! the caller's transaction so that the entry and the change it records commit together.
//! The table is append-only in the database (see the foundation migration).
//!
//! A refused access is decided here too ([`deny`], [`on_case`], [`citizen_forbidden`]) and put
//! on record by the runners [`Db::tx`] and [`Db::read`] after the refused transaction rolled back.

use std::borrow::Cow;

use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{vocabulary, CaseStatus, Role};
use crate::error::{AppError, Refusal};
use crate::schema::audit_log;

vocabulary! {
    /// What the request did with the personal data.
    Action {
        Read => "read",
        Create => "create",
        Update => "update",
        Denied => "denied",
        /// Personal data erased, by the retention job.
        Delete => "delete",
    }
}

vocabulary! {
    /// What the access served, from the operation.
    Purpose {
        Referral => "referral",
        Screening => "screening",
        Committee => "committee",
        Coordination => "coordination",
        Budget => "budget",
        Integration => "integration",
        Audit => "audit",
        /// The citizen's access request (GDPR art. 15): everything held about them, exported.
        AccessRequest => "access_request",
        /// The citizen's own copy of their plan (HTML or PDF), to hand over or send.
        CitizenCopy => "citizen_copy",
        /// A run of the retention job, which erases what may no longer be kept.
        Retention => "retention",
    }
}

/// The caller as the audit log names them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub iss: String,
    pub sub: String,
    pub dept: String,
    pub request_id: String,
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        Actor {
            iss: p.iss.clone(),
            sub: p.sub.clone(),
            dept: p.dept.as_str().to_string(),
            request_id: p.request_id.clone(),
        }
    }
}

/// What a refused access puts on record: who, what, and for which purpose. It travels inside
/// [`AppError::Denied`] out of the refused transaction, to be written after the rollback.
#[derive(Debug)]
struct Denial {
    actor: Actor,
    resource: &'static str,
    resource_id: Option<Uuid>,
    case_id: Option<Uuid>,
    citizen_id: Option<Uuid>,
    purpose: Purpose,
}

impl Denial {
    fn refused(self, forbidden: Option<String>, answer: Option<Box<AppError>>) -> AppError {
        AppError::Denied(Box::new(Refusal { forbidden, answer, record: Box::new(self) }))
    }
}

/// One access to personal data. Serialisable, so that an idempotent replay can repeat the entry
/// of the answer it repeats.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub action: Action,
    pub resource: Cow<'static, str>,
    pub resource_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub citizen_id: Option<Uuid>,
    pub purpose: Purpose,
    pub status: u16,
    /// A list read: the filters it used, and every case and citizen it returned.
    pub filters: Option<serde_json::Value>,
    pub case_ids: Vec<Uuid>,
    pub citizen_ids: Vec<Uuid>,
}

impl Entry {
    /// An access to one case (and so to its citizen).
    pub fn case(action: Action, purpose: Purpose, case_id: Uuid, citizen_id: Uuid, status: u16) -> Entry {
        Entry {
            action,
            resource: "case".into(),
            resource_id: Some(case_id),
            case_id: Some(case_id),
            citizen_id: Some(citizen_id),
            purpose,
            status,
            filters: None,
            case_ids: vec![],
            citizen_ids: vec![],
        }
    }

    /// An access to a citizen's own record.
    pub fn citizen(action: Action, purpose: Purpose, citizen_id: Uuid, status: u16) -> Entry {
        Entry {
            action,
            resource: "citizen".into(),
            resource_id: Some(citizen_id),
            case_id: None,
            citizen_id: Some(citizen_id),
            purpose,
            status,
            filters: None,
            case_ids: vec![],
            citizen_ids: vec![],
        }
    }

    /// An access to something that is neither a case nor a citizen (a committee's seats).
    pub fn about(action: Action, purpose: Purpose, resource: &'static str, id: Uuid, status: u16) -> Entry {
        Entry {
            action,
            resource: resource.into(),
            resource_id: Some(id),
            case_id: None,
            citizen_id: None,
            purpose,
            status,
            filters: None,
            case_ids: vec![],
            citizen_ids: vec![],
        }
    }

    pub fn resource(mut self, resource: &'static str, id: Uuid) -> Entry {
        self.resource = resource.into();
        self.resource_id = Some(id);
        self
    }
}

/// Written as column assignments, not an `Insertable` with `None`s: diesel renders a `None`
/// field as `DEFAULT`, which makes the statement text vary and keeps it out of the prepared
/// statement cache; every request writes one of these.
fn insert(conn: &mut PgConnection, actor: &Actor, e: &Entry) -> Result<(), AppError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_iss.eq(&actor.iss),
            audit_log::actor_sub.eq(&actor.sub),
            audit_log::actor_dept.eq(&actor.dept),
            audit_log::action.eq(e.action.as_str()),
            audit_log::resource.eq(e.resource.as_ref()),
            audit_log::resource_id.eq(e.resource_id),
            audit_log::case_id.eq(e.case_id),
            audit_log::citizen_id.eq(e.citizen_id),
            audit_log::purpose.eq(e.purpose.as_str()),
            audit_log::status.eq(e.status as i16),
            audit_log::request_id.eq(&actor.request_id),
            audit_log::filters.eq(e.filters.as_ref().map(without_cpr)),
            audit_log::case_ids.eq(&e.case_ids),
            audit_log::citizen_ids.eq(&e.citizen_ids),
        ))
        .execute(conn)?;
    Ok(())
}

/// A list read's filters as the log keeps them: any CPR-shaped text (a coordinator filter of ten
/// digits) redacted, since the audit log is answered as a list too.
fn without_cpr(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(crate::logging::redact_cpr(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(without_cpr).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), without_cpr(v))).collect()),
        other => other.clone(),
    }
}

/// The purpose a read serves: a departmental system reads for integration; a person reads for
/// the stage the case is at (or, for a list, the stage it asks for).
pub fn purpose_for(p: &Principal, status: Option<CaseStatus>) -> Purpose {
    if p.has(Role::System) {
        return Purpose::Integration;
    }
    match status {
        Some(CaseStatus::Referred) => Purpose::Referral,
        Some(CaseStatus::AwaitingCommittee) => Purpose::Committee,
        Some(CaseStatus::Declined) => Purpose::Screening,
        Some(CaseStatus::Active | CaseStatus::Closed) | None => Purpose::Coordination,
    }
}

/// A read of one case that writes its own audit row, in one statement:
///
/// ```sql
/// WITH seen AS (INSERT INTO audit_log (…) SELECT <the caller>, 'read', 'case', cases.id, …
///               FROM cases WHERE cases.id = $id AND <the access rule> RETURNING case_id)
/// <query>
/// ```
///
/// The row is inserted from the case the access rule lets through, and `query` must read only
/// the case the row names ([`recorded_case`]): nothing is answered that is not on record, no row
/// is written for a case not answered, and the one statement commits both, durably, before
/// the answer leaves. The purpose follows the case's status as [`purpose_for`] says, as a
/// `CASE` over every status.
pub struct CaseRead<Q> {
    actor: Actor,
    case_id: Uuid,
    purpose: String,
    visible: crate::access::CaseFilter,
    query: Q,
}

/// Wraps `query` (a read of the case `case_id`) into the statement that records it.
pub fn case_read<Q>(p: &Principal, case_id: Uuid, query: Q) -> CaseRead<Q> {
    let mut purpose = String::from("CASE \"cases\".\"status\"");
    for status in CaseStatus::ALL {
        purpose.push_str(&format!(" WHEN '{}' THEN '{}'", status.as_str(), purpose_for(p, Some(*status)).as_str()));
    }
    purpose.push_str(&format!(" ELSE '{}' END", purpose_for(p, None).as_str()));
    CaseRead { actor: Actor::from(p), case_id, purpose, visible: crate::access::visible_cases(p), query }
}

/// Reads the case `id` with everything its view shows (`store::cases::read_whole`) in the one
/// statement that records the read ([`case_read`]), if the access rule lets `p` see it. The
/// statement's text depends on the caller's kind only ([`CaseReadKind`]), so it is kept in the
/// connection's prepared-statement cache under a key per kind, and not rebuilt on every request
/// to be found there (`db::Keyed`).
pub fn read_whole_case(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
) -> QueryResult<Option<crate::store::cases::WholeCase>> {
    use crate::db::Keyed;
    use crate::store::cases::read_whole;
    // The keys: one per kind, each for this statement only.
    struct BySystem;
    struct ByLeader;
    struct ByPerson;
    let read = |query| case_read(p, id, query);
    let through = Some(recorded_case());
    match CaseReadKind::of(p) {
        CaseReadKind::System => read_whole(conn, id, through, |q| Keyed::<_, BySystem>::new(read(q))),
        CaseReadKind::Leader => read_whole(conn, id, through, |q| Keyed::<_, ByLeader>::new(read(q))),
        CaseReadKind::Person => read_whole(conn, id, through, |q| Keyed::<_, ByPerson>::new(read(q))),
    }
}

/// The filter a query wrapped by [`case_read`] reads its case through: the case its audit row
/// names, and no other.
pub fn recorded_case() -> crate::access::CaseFilter {
    Box::new(crate::db::fixed::<diesel::sql_types::Bool>(r#""cases"."id" IN (SELECT "case_id" FROM "seen")"#))
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>> diesel::query_builder::QueryFragment<diesel::pg::Pg>
    for CaseRead<Q>
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Text, Uuid as SqlUuid};
        // `seen` is the name [`recorded_case`] reads the row by.
        out.push_sql("WITH \"seen\" AS (INSERT INTO \"audit_log\" (\"actor_iss\", \"actor_sub\", \"actor_dept\", \"action\", \"resource\", \"resource_id\", \"case_id\", \"citizen_id\", \"purpose\", \"status\", \"request_id\", \"case_ids\", \"citizen_ids\") SELECT ");
        out.push_bind_param::<Text, _>(&self.actor.iss)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.actor.sub)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.actor.dept)?;
        out.push_sql(&format!(
            ", '{}', 'case', \"cases\".\"id\", \"cases\".\"id\", \"cases\".\"citizen_id\", ",
            Action::Read.as_str()
        ));
        out.push_sql(&self.purpose);
        out.push_sql(", 200, ");
        out.push_bind_param::<Text, _>(&self.actor.request_id)?;
        out.push_sql(", '{}', '{}' FROM \"cases\" WHERE \"cases\".\"id\" = ");
        out.push_bind_param::<SqlUuid, _>(&self.case_id)?;
        out.push_sql(" AND (");
        self.visible.walk_ast(out.reborrow())?;
        out.push_sql(") RETURNING \"case_id\") ");
        self.query.walk_ast(out.reborrow())
    }
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for CaseRead<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for CaseRead<Q> {
    type QueryId = ();
    // The statement is cached by its text, which depends only on the caller's kind; wrapped in
    // `db::Keyed` under a [`CaseReadKind`]'s key, it is cached by that kind.
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// What the text of a [`case_read`] depends on: the purpose (whether the caller is a `system`)
/// and the access rule's shape (whether the caller sees their department's cases). Everything
/// else of the caller is a parameter, so a statement site may cache its case reads under one key
/// type per kind (`db::Keyed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseReadKind {
    /// A `system` account: the purpose is integration, the department's cases are seen.
    System,
    /// Not `system`, and sees the department's cases (a `leader`).
    Leader,
    /// Sees the cases they take part in only.
    Person,
}

impl CaseReadKind {
    pub fn of(p: &Principal) -> CaseReadKind {
        match (p.has(Role::System), crate::access::sees_department_cases(p)) {
            (true, _) => CaseReadKind::System,
            (false, true) => CaseReadKind::Leader,
            (false, false) => CaseReadKind::Person,
        }
    }
}

impl<Q> RunQueryDsl<PgConnection> for CaseRead<Q> {}

/// A read of one page of the event feed that writes its own audit row, in one statement, the way
/// [`case_read`] does for a case:
///
/// ```sql
/// WITH answered AS (<the page>),
///      seen AS (INSERT INTO audit_log (…) SELECT <the caller>, 'read', 'events', …,
///               ARRAY(SELECT DISTINCT case_id FROM answered ORDER BY 1), …)
/// SELECT * FROM answered ORDER BY txid, id
/// ```
///
/// The row names the cases of exactly the events answered, is written for an empty page too,
/// and is durable before the answer leaves: the page commits with it (in the transaction that
/// `store::events::feed_with` runs it in, for its generic plan).
pub struct FeedRead<Q> {
    actor: Actor,
    filters: serde_json::Value,
    query: Q,
}

/// Wraps `query` (a page of the event feed, `store::events::feed_with`) into the statement that
/// records it, with the page's `filters` (cursor and limit) on record.
pub fn feed_read<Q>(p: &Principal, filters: serde_json::Value, query: Q) -> FeedRead<Q> {
    FeedRead { actor: Actor::from(p), filters: without_cpr(&filters), query }
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>> diesel::query_builder::QueryFragment<diesel::pg::Pg>
    for FeedRead<Q>
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Jsonb, Text};
        out.push_sql("WITH \"answered\" AS (");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql("), \"seen\" AS (INSERT INTO \"audit_log\" (\"actor_iss\", \"actor_sub\", \"actor_dept\", \"action\", \"resource\", \"resource_id\", \"case_id\", \"citizen_id\", \"purpose\", \"status\", \"request_id\", \"filters\", \"case_ids\", \"citizen_ids\") SELECT ");
        out.push_bind_param::<Text, _>(&self.actor.iss)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.actor.sub)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.actor.dept)?;
        out.push_sql(&format!(
            ", '{}', 'events', NULL::uuid, NULL::uuid, NULL::uuid, '{}', 200, ",
            Action::Read.as_str(),
            Purpose::Integration.as_str()
        ));
        out.push_bind_param::<Text, _>(&self.actor.request_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Jsonb, _>(&self.filters)?;
        out.push_sql(", ARRAY(SELECT DISTINCT \"case_id\" FROM \"answered\" ORDER BY 1), '{}'::uuid[]) SELECT * FROM \"answered\" ORDER BY \"txid\", \"id\"");
        Ok(())
    }
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for FeedRead<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::query_builder::QueryId for FeedRead<Q> {
    type QueryId = ();
    // cached by its text, like the page it wraps; [`read_feed_page`] caches it under a key
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> RunQueryDsl<PgConnection> for FeedRead<Q> {}

/// Reads one page of the event feed for `p` (their department's cases, `access::feed_cases`)
/// in the one statement that records the read ([`feed_read`]), with `filters` on record. The
/// statement's text is the same for every caller (the department, the cursor and the limit are
/// parameters), so it is kept in the connection's prepared-statement cache under one key and not
/// rebuilt on every request to be found there (`db::Keyed`).
pub fn read_feed_page(
    conn: &mut PgConnection,
    p: &Principal,
    filters: serde_json::Value,
    after: (i64, i64),
    limit: i64,
) -> QueryResult<Vec<crate::store::events::FeedRow>> {
    // The key, for this statement only.
    struct AnyCallersPage;
    crate::store::events::feed_with(conn, crate::access::feed_cases(p), after, limit, |page| {
        crate::db::Keyed::<_, AnyCallersPage>::new(feed_read(p, filters, page))
    })
}

/// Records an access in the current transaction.
pub fn record(conn: &mut PgConnection, p: &Principal, entry: Entry) -> Result<(), AppError> {
    insert(conn, &Actor::from(p), &entry)
}

/// Records what a job that no token speaks for did (the retention job), in the current
/// transaction.
pub fn record_job(conn: &mut PgConnection, actor: &Actor, entry: Entry) -> Result<(), AppError> {
    insert(conn, actor, &entry)
}

/// Builds the refusal of a read: answered 404, recorded as `denied`.
pub fn deny(p: &Principal, resource: &'static str, id: Uuid, purpose: Purpose) -> AppError {
    let (case_id, citizen_id) = match resource {
        "citizen" => (None, Some(id)),
        _ => (Some(id), None),
    };
    Denial { actor: Actor::from(p), resource, resource_id: Some(id), case_id, citizen_id, purpose }.refused(None, None)
}

/// Runs an operation on one case: a 403 from any rule it applies (the caller's role, the
/// operation's own rule) is still answered 403, and written to the audit log as a denied access
/// to the case, like a 404. Other outcomes pass unchanged.
///
/// A refusal of the domain to a caller who sees the case (its status, what remains of the frame,
/// that no plan is adopted yet: each tells something of the case) is on record too, as a read of
/// the case with the refusal's status, written after the refused transaction rolled back.
pub fn on_case<T>(
    conn: &mut PgConnection,
    p: &Principal,
    case_id: Uuid,
    purpose: Purpose,
    op: impl FnOnce(&mut PgConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let denial = |forbidden: Option<String>, answer: Option<Box<AppError>>| {
        Denial {
            actor: Actor::from(p),
            resource: "case",
            resource_id: Some(case_id),
            case_id: Some(case_id),
            citizen_id: None,
            purpose,
        }
        .refused(forbidden, answer)
    };
    match op(conn) {
        Ok(done) => Ok(done),
        Err(AppError::Forbidden(reason)) => Err(denial(Some(reason), None)),
        Err(
            refusal @ (AppError::InvalidTransition(_)
            | AppError::BudgetExceeded { .. }
            | AppError::ConsentMissing(_)
            | AppError::ConsentWithdrawn
            | AppError::TransferNotDue(_)
            | AppError::Conflict(_)
            | AppError::NotOnAgenda
            | AppError::QuorumNotMet(_)
            | AppError::ReferralIncomplete(_)
            | AppError::OutsideTargetGroup(_)
            | AppError::InconsistentRequest(_)
            | AppError::DateNotAllowed(_)
            | AppError::FrameAboveMaximum(_)
            | AppError::UnknownReference(_)
            | AppError::PreconditionFailed
            | AppError::NotFound),
        ) => {
            // Only a caller who sees the case learns anything from the refusal.
            match crate::store::cases::find_visible(conn, p, case_id) {
                Ok(Some(_)) => Err(denial(None, Some(Box::new(refusal)))),
                _ => Err(refusal),
            }
        }
        Err(other) => Err(other),
    }
}

/// The refusal (403) of a principal's role to read a citizen, as a denial on record.
pub fn citizen_forbidden(p: &Principal, citizen_id: Uuid) -> impl FnOnce(AppError) -> AppError + '_ {
    move |e| match e {
        AppError::Forbidden(reason) => Denial {
            actor: Actor::from(p),
            resource: "citizen",
            resource_id: Some(citizen_id),
            case_id: None,
            citizen_id: Some(citizen_id),
            purpose: purpose_for(p, None),
        }
        .refused(Some(reason), None),
        other => other,
    }
}

impl Db {
    /// Runs `f` in one transaction: everything it writes (the change, its audit entry, its
    /// event) commits together or not at all. A refusal by the access rules rolls back and is
    /// then written to the audit log on its own.
    pub async fn tx<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| {
            let outcome = conn.transaction(f);
            record_if_refused(conn, outcome)
        })
        .await
    }

    /// Runs a read whose only write is its own audit row, without a transaction around it: each
    /// statement commits on its own, which spares the read two round trips (BEGIN, COMMIT). `f`
    /// must write the audit row last, so that nothing is answered unless the row is durable and
    /// no row claims a read that failed. A transaction would add no consistency: under READ
    /// COMMITTED each statement sees its own snapshot either way. Anything that writes more than
    /// its audit row uses [`Db::tx`].
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| {
            let outcome = f(conn);
            record_if_refused(conn, outcome)
        })
        .await
    }
}

/// A refusal made here is written to the audit log on its own (after the refused transaction,
/// if any, rolled back).
fn record_if_refused<T>(conn: &mut PgConnection, outcome: Result<T, AppError>) -> Result<T, AppError> {
    match outcome {
        Err(AppError::Denied(refusal)) => {
            record_refusal(conn, &refusal)?;
            Err(AppError::Denied(refusal))
        }
        other => other,
    }
}

/// Records a refused access on its own, after the refused transaction rolled back. A refused
/// case access names the case's citizen too, so it shows in the citizen's own report.
fn record_refusal(conn: &mut PgConnection, refusal: &Refusal) -> Result<(), AppError> {
    let Some(d) = refusal.record.downcast_ref::<Denial>() else {
        return Err(AppError::Internal("a refusal without its audit record".into()));
    };
    let citizen_id = match (d.citizen_id, d.case_id) {
        (Some(citizen), _) => Some(citizen),
        (None, Some(case_id)) => crate::schema::cases::table
            .find(case_id)
            .select(crate::schema::cases::citizen_id)
            .first::<Option<Uuid>>(conn)
            .optional()?
            .flatten(),
        (None, None) => None,
    };
    let entry = Entry {
        action: if refusal.answer.is_some() { Action::Read } else { Action::Denied },
        resource: d.resource.into(),
        resource_id: d.resource_id,
        case_id: d.case_id,
        citizen_id,
        purpose: d.purpose,
        status: refusal.status(),
        filters: None,
        case_ids: vec![],
        citizen_ids: vec![],
    };
    insert(conn, &d.actor, &entry)
}

//! Cases: the referral, its screening, and the committee's settings, in one row per case.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use diesel::pg::sql_types::Record;
use diesel::pg::Pg;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};

use crate::access;
use crate::auth::Principal;
use crate::db::fixed;
use crate::domain::consent::Consent;
use crate::schema::{cases, citizens, committees};
use crate::store::consents::rule as consent_rule;
use crate::store::plans::{BackgroundMember, ParticipationNote};

/// A case as the service reads it. Only a case erased by the retention job lacks its citizen and
/// age, and no one sees an erased case ([`access::visible_cases`]), so every row read here has
/// both.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: Uuid,
    #[diesel(select_expression = cases::citizen_id.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<cases::citizen_id>)]
    pub citizen_id: Uuid,
    pub track: String,
    pub committee_id: Uuid,
    pub status: String,
    #[diesel(select_expression = cases::age_at_referral.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<cases::age_at_referral>)]
    pub age_at_referral: i32,
    pub problem_areas: Vec<String>,
    pub description: Option<String>,
    pub involved_departments: Vec<String>,
    pub involved_caseworkers: Value,
    pub current_interventions: Vec<String>,
    pub citizen_view: Option<String>,
    pub under_18_justification: Option<String>,
    pub exclusions: Value,
    pub referred_at: DateTime<Utc>,
    pub referrer_iss: String,
    pub referrer_sub: String,
    pub referrer_dept: String,
    pub referrer_name: Option<String>,
    pub screened_at: Option<DateTime<Utc>>,
    pub screener_sub: Option<String>,
    pub screener_dept: Option<String>,
    pub screener_name: Option<String>,
    pub screening_outcome: Option<String>,
    pub screening_reason: Option<String>,
    pub screening_note: Option<String>,
    pub coordinator_sub: Option<String>,
    pub coordinator_dept: Option<String>,
    pub coordinator_name: Option<String>,
    pub coordinator_phone: Option<String>,
    pub coordinator_email: Option<String>,
    pub follow_up_on: Option<NaiveDate>,
    pub frame_ore: i64,
    pub spent_ore: i64,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The referral's content, as stored.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = cases)]
pub struct ReferralFields {
    pub problem_areas: Vec<String>,
    pub description: Option<String>,
    pub involved_departments: Vec<String>,
    pub involved_caseworkers: Value,
    pub current_interventions: Vec<String>,
    pub citizen_view: Option<String>,
    pub under_18_justification: Option<String>,
    pub exclusions: Value,
}

#[derive(Insertable)]
#[diesel(table_name = cases)]
pub struct NewCase<'a> {
    pub id: Uuid,
    pub citizen_id: Uuid,
    pub track: &'a str,
    pub committee_id: Uuid,
    pub status: &'a str,
    pub age_at_referral: i32,
    pub problem_areas: &'a [String],
    pub description: Option<&'a str>,
    pub involved_departments: &'a [String],
    pub involved_caseworkers: &'a Value,
    pub current_interventions: &'a [String],
    pub citizen_view: Option<&'a str>,
    pub under_18_justification: Option<&'a str>,
    pub exclusions: &'a Value,
    pub referred_at: DateTime<Utc>,
    pub referrer_iss: &'a str,
    pub referrer_sub: &'a str,
    pub referrer_dept: &'a str,
    pub referrer_name: Option<&'a str>,
}

pub fn insert(conn: &mut PgConnection, case: &NewCase) -> QueryResult<CaseRow> {
    diesel::insert_into(cases::table).values(case).returning(CaseRow::as_returning()).get_result(conn)
}

/// A case by id, for internal use (the demo data): no visibility check.
pub fn find_by_id(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<CaseRow>> {
    cases::table.find(id).select(CaseRow::as_select()).first(conn).optional()
}

/// The case, if the principal may see it.
pub fn find_visible(conn: &mut PgConnection, p: &Principal, id: Uuid) -> QueryResult<Option<CaseRow>> {
    cases::table
        .filter(cases::id.eq(id))
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .first(conn)
        .optional()
}

/// What a case's view shows of its citizen and committee.
#[derive(Debug, Clone, Queryable)]
pub struct CaseContext {
    pub citizen_name: String,
    pub citizen_birth_date: NaiveDate,
    pub committee_name: String,
}

/// A case with everything its view shows: its citizen and committee, its plan's head, its
/// background group, the participation notes and the consents.
pub struct WholeCase {
    pub case: CaseRow,
    pub context: CaseContext,
    pub parts: CaseParts,
}

/// What a case's view shows of the case's other tables.
pub struct CaseParts {
    /// The latest adopted plan version: its number, kind and adoption.
    pub plan: Option<(i32, String, DateTime<Utc>)>,
    /// In its order.
    pub background_group: Vec<BackgroundMember>,
    /// By date, then as recorded.
    pub participation: Vec<ParticipationNote>,
    /// As the rules read them, oldest first; rows of an unknown vocabulary left out.
    pub consents: Vec<Consent>,
}

type PlanHeadSql = Nullable<Record<(Int4, Text, Timestamptz)>>;
type BackgroundSql = Array<Record<(SqlUuid, Text, Text, Text, Text, Int4)>>;
type ParticipationSql = Array<Record<(SqlUuid, SqlUuid, Date, Text, Nullable<Text>, Timestamptz, Text, Text, Text)>>;
type ConsentSql = Array<Record<(Text, Text, Date, Nullable<Date>, Bool, Array<Text>)>>;

type PartsColumns = (
    Option<(i32, String, DateTime<Utc>)>,
    Vec<(Uuid, String, String, String, String, i32)>,
    Vec<(Uuid, Uuid, NaiveDate, String, Option<String>, DateTime<Utc>, String, String, String)>,
    Vec<(String, String, NaiveDate, Option<NaiveDate>, bool, Vec<String>)>,
);

/// The context as subqueries return it: nullable, though the foreign keys make each present.
type ContextColumns = (Option<String>, Option<NaiveDate>, Option<String>);

/// The row of [`WholeQuery`].
pub type WholeRow = (CaseRow, ContextColumns, PartsColumns);

type WholeSql = (
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<CaseRow, Pg>>,
    (Nullable<Text>, Nullable<Date>, Nullable<Text>),
    (PlanHeadSql, BackgroundSql, ParticipationSql, ConsentSql),
);

/// The one statement that reads a whole case ([`read_whole`]).
pub type WholeQuery = diesel::internal::table_macro::BoxedSelectStatement<
    'static,
    WholeSql,
    diesel::internal::table_macro::FromClause<cases::table>,
    Pg,
>;

/// Reads the case `id` with everything its view shows, in one statement: the citizen, the
/// committee and the case's other tables come as subqueries on the case's row (the access rule
/// is a predicate over `cases` alone), each list an array of rows. `through` narrows the case
/// further (the access rule, or the audit row of the read); `wrap` may wrap the statement
/// (into the read that records itself, `audit::case_read`).
pub fn read_whole<W>(
    conn: &mut PgConnection,
    id: Uuid,
    through: Option<access::CaseFilter>,
    wrap: impl FnOnce(WholeQuery) -> W,
) -> QueryResult<Option<WholeCase>>
where
    W: RunQueryDsl<PgConnection> + for<'a> diesel::query_dsl::LoadQuery<'a, PgConnection, WholeRow>,
{
    let citizen = citizens::table.filter(citizens::id.nullable().eq(cases::citizen_id));
    let committee = committees::table.filter(committees::id.eq(cases::committee_id));
    let mut query = cases::table
        .filter(cases::id.eq(id))
        .select((
            CaseRow::as_select(),
            (
                citizen.select(citizens::name).single_value(),
                citizen.select(citizens::birth_date).single_value(),
                committee.select(committees::name).single_value(),
            ),
            (
                fixed::<PlanHeadSql>(
                    "(SELECT ROW(v.version, v.kind, v.adopted_at) FROM plan_versions v \
                     WHERE v.case_id = cases.id ORDER BY v.version DESC LIMIT 1)",
                ),
                fixed::<BackgroundSql>(
                    "ARRAY(SELECT ROW(b.case_id, b.sub, b.department, b.name, b.side, b.position) \
                     FROM background_members b WHERE b.case_id = cases.id ORDER BY b.position)",
                ),
                fixed::<ParticipationSql>(
                    "ARRAY(SELECT ROW(n.id, n.case_id, n.on_date, n.form, n.citizen_view, n.recorded_at, \
                     n.recorded_by_iss, n.recorded_by_sub, n.recorded_by_dept) FROM participation_notes n \
                     WHERE n.case_id = cases.id ORDER BY n.on_date, n.id)",
                ),
                fixed::<ConsentSql>(
                    "ARRAY(SELECT ROW(c.kind, c.given_by, c.given_on, c.expires_on, c.withdrawn_on IS NOT NULL, \
                     c.departments) FROM consents c WHERE c.case_id = cases.id ORDER BY c.recorded_at, c.id)",
                ),
            ),
        ))
        .into_boxed();
    if let Some(through) = through {
        query = query.filter(through);
    }
    let found: Option<WholeRow> = wrap(query).get_result(conn).optional()?;
    Ok(found.and_then(|(case, (name, birth_date, committee), (plan, background, notes, consents))| {
        let context = CaseContext { citizen_name: name?, citizen_birth_date: birth_date?, committee_name: committee? };
        let parts = CaseParts {
            plan,
            background_group: background
                .into_iter()
                .map(|(case_id, sub, department, name, side, position)| BackgroundMember {
                    case_id,
                    sub,
                    department,
                    name,
                    side,
                    position,
                })
                .collect(),
            participation: notes
                .into_iter()
                .map(|(id, case_id, on_date, form, citizen_view, recorded_at, iss, sub, dept)| ParticipationNote {
                    id,
                    case_id,
                    on_date,
                    form,
                    citizen_view,
                    recorded_at,
                    recorded_by_iss: iss,
                    recorded_by_sub: sub,
                    recorded_by_dept: dept,
                })
                .collect(),
            consents: consents
                .iter()
                .filter_map(|(kind, given_by, given_on, expires_on, withdrawn, departments)| {
                    consent_rule(kind, given_by, *given_on, *expires_on, *withdrawn, departments)
                })
                .collect(),
        };
        Some(WholeCase { case, context, parts })
    }))
}

/// The case, if the principal may see it, locked for the rest of the transaction so that
/// concurrent changes to one case apply one after the other.
pub fn lock_visible(conn: &mut PgConnection, p: &Principal, id: Uuid) -> QueryResult<Option<CaseRow>> {
    cases::table
        .filter(cases::id.eq(id))
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The status of the citizen's latest case that the principal sees, if they see any.
pub fn citizen_visible(conn: &mut PgConnection, p: &Principal, citizen_id: Uuid) -> QueryResult<Option<String>> {
    cases::table
        .filter(cases::citizen_id.eq(citizen_id))
        .filter(access::visible_cases(p))
        .order(cases::id.desc())
        .select(cases::status)
        .first(conn)
        .optional()
}

pub fn update_referral(conn: &mut PgConnection, id: Uuid, fields: &ReferralFields) -> QueryResult<CaseRow> {
    diesel::update(cases::table.find(id))
        .set((fields, cases::version.eq(cases::version + 1), cases::updated_at.eq(diesel::dsl::now)))
        .returning(CaseRow::as_returning())
        .get_result(conn)
}

pub struct Screening<'a> {
    pub status: &'a str,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub fn apply_screening(conn: &mut PgConnection, p: &Principal, id: Uuid, s: &Screening) -> QueryResult<CaseRow> {
    diesel::update(cases::table.find(id))
        .set((
            cases::status.eq(s.status),
            cases::screened_at.eq(diesel::dsl::now),
            cases::screener_sub.eq(&p.sub),
            cases::screener_dept.eq(p.dept.as_str()),
            cases::screener_name.eq(&p.name),
            cases::screening_outcome.eq(s.outcome),
            cases::screening_reason.eq(s.reason),
            cases::screening_note.eq(s.note),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(diesel::dsl::now),
        ))
        .returning(CaseRow::as_returning())
        .get_result(conn)
}

/// The filters of `GET /cases`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ListFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committee_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub involved_department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_before: Option<NaiveDate>,
}

/// One page of the cases the principal sees, in referral order.
pub fn list_visible(
    conn: &mut PgConnection,
    p: &Principal,
    f: &ListFilter,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<CaseRow>> {
    let mut query = cases::table.filter(access::visible_cases(p)).into_boxed();
    if let Some(status) = &f.status {
        query = query.filter(cases::status.eq(status.clone()));
    }
    if let Some(track) = &f.track {
        query = query.filter(cases::track.eq(track.clone()));
    }
    if let Some(committee_id) = f.committee_id {
        query = query.filter(cases::committee_id.eq(committee_id));
    }
    if let Some(coordinator) = &f.coordinator {
        query = query.filter(cases::coordinator_sub.eq(coordinator.clone()));
    }
    if let Some(dept) = &f.involved_department {
        query = query.filter(cases::involved_departments.contains(vec![dept.clone()]));
    }
    if let Some(before) = f.follow_up_before {
        query = query.filter(cases::follow_up_on.lt(before));
    }
    if let Some(after) = after {
        query = query.filter(cases::id.gt(after));
    }
    query.order(cases::id.asc()).limit(limit).select(CaseRow::as_select()).load(conn)
}

/// What a committee decision changes on a case; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = cases)]
pub struct DecisionEffects {
    pub status: Option<String>,
    pub coordinator_sub: Option<String>,
    pub coordinator_dept: Option<String>,
    pub coordinator_name: Option<String>,
    /// With a new coordinator, their phone and e-mail (`Some(None)` clears the earlier one's).
    pub coordinator_phone: Option<Option<String>>,
    pub coordinator_email: Option<Option<String>>,
    pub frame_ore: Option<i64>,
    pub follow_up_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<String>,
    /// A transfer: the adult track and its committee.
    pub track: Option<String>,
    pub committee_id: Option<Uuid>,
}

pub fn apply(conn: &mut PgConnection, id: Uuid, effects: &DecisionEffects) -> QueryResult<CaseRow> {
    diesel::update(cases::table.find(id))
        .set((effects, cases::version.eq(cases::version + 1), cases::updated_at.eq(diesel::dsl::now)))
        .returning(CaseRow::as_returning())
        .get_result(conn)
}

/// Which of `ids` the principal sees.
pub fn visible_among(conn: &mut PgConnection, p: &Principal, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    cases::table.filter(cases::id.eq_any(ids)).filter(access::visible_cases(p)).select(cases::id).load(conn)
}

/// Cases by id (no visibility check: callers pass ids they have already filtered).
pub fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<CaseRow>> {
    cases::table.filter(cases::id.eq_any(ids)).select(CaseRow::as_select()).load(conn)
}

/// Active cases with a follow-up date that the principal sees, earliest first.
/// Every case of a citizen, oldest first, whoever sees it: for the citizen's own access request.
pub fn of_citizen(conn: &mut PgConnection, citizen_id: Uuid) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::citizen_id.eq(citizen_id))
        .order((cases::referred_at.asc(), cases::id.asc()))
        .select(CaseRow::as_select())
        .load(conn)
}

/// Whether `p` sees the case without any data-sharing consent.
pub fn sees_without_consent(conn: &mut PgConnection, p: &Principal, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        cases::table.filter(cases::id.eq(id)).filter(access::visible_without_consent(p)),
    ))
    .get_result(conn)
}

/// Active youth cases of the cases `p` sees whose citizen was born on or before `born_by` (so
/// turns 30 by that day's birthday), oldest citizen first, with the birth date; after a
/// (birth date, id) cursor. Few cases are this close to 30, so they are sorted here.
pub fn transitions(
    conn: &mut PgConnection,
    p: &Principal,
    born_by: NaiveDate,
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(CaseRow, NaiveDate)>> {
    let rows: Vec<CaseRow> = cases::table
        .filter(cases::status.eq("active"))
        .filter(cases::track.eq("youth"))
        .filter(
            cases::citizen_id
                .eq_any(citizens::table.filter(citizens::birth_date.le(born_by)).select(citizens::id.nullable())),
        )
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.citizen_id).collect();
    let born: std::collections::HashMap<Uuid, NaiveDate> = citizens::table
        .filter(citizens::id.eq_any(&ids))
        .select((citizens::id, citizens::birth_date))
        .load::<(Uuid, NaiveDate)>(conn)?
        .into_iter()
        .collect();
    let mut out: Vec<(CaseRow, NaiveDate)> =
        rows.into_iter().filter_map(|c| born.get(&c.citizen_id).map(|b| (*b, c))).map(|(b, c)| (c, b)).collect();
    out.sort_by_key(|(c, b)| (*b, c.id));
    if let Some(cursor) = after {
        out.retain(|(c, b)| (*b, c.id) > cursor);
    }
    out.truncate(limit.max(0) as usize);
    Ok(out)
}

pub fn follow_ups(
    conn: &mut PgConnection,
    p: &Principal,
    committee_id: Option<Uuid>,
    due_before: Option<NaiveDate>,
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<CaseRow>> {
    let mut query = cases::table
        .filter(cases::status.eq("active"))
        .filter(cases::follow_up_on.is_not_null())
        .filter(access::visible_cases(p))
        .into_boxed();
    if let Some(committee_id) = committee_id {
        query = query.filter(cases::committee_id.eq(committee_id));
    }
    if let Some(before) = due_before {
        query = query.filter(cases::follow_up_on.lt(before));
    }
    if let Some((on, id)) = after {
        query = query.filter(cases::follow_up_on.gt(on).or(cases::follow_up_on.eq(on).and(cases::id.gt(id))));
    }
    query.order((cases::follow_up_on.asc(), cases::id.asc())).limit(limit).select(CaseRow::as_select()).load(conn)
}

/// Cases by status and overdue follow-ups, for the metrics.
pub fn gauges(conn: &mut PgConnection) -> QueryResult<crate::metrics::Domain> {
    let cases_by_status: Vec<(String, i64)> = cases::table
        .group_by(cases::status)
        .select((cases::status, diesel::dsl::count_star()))
        .order(cases::status)
        .load(conn)?;
    let overdue_follow_ups = cases::table
        .filter(cases::status.eq("active"))
        .filter(
            cases::follow_up_on
                .lt(crate::db::fixed::<diesel::sql_types::Nullable<diesel::sql_types::Date>>("current_date")),
        )
        .count()
        .get_result(conn)?;
    Ok(crate::metrics::Domain { cases_by_status, overdue_follow_ups })
}

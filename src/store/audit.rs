//! Reading the audit log (writing it is `crate::audit`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::audit_log;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_iss: String,
    pub actor_sub: String,
    pub actor_dept: String,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub citizen_id: Option<Uuid>,
    pub purpose: String,
    pub status: i16,
    pub request_id: String,
    pub filters: Option<serde_json::Value>,
    pub case_ids: Vec<Uuid>,
    pub citizen_ids: Vec<Uuid>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct AuditFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

type Boxed<'a> = audit_log::BoxedQuery<'a, diesel::pg::Pg>;

/// The entries matching the filter. An entry matches a case or citizen when it names it, or
/// when it is a list read that returned it.
fn filtered<'a>(f: &AuditFilter) -> Boxed<'a> {
    let mut query = audit_log::table.into_boxed();
    if let Some(case_id) = f.case_id {
        query = query.filter(audit_log::case_id.eq(case_id).or(audit_log::case_ids.contains(vec![case_id])));
    }
    if let Some(citizen_id) = f.citizen_id {
        query =
            query.filter(audit_log::citizen_id.eq(citizen_id).or(audit_log::citizen_ids.contains(vec![citizen_id])));
    }
    if let Some(actor) = &f.actor {
        query = query.filter(audit_log::actor_sub.eq(actor.clone()));
    }
    if let Some(from) = f.from {
        query = query.filter(audit_log::at.ge(from));
    }
    if let Some(to) = f.to {
        query = query.filter(audit_log::at.lt(to));
    }
    query
}

pub fn list(conn: &mut PgConnection, f: &AuditFilter, after: Option<i64>, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut query = filtered(f);
    if let Some(after) = after {
        query = query.filter(audit_log::id.gt(after));
    }
    query.order(audit_log::id.asc()).limit(limit).select(AuditRow::as_select()).load(conn)
}

/// The consultation report of a citizen: each day on which their data was read or written, and
/// for which purposes. Refused attempts consulted nothing and are left out.
pub fn consultations(
    conn: &mut PgConnection,
    citizen_id: Uuid,
    f: &AuditFilter,
) -> QueryResult<Vec<(NaiveDate, String, i64)>> {
    use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};

    #[derive(QueryableByName)]
    struct Day {
        #[diesel(sql_type = Date)]
        day: NaiveDate,
        #[diesel(sql_type = Text)]
        purpose: String,
        #[diesel(sql_type = BigInt)]
        accesses: i64,
    }
    let rows: Vec<Day> = diesel::sql_query(
        "SELECT (at AT TIME ZONE 'UTC')::date AS day, purpose, count(*) AS accesses FROM audit_log \
         WHERE (citizen_id = $1 OR citizen_ids @> ARRAY[$1]) \
           AND ($2::uuid IS NULL OR case_id = $2 OR case_ids @> ARRAY[$2]) \
           AND ($3::text IS NULL OR actor_sub = $3) \
           AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5) \
           AND action <> 'denied' \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind::<SqlUuid, _>(citizen_id)
    .bind::<Nullable<SqlUuid>, _>(f.case_id)
    .bind::<Nullable<Text>, _>(f.actor.as_deref())
    .bind::<Nullable<Timestamptz>, _>(f.from)
    .bind::<Nullable<Timestamptz>, _>(f.to)
    .load(conn)?;
    Ok(rows.into_iter().map(|d| (d.day, d.purpose, d.accesses)).collect())
}

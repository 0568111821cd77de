//! The budget ledger: append-only entries, and the running total on the case row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Principal;
use crate::schema::{cases, ledger_entries};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ledger_entries)]
pub struct Entry {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub amount_ore: i64,
    pub category: String,
    pub description: String,
    pub intervention_id: Option<Uuid>,
    pub reverses: Option<Uuid>,
    pub reason: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub actor_iss: String,
    pub actor_sub: String,
    pub actor_dept: String,
    pub actor_name: Option<String>,
}

pub struct NewEntry<'a> {
    pub case_id: Uuid,
    pub kind: &'a str,
    pub amount_ore: i64,
    pub category: &'a str,
    pub description: &'a str,
    pub intervention_id: Option<Uuid>,
    pub reverses: Option<Uuid>,
    pub reason: Option<&'a str>,
}

/// Appends an entry and moves the case's running total by its amount, in the caller's
/// transaction. The total's CHECK (`spent_ore <= frame_ore`) refuses an overspend even if a
/// caller forgot to lock the case first.
pub fn append(conn: &mut PgConnection, p: &Principal, e: &NewEntry) -> QueryResult<Entry> {
    let entry = diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::id.eq(Uuid::now_v7()),
            ledger_entries::case_id.eq(e.case_id),
            ledger_entries::kind.eq(e.kind),
            ledger_entries::amount_ore.eq(e.amount_ore),
            ledger_entries::category.eq(e.category),
            ledger_entries::description.eq(e.description),
            ledger_entries::intervention_id.eq(e.intervention_id),
            ledger_entries::reverses.eq(e.reverses),
            ledger_entries::reason.eq(e.reason),
            ledger_entries::actor_iss.eq(&p.iss),
            ledger_entries::actor_sub.eq(&p.sub),
            ledger_entries::actor_dept.eq(p.dept.as_str()),
            ledger_entries::actor_name.eq(&p.name),
        ))
        .returning(Entry::as_returning())
        .get_result(conn)?;
    diesel::update(cases::table.find(e.case_id))
        .set((
            cases::spent_ore.eq(cases::spent_ore + e.amount_ore),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(entry)
}

pub fn entries(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Vec<Entry>> {
    ledger_entries::table
        .filter(ledger_entries::case_id.eq(case_id))
        .order((ledger_entries::recorded_at.asc(), ledger_entries::id.asc()))
        .select(Entry::as_select())
        .load(conn)
}

pub fn find(conn: &mut PgConnection, case_id: Uuid, id: Uuid) -> QueryResult<Option<Entry>> {
    ledger_entries::table
        .filter(ledger_entries::case_id.eq(case_id))
        .filter(ledger_entries::id.eq(id))
        .select(Entry::as_select())
        .first(conn)
        .optional()
}

/// The reversal of a spend, if it has one.
pub fn reversal_of(conn: &mut PgConnection, spend_id: Uuid) -> QueryResult<Option<Entry>> {
    ledger_entries::table
        .filter(ledger_entries::reverses.eq(spend_id))
        .select(Entry::as_select())
        .first(conn)
        .optional()
}

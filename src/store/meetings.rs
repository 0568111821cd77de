//! Meetings, their agendas, and the caseworkers who present a case.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::schema::{agenda_items, case_presenters, meetings};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings)]
pub struct Meeting {
    pub id: Uuid,
    pub committee_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by_sub: String,
    pub created_by_dept: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agenda_items)]
pub struct AgendaItem {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub position: i32,
    pub presenting_caseworkers: Value,
    pub added_at: DateTime<Utc>,
    pub added_by_sub: String,
    pub added_by_dept: String,
}

pub fn create(
    conn: &mut PgConnection,
    p: &Principal,
    committee_id: Uuid,
    scheduled_at: DateTime<Utc>,
) -> QueryResult<Meeting> {
    diesel::insert_into(meetings::table)
        .values((
            meetings::id.eq(Uuid::now_v7()),
            meetings::committee_id.eq(committee_id),
            meetings::scheduled_at.eq(scheduled_at),
            meetings::created_by_sub.eq(&p.sub),
            meetings::created_by_dept.eq(p.dept.as_str()),
        ))
        .returning(Meeting::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Meeting>> {
    meetings::table.find(id).select(Meeting::as_select()).first(conn).optional()
}

/// Locks the meeting, so that agenda positions are given out one at a time.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Meeting>> {
    meetings::table.find(id).select(Meeting::as_select()).for_update().first(conn).optional()
}

/// A committee's meetings in date order, a page at a time.
pub fn list(conn: &mut PgConnection, committee_id: Uuid, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<Meeting>> {
    let mut query = meetings::table.filter(meetings::committee_id.eq(committee_id)).into_boxed();
    if let Some(after) = after {
        query = query.filter(meetings::id.gt(after));
    }
    query.order(meetings::id.asc()).limit(limit).select(Meeting::as_select()).load(conn)
}

pub fn agenda(conn: &mut PgConnection, meeting_id: Uuid) -> QueryResult<Vec<AgendaItem>> {
    agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .order(agenda_items::position.asc())
        .select(AgendaItem::as_select())
        .load(conn)
}

pub fn on_agenda(conn: &mut PgConnection, meeting_id: Uuid, case_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        agenda_items::table.filter(agenda_items::meeting_id.eq(meeting_id)).filter(agenda_items::case_id.eq(case_id)),
    ))
    .get_result(conn)
}

/// A presenter as stored: sub, name, department.
pub struct Presenter<'a> {
    pub sub: &'a str,
    pub name: &'a str,
    pub department: &'a str,
}

/// Puts a case at the end of the agenda; its presenters take part in the case from now on.
pub fn add_to_agenda(
    conn: &mut PgConnection,
    p: &Principal,
    meeting_id: Uuid,
    case_id: Uuid,
    presenters: &[Presenter],
    presenters_json: &Value,
) -> QueryResult<AgendaItem> {
    let last: Option<i32> = agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .select(diesel::dsl::max(agenda_items::position))
        .first(conn)?;
    let item = diesel::insert_into(agenda_items::table)
        .values((
            agenda_items::id.eq(Uuid::now_v7()),
            agenda_items::meeting_id.eq(meeting_id),
            agenda_items::case_id.eq(case_id),
            agenda_items::position.eq(last.unwrap_or(0) + 1),
            agenda_items::presenting_caseworkers.eq(presenters_json),
            agenda_items::added_by_sub.eq(&p.sub),
            agenda_items::added_by_dept.eq(p.dept.as_str()),
        ))
        .returning(AgendaItem::as_returning())
        .get_result(conn)?;
    for presenter in presenters {
        diesel::insert_into(case_presenters::table)
            .values((
                case_presenters::case_id.eq(case_id),
                case_presenters::meeting_id.eq(meeting_id),
                case_presenters::sub.eq(presenter.sub),
                case_presenters::department.eq(presenter.department),
                case_presenters::name.eq(presenter.name),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(item)
}

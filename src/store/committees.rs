//! Committees and their fixed members.

use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{committee_members, committees};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = committees)]
pub struct Committee {
    pub id: Uuid,
    pub name: String,
    pub track: String,
    pub departments: Vec<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = committee_members)]
pub struct Member {
    pub committee_id: Uuid,
    pub sub: String,
    pub name: String,
    pub department: String,
    pub role: String,
    pub position: i32,
}

pub fn create(conn: &mut PgConnection, name: &str, track: &str, departments: &[String]) -> QueryResult<Committee> {
    diesel::insert_into(committees::table)
        .values((
            committees::id.eq(Uuid::now_v7()),
            committees::name.eq(name),
            committees::track.eq(track),
            committees::departments.eq(departments),
        ))
        .returning(Committee::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Committee>> {
    committees::table.find(id).select(Committee::as_select()).first(conn).optional()
}

/// Locks the committee row, so that concurrent member updates apply one after the other.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Committee>> {
    committees::table.find(id).select(Committee::as_select()).for_update().first(conn).optional()
}

pub fn active_for_track(conn: &mut PgConnection, track: &str) -> QueryResult<Option<Committee>> {
    committees::table
        .filter(committees::track.eq(track))
        .filter(committees::active.eq(true))
        .select(Committee::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut PgConnection, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<Committee>> {
    let mut query =
        committees::table.select(Committee::as_select()).order(committees::id.asc()).limit(limit).into_boxed();
    if let Some(after) = after {
        query = query.filter(committees::id.gt(after));
    }
    query.load(conn)
}

pub fn members(conn: &mut PgConnection, committee_ids: &[Uuid]) -> QueryResult<Vec<Member>> {
    committee_members::table
        .filter(committee_members::committee_id.eq_any(committee_ids))
        .order((committee_members::committee_id, committee_members::position))
        .select(Member::as_select())
        .load(conn)
}

/// Replaces the members and bumps the committee's version.
pub fn set_members(conn: &mut PgConnection, id: Uuid, members: &[Member]) -> QueryResult<()> {
    diesel::delete(committee_members::table.filter(committee_members::committee_id.eq(id))).execute(conn)?;
    diesel::insert_into(committee_members::table).values(members).execute(conn)?;
    touch(conn, id)
}

pub fn touch(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(committees::table.find(id))
        .set((committees::version.eq(committees::version + 1), committees::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut PgConnection, id: Uuid, name: Option<&str>, active: Option<bool>) -> QueryResult<()> {
    if let Some(name) = name {
        diesel::update(committees::table.find(id)).set(committees::name.eq(name)).execute(conn)?;
    }
    if let Some(active) = active {
        diesel::update(committees::table.find(id)).set(committees::active.eq(active)).execute(conn)?;
    }
    touch(conn, id)
}

/// The principal's seat on a committee, if they have one (matched by sub and department).
pub fn seat(conn: &mut PgConnection, committee_id: Uuid, sub: &str, department: &str) -> QueryResult<Option<Member>> {
    committee_members::table
        .filter(committee_members::committee_id.eq(committee_id))
        .filter(committee_members::sub.eq(sub))
        .filter(committee_members::department.eq(department))
        .select(Member::as_select())
        .first(conn)
        .optional()
}

//! Citizens: registered once per CPR number.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::citizens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = citizens)]
pub struct Citizen {
    pub id: Uuid,
    pub cpr: String,
    pub name: String,
    pub birth_date: NaiveDate,
}

/// Registers a citizen, or finds the one already registered with this CPR number. Returns the
/// citizen and whether it was created now. Safe against two registrations at once. The id is
/// random (v4), not time-ordered: a v7 id would tell anyone who learns it when the person
/// entered the programme.
pub fn register(conn: &mut PgConnection, cpr: &str, name: &str, birth_date: NaiveDate) -> QueryResult<(Citizen, bool)> {
    let inserted = diesel::insert_into(citizens::table)
        .values((
            citizens::id.eq(Uuid::new_v4()),
            citizens::cpr.eq(cpr),
            citizens::name.eq(name),
            citizens::birth_date.eq(birth_date),
        ))
        .on_conflict(citizens::cpr)
        .do_nothing()
        .returning(Citizen::as_returning())
        .get_result(conn)
        .optional()?;
    match inserted {
        Some(citizen) => Ok((citizen, true)),
        None => {
            let existing = citizens::table.filter(citizens::cpr.eq(cpr)).select(Citizen::as_select()).first(conn)?;
            Ok((existing, false))
        }
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Citizen>> {
    citizens::table.find(id).select(Citizen::as_select()).first(conn).optional()
}

pub fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Citizen>> {
    citizens::table.filter(citizens::id.eq_any(ids)).select(Citizen::as_select()).load(conn)
}

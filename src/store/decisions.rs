//! Committee decisions: written once, never changed (a trigger refuses UPDATE and DELETE).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::schema::decisions;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decisions)]
pub struct Decision {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub members_present: Vec<String>,
    pub took_part: bool,
    pub participation_form: Option<String>,
    pub participation_view: Option<String>,
    pub reason_not: Option<String>,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_iss: String,
    pub recorded_by_sub: String,
    pub recorded_by_dept: String,
    pub recorded_by_name: Option<String>,
    pub plan_version: Option<i32>,
    pub coordinator: Option<Value>,
    pub budget_frame_ore: Option<i64>,
    pub follow_up_on: Option<NaiveDate>,
    pub background_group: Option<Value>,
    pub closure_reason: Option<String>,
}

pub fn insert(conn: &mut PgConnection, decision: &Decision) -> QueryResult<()> {
    diesel::insert_into(decisions::table).values(decision).execute(conn)?;
    Ok(())
}

pub fn of_meeting(conn: &mut PgConnection, meeting_id: Uuid) -> QueryResult<Vec<Decision>> {
    decisions::table
        .filter(decisions::meeting_id.eq(meeting_id))
        .order((decisions::recorded_at.asc(), decisions::id.asc()))
        .select(Decision::as_select())
        .load(conn)
}

/// Every decision about a case, oldest first.
pub fn of_case(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Vec<Decision>> {
    decisions::table
        .filter(decisions::case_id.eq(case_id))
        .order((decisions::recorded_at.asc(), decisions::id.asc()))
        .select(Decision::as_select())
        .load(conn)
}

//! What waits for a person: the cases behind each kind of task, each set one query through the
//! one access rule (`access::visible_cases`), so a task never names a case its person does not see.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::access;
use crate::auth::Principal;
use crate::domain::{MemberRole, Role};
use crate::schema::{agenda_items, cases, committee_members, committees, meetings};
use crate::store::cases::CaseRow;

/// The committees where `p` holds a leader's seat (as a `leader`), optionally of one track only.
pub fn leader_seats(conn: &mut PgConnection, p: &Principal, track: Option<&str>) -> QueryResult<Vec<Uuid>> {
    if !p.has(Role::Leader) {
        return Ok(vec![]);
    }
    let mut query = committee_members::table
        .inner_join(committees::table)
        .filter(committee_members::sub.eq(&p.sub))
        .filter(committee_members::department.eq(p.dept.as_str()))
        .filter(committee_members::role.eq(MemberRole::Leader.as_str()))
        .into_boxed();
    if let Some(track) = track {
        query = query.filter(committees::track.eq(track.to_string()));
    }
    query.select(committee_members::committee_id).load(conn)
}

/// Referred cases the caller sees whose committee counts `p`'s department: a leader screens them.
pub fn to_screen(conn: &mut PgConnection, p: &Principal) -> QueryResult<Vec<CaseRow>> {
    if !p.has(Role::Leader) {
        return Ok(vec![]);
    }
    let of_department = committees::table
        .filter(committees::departments.contains(vec![p.dept.as_str().to_string()]))
        .select(committees::id);
    cases::table
        .filter(cases::status.eq("referred"))
        .filter(cases::committee_id.eq_any(of_department))
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .load(conn)
}

/// Accepted cases of the given committees that are on no agenda of a meeting still to come.
pub fn to_put_on_agenda(conn: &mut PgConnection, p: &Principal, committees: &[Uuid]) -> QueryResult<Vec<CaseRow>> {
    if committees.is_empty() {
        return Ok(vec![]);
    }
    let upcoming = agenda_items::table
        .inner_join(meetings::table)
        .filter(meetings::scheduled_at.ge(Utc::now()))
        .select(agenda_items::case_id);
    cases::table
        .filter(cases::status.eq("awaiting_committee"))
        .filter(cases::committee_id.eq_any(committees))
        .filter(cases::id.ne_all(upcoming))
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .load(conn)
}

/// Active cases `p` coordinates.
pub fn coordinated(conn: &mut PgConnection, p: &Principal) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::status.eq("active"))
        .filter(cases::coordinator_sub.eq(&p.sub))
        .filter(cases::coordinator_dept.eq(p.dept.as_str()))
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .load(conn)
}

/// Active cases, coordinated by `p` or of the given committees, due for follow-up by `by`.
pub fn follow_ups_due(
    conn: &mut PgConnection,
    p: &Principal,
    committees: &[Uuid],
    by: NaiveDate,
) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::status.eq("active"))
        .filter(cases::follow_up_on.le(by))
        .filter(
            cases::coordinator_sub
                .eq(&p.sub)
                .and(cases::coordinator_dept.eq(p.dept.as_str()))
                .assume_not_null()
                .or(cases::committee_id.eq_any(committees)),
        )
        .filter(access::visible_cases(p))
        .select(CaseRow::as_select())
        .load(conn)
}

/// The day the follow-up window of a task list ends: 14 days from today.
pub fn follow_up_horizon() -> NaiveDate {
    Utc::now().date_naive() + Duration::days(14)
}

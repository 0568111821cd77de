//! A case's consents: recorded once, withdrawn at most once, never otherwise changed.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Principal;
use crate::domain::consent::{Consent, ConsentKind, GivenBy};
use crate::domain::Department;
use crate::error::AppError;
use crate::schema::consents;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub given_by: String,
    pub form: String,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub departments: Vec<String>,
    pub note: Option<String>,
    pub recorded_by_sub: String,
    pub recorded_by_dept: String,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_on: Option<NaiveDate>,
    pub withdrawal_note: Option<String>,
}

impl ConsentRow {
    /// The consent as the rules read it; `None` for a row whose vocabulary is unknown.
    pub fn rule(&self) -> Option<Consent> {
        rule(&self.kind, &self.given_by, self.given_on, self.expires_on, self.withdrawn_on.is_some(), &self.departments)
    }
}

/// A consent as the rules read it, from its stored columns; `None` for an unknown vocabulary.
pub fn rule(
    kind: &str,
    given_by: &str,
    given_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    withdrawn: bool,
    departments: &[String],
) -> Option<Consent> {
    Some(Consent {
        kind: ConsentKind::parse(kind)?,
        given_by: GivenBy::parse(given_by)?,
        given_on,
        expires_on,
        withdrawn,
        departments: departments.iter().filter_map(|d| Department::parse(d)).collect(),
    })
}

pub struct NewConsent<'a> {
    pub case_id: Uuid,
    pub kind: ConsentKind,
    pub given_by: GivenBy,
    pub form: &'a str,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub departments: Vec<String>,
    pub note: Option<&'a str>,
}

pub fn insert(conn: &mut PgConnection, p: &Principal, c: &NewConsent) -> QueryResult<ConsentRow> {
    diesel::insert_into(consents::table)
        .values((
            consents::id.eq(Uuid::new_v4()),
            consents::case_id.eq(c.case_id),
            consents::kind.eq(c.kind.as_str()),
            consents::given_by.eq(c.given_by.as_str()),
            consents::form.eq(c.form),
            consents::given_on.eq(c.given_on),
            consents::expires_on.eq(c.expires_on),
            consents::departments.eq(&c.departments),
            consents::note.eq(c.note),
            consents::recorded_by_sub.eq(&p.sub),
            consents::recorded_by_dept.eq(p.dept.as_str()),
            consents::recorded_by_name.eq(&p.name),
            consents::recorded_at.eq(Utc::now()),
        ))
        .returning(ConsentRow::as_returning())
        .get_result(conn)
}

/// Every consent of a case, oldest first.
pub fn of_case(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Vec<ConsentRow>> {
    consents::table
        .filter(consents::case_id.eq(case_id))
        .order((consents::recorded_at.asc(), consents::id.asc()))
        .select(ConsentRow::as_select())
        .load(conn)
}

/// The consents of a case as the rules read them, oldest first.
pub fn rules_of_case(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Vec<Consent>> {
    Ok(of_case(conn, case_id)?.iter().filter_map(ConsentRow::rule).collect())
}

/// One consent of a case, locked for its withdrawal.
pub fn find_for_update(conn: &mut PgConnection, case_id: Uuid, id: Uuid) -> QueryResult<Option<ConsentRow>> {
    consents::table
        .filter(consents::case_id.eq(case_id))
        .filter(consents::id.eq(id))
        .for_update()
        .select(ConsentRow::as_select())
        .first(conn)
        .optional()
}

/// Withdraws a consent that is not withdrawn yet; `None` when it already was.
pub fn withdraw(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
    on: NaiveDate,
    note: Option<&str>,
) -> QueryResult<Option<ConsentRow>> {
    diesel::update(consents::table.filter(consents::id.eq(id)).filter(consents::withdrawn_on.is_null()))
        .set((
            consents::withdrawn_on.eq(on),
            consents::withdrawal_note.eq(note),
            consents::withdrawn_at.eq(Utc::now()),
            consents::withdrawn_by_sub.eq(&p.sub),
            consents::withdrawn_by_dept.eq(p.dept.as_str()),
        ))
        .returning(ConsentRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Whether the case's citizen is under 18 on `day`.
pub fn under_18_on(conn: &mut PgConnection, case_id: Uuid, day: NaiveDate) -> QueryResult<bool> {
    use crate::schema::{cases, citizens};
    let birth_date: NaiveDate = cases::table
        .inner_join(citizens::table)
        .filter(cases::id.eq(case_id))
        .select(citizens::birth_date)
        .first(conn)?;
    Ok(crate::domain::cpr::age_on(birth_date, day) < 18)
}

/// An active case's plan holds only while the citizen's plan consent is current today (and a
/// custody holder's while the citizen is under 18): spends, plan adjustments and every decision
/// but closure stop without it (409 `consent_withdrawn`).
pub fn require_current_plan(conn: &mut PgConnection, case_id: Uuid) -> Result<(), AppError> {
    let today = Utc::now().date_naive();
    let consents = rules_of_case(conn, case_id)?;
    if crate::domain::consent::plan_holds(&consents, today, under_18_on(conn, case_id, today)?) {
        Ok(())
    } else {
        Err(AppError::ConsentWithdrawn)
    }
}

//! Plan versions (immutable, one per adopting decision), the coordinator's amendments of the
//! current version, the background group and participation notes.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::domain::plan::NewPlan;
use crate::domain::Track;
use crate::error::AppError;
use crate::schema::{background_members, participation_notes, plan_amendments, plan_versions};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_versions)]
pub struct PlanVersion {
    pub case_id: Uuid,
    pub version: i32,
    pub kind: String,
    pub adopted_at: DateTime<Utc>,
    pub decision_id: Uuid,
    pub citizen_goals: Option<String>,
    pub goals: Value,
    pub interventions: Value,
    pub statutory_plans: Value,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_amendments)]
pub struct Amendment {
    pub id: i64,
    pub case_id: Uuid,
    pub version: i32,
    pub at: DateTime<Utc>,
    pub actor_iss: String,
    pub actor_sub: String,
    pub actor_dept: String,
    pub kind: String,
    pub intervention_id: Uuid,
    pub intervention: Value,
    pub note: Option<String>,
}

pub fn latest_version(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Option<i32>> {
    plan_versions::table
        .filter(plan_versions::case_id.eq(case_id))
        .select(diesel::dsl::max(plan_versions::version))
        .first(conn)
}

pub fn insert_version(conn: &mut PgConnection, version: &PlanVersion) -> QueryResult<()> {
    diesel::insert_into(plan_versions::table).values(version).execute(conn)?;
    Ok(())
}

pub fn version(conn: &mut PgConnection, case_id: Uuid, version: i32) -> QueryResult<Option<PlanVersion>> {
    plan_versions::table.find((case_id, version)).select(PlanVersion::as_select()).first(conn).optional()
}

pub fn versions(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Vec<PlanVersion>> {
    plan_versions::table
        .filter(plan_versions::case_id.eq(case_id))
        .order(plan_versions::version.asc())
        .select(PlanVersion::as_select())
        .load(conn)
}

pub fn amendments(conn: &mut PgConnection, case_id: Uuid, version: i32) -> QueryResult<Vec<Amendment>> {
    plan_amendments::table
        .filter(plan_amendments::case_id.eq(case_id))
        .filter(plan_amendments::version.eq(version))
        .order(plan_amendments::id.asc())
        .select(Amendment::as_select())
        .load(conn)
}

/// One amendment: the new state of one intervention of a plan version.
pub struct NewAmendment<'a> {
    pub case_id: Uuid,
    pub version: i32,
    /// `intervention_added` or `intervention_changed`.
    pub kind: &'a str,
    pub intervention_id: Uuid,
    pub intervention: &'a Value,
    pub note: Option<&'a str>,
}

pub fn amend(conn: &mut PgConnection, p: &Principal, a: &NewAmendment) -> QueryResult<()> {
    diesel::insert_into(plan_amendments::table)
        .values((
            plan_amendments::case_id.eq(a.case_id),
            plan_amendments::version.eq(a.version),
            plan_amendments::actor_iss.eq(&p.iss),
            plan_amendments::actor_sub.eq(&p.sub),
            plan_amendments::actor_dept.eq(p.dept.as_str()),
            plan_amendments::kind.eq(a.kind),
            plan_amendments::intervention_id.eq(a.intervention_id),
            plan_amendments::intervention.eq(a.intervention),
            plan_amendments::note.eq(a.note),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = background_members)]
pub struct BackgroundMember {
    pub case_id: Uuid,
    pub sub: String,
    pub department: String,
    pub name: String,
    pub side: String,
    pub position: i32,
}

pub fn background_group(conn: &mut PgConnection, case_id: Uuid) -> QueryResult<Vec<BackgroundMember>> {
    background_members::table
        .filter(background_members::case_id.eq(case_id))
        .order(background_members::position.asc())
        .select(BackgroundMember::as_select())
        .load(conn)
}

/// Replaces the background group of a case.
pub fn set_background_group(conn: &mut PgConnection, case_id: Uuid, members: &[BackgroundMember]) -> QueryResult<()> {
    diesel::delete(background_members::table.filter(background_members::case_id.eq(case_id))).execute(conn)?;
    diesel::insert_into(background_members::table).values(members).execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = participation_notes)]
pub struct ParticipationNote {
    pub id: Uuid,
    pub case_id: Uuid,
    pub on_date: NaiveDate,
    pub form: String,
    pub citizen_view: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_iss: String,
    pub recorded_by_sub: String,
    pub recorded_by_dept: String,
}

pub fn add_participation(
    conn: &mut PgConnection,
    p: &Principal,
    case_id: Uuid,
    on: NaiveDate,
    form: &str,
    citizen_view: Option<&str>,
) -> QueryResult<ParticipationNote> {
    diesel::insert_into(participation_notes::table)
        .values((
            participation_notes::id.eq(Uuid::now_v7()),
            participation_notes::case_id.eq(case_id),
            participation_notes::on_date.eq(on),
            participation_notes::form.eq(form),
            participation_notes::citizen_view.eq(citizen_view),
            participation_notes::recorded_by_iss.eq(&p.iss),
            participation_notes::recorded_by_sub.eq(&p.sub),
            participation_notes::recorded_by_dept.eq(p.dept.as_str()),
        ))
        .returning(ParticipationNote::as_returning())
        .get_result(conn)
}

/// Stores a new plan version for a case, adopted by `decision_id`.
/// The kind of the version follows the track the case is on once the decision took effect.
pub fn adopt(
    conn: &mut PgConnection,
    case_id: Uuid,
    track: Track,
    decision_id: Uuid,
    new: &NewPlan,
) -> Result<i32, AppError> {
    let version = latest_version(conn, case_id)?.unwrap_or(0) + 1;
    insert_version(
        conn,
        &PlanVersion {
            case_id,
            version,
            kind: crate::domain::plan::kind_for(track).as_str().to_string(),
            adopted_at: Utc::now(),
            decision_id,
            citizen_goals: new.citizen_goals.clone(),
            goals: serde_json::to_value(&new.goals).expect("serialisable"),
            interventions: serde_json::to_value(&new.interventions).expect("serialisable"),
            statutory_plans: serde_json::to_value(&new.statutory_plans).expect("serialisable"),
        },
    )?;
    Ok(version)
}

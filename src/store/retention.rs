//! Erasure: the statements of the retention job (`crate::retention`), which erase from a case
//! closed or declined long enough ago every trace of its citizen and keep what the flow
//! statistics count. They run in the job's transaction, as the tables' owner, with the
//! append-only triggers' door open (see the retention migration).
//!
//! What an erased case keeps: its id, track, committee, status, the dates of each step
//! (referral, screening, decisions, plan versions, amendments, ledger entries, consents,
//! participation notes, history events), its frame and what was spent, amounts and categories of
//! its ledger, the kinds, outcomes and reasons (codes, not words) of screening, decisions and
//! closure, whether the citizen took part and in which form, and the municipal staff's
//! identifiers (issuer, sub, department) through which the access rule scopes each leader's
//! statistics. What it loses: the citizen (the link, the age, and the citizen's row once no case
//! of theirs remains), and every text and name: the referral's words, problem areas and
//! exclusions, the names, phones and e-mails of the staff, the plans' goals and interventions,
//! every note and view, the ledger's descriptions and reasons, the history's details, the
//! idempotent answers that name it.

use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Uuid as SqlUuid};
use uuid::Uuid;

/// How many rows a run erased or deleted, kind by kind, in the order a report lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub cases: i64,
    pub citizens: i64,
    pub decisions: i64,
    pub plan_versions: i64,
    pub plan_amendments: i64,
    pub ledger_entries: i64,
    pub consents: i64,
    pub participation_notes: i64,
    pub background_members: i64,
    pub case_presenters: i64,
    pub agenda_items: i64,
    pub case_events: i64,
    pub idempotency_keys: i64,
    pub audit_entries: i64,
}

impl Counts {
    /// Each kind with its count, in report order.
    pub fn kinds(&self) -> [(&'static str, i64); 14] {
        [
            ("cases", self.cases),
            ("citizens", self.citizens),
            ("decisions", self.decisions),
            ("plan_versions", self.plan_versions),
            ("plan_amendments", self.plan_amendments),
            ("ledger_entries", self.ledger_entries),
            ("consents", self.consents),
            ("participation_notes", self.participation_notes),
            ("background_members", self.background_members),
            ("case_presenters", self.case_presenters),
            ("agenda_items", self.agenda_items),
            ("case_events", self.case_events),
            ("idempotency_keys", self.idempotency_keys),
            ("audit_entries", self.audit_entries),
        ]
    }
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    citizen_id: Option<Uuid>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The cases due for erasure, locked for the rest of the transaction: not yet erased, and closed
/// (by `closed_at`) or declined (by `screened_at`, the moment of the refusal) more than `days`
/// days before the transaction began, by the database's clock.
fn due(conn: &mut PgConnection, days: i32) -> QueryResult<Vec<Due>> {
    diesel::sql_query(
        "SELECT id, citizen_id FROM cases
          WHERE erased_at IS NULL
            AND ((status = 'closed' AND closed_at < now() - make_interval(days => $1))
              OR (status = 'declined' AND screened_at < now() - make_interval(days => $1)))
          ORDER BY id
          FOR UPDATE",
    )
    .bind::<Integer, _>(days)
    .load(conn)
}

/// Erases every case due after `case_days` days, then deletes the citizens left without a case,
/// the idempotent answers that name an erased case or citizen (and every key past its 24 hours),
/// and the audit entries older than `audit_days` days.
pub fn erase(conn: &mut PgConnection, case_days: i32, audit_days: i32) -> QueryResult<Counts> {
    let due = due(conn, case_days)?;
    let case_ids: Vec<Uuid> = due.iter().map(|d| d.id).collect();
    let mut citizen_ids: Vec<Uuid> = due.iter().filter_map(|d| d.citizen_id).collect();
    citizen_ids.sort();
    citizen_ids.dedup();

    // The case first: the triggers open the door only for rows of an erased case.
    let cases = diesel::sql_query(
        "UPDATE cases SET citizen_id = NULL, age_at_referral = NULL, erased_at = now(),
                problem_areas = '{}', description = NULL, involved_caseworkers = '[]',
                current_interventions = '{}', citizen_view = NULL, under_18_justification = NULL,
                exclusions = '{}', referrer_name = NULL, screener_name = NULL, screening_note = NULL,
                coordinator_name = NULL, coordinator_phone = NULL, coordinator_email = NULL,
                version = version + 1, updated_at = now()
          WHERE id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(&case_ids)
    .execute(conn)? as i64;

    // Texts a CHECK requires (a reversal's reason, why the citizen did not take part) and names
    // a NOT NULL requires become empty; the rest NULL or an empty JSON value.
    let decisions = per_case(
        conn,
        "UPDATE decisions SET participation_view = NULL,
                reason_not = CASE WHEN reason_not IS NULL THEN NULL ELSE '' END,
                note = NULL, recorded_by_name = NULL, coordinator = NULL, background_group = NULL",
        &case_ids,
    )?;
    let plan_versions = per_case(
        conn,
        "UPDATE plan_versions SET citizen_goals = NULL, goals = '[]', interventions = '[]', statutory_plans = '[]'",
        &case_ids,
    )?;
    let plan_amendments = per_case(conn, "UPDATE plan_amendments SET intervention = '{}', note = NULL", &case_ids)?;
    let ledger_entries = per_case(
        conn,
        "UPDATE ledger_entries SET description = '', reason = CASE WHEN reason IS NULL THEN NULL ELSE '' END,
                actor_name = NULL",
        &case_ids,
    )?;
    let consents =
        per_case(conn, "UPDATE consents SET note = NULL, withdrawal_note = NULL, recorded_by_name = NULL", &case_ids)?;
    let participation_notes = per_case(conn, "UPDATE participation_notes SET citizen_view = NULL", &case_ids)?;
    let background_members = per_case(conn, "UPDATE background_members SET name = ''", &case_ids)?;
    let case_presenters = per_case(conn, "UPDATE case_presenters SET name = ''", &case_ids)?;
    let agenda_items = per_case(conn, "UPDATE agenda_items SET presenting_caseworkers = '[]'", &case_ids)?;
    let case_events = per_case(conn, "UPDATE case_events SET detail = '{}'", &case_ids)?;

    let deleted: Vec<Id> = diesel::sql_query(
        "DELETE FROM citizens c WHERE c.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM cases WHERE citizen_id = c.id)
         RETURNING c.id",
    )
    .bind::<Array<SqlUuid>, _>(&citizen_ids)
    .load(conn)?;
    let citizens = deleted.len() as i64;

    // A stored answer replays what a POST created: a citizen (name and CPR number), a case
    // view, a consent, a decision, an intervention, a participation note, a ledger entry. It
    // goes with the erased case or the deleted citizen, found by any of their ids in it. (A
    // citizen who keeps a case keeps the answers that name them, for their 24 hours.) Every key
    // past its 24 hours goes too, as the service's sweep would have done.
    let mut named: Vec<Uuid> = diesel::sql_query(
        "SELECT id FROM ledger_entries WHERE case_id = ANY($1)
         UNION SELECT id FROM consents WHERE case_id = ANY($1)
         UNION SELECT id FROM decisions WHERE case_id = ANY($1)
         UNION SELECT id FROM participation_notes WHERE case_id = ANY($1)
         UNION SELECT intervention_id FROM plan_amendments WHERE case_id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(&case_ids)
    .load::<Id>(conn)?
    .into_iter()
    .map(|r| r.id)
    .collect();
    named.extend(&case_ids);
    named.extend(deleted.iter().map(|d| d.id));
    let idempotency_keys = diesel::sql_query(
        "DELETE FROM idempotency_keys k
          WHERE k.created_at < now() - interval '24 hours'
             OR EXISTS (SELECT 1 FROM unnest($1::uuid[]) n(id)
                         WHERE strpos(k.body::text, n.id::text) > 0 OR strpos(k.audit::text, n.id::text) > 0)",
    )
    .bind::<Array<SqlUuid>, _>(&named)
    .execute(conn)? as i64;

    let audit_entries = diesel::sql_query("DELETE FROM audit_log WHERE at < now() - make_interval(days => $1)")
        .bind::<Integer, _>(audit_days)
        .execute(conn)? as i64;
    Ok(Counts {
        cases,
        citizens,
        decisions,
        plan_versions,
        plan_amendments,
        ledger_entries,
        consents,
        participation_notes,
        background_members,
        case_presenters,
        agenda_items,
        case_events,
        idempotency_keys,
        audit_entries,
    })
}

/// Runs `update` (an UPDATE without its WHERE) on the rows of the cases `ids`; how many it changed.
fn per_case(conn: &mut PgConnection, update: &str, ids: &[Uuid]) -> QueryResult<i64> {
    let n =
        diesel::sql_query(format!("{update} WHERE case_id = ANY($1)")).bind::<Array<SqlUuid>, _>(ids).execute(conn)?;
    Ok(n as i64)
}

//! The retention job (GDPR art. 5(1)(e), *opbevaringsbegrænsning*): `helhed retention run`
//! erases what the municipality may no longer keep. A case closed or declined more than
//! `case_days` days ago loses every trace of its citizen, and the citizen goes once no case of
//! theirs remains (`crate::store::retention` says what stays and what goes); audit entries
//! older than `audit_days` days are deleted.
//!
//! The job runs as the role that owns the tables, never as the service role: only the owner
//! passes the append-only triggers, and only inside the job's transaction (`helhed.retention`
//! set locally). A run is one transaction, so it erases all that is due or nothing, and a second
//! run right after erases nothing more. A real run writes one audit entry with its counts; a dry
//! run does the same work and rolls it back, so its counts are exactly what a run would erase.
//! Nothing it prints or returns names a person: only counts, settings and times.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Nullable, Text, Timestamptz};
use diesel_migrations::MigrationHarness;

use crate::audit::{self, Action, Actor, Entry, Purpose};
use crate::db;
use crate::store::retention::{erase, Counts};

/// How long what is kept may be kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `HELHED_RETENTION_CASE_DAYS`: after a case is closed or declined.
    pub case_days: i32,
    /// `HELHED_RETENTION_AUDIT_DAYS`: after an audit entry is written.
    pub audit_days: i32,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub case_days: i32,
    pub audit_days: i32,
    /// The database's time at the start of the run's transaction: the cut-offs count from it.
    pub at: DateTime<Utc>,
    pub counts: Counts,
    #[serde(rename = "took_ms", serialize_with = "millis")]
    pub took: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

#[derive(QueryableByName)]
struct Roles {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Text>)]
    owner: Option<String>,
}

#[derive(QueryableByName)]
struct Now {
    #[diesel(sql_type = Timestamptz)]
    now: DateTime<Utc>,
}

/// A database error as a line that names the kind of failure and never a value: PostgreSQL's
/// message without its detail, CPR-shaped digits redacted.
fn failed(e: DieselError) -> String {
    let text = match &e {
        DieselError::DatabaseError(_, info) => info.message().to_string(),
        other => other.to_string(),
    };
    format!("retention run failed, nothing changed: {}", crate::logging::redact_cpr(&text))
}

/// Runs the job on the database at `database_url`, as the role it connects as.
pub fn run(database_url: &str, policy: Policy, dry_run: bool) -> Result<Report, String> {
    let started = Instant::now();
    let mut conn = PgConnection::establish(&db::with_timeouts(database_url))
        .map_err(|e| format!("cannot connect to the database (DATABASE_URL): {e}"))?;
    conn.batch_execute("SET TIME ZONE 'UTC'; SET lock_timeout = '30s'; SET synchronous_commit = on").map_err(failed)?;

    // Refused before anything is touched: a role that does not own the tables (the service role
    // of a strict deployment) could not pass the triggers anyway, and would leave a half-done
    // transaction behind an unclear error.
    let roles = diesel::sql_query(
        "SELECT current_user::text AS role,
                (SELECT pg_catalog.pg_get_userbyid(c.relowner)::text FROM pg_catalog.pg_class c
                  WHERE c.oid = pg_catalog.to_regclass('cases')) AS owner",
    )
    .get_result::<Roles>(&mut conn)
    .map_err(failed)?;
    match &roles.owner {
        None => {
            return Err("retention run: no Helhed tables in this database's schema; run `helhed migrate` first".into())
        }
        Some(owner) if *owner != roles.role => {
            return Err(format!(
                "retention run refused: the role {} does not own the tables (their owner is {owner}); \
                 run it with the owner role's DATABASE_URL, the one `helhed migrate` runs with",
                roles.role
            ))
        }
        Some(_) => {}
    }
    if conn.has_pending_migration(db::MIGRATIONS).map_err(|e| format!("retention run: migrations: {e}"))? {
        return Err("retention run: the database has pending migrations; run `helhed migrate` first".into());
    }

    let mut outcome: Option<(DateTime<Utc>, Counts)> = None;
    let mut audit_failed: Option<String> = None;
    let done = conn.transaction::<(), DieselError, _>(|conn| {
        // The door through the append-only triggers, and the rights the owner withheld from
        // itself, for this transaction only (GRANT and REVOKE are transactional).
        conn.batch_execute(
            "SET LOCAL helhed.retention = 'on';
             GRANT DELETE ON audit_log TO CURRENT_USER;
             GRANT UPDATE ON ledger_entries TO CURRENT_USER;",
        )?;
        let at = diesel::sql_query("SELECT now() AS now").get_result::<Now>(conn)?.now;
        let counts = erase(conn, policy.case_days, policy.audit_days)?;
        conn.batch_execute(
            "REVOKE DELETE ON audit_log FROM CURRENT_USER;
             REVOKE UPDATE ON ledger_entries FROM CURRENT_USER;
             SET LOCAL helhed.retention = 'off';",
        )?;
        if !dry_run {
            let actor = Actor {
                iss: "helhed".into(),
                sub: roles.role.clone(),
                dept: "retention".into(),
                request_id: format!("retention-{}", uuid::Uuid::new_v4()),
            };
            let entry = Entry {
                action: Action::Delete,
                resource: "retention_run".into(),
                resource_id: None,
                case_id: None,
                citizen_id: None,
                purpose: Purpose::Retention,
                status: 200,
                filters: Some(serde_json::json!({
                    "case_days": policy.case_days,
                    "audit_days": policy.audit_days,
                    "counts": counts,
                })),
                case_ids: vec![],
                citizen_ids: vec![],
            };
            if let Err(e) = audit::record_job(conn, &actor, entry) {
                audit_failed = Some(format!("writing its audit entry: {e}"));
                return Err(DieselError::RollbackTransaction);
            }
        }
        outcome = Some((at, counts));
        if dry_run {
            Err(DieselError::RollbackTransaction)
        } else {
            Ok(())
        }
    });
    match done {
        Ok(()) => {}
        Err(DieselError::RollbackTransaction) if dry_run && outcome.is_some() => {}
        Err(_) if audit_failed.is_some() => {
            return Err(format!("retention run failed, nothing changed: {}", audit_failed.unwrap_or_default()))
        }
        Err(e) => return Err(failed(e)),
    }
    let (at, counts) = outcome.ok_or("retention run: the transaction ended without counts")?;
    Ok(Report {
        dry_run,
        case_days: policy.case_days,
        audit_days: policy.audit_days,
        at,
        counts,
        took: started.elapsed(),
    })
}

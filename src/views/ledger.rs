//! The coordinator's ledger as it is answered: each spend and reversal, who recorded it, and
//! which reversal undid which spend.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::budget::SpendCategory;
use crate::domain::Department;
use crate::error::AppError;
use crate::store;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordedBy {
    pub sub: String,
    pub name: Option<String>,
    pub department: Department,
}

/// One ledger entry: a spend (positive) or the reversal of one (negative).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    pub id: Uuid,
    /// `spend` or `reversal`.
    pub kind: String,
    pub amount_ore: i64,
    pub category: SpendCategory,
    pub description: String,
    pub intervention_id: Option<Uuid>,
    /// A reversal: the spend it reverses.
    pub reverses: Option<Uuid>,
    /// A spend: the reversal that undid it, if any.
    pub reversed_by: Option<Uuid>,
    pub reason: Option<String>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: RecordedBy,
}

/// One stored entry as answered; `reversed_by` names the reversal that undid a spend.
pub fn view(e: store::ledger::Entry, reversed_by: Option<Uuid>) -> Result<LedgerEntry, AppError> {
    let unreadable = || AppError::Internal("stored ledger entry unreadable".into());
    Ok(LedgerEntry {
        id: e.id,
        kind: e.kind,
        amount_ore: e.amount_ore,
        category: SpendCategory::parse(&e.category).ok_or_else(unreadable)?,
        description: e.description,
        intervention_id: e.intervention_id,
        reverses: e.reverses,
        reversed_by,
        reason: e.reason,
        recorded_at: e.recorded_at,
        recorded_by: RecordedBy {
            sub: e.actor_sub,
            name: e.actor_name,
            department: Department::parse(&e.actor_dept).ok_or_else(unreadable)?,
        },
    })
}

/// A case's ledger, oldest first, each spend with the reversal that undid it.
pub fn entries(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<LedgerEntry>, AppError> {
    let rows = store::ledger::entries(conn, case_id)?;
    let reversals: Vec<(Uuid, Uuid)> = rows.iter().filter_map(|e| e.reverses.map(|s| (s, e.id))).collect();
    rows.into_iter()
        .map(|e| {
            let reversed_by = reversals.iter().find(|(spend, _)| *spend == e.id).map(|(_, r)| *r);
            view(e, reversed_by)
        })
        .collect()
}

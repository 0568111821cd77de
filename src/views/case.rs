//! A case as a list shows it, and reading a stored case row into the API's terms.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{CaseStatus, Department, Track};
use crate::error::AppError;
use crate::store::cases::CaseRow;
use crate::views::PersonRef;

/// A case in a list: enough to pick it, no CPR and no referral text.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub status: CaseStatus,
    pub track: Track,
    pub committee_id: Uuid,
    pub citizen_id: Uuid,
    pub referred_at: DateTime<Utc>,
    pub screened_at: Option<DateTime<Utc>>,
    pub coordinator: Option<PersonRef>,
    pub follow_up_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

/// A stored case's status.
pub fn status_of(case: &CaseRow) -> Result<CaseStatus, AppError> {
    CaseStatus::parse(&case.status).ok_or_else(|| AppError::Internal("stored case status unknown".into()))
}

/// Stored department names, as departments.
pub fn departments(stored: &[String]) -> Vec<Department> {
    stored.iter().filter_map(|d| Department::parse(d)).collect()
}

/// The person stored in three columns, when there is one.
pub fn person(sub: &Option<String>, name: &Option<String>, dept: &Option<String>) -> Option<PersonRef> {
    match (sub, dept.as_deref().and_then(Department::parse)) {
        (Some(sub), Some(department)) => {
            Some(PersonRef { sub: sub.clone(), name: name.clone().unwrap_or_default(), department })
        }
        _ => None,
    }
}

impl CaseSummary {
    pub fn from_row(c: &CaseRow) -> Result<CaseSummary, AppError> {
        Ok(CaseSummary {
            id: c.id,
            status: status_of(c)?,
            track: Track::parse(&c.track).unwrap_or(Track::Adult),
            committee_id: c.committee_id,
            citizen_id: c.citizen_id,
            referred_at: c.referred_at,
            screened_at: c.screened_at,
            coordinator: person(&c.coordinator_sub, &c.coordinator_name, &c.coordinator_dept),
            follow_up_on: c.follow_up_on,
            updated_at: c.updated_at,
        })
    }
}

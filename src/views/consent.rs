//! A recorded consent as it is answered.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::consent::{ConsentForm, ConsentKind, GivenBy};
use crate::domain::Department;
use crate::error::AppError;
use crate::store::consents::ConsentRow;
use crate::views::meeting::RecordedBy;

/// A recorded consent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    pub id: Uuid,
    pub kind: ConsentKind,
    pub given_by: GivenBy,
    pub form: ConsentForm,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub departments: Vec<Department>,
    pub note: Option<String>,
    pub recorded_by: RecordedBy,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_on: Option<NaiveDate>,
    pub withdrawal_note: Option<String>,
}

pub fn view(c: ConsentRow) -> Result<ConsentView, AppError> {
    let unreadable = || AppError::Internal("stored consent unreadable".into());
    Ok(ConsentView {
        id: c.id,
        kind: ConsentKind::parse(&c.kind).ok_or_else(unreadable)?,
        given_by: GivenBy::parse(&c.given_by).ok_or_else(unreadable)?,
        form: ConsentForm::parse(&c.form).ok_or_else(unreadable)?,
        given_on: c.given_on,
        expires_on: c.expires_on,
        departments: c.departments.iter().filter_map(|d| Department::parse(d)).collect(),
        note: c.note,
        recorded_by: RecordedBy { sub: c.recorded_by_sub, name: c.recorded_by_name, department: c.recorded_by_dept },
        recorded_at: c.recorded_at,
        withdrawn_on: c.withdrawn_on,
        withdrawal_note: c.withdrawal_note,
    })
}

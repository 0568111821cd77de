//! The consultation report: the days a citizen's data was consulted, and what for.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::Purpose;

/// One day on which the citizen's data was consulted, and what for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Consultation {
    pub date: NaiveDate,
    pub purposes: Vec<Purpose>,
    /// How many accesses that day.
    pub accesses: i64,
}

/// Folds (day, purpose, count) rows into one line per day.
pub fn report(rows: Vec<(NaiveDate, String, i64)>) -> Vec<Consultation> {
    let mut days: Vec<Consultation> = Vec::new();
    for (date, purpose, count) in rows {
        let Some(purpose) = Purpose::parse(&purpose) else { continue };
        match days.last_mut() {
            Some(day) if day.date == date => {
                day.purposes.push(purpose);
                day.accesses += count;
            }
            _ => days.push(Consultation { date, purposes: vec![purpose], accesses: count }),
        }
    }
    days
}

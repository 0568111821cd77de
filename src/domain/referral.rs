//! A referral (*indstilling*) and its screening (*visitation*): what makes a referral complete
//! enough for a leader to decide on, and what a screening decision must say.

use super::{DeclineReason, FieldError, ProblemArea, ScreeningOutcome};
use crate::domain::Department;

/// The parts of a referral that a screening needs.
pub struct ReferralContent<'a> {
    pub problem_areas: &'a [ProblemArea],
    pub description: Option<&'a str>,
    pub involved_departments: &'a [Department],
    pub citizen_view: Option<&'a str>,
}

fn blank(s: Option<&str>) -> bool {
    s.is_none_or(|s| s.trim().is_empty())
}

/// What a referral lacks before it can be screened; empty when it is complete.
pub fn missing_for_screening(r: &ReferralContent) -> Vec<FieldError> {
    let mut missing = Vec::new();
    if r.problem_areas.is_empty() {
        missing.push(FieldError::new("problem_areas", "at least one problem area is required"));
    }
    if blank(r.description) {
        missing.push(FieldError::new("description", "a description of the citizen's situation is required"));
    }
    if r.involved_departments.is_empty() {
        missing.push(FieldError::new("involved_departments", "at least one involved department is required"));
    }
    if blank(r.citizen_view) {
        missing.push(FieldError::new("citizen_view", "the citizen's own view of their situation is required"));
    }
    missing
}

/// A screening decision is consistent: a decline gives its reason, an acceptance none.
pub fn check_screening(outcome: ScreeningOutcome, reason: Option<DeclineReason>) -> Result<(), FieldError> {
    match (outcome, reason) {
        (ScreeningOutcome::Declined, None) => Err(FieldError::new("reason", "a declined referral needs a reason")),
        (ScreeningOutcome::Accepted, Some(_)) => {
            Err(FieldError::new("reason", "a reason is given only when the referral is declined"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_missing_part() {
        let empty = ReferralContent {
            problem_areas: &[],
            description: Some("  "),
            involved_departments: &[],
            citizen_view: None,
        };
        let fields: Vec<_> = missing_for_screening(&empty).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["problem_areas", "description", "involved_departments", "citizen_view"]);

        let complete = ReferralContent {
            problem_areas: &[ProblemArea::Homelessness],
            description: Some("x"),
            involved_departments: &[Department::Social],
            citizen_view: Some("y"),
        };
        assert!(missing_for_screening(&complete).is_empty());
    }

    #[test]
    fn decline_needs_reason_and_accept_has_none() {
        assert!(check_screening(ScreeningOutcome::Declined, None).is_err());
        assert!(check_screening(ScreeningOutcome::Declined, Some(DeclineReason::Other)).is_ok());
        assert!(check_screening(ScreeningOutcome::Accepted, None).is_ok());
        assert!(check_screening(ScreeningOutcome::Accepted, Some(DeclineReason::Other)).is_err());
    }
}

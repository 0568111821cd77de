//! Who the committees are for: the track from the citizen's age on the day of referral, and
//! the target-group exclusions (domain.md, "Target group and exclusions").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::NaiveDate;

use super::{FieldError, Track};

/// The exclusions a referral must answer. Any one of them true puts the citizen outside the
/// target group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusions {
    /// Receives disability pension (*førtidspension*).
    #[serde(default)]
    pub disability_pension: bool,
    /// Is expected to get disability pension: no prospect of work or education.
    #[serde(default)]
    pub expected_disability_pension: bool,
    /// Has an acquired brain injury (*senhjerneskade*): health already coordinates.
    #[serde(default)]
    pub acquired_brain_injury: bool,
    /// An adult whose case has moved to the labour-market department.
    #[serde(default)]
    pub labour_market_case: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligible {
    /// Outside the target group; each entry names the rule.
    OutsideTargetGroup(Vec<FieldError>),
    /// 15–17 years old without the written professional justification.
    JustificationMissing,
}

/// The youngest age at which a citizen may be referred at all.
pub const MIN_AGE: i32 = 15;
/// From this age the youth track needs no individual justification.
pub const YOUTH_FROM: i32 = 18;
/// From this age a citizen belongs to the adult track.
pub const ADULT_FROM: i32 = 30;

/// Decides the track of a referral, or why there is none.
pub fn track_for(age: i32, under_18_justification: Option<&str>, exclusions: &Exclusions) -> Result<Track, Ineligible> {
    let mut broken = Vec::new();
    if age < MIN_AGE {
        broken.push(FieldError::new(
            "citizen_id",
            format!("the citizen is {age} on the day of referral; citizens under {MIN_AGE} are never referred"),
        ));
    }
    let rules = [
        (
            exclusions.disability_pension,
            "disability_pension",
            "citizens who receive disability pension are not in the target group",
        ),
        (
            exclusions.expected_disability_pension,
            "expected_disability_pension",
            "citizens expected to get disability pension are not in the target group",
        ),
        (
            exclusions.acquired_brain_injury,
            "acquired_brain_injury",
            "citizens with acquired brain injury already have a coordinator in health",
        ),
        (
            exclusions.labour_market_case,
            "labour_market_case",
            "adults whose case has moved to the labour-market department are handled there",
        ),
    ];
    for (excluded, field, rule) in rules {
        if excluded {
            broken.push(FieldError::new(format!("exclusions.{field}"), rule));
        }
    }
    if !broken.is_empty() {
        return Err(Ineligible::OutsideTargetGroup(broken));
    }
    if age < YOUTH_FROM && under_18_justification.is_none_or(|j| j.trim().is_empty()) {
        return Err(Ineligible::JustificationMissing);
    }
    Ok(if age < ADULT_FROM { Track::Youth } else { Track::Adult })
}

/// How far ahead of the 30th birthday a youth case may move to the adult committee.
pub const TRANSFER_WINDOW_DAYS: i64 = 365;

/// A youth case moves to the adult track once the citizen turns 30 within
/// [`TRANSFER_WINDOW_DAYS`] of `on`, or already has: `transfer_not_due` otherwise.
pub fn check_transfer_due(birth_date: NaiveDate, on: NaiveDate) -> Option<FieldError> {
    let turns_30 = crate::domain::cpr::birthday(birth_date, ADULT_FROM);
    (turns_30 > on + chrono::Duration::days(TRANSFER_WINDOW_DAYS)).then(|| {
        FieldError::new("kind", format!("the citizen turns {ADULT_FROM} on {turns_30}, more than a year from now"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_by_age() {
        let none = Exclusions::default();
        let table = [
            (14, Some("x"), Err(())),
            (15, None, Err(())),
            (15, Some("   "), Err(())),
            (15, Some("assessed"), Ok(Track::Youth)),
            (17, Some("assessed"), Ok(Track::Youth)),
            (18, None, Ok(Track::Youth)),
            (29, None, Ok(Track::Youth)),
            (30, None, Ok(Track::Adult)),
            (67, None, Ok(Track::Adult)),
        ];
        for (age, justification, expected) in table {
            assert_eq!(track_for(age, justification, &none).map_err(|_| ()), expected, "age {age}");
        }
        assert_eq!(track_for(16, None, &none), Err(Ineligible::JustificationMissing));
    }

    #[test]
    fn every_exclusion_names_its_rule() {
        let each = [
            (Exclusions { disability_pension: true, ..Default::default() }, "exclusions.disability_pension"),
            (
                Exclusions { expected_disability_pension: true, ..Default::default() },
                "exclusions.expected_disability_pension",
            ),
            (Exclusions { acquired_brain_injury: true, ..Default::default() }, "exclusions.acquired_brain_injury"),
            (Exclusions { labour_market_case: true, ..Default::default() }, "exclusions.labour_market_case"),
        ];
        for (exclusions, field) in each {
            match track_for(40, None, &exclusions) {
                Err(Ineligible::OutsideTargetGroup(errors)) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, field);
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn under_fifteen_is_never_referred() {
        match track_for(14, Some("assessed"), &Exclusions::default()) {
            Err(Ineligible::OutsideTargetGroup(errors)) => assert_eq!(errors[0].field, "citizen_id"),
            other => panic!("{other:?}"),
        }
    }
}

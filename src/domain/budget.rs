//! The coordinator's budget and action frame (*budget- og handlingsramme*): the arithmetic of
//! spends against the frame the committee set.

use super::{vocabulary, FieldError};

vocabulary! {
    /// What a spend pays for.
    SpendCategory {
        HousingSupport => "housing_support",
        MentorSupport => "mentor_support",
        Transport => "transport",
        OneOffBenefit => "one_off_benefit",
        SpecialAids => "special_aids",
        Other => "other",
    }
}

/// A spend's amount is a positive whole number of øre, no larger than any frame can be.
/// A spend is a positive whole number of øre; one larger than what remains is the committee's
/// to decide (`fits`), not a malformed request.
pub fn check_amount(amount_ore: i64) -> Option<FieldError> {
    if amount_ore < 1 {
        Some(FieldError::new("amount_ore", "must be a positive whole number of øre"))
    } else {
        None
    }
}

/// What is left of the frame.
pub fn remaining(frame_ore: i64, spent_ore: i64) -> i64 {
    frame_ore - spent_ore
}

/// Whether a spend fits in what is left.
pub fn fits(frame_ore: i64, spent_ore: i64, amount_ore: i64) -> bool {
    amount_ore <= remaining(frame_ore, spent_ore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert!(check_amount(0).is_some());
        assert!(check_amount(-1).is_some());
        assert!(check_amount(1).is_none());
        assert!(check_amount(100_000_000_000).is_none());
    }

    #[test]
    fn fitting_to_the_last_ore() {
        assert!(fits(5_000_000, 4_999_999, 1));
        assert!(!fits(5_000_000, 4_999_999, 2));
        assert!(fits(5_000_000, 0, 5_000_000));
        assert_eq!(remaining(5_000_000, 1_250_000), 3_750_000);
    }
}

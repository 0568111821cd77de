//! The life of a case: `referred` → `awaiting_committee` | `declined`;
//! `awaiting_committee` → `active` (first decision); `active` → `closed`.

use super::CaseStatus;

/// Whether a case may move from `from` to `to`.
pub fn may_move(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (Referred, AwaitingCommittee) | (Referred, Declined) | (AwaitingCommittee, Active) | (Active, Closed)
    )
}

/// The move, or the words for a 409 `invalid_transition`.
pub fn check_move(from: CaseStatus, to: CaseStatus) -> Result<(), String> {
    if may_move(from, to) {
        Ok(())
    } else {
        Err(format!("a case that is {from} cannot become {to}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_moves_are_allowed() {
        let mut allowed = vec![];
        for &from in CaseStatus::ALL {
            for &to in CaseStatus::ALL {
                if may_move(from, to) {
                    allowed.push((from.as_str(), to.as_str()));
                }
            }
        }
        assert_eq!(
            allowed,
            [
                ("referred", "awaiting_committee"),
                ("referred", "declined"),
                ("awaiting_committee", "active"),
                ("active", "closed")
            ]
        );
    }
}

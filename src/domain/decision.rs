//! A committee decision: quorum, the citizen's participation (*borgerinddragelse*), the frame
//! and follow-up date it sets, and which case statuses each kind applies to.

use chrono::NaiveDate;

use super::{vocabulary, CaseStatus, Department, FieldError, MemberRole};

vocabulary! {
    /// What a decision does: the first package, a revision, the follow-up review, closure, or the
    /// move of a youth case to the adult committee as the citizen turns 30.
    DecisionKind {
        Initial => "initial",
        Revision => "revision",
        FollowUp => "follow_up",
        Closure => "closure",
        Transfer => "transfer",
    }
}

vocabulary! {
    /// How the citizen took part.
    ParticipationForm {
        Meeting => "meeting",
        Phone => "phone",
        HomeVisit => "home_visit",
        Written => "written",
        Other => "other",
    }
}

vocabulary! {
    /// Why a case ends.
    ClosureReason {
        Education => "education",
        Employment => "employment",
        IncomeClarified => "income_clarified",
        CitizenDeclined => "citizen_declined",
        Moved => "moved",
        Deceased => "deceased",
        Transferred => "transferred",
        Other => "other",
    }
}

impl DecisionKind {
    /// The status a case must have for this kind of decision.
    pub fn applies_to(self) -> CaseStatus {
        match self {
            DecisionKind::Initial => CaseStatus::AwaitingCommittee,
            _ => CaseStatus::Active,
        }
    }

    /// The status the case has afterwards.
    pub fn leads_to(self) -> CaseStatus {
        match self {
            DecisionKind::Initial => CaseStatus::Active,
            DecisionKind::Closure => CaseStatus::Closed,
            _ => CaseStatus::Active,
        }
    }
}

/// A fixed member as the quorum rule sees them.
pub struct FixedMember<'a> {
    pub sub: &'a str,
    pub department: Department,
    pub role: MemberRole,
}

/// Quorum: everyone present is a fixed member; a leader is among them; all three departments
/// of the committee are represented. Returns each broken rule.
pub fn check_quorum(present: &[String], members: &[FixedMember], departments: &[Department; 3]) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let mut seen = Vec::new();
    for (i, sub) in present.iter().enumerate() {
        match members.iter().find(|m| m.sub == sub) {
            Some(member) => seen.push(member),
            None => broken.push(FieldError::new(
                format!("members_present[{i}]"),
                "is not a fixed member of this committee; only fixed members count towards quorum",
            )),
        }
    }
    if !seen.iter().any(|m| m.role == MemberRole::Leader) {
        broken.push(FieldError::new("members_present", "a leader representative must be present"));
    }
    for dept in departments {
        if !seen.iter().any(|m| m.department == *dept) {
            broken.push(FieldError::new("members_present", format!("no member from {dept} is present")));
        }
    }
    broken
}

/// The citizen's participation must be recorded: how, when they took part; why not, when not.
pub fn check_participation(
    took_part: bool,
    form: Option<ParticipationForm>,
    reason_not: Option<&str>,
) -> Vec<FieldError> {
    let blank = reason_not.is_none_or(|r| r.trim().is_empty());
    match (took_part, form, blank) {
        (true, None, _) => vec![FieldError::new("citizen_participation.form", "say how the citizen took part")],
        (false, _, true) => {
            vec![FieldError::new("citizen_participation.reason_not", "say why the citizen did not take part")]
        }
        _ => vec![],
    }
}

/// Why a committee may not set a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameRefusal {
    /// Outside 1 øre … the municipality's maximum (`HELHED_MAX_FRAME_ORE`).
    AboveMaximum(FieldError),
    /// Below what is already spent.
    BelowSpent(FieldError),
}

/// A frame is 1 øre up to the configured maximum, and never below what is already spent.
pub fn check_frame(frame_ore: i64, max_ore: i64, spent_ore: i64) -> Option<FrameRefusal> {
    if frame_ore < 1 || frame_ore > max_ore {
        Some(FrameRefusal::AboveMaximum(FieldError::new(
            "budget_frame_ore",
            format!("must be from 1 to {max_ore} øre"),
        )))
    } else if frame_ore < spent_ore {
        Some(FrameRefusal::BelowSpent(FieldError::new(
            "budget_frame_ore",
            format!("{spent_ore} øre are already spent; the frame cannot be set below that"),
        )))
    } else {
        None
    }
}

/// The follow-up date lies after the meeting, and not in the past.
pub fn check_follow_up(follow_up_on: NaiveDate, meeting_on: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    if follow_up_on <= meeting_on {
        Some(FieldError::new("follow_up_on", "must be after the meeting's date"))
    } else if follow_up_on < today {
        Some(FieldError::new("follow_up_on", "must not be in the past"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Department::*;

    fn members() -> Vec<FixedMember<'static>> {
        vec![
            FixedMember { sub: "l1", department: LabourMarket, role: MemberRole::Leader },
            FixedMember { sub: "l2", department: Social, role: MemberRole::Leader },
            FixedMember { sub: "c1", department: LabourMarket, role: MemberRole::Caseworker },
            FixedMember { sub: "c2", department: Social, role: MemberRole::Caseworker },
            FixedMember { sub: "f", department: HealthCare, role: MemberRole::FixedStaff },
        ]
    }

    fn present(subs: &[&str]) -> Vec<String> {
        subs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quorum_table() {
        let depts = [LabourMarket, Social, HealthCare];
        let m = members();
        let table: [(&[&str], usize); 6] = [
            (&["l1", "c2", "f"], 0),
            (&["l1", "l2", "c1", "c2", "f"], 0),
            (&["c1", "c2", "f"], 1),             // no leader
            (&["l1", "l2"], 1),                  // health_care missing
            (&["l1", "c2", "f", "stranger"], 1), // a non-member present
            (&[], 4),                            // nobody: no leader, three departments missing
        ];
        for (subs, errors) in table {
            assert_eq!(check_quorum(&present(subs), &m, &depts).len(), errors, "{subs:?}");
        }
    }

    #[test]
    fn participation_is_recorded_either_way() {
        assert!(check_participation(true, Some(ParticipationForm::Meeting), None).is_empty());
        assert_eq!(check_participation(true, None, None)[0].field, "citizen_participation.form");
        assert!(check_participation(false, None, Some("in hospital")).is_empty());
        assert_eq!(check_participation(false, None, Some(" "))[0].field, "citizen_participation.reason_not");
    }

    #[test]
    fn frames_and_follow_ups() {
        assert!(check_frame(0, 5_000_000, 0).is_some());
        assert!(check_frame(1, 5_000_000, 0).is_none());
        assert!(check_frame(5_000_000, 5_000_000, 0).is_none());
        assert!(matches!(check_frame(5_000_001, 5_000_000, 0), Some(FrameRefusal::AboveMaximum(_))));
        assert!(matches!(check_frame(100, 5_000_000, 101), Some(FrameRefusal::BelowSpent(_))));
        let d = |day| NaiveDate::from_ymd_opt(2027, 1, day).unwrap();
        assert!(check_follow_up(d(10), d(10), d(1)).is_some());
        assert!(check_follow_up(d(11), d(10), d(1)).is_none());
        assert!(check_follow_up(d(11), d(10), d(12)).is_some());
    }
}

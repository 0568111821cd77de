//! The coordination and referral committees (*koordinations- og visitationsudvalg*): which
//! departments sit on each track's committee, and the composition of its fixed members.

use std::collections::HashSet;

use super::{Department, FieldError, MemberRole, Track};

/// The departments of a track's committee: the two that send leaders and caseworkers, then the
/// one that sends the fixed staff member.
pub fn departments_of(track: Track) -> [Department; 3] {
    match track {
        Track::Youth => [Department::Youth, Department::Social, Department::School],
        Track::Adult => [Department::LabourMarket, Department::Social, Department::HealthCare],
    }
}

/// A committee's departments must be its track's, with the fixed-staff department last.
pub fn check_departments(track: Track, departments: &[Department]) -> Vec<FieldError> {
    let expected = departments_of(track);
    let mut broken = Vec::new();
    if departments.len() != 3 {
        broken.push(FieldError::new("departments", "a committee has exactly three departments"));
        return broken;
    }
    let first_two: HashSet<_> = departments[..2].iter().collect();
    let expected_two: HashSet<_> = expected[..2].iter().collect();
    if first_two != expected_two {
        broken.push(FieldError::new(
            "departments",
            format!("the {track} committee's first two departments are {} and {}", expected[0], expected[1]),
        ));
    }
    if departments[2] != expected[2] {
        broken.push(FieldError::new(
            "departments[2]",
            format!("the {track} committee's fixed staff member comes from {}", expected[2]),
        ));
    }
    broken
}

/// A member as the composition rules see them.
pub struct Seat<'a> {
    pub sub: &'a str,
    pub department: Department,
    pub role: MemberRole,
}

/// The composition rules: 2 leaders and 2–4 caseworkers from the first two departments, and 1
/// fixed staff member from the third; every person once. Returns each broken rule.
pub fn check_composition(departments: &[Department; 3], seats: &[Seat]) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let mut seen = HashSet::new();
    for (i, seat) in seats.iter().enumerate() {
        if !seen.insert(seat.sub) {
            broken.push(FieldError::new(format!("[{i}].sub"), "a person sits on a committee only once"));
        }
        let allowed: &[Department] = match seat.role {
            MemberRole::Leader | MemberRole::Caseworker => &departments[..2],
            MemberRole::FixedStaff => &departments[2..],
        };
        if !allowed.contains(&seat.department) {
            let from = allowed.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(" or ");
            broken.push(FieldError::new(
                format!("[{i}].department"),
                format!("a {} comes from {from}", seat.role.as_str().replace('_', " ")),
            ));
        }
    }
    let count = |role| seats.iter().filter(|s| s.role == role).count();
    let (leaders, caseworkers, fixed) =
        (count(MemberRole::Leader), count(MemberRole::Caseworker), count(MemberRole::FixedStaff));
    if leaders != 2 {
        broken.push(FieldError::new("leader", format!("a committee has 2 leader representatives, not {leaders}")));
    }
    if !(2..=4).contains(&caseworkers) {
        broken.push(FieldError::new("caseworker", format!("a committee has 2 to 4 caseworkers, not {caseworkers}")));
    }
    if fixed != 1 {
        broken.push(FieldError::new("fixed_staff", format!("a committee has 1 fixed staff member, not {fixed}")));
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;
    use Department::*;
    use MemberRole::*;

    fn seat(sub: &'static str, department: Department, role: MemberRole) -> Seat<'static> {
        Seat { sub, department, role }
    }

    #[test]
    fn a_valid_adult_committee() {
        let seats = [
            seat("a", LabourMarket, Leader),
            seat("b", Social, Leader),
            seat("c", LabourMarket, Caseworker),
            seat("d", Social, Caseworker),
            seat("e", HealthCare, FixedStaff),
        ];
        assert!(check_composition(&departments_of(Track::Adult), &seats).is_empty());
    }

    #[test]
    fn names_each_broken_rule() {
        let seats = [
            seat("a", LabourMarket, Leader),
            seat("a", Social, Caseworker),
            seat("c", HealthCare, Caseworker),
            seat("d", Social, FixedStaff),
        ];
        let fields: Vec<_> =
            check_composition(&departments_of(Track::Adult), &seats).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["[1].sub", "[2].department", "[3].department", "leader"]);
    }

    #[test]
    fn caseworkers_two_to_four() {
        for (n, ok) in [(1, false), (2, true), (4, true), (5, false)] {
            let subs = ["c1", "c2", "c3", "c4", "c5"];
            let mut seats = vec![seat("a", Youth, Leader), seat("b", Social, Leader), seat("f", School, FixedStaff)];
            seats.extend(subs[..n].iter().map(|s| seat(s, Youth, Caseworker)));
            assert_eq!(check_composition(&departments_of(Track::Youth), &seats).is_empty(), ok, "{n}");
        }
    }

    #[test]
    fn departments_match_the_track() {
        assert!(check_departments(Track::Youth, &[Social, Youth, School]).is_empty());
        assert_eq!(check_departments(Track::Youth, &[Youth, School, Social]).len(), 2);
        assert_eq!(check_departments(Track::Adult, &[Youth, Social, HealthCare]).len(), 1);
        assert_eq!(check_departments(Track::Adult, &[LabourMarket, Social]).len(), 1);
    }
}

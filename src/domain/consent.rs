//! Consent (*samtykke*): the coordinated plan is an offer the citizen may decline, and sharing
//! what is known about them between departments needs their consent; under 18 a custody holder
//! (*forældremyndighedsindehaver*) consents as well. A consent is *current* on the days from
//! `given_on` to `expires_on` (both included) unless it has been withdrawn.

use chrono::NaiveDate;

use super::{vocabulary, Department, FieldError};

vocabulary! {
    /// What the citizen consents to.
    ConsentKind {
        /// The coordinated plan (*helhedsorienteret plan*) as an offer they accept.
        Plan => "plan",
        /// That the named departments exchange what they know of the citizen in this case.
        DataSharing => "data_sharing",
    }
}

vocabulary! {
    /// Who gave the consent.
    GivenBy {
        Citizen => "citizen",
        /// *Forældremyndighedsindehaver*: needed as well while the citizen is under 18.
        CustodyHolder => "custody_holder",
    }
}

vocabulary! {
    /// How the consent was given.
    ConsentForm { Written => "written", Digital => "digital", Oral => "oral" }
}

vocabulary! {
    /// Where a case stands with the plan consent, for its view.
    PlanConsent {
        Current => "current",
        /// None was ever given.
        Missing => "missing",
        /// The last one was withdrawn.
        Withdrawn => "withdrawn",
        /// The last one ran out.
        Expired => "expired",
    }
}

/// A recorded consent, as the rules need it.
#[derive(Debug, Clone)]
pub struct Consent {
    pub kind: ConsentKind,
    pub given_by: GivenBy,
    pub given_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub withdrawn: bool,
    pub departments: Vec<Department>,
}

impl Consent {
    /// Whether the consent holds on `day`.
    pub fn current_on(&self, day: NaiveDate) -> bool {
        !self.withdrawn && self.given_on <= day && self.expires_on.is_none_or(|end| day <= end)
    }
}

/// A consent (or its withdrawal) is dated today or before: `date_not_allowed` otherwise.
pub fn check_not_future(field: &str, on: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    (on > today).then(|| FieldError::new(field, "cannot lie in the future"))
}

/// An expiry lies after the day the consent was given: `inconsistent_request` otherwise.
pub fn check_expiry(given_on: NaiveDate, expires_on: Option<NaiveDate>) -> Option<FieldError> {
    expires_on.filter(|end| *end <= given_on).map(|_| FieldError::new("expires_on", "must be after given_on"))
}

/// What an initial decision on `day` lacks: a current plan consent of the citizen, and of a
/// custody holder while the citizen is under 18. Each missing one is named.
pub fn missing_for_plan(consents: &[Consent], day: NaiveDate, under_18: bool) -> Vec<FieldError> {
    let has =
        |by: GivenBy| consents.iter().any(|c| c.kind == ConsentKind::Plan && c.given_by == by && c.current_on(day));
    let mut missing = Vec::new();
    if !has(GivenBy::Citizen) {
        missing.push(FieldError::new("consents", "no current plan consent given by the citizen"));
    }
    if under_18 && !has(GivenBy::CustodyHolder) {
        missing.push(FieldError::new(
            "consents",
            "the citizen is under 18: no current plan consent given by a custody holder",
        ));
    }
    missing
}

/// Whether the plan holds on `day`: the citizen's plan consent is current, and while the
/// citizen is under 18 a custody holder's too. A custody holder's consent never stands in for
/// the citizen's own: when the citizen withdraws, the plan stops.
pub fn plan_holds(consents: &[Consent], day: NaiveDate, under_18: bool) -> bool {
    missing_for_plan(consents, day, under_18).is_empty()
}

/// The plan consent's state on `day`: `current` when the plan holds; otherwise why not, from the
/// latest plan consent (by the day it was given) of the one whose consent is lacking — the
/// citizen's, or under 18 the custody holder's.
pub fn plan_state(consents: &[Consent], day: NaiveDate, under_18: bool) -> PlanConsent {
    if plan_holds(consents, day, under_18) {
        return PlanConsent::Current;
    }
    let current =
        |by: GivenBy| consents.iter().any(|c| c.kind == ConsentKind::Plan && c.given_by == by && c.current_on(day));
    let lacking = if current(GivenBy::Citizen) { GivenBy::CustodyHolder } else { GivenBy::Citizen };
    let latest = consents
        .iter()
        .filter(|c| c.kind == ConsentKind::Plan && c.given_by == lacking && c.given_on <= day)
        .max_by_key(|c| c.given_on);
    match latest {
        None => PlanConsent::Missing,
        Some(c) if c.withdrawn => PlanConsent::Withdrawn,
        Some(_) => PlanConsent::Expired,
    }
}

/// The departments current data-sharing consents name on `day`, each once, in order.
pub fn sharing_departments(consents: &[Consent], day: NaiveDate) -> Vec<Department> {
    let mut out: Vec<Department> = Vec::new();
    for c in consents.iter().filter(|c| c.kind == ConsentKind::DataSharing && c.current_on(day)) {
        for d in &c.departments {
            if !out.contains(d) {
                out.push(*d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn plan(by: GivenBy, given: &str, expires: Option<&str>, withdrawn: bool) -> Consent {
        Consent {
            kind: ConsentKind::Plan,
            given_by: by,
            given_on: day(given),
            expires_on: expires.map(day),
            withdrawn,
            departments: vec![],
        }
    }

    #[test]
    fn a_consent_is_current_from_given_to_expiry_both_included() {
        let c = plan(GivenBy::Citizen, "2026-01-10", Some("2026-02-10"), false);
        assert!(!c.current_on(day("2026-01-09")));
        assert!(c.current_on(day("2026-01-10")));
        assert!(c.current_on(day("2026-02-10")));
        assert!(!c.current_on(day("2026-02-11")));
        assert!(!plan(GivenBy::Citizen, "2026-01-10", None, true).current_on(day("2026-01-11")));
    }

    #[test]
    fn under_18_needs_the_custody_holder_too() {
        let only_citizen = [plan(GivenBy::Citizen, "2026-01-01", None, false)];
        assert!(missing_for_plan(&only_citizen, day("2026-03-01"), false).is_empty());
        assert_eq!(missing_for_plan(&only_citizen, day("2026-03-01"), true).len(), 1);
        let both = [
            plan(GivenBy::Citizen, "2026-01-01", None, false),
            plan(GivenBy::CustodyHolder, "2026-01-02", None, false),
        ];
        assert!(missing_for_plan(&both, day("2026-03-01"), true).is_empty());
        assert_eq!(missing_for_plan(&[], day("2026-03-01"), true).len(), 2);
    }

    #[test]
    fn a_custody_holders_consent_never_stands_in_for_the_citizens() {
        let d = day("2026-03-01");
        let custody_only = [plan(GivenBy::CustodyHolder, "2026-01-01", None, false)];
        assert!(!plan_holds(&custody_only, d, false));
        assert!(!plan_holds(&custody_only, d, true));
        let citizen_withdrew =
            [plan(GivenBy::Citizen, "2026-01-01", None, true), plan(GivenBy::CustodyHolder, "2026-01-01", None, false)];
        assert!(!plan_holds(&citizen_withdrew, d, true));
        assert_eq!(plan_state(&citizen_withdrew, d, true), PlanConsent::Withdrawn);
        let custody_withdrew =
            [plan(GivenBy::Citizen, "2026-01-01", None, false), plan(GivenBy::CustodyHolder, "2026-01-01", None, true)];
        assert!(!plan_holds(&custody_withdrew, d, true));
        assert_eq!(plan_state(&custody_withdrew, d, true), PlanConsent::Withdrawn);
        assert!(plan_holds(&custody_withdrew, d, false), "at 18 the citizen's own consent is enough");
    }

    #[test]
    fn the_plan_state_names_why_it_does_not_hold() {
        let d = day("2026-03-01");
        assert_eq!(plan_state(&[], d, false), PlanConsent::Missing);
        assert_eq!(plan_state(&[plan(GivenBy::Citizen, "2026-01-01", None, false)], d, false), PlanConsent::Current);
        assert_eq!(plan_state(&[plan(GivenBy::Citizen, "2026-01-01", None, true)], d, false), PlanConsent::Withdrawn);
        assert_eq!(
            plan_state(&[plan(GivenBy::Citizen, "2026-01-01", Some("2026-02-01"), false)], d, false),
            PlanConsent::Expired
        );
    }

    #[test]
    fn dates_in_the_future_and_expiry_before_giving_are_refused() {
        let today = day("2026-03-01");
        assert!(check_not_future("given_on", day("2026-03-02"), today).is_some());
        assert!(check_not_future("given_on", today, today).is_none());
        assert!(check_expiry(day("2026-02-01"), Some(day("2026-02-01"))).is_some());
        assert!(check_expiry(day("2026-02-01"), Some(day("2026-02-02"))).is_none());
        assert!(check_expiry(day("2026-02-01"), None).is_none());
    }
}

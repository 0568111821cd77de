//! The service's vocabulary in the Danish a citizen and a committee read, and dates and times
//! as Danes write them, in Danish local time (Europe/Copenhagen, daylight saving included).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Copenhagen;

use crate::domain::decision::{ClosureReason, DecisionKind, ParticipationForm};
use crate::domain::plan::{GoalArea, InterventionStatus, PlanKind};
use crate::domain::{Department, MemberRole, Side, Track};

const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

/// `1. december 2026`.
pub fn date(d: NaiveDate) -> String {
    format!("{}. {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The day an instant falls on in Denmark, as `1. december 2026`.
pub fn local_date(t: DateTime<Utc>) -> String {
    date(t.with_timezone(&Copenhagen).date_naive())
}

/// Today in Denmark.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Copenhagen).date_naive()
}

/// `1. december 2026 kl. 10.00`, in Danish local time.
pub fn date_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Copenhagen);
    format!("{} kl. {}", date(local.date_naive()), local.format("%H.%M"))
}

pub fn department(d: Department) -> &'static str {
    match d {
        Department::LabourMarket => "Arbejdsmarkedsafdelingen",
        Department::Youth => "Ungeindsatsen",
        Department::Social => "Socialområdet",
        Department::HealthCare => "Sundhed og Omsorg",
        Department::School => "Skoleområdet",
    }
}

pub fn member_role(r: MemberRole) -> &'static str {
    match r {
        MemberRole::Leader => "leder",
        MemberRole::Caseworker => "sagsbehandler",
        MemberRole::FixedStaff => "fast medarbejder",
    }
}

pub fn track(t: Track) -> &'static str {
    match t {
        Track::Youth => "unge 15–29 år",
        Track::Adult => "voksne 30+",
    }
}

pub fn participation_form(f: ParticipationForm) -> &'static str {
    match f {
        ParticipationForm::Meeting => "på mødet",
        ParticipationForm::Phone => "telefonisk",
        ParticipationForm::HomeVisit => "ved hjemmebesøg",
        ParticipationForm::Written => "skriftligt",
        ParticipationForm::Other => "på anden vis",
    }
}

pub fn intervention_status(s: InterventionStatus) -> &'static str {
    match s {
        InterventionStatus::Planned => "planlagt",
        InterventionStatus::Active => "i gang",
        InterventionStatus::Completed => "afsluttet",
        InterventionStatus::Cancelled => "aflyst",
    }
}

pub fn goal_area(a: GoalArea) -> &'static str {
    match a {
        GoalArea::Education => "Uddannelse",
        GoalArea::Employment => "Beskæftigelse",
        GoalArea::Income => "Forsørgelse",
        GoalArea::Housing => "Bolig",
        GoalArea::Health => "Sundhed",
        GoalArea::Social => "Sociale forhold",
        GoalArea::Other => "Andet",
    }
}

pub fn closure_reason(r: ClosureReason) -> &'static str {
    match r {
        ClosureReason::Education => "i uddannelse",
        ClosureReason::Employment => "i beskæftigelse",
        ClosureReason::IncomeClarified => "forsørgelsen er afklaret",
        ClosureReason::CitizenDeclined => "borgeren har takket nej",
        ClosureReason::Moved => "fraflyttet kommunen",
        ClosureReason::Deceased => "afgået ved døden",
        ClosureReason::Transferred => "overgået til anden indsats",
        ClosureReason::Other => "anden årsag",
    }
}

pub fn side(s: Side) -> &'static str {
    match s {
        Side::Authority => "myndighed",
        Side::Provider => "udfører",
    }
}

pub fn plan_kind(k: PlanKind) -> &'static str {
    match k {
        PlanKind::Ungeplan => "Ungeplan",
        PlanKind::Indsatsplan => "Indsatsplan",
    }
}

pub fn decision_kind(k: DecisionKind) -> &'static str {
    match k {
        DecisionKind::Initial => "Første afgørelse",
        DecisionKind::Revision => "Revision af planen",
        DecisionKind::FollowUp => "Opfølgning",
        DecisionKind::Closure => "Afslutning",
        DecisionKind::Transfer => "Overgang til voksenudvalget",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_danish_and_times_local_with_daylight_saving() {
        let d: NaiveDate = "2026-12-01".parse().unwrap();
        assert_eq!(date(d), "1. december 2026");
        let winter: DateTime<Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
        assert_eq!(date_time(winter), "1. december 2026 kl. 10.00");
        let summer: DateTime<Utc> = "2026-07-01T08:30:00Z".parse().unwrap();
        assert_eq!(date_time(summer), "1. juli 2026 kl. 10.30");
        // the last Sunday of March: 01:00 UTC is 03:00 summer time
        let spring: DateTime<Utc> = "2026-03-29T01:00:00Z".parse().unwrap();
        assert_eq!(date_time(spring), "29. marts 2026 kl. 03.00");
        // late at night UTC is the next day in Copenhagen
        let night: DateTime<Utc> = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(date_time(night), "1. januar 2027 kl. 00.30");
    }
}

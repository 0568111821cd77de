//! Who takes part in a case, and who may do what.
//!
//! Visibility is one rule, written once as a SQL predicate ([`visible_cases`]) that every path
//! able to reveal a case applies: the case itself, lists, history, citizens, plans, agendas,
//! minutes, follow-ups — and, as they come, events and statistics. A principal *takes part*
//! when they referred, screened or coordinate the case, sit on its committee, presented it at a
//! meeting, or are in its background group; a `leader` or `system` principal also sees the
//! cases their department is involved in: the committee's departments and the coordinator's
//! department always, the referral's other involved departments only while a current
//! `data_sharing` consent of the case names them. Anyone else gets 404, and the attempt is audited.
//! A case the retention job erased is seen by no one; it lives on in the flow statistics, which
//! count it for those who took part in it, and in the integration feed (ids, types and times).
//!
//! The operation rules (403) are plain functions over the principal and the case.

use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::auth::Principal;
use crate::db::fixed;
use crate::domain::{Department, MemberRole, Role};
use crate::error::AppError;
use crate::schema::{background_members, case_presenters, cases, committee_members, committees, consents};

/// Roles that work with cases. A principal holding only `auditor` reads the audit log and
/// nothing else.
pub const CASE_ROLES: &[Role] = &[Role::Caseworker, Role::Leader, Role::Admin, Role::System];

/// Whether the principal sees cases by their department's involvement, not only their own.
pub fn sees_department_cases(p: &Principal) -> bool {
    p.has_any(&[Role::Leader, Role::System])
}

pub type CaseFilter = Box<dyn BoxableExpression<cases::table, Pg, SqlType = Bool>>;

/// The visibility rule as one predicate over `cases`. A case the retention job erased is seen
/// by no one: it lives on in the statistics only.
pub fn visible_cases(p: &Principal) -> CaseFilter {
    Box::new(not_erased().and(takes_part(p)))
}

/// The cases a principal takes part in, erased or not.
fn takes_part(p: &Principal) -> CaseFilter {
    if sees_department_cases(p) {
        Box::new(in_person(p).or(department_involved(p.dept)))
    } else {
        in_person(p)
    }
}

fn not_erased() -> CaseFilter {
    Box::new(cases::erased_at.is_null())
}

/// The cases a department's integration feed carries: those the department is involved in.
pub fn feed_cases(p: &Principal) -> CaseFilter {
    department_involved(p.dept)
}

/// The cases a principal's flow statistics count: the cases they take part in, erased ones too
/// (what the statistics count outlives the person); an `admin` counts every case, since
/// statistics carry only counts and durations, never a person.
pub fn statistics_cases(p: &Principal) -> CaseFilter {
    if p.has(Role::Admin) {
        Box::new(fixed::<Bool>("TRUE"))
    } else {
        takes_part(p)
    }
}

/// Cases the principal takes part in as a person.
fn in_person(p: &Principal) -> CaseFilter {
    let sub = p.sub.clone();
    let dept = p.dept.as_str().to_string();
    Box::new(
        cases::referrer_sub
            .eq(sub.clone())
            .and(cases::referrer_dept.eq(dept.clone()))
            .or(cases::screener_sub.eq(sub.clone()).and(cases::screener_dept.eq(dept.clone())).assume_not_null())
            .or(cases::coordinator_sub.eq(sub.clone()).and(cases::coordinator_dept.eq(dept.clone())).assume_not_null())
            .or(cases::committee_id.eq_any(
                committee_members::table
                    .filter(committee_members::sub.eq(sub.clone()))
                    .filter(committee_members::department.eq(dept.clone()))
                    .select(committee_members::committee_id),
            ))
            .or(cases::id.eq_any(
                case_presenters::table
                    .filter(case_presenters::sub.eq(sub.clone()))
                    .filter(case_presenters::department.eq(dept.clone()))
                    .select(case_presenters::case_id),
            ))
            .or(cases::id.eq_any(
                background_members::table
                    .filter(background_members::sub.eq(sub))
                    .filter(background_members::department.eq(dept))
                    .select(background_members::case_id),
            )),
    )
}

/// The cases a principal sees without any data-sharing consent: those they take part in, and
/// for a `leader` or `system` those of their committee's or coordinator's department. A
/// department that sees a case only by the citizen's consent cannot extend that consent itself.
pub fn visible_without_consent(p: &Principal) -> CaseFilter {
    if sees_department_cases(p) {
        Box::new(not_erased().and(in_person(p).or(always_involved(p.dept))))
    } else {
        Box::new(not_erased().and(in_person(p)))
    }
}

/// The departments always involved in a case: its committee's, and its coordinator's.
fn always_involved(dept: Department) -> CaseFilter {
    let dept = dept.as_str().to_string();
    Box::new(
        cases::committee_id
            .eq_any(
                committees::table.filter(committees::departments.contains(vec![dept.clone()])).select(committees::id),
            )
            .or(cases::coordinator_dept.eq(dept).assume_not_null()),
    )
}

/// `data_sharing` as an SQL literal, not a parameter: the partial index `consents_current_sharing`
/// holds only those rows, and PostgreSQL can use it in a generic plan only when the statement
/// itself says so. With `kind = $n` the generic plan scans every consent, so the planner kept
/// planning GET case and the event feed afresh on every request at 100 000 cases and more.
const DATA_SHARING: &str = "'data_sharing'";

/// Cases a department is involved in: always its committee's departments and the coordinator's
/// department; the referral's other involved departments only while a current `data_sharing`
/// consent of the case names them (given by today, not expired, not withdrawn).
fn department_involved(department: Department) -> CaseFilter {
    use diesel::sql_types::Date;
    let dept = department.as_str().to_string();
    let today = || fixed::<Date>("CURRENT_DATE");
    let shared =
        consents::table
            .filter(consents::kind.eq(fixed::<diesel::sql_types::Text>(DATA_SHARING)))
            .filter(consents::withdrawn_on.is_null())
            .filter(consents::given_on.le(today()))
            .filter(consents::expires_on.is_null().or(
                consents::expires_on.ge(fixed::<diesel::sql_types::Nullable<Date>>("CURRENT_DATE")).assume_not_null(),
            ))
            .filter(consents::departments.contains(vec![dept.clone()]))
            .select(consents::case_id);
    Box::new(
        always_involved(department).or(cases::involved_departments.contains(vec![dept]).and(cases::id.eq_any(shared))),
    )
}

/// The people named on a case, as the operation rules need them.
pub struct Parties<'a> {
    pub referrer: (&'a str, &'a str),
    pub committee_departments: &'a [Department],
}

fn is(p: &Principal, (sub, dept): (&str, &str)) -> bool {
    p.sub == sub && p.dept.as_str() == dept
}

/// Refer a case, register a citizen.
pub fn require_referrer_role(p: &Principal) -> Result<(), AppError> {
    p.require_any(&[Role::Caseworker, Role::Leader, Role::System], "referring a case")
}

/// Edit a referral: its referrer, or a leader who sees it (visibility is checked before).
pub fn require_referral_editor(p: &Principal, case: &Parties) -> Result<(), AppError> {
    if is(p, case.referrer) || p.has(Role::Leader) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the referrer or a leader may edit a referral".into()))
    }
}

/// Record or withdraw a consent: the case's referrer, its coordinator, or a leader who sees it.
pub fn require_consent_recorder(
    p: &Principal,
    case: &Parties,
    coordinator: (Option<&str>, Option<&str>),
) -> Result<(), AppError> {
    if is(p, case.referrer) || is_coordinator(p, coordinator.0, coordinator.1) || p.has(Role::Leader) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the referrer, the coordinator or a leader may record the citizen's consent".into(),
        ))
    }
}

/// Screen a case: a leader whose department is on the committee of the case's track.
pub fn require_screener(p: &Principal, case: &Parties) -> Result<(), AppError> {
    if p.has(Role::Leader) && case.committee_departments.contains(&p.dept) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "screening is for a leader whose department is on the committee of the case's track".into(),
        ))
    }
}

/// Create committees and set their members.
pub fn require_admin(p: &Principal, operation: &str) -> Result<(), AppError> {
    p.require_any(&[Role::Admin], operation)
}

/// Is the principal the case's current coordinator? A change of coordinator moves this at once.
pub fn is_coordinator(p: &Principal, coordinator_sub: Option<&str>, coordinator_dept: Option<&str>) -> bool {
    coordinator_sub == Some(p.sub.as_str()) && coordinator_dept == Some(p.dept.as_str())
}

/// Minor plan adjustments, spends, participation notes: the current coordinator only.
pub fn require_coordinator(
    p: &Principal,
    coordinator_sub: Option<&str>,
    coordinator_dept: Option<&str>,
) -> Result<(), AppError> {
    if is_coordinator(p, coordinator_sub, coordinator_dept) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the case's current coordinating caseworker may do this".into()))
    }
}

/// A leader member: a `leader` principal holding a leader's seat on the committee.
pub fn is_leader_member(p: &Principal, seat: Option<&MemberRole>) -> bool {
    p.has(Role::Leader) && seat == Some(&MemberRole::Leader)
}

/// Decisions: a leader member of the committee.
pub fn require_leader_member(p: &Principal, seat: Option<&MemberRole>, operation: &str) -> Result<(), AppError> {
    if is_leader_member(p, seat) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("{operation} is for a leader member of the committee")))
    }
}

/// Meetings and agenda: `admin`, or a leader member of the committee.
pub fn require_meeting_organiser(p: &Principal, seat: Option<&MemberRole>) -> Result<(), AppError> {
    if p.has(Role::Admin) || is_leader_member(p, seat) {
        Ok(())
    } else {
        Err(AppError::Forbidden("meetings and agendas are for an admin or a leader member of the committee".into()))
    }
}

/// Reading a committee's meetings: `admin`, its members, and leaders and systems of its
/// departments. What an agenda or minutes show of each case still follows [`visible_cases`].
pub fn require_meeting_reader(
    p: &Principal,
    seat: Option<&MemberRole>,
    committee_departments: &[Department],
) -> Result<(), AppError> {
    let departmental = sees_department_cases(p) && committee_departments.contains(&p.dept);
    if p.has(Role::Admin) || (seat.is_some() && p.has_any(CASE_ROLES)) || departmental {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "a committee's meetings are for its members, its departments' leaders and admins".into(),
        ))
    }
}

/// Anything about cases: any role but a bare `auditor`.
pub fn require_case_role(p: &Principal) -> Result<(), AppError> {
    p.require_any(CASE_ROLES, "working with cases")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(dept: Department, roles: &[Role]) -> Principal {
        Principal {
            iss: "t".into(),
            sub: "anna".into(),
            dept,
            roles: roles.to_vec(),
            name: None,
            request_id: "r".into(),
            trace: None,
        }
    }

    #[test]
    fn the_literal_of_the_sharing_consent_is_its_kind() {
        let kind = crate::domain::consent::ConsentKind::DataSharing.as_str();
        assert_eq!(DATA_SHARING, format!("'{kind}'"));
    }

    #[test]
    fn referral_editor_is_referrer_or_leader() {
        let parties = Parties { referrer: ("anna", "social"), committee_departments: &[] };
        assert!(require_referral_editor(&principal(Department::Social, &[Role::Caseworker]), &parties).is_ok());
        // the same sub speaking for another department is another person
        assert!(require_referral_editor(&principal(Department::Youth, &[Role::Caseworker]), &parties).is_err());
        assert!(require_referral_editor(&principal(Department::Youth, &[Role::Leader]), &parties).is_ok());
    }

    #[test]
    fn screener_is_a_leader_of_a_committee_department() {
        let depts = [Department::LabourMarket, Department::Social, Department::HealthCare];
        let parties = Parties { referrer: ("x", "social"), committee_departments: &depts };
        for (dept, roles, ok) in [
            (Department::Social, &[Role::Leader][..], true),
            (Department::HealthCare, &[Role::Leader][..], true),
            (Department::Youth, &[Role::Leader][..], false),
            (Department::Social, &[Role::Caseworker][..], false),
            (Department::Social, &[Role::Admin, Role::System][..], false),
        ] {
            assert_eq!(require_screener(&principal(dept, roles), &parties).is_ok(), ok, "{dept} {roles:?}");
        }
    }

    #[test]
    fn a_bare_auditor_works_with_no_case() {
        assert!(require_case_role(&principal(Department::Social, &[Role::Auditor])).is_err());
        assert!(require_case_role(&principal(Department::Social, &[Role::Auditor, Role::Caseworker])).is_ok());
    }
}

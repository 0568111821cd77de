mod common;

// The authorization matrix: every `/api/v1` operation of `openapi/openapi.json` (the columns,
// some in several case states) × a set of principals covering roles × departments ×
// involvement in one adult case, of two shapes (the rows). For each cell the expected outcome comes from the
// rules of api.md ("Who may see and do what", and the resource sections), written out below in
// `expected`; the test performs the real request and compares. Every mismatch is collected and
// printed, then the test fails if there is any.
//
// Each write cell works on its own fresh case (or its own offer, subscription, ...), so that no
// cell depends on another; read cells share one set of cases, one per state and shape, that
// no cell changes. Bodies always pass validation, so that what is observed is the access decision.
//
// Where api.md is silent or ambiguous, the expectation follows the implementation; each such
// place says so in a comment marked "SPEC:".

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Duration, Utc};
use common::world::{
    cpr_for_age, initial_decision, referral, Person, World, ADMIN, ADULT_CW_LM, ADULT_CW_SOC, ADULT_FIXED,
    ADULT_LEADER_LM, ADULT_LEADER_SOC, AUDITOR, COORDINATOR, OUTSIDER, REFERRER, YOUTH_CW_SOC, YOUTH_CW_Y, YOUTH_FIXED,
    YOUTH_LEADER_SOC, YOUTH_LEADER_Y,
};
use common::Response;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

/// The age of every citizen of the matrix: the adult track, committee
/// `labour_market`, `social`, `health_care`.
const AGE: i32 = 45;

// ---------------------------------------------------------------------------------------------
// The principals (rows)
// ---------------------------------------------------------------------------------------------

/// Presents the case at a meeting (named in `presenting_caseworkers`); youth is not involved.
const PRESENTER: Person = Person { sub: "pernille", dept: "youth", roles: &["caseworker"] };
/// In the case's background group (set by the initial decision); school is not involved.
const BACKGROUND: Person = Person { sub: "bodil", dept: "school", roles: &["caseworker"] };
/// Named among the referral's `involved_caseworkers`, but none of api.md's ways of taking part.
const NAMED: Person = Person { sub: "ivan", dept: "labour_market", roles: &["caseworker"] };
/// A leader of a department on the case's committee who holds no seat on any committee.
const HC_LEADER: Person = Person { sub: "hanne", dept: "health_care", roles: &["leader"] };
/// The integration account of an involved department.
const LM_SYSTEM: Person = Person { sub: "lm-system", dept: "labour_market", roles: &["system"] };
/// The integration account of a department not involved in the case.
const SCHOOL_SYSTEM: Person = Person { sub: "school-system", dept: "school", roles: &["system"] };
/// A caseworker of an involved department with no personal part in the case.
const SOCIAL_CW: Person = Person { sub: "sofie", dept: "social", roles: &["caseworker"] };
/// A leader of a department not involved in the case, on no committee.
const SCHOOL_LEADER: Person = Person { sub: "sten", dept: "school", roles: &["leader"] };
/// The referrer's `sub` speaking for another department: another person.
const REFERRER_ELSEWHERE: Person = Person { sub: REFERRER.sub, dept: "youth", roles: &["caseworker"] };
/// An auditor who is also a caseworker: the auditor role adds the audit log, and takes nothing
/// away from the caseworker role.
const AUDITING_CW: Person = Person { sub: "aksel", dept: "social", roles: &["auditor", "caseworker"] };

struct Row {
    label: &'static str,
    who: Person,
}

const ROWS: &[Row] = &[
    Row { label: "referrer (caseworker, social)", who: REFERRER },
    Row { label: "screener, leader member (social)", who: ADULT_LEADER_SOC },
    Row { label: "leader member (labour_market)", who: ADULT_LEADER_LM },
    Row { label: "caseworker member (labour_market)", who: ADULT_CW_LM },
    Row { label: "fixed-staff member (health_care)", who: ADULT_FIXED },
    Row { label: "coordinator (caseworker, labour_market)", who: COORDINATOR },
    Row { label: "presenter (caseworker, youth)", who: PRESENTER },
    Row { label: "background group (caseworker, school)", who: BACKGROUND },
    Row { label: "named in referral (caseworker, labour_market)", who: NAMED },
    Row { label: "leader of involved dept, no seat (health_care)", who: HC_LEADER },
    Row { label: "system, involved dept (labour_market)", who: LM_SYSTEM },
    Row { label: "system, uninvolved dept (school)", who: SCHOOL_SYSTEM },
    Row { label: "caseworker, involved dept, not involved (social)", who: SOCIAL_CW },
    Row { label: "outsider caseworker (school)", who: OUTSIDER },
    Row { label: "admin (social)", who: ADMIN },
    Row { label: "auditor (social)", who: AUDITOR },
    Row { label: "auditor + caseworker, not involved (social)", who: AUDITING_CW },
    Row { label: "leader member of the youth committee (youth)", who: YOUTH_LEADER_Y },
    Row { label: "leader of uninvolved dept, no seat (school)", who: SCHOOL_LEADER },
    Row { label: "referrer's sub in another dept (youth)", who: REFERRER_ELSEWHERE },
];

// ---------------------------------------------------------------------------------------------
// The world the rules are evaluated in: one adult case, in one of four states and two shapes
// ---------------------------------------------------------------------------------------------

/// The state of the case a cell works on. Each later state includes what the earlier ones did:
/// `Awaiting` is screened (by `ADULT_LEADER_SOC`) and on a meeting's agenda with `PRESENTER`
/// presenting it; `Active` has its initial decision (the coordinator of `Case::coordinator`,
/// background group `BACKGROUND`) and one spend by the coordinator; `Closed` was closed by the
/// coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Referred,
    Awaiting,
    Active,
    Closed,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Referred => "referred",
            Stage::Awaiting => "awaiting_committee",
            Stage::Active => "active",
            Stage::Closed => "closed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Track {
    Adult,
    Youth,
}

impl Track {
    fn name(self) -> &'static str {
        match self {
            Track::Adult => "adult",
            Track::Youth => "youth",
        }
    }

    /// The committee's departments: the two that send leaders and caseworkers, then the
    /// fixed-staff department (as `World::new` creates them).
    fn departments(self) -> [&'static str; 3] {
        match self {
            Track::Adult => ["labour_market", "social", "health_care"],
            Track::Youth => ["youth", "social", "school"],
        }
    }

    /// The fixed members (as `World::new` seats them).
    fn seats(self) -> [(Person, &'static str); 5] {
        match self {
            Track::Adult => [
                (ADULT_LEADER_LM, "leader"),
                (ADULT_LEADER_SOC, "leader"),
                (ADULT_CW_LM, "caseworker"),
                (ADULT_CW_SOC, "caseworker"),
                (ADULT_FIXED, "fixed_staff"),
            ],
            Track::Youth => [
                (YOUTH_LEADER_Y, "leader"),
                (YOUTH_LEADER_SOC, "leader"),
                (YOUTH_CW_Y, "caseworker"),
                (YOUTH_CW_SOC, "caseworker"),
                (YOUTH_FIXED, "fixed_staff"),
            ],
        }
    }
}

/// Principals are matched by (sub, department); roles do not make another person.
fn same(a: Person, b: Person) -> bool {
    a.sub == b.sub && a.dept == b.dept
}

fn has(p: Person, role: &str) -> bool {
    p.roles.contains(&role)
}

/// The principal's seat on the committee, if any.
fn seat(p: Person, track: Track) -> Option<&'static str> {
    track.seats().into_iter().find(|(m, _)| same(*m, p)).map(|(_, role)| role)
}

/// api.md: "a `leader` member of that committee" — the role and a leader's seat.
fn leader_member(p: Person, track: Track) -> bool {
    has(p, "leader") && seat(p, track) == Some("leader")
}

/// Any role that works with cases. api.md: `auditor` reads the audit log "and nothing else for
/// that role", so a bare auditor gets 403 everywhere else (including reading committees, which
/// the table otherwise grants "any authenticated principal" — SPEC: the more specific auditor
/// line wins; the implementation agrees).
fn case_role(p: Person) -> bool {
    ["caseworker", "leader", "admin", "system"].iter().any(|r| has(p, r))
}

/// api.md: "register a citizen, refer a case | `caseworker`, `leader`, `system`".
fn refers(p: Person) -> bool {
    ["caseworker", "leader", "system"].iter().any(|r| has(p, r))
}

/// A case of the matrix: an adult case in a given state, of one of two shapes.
///
/// The plain case (`wide: false`): the referral names `social` and `labour_market`, the
/// coordinator is `COORDINATOR` (labour_market) — every involved department is also a
/// department of the committee, and `youth` and `school` are not involved.
/// The wide case (`wide: true`) isolates the other two ways a department is involved: its
/// referral also names `school`, and its coordinator is `PRESENTER` (youth), so that `youth`
/// is involved only from the initial decision on.
/// The consent dimension (`sharing: true`, a wide case only): the citizen's data_sharing
/// consent names `school`, the one department the referral alone involves — which sees the case
/// only by that consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Case {
    stage: Stage,
    wide: bool,
    sharing: bool,
}

const fn plain(stage: Stage) -> Case {
    Case { stage, wide: false, sharing: false }
}

const fn wide(stage: Stage) -> Case {
    Case { stage, wide: true, sharing: false }
}

const fn shared(stage: Stage) -> Case {
    Case { stage, wide: true, sharing: true }
}

impl Case {
    fn name(self) -> String {
        if self.sharing {
            format!("{}, wide, school shared", self.stage.name())
        } else if self.wide {
            format!("{}, wide", self.stage.name())
        } else {
            self.stage.name().to_string()
        }
    }

    /// The coordinating caseworker, from the initial decision on.
    /// SPEC: a closed case keeps its coordinator (nothing in api.md ends the coordination), so
    /// the coordinator still takes part in it.
    fn coordinator(self) -> Option<Person> {
        (self.stage >= Stage::Active).then_some(if self.wide { PRESENTER } else { COORDINATOR })
    }

    fn referral_departments(self) -> &'static [&'static str] {
        if self.wide {
            &["social", "labour_market", "school"]
        } else {
            &["social", "labour_market"]
        }
    }

    /// api.md: "A principal takes part in a case when they referred it, screened it,
    /// coordinate it, sit on the committee of its track, present it at a meeting, or are in
    /// its background group." Being named among the referral's `involved_caseworkers` is none
    /// of these.
    fn takes_part(self, p: Person) -> bool {
        same(p, REFERRER)
            || (self.stage >= Stage::Awaiting && same(p, ADULT_LEADER_SOC))
            || self.coordinates(p)
            || seat(p, Track::Adult).is_some()
            || (self.stage >= Stage::Awaiting && same(p, PRESENTER))
            || (self.stage >= Stage::Active && same(p, BACKGROUND))
    }

    /// The departments the citizen's current data_sharing consent names.
    fn shared_departments(self) -> &'static [&'static str] {
        if self.sharing {
            &["school"]
        } else {
            &[]
        }
    }

    /// api.md: the departments involved in a case — "the committee's departments and the
    /// coordinator's department always, and the referral's other involved departments only
    /// while the citizen's current `data_sharing` consent names them".
    fn department_involved(self, dept: &str) -> bool {
        Track::Adult.departments().contains(&dept)
            || self.coordinator().is_some_and(|c| c.dept == dept)
            || (self.referral_departments().contains(&dept) && self.shared_departments().contains(&dept))
    }

    /// api.md: those who take part see the case; a `leader` or `system` principal also sees
    /// the cases their department is involved in. Anyone else gets 404.
    fn sees(self, p: Person) -> bool {
        self.takes_part(p) || ((has(p, "leader") || has(p, "system")) && self.department_involved(p.dept))
    }

    /// Whether the principal sees the case without the citizen's data-sharing consent.
    fn sees_without_consent(self, p: Person) -> bool {
        let always =
            Track::Adult.departments().contains(&p.dept) || self.coordinator().is_some_and(|c| c.dept == p.dept);
        self.takes_part(p) || ((has(p, "leader") || has(p, "system")) && always)
    }

    /// "record or withdraw a consent | the case's referrer, its coordinator, or a leader who sees
    /// it". SPEC: a leader whose department sees the case only by the citizen's data-sharing
    /// consent may not record or withdraw consents (403), so that no department extends its own
    /// access (a finding of the red-team pass).
    fn records_consents(self, p: Person) -> bool {
        same(p, REFERRER) || self.coordinates(p) || (has(p, "leader") && self.sees_without_consent(p))
    }

    /// api.md: "the case's current coordinator".
    fn coordinates(self, p: Person) -> bool {
        self.coordinator().is_some_and(|c| same(c, p))
    }
}

/// The cases the read cells share, in one service instance: each state of both shapes, and the
/// wide case with the consent before and after its initial decision.
const READ_CASES: [Case; 10] = [
    plain(Stage::Referred),
    plain(Stage::Awaiting),
    plain(Stage::Active),
    plain(Stage::Closed),
    wide(Stage::Referred),
    wide(Stage::Awaiting),
    wide(Stage::Active),
    wide(Stage::Closed),
    shared(Stage::Referred),
    shared(Stage::Active),
];

// ---------------------------------------------------------------------------------------------
// The operations (columns)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OfferDept {
    /// An offer of `health_care`.
    HealthCare,
    /// An offer of the caller's own department.
    Own,
}

#[derive(Clone, Copy, Debug)]
enum Probe {
    CitizensRegister,
    CitizensGet(Case),
    CasesList(Case),
    CasesRefer,
    CasesGet(Case),
    CasesEdit(Case),
    CasesScreen(Case),
    CasesHistory(Case),
    CasesParticipation(Case),
    CasesClose(Case),
    PlansCurrent(Case),
    /// The current plan as the citizen's own copy (`Accept: text/html`).
    PlansCopy(Case),
    /// The current plan as a FHIR bundle (`Accept: application/fhir+json`).
    PlansFhir(Case),
    PlansVersions(Case),
    PlansVersion(Case),
    PlansAddIntervention(Case),
    PlansChangeIntervention(Case),
    BudgetGet(Case),
    BudgetSpend(Case),
    BudgetReverse(Case),
    CommitteesList,
    CommitteesCreate,
    CommitteesGet,
    CommitteesUpdate,
    CommitteesSetMembers,
    MeetingsList(Track),
    MeetingsCreate(Track),
    MeetingsGet(Case),
    MeetingsAddToAgenda(Case),
    MeetingsDecide(Case),
    MeetingsMinutes(Case),
    Events(Case),
    FollowUps(Case),
    StatsFlow,
    OffersList,
    OffersCreate(OfferDept),
    OffersGet,
    OffersUpdate,
    SubscriptionsList,
    SubscriptionsCreate,
    SubscriptionsRemove,
    Audit,
    ConsentsList(Case),
    ConsentsGive(Case),
    ConsentsWithdraw(Case),
    TransitionsList(Case),
    MeTasks(Case),
    CitizensExport(Case),
}

use Stage::{Active, Awaiting, Closed, Referred};

/// Every column of the matrix.
fn probes() -> Vec<Probe> {
    use Probe::*;
    let mut all = vec![CitizensRegister, CasesRefer];
    for c in READ_CASES {
        all.extend([CitizensGet(c), CasesList(c), CasesGet(c)]);
    }
    for c in [plain(Referred), plain(Awaiting), plain(Active), plain(Closed), wide(Active)] {
        all.extend([CasesHistory(c), BudgetGet(c)]);
    }
    all.extend([CasesEdit(plain(Referred)), CasesEdit(plain(Awaiting))]);
    all.extend([CasesScreen(plain(Referred)), CasesScreen(plain(Awaiting))]);
    all.extend([CasesParticipation(plain(Active)), CasesParticipation(plain(Closed))]);
    all.extend([CasesClose(plain(Awaiting)), CasesClose(plain(Active)), CasesClose(plain(Closed))]);
    all.push(CasesClose(wide(Active)));
    for c in [plain(Active), plain(Closed), wide(Active)] {
        all.extend([PlansCurrent(c), PlansCopy(c), PlansFhir(c), PlansVersions(c), PlansVersion(c)]);
        all.extend([PlansAddIntervention(c), PlansChangeIntervention(c), BudgetSpend(c), BudgetReverse(c)]);
    }
    all.extend([CommitteesList, CommitteesGet, CommitteesCreate, CommitteesUpdate, CommitteesSetMembers]);
    for t in [Track::Adult, Track::Youth] {
        all.extend([MeetingsList(t), MeetingsCreate(t)]);
    }
    for c in [plain(Awaiting), plain(Active), wide(Active)] {
        all.push(MeetingsGet(c));
    }
    all.extend([MeetingsMinutes(plain(Active)), MeetingsMinutes(wide(Active))]);
    all.extend([MeetingsAddToAgenda(plain(Referred)), MeetingsAddToAgenda(plain(Awaiting))]);
    all.extend([MeetingsDecide(plain(Awaiting)), MeetingsDecide(plain(Active)), MeetingsDecide(plain(Closed))]);
    for c in [plain(Active), wide(Referred), wide(Active), shared(Referred), shared(Active)] {
        all.push(Events(c));
    }
    for c in [plain(Active), wide(Active), shared(Active)] {
        all.push(ConsentsList(c));
    }
    for c in [plain(Referred), plain(Active), plain(Closed), wide(Active), shared(Referred)] {
        all.push(ConsentsGive(c));
    }
    all.extend([ConsentsWithdraw(plain(Active)), ConsentsWithdraw(plain(Closed)), ConsentsWithdraw(shared(Active))]);
    all.push(TransitionsList(plain(Active)));
    for c in [plain(Referred), plain(Awaiting), plain(Active), shared(Referred)] {
        all.push(MeTasks(c));
    }
    all.push(CitizensExport(plain(Active)));
    all.extend([FollowUps(plain(Active)), FollowUps(wide(Active)), StatsFlow]);
    all.extend([
        OffersList,
        OffersGet,
        OffersCreate(OfferDept::HealthCare),
        OffersCreate(OfferDept::Own),
        OffersUpdate,
    ]);
    all.extend([SubscriptionsList, SubscriptionsCreate, SubscriptionsRemove, Audit]);
    all
}

impl Probe {
    /// The operation of `openapi/openapi.json` this probe exercises: method and path template.
    fn operation(self) -> (&'static str, &'static str) {
        use Probe::*;
        match self {
            CitizensRegister => ("POST", "/api/v1/citizens"),
            CitizensGet(_) => ("GET", "/api/v1/citizens/{id}"),
            CasesList(_) => ("GET", "/api/v1/cases"),
            CasesRefer => ("POST", "/api/v1/cases"),
            CasesGet(_) => ("GET", "/api/v1/cases/{id}"),
            CasesEdit(_) => ("PATCH", "/api/v1/cases/{id}"),
            CasesScreen(_) => ("POST", "/api/v1/cases/{id}/screening"),
            CasesHistory(_) => ("GET", "/api/v1/cases/{id}/history"),
            CasesParticipation(_) => ("POST", "/api/v1/cases/{id}/participation"),
            CasesClose(_) => ("POST", "/api/v1/cases/{id}/closure"),
            PlansCurrent(_) | PlansCopy(_) | PlansFhir(_) => ("GET", "/api/v1/cases/{id}/plan"),
            PlansVersions(_) => ("GET", "/api/v1/cases/{id}/plan/versions"),
            PlansVersion(_) => ("GET", "/api/v1/cases/{id}/plan/versions/{n}"),
            PlansAddIntervention(_) => ("POST", "/api/v1/cases/{id}/plan/interventions"),
            PlansChangeIntervention(_) => ("PATCH", "/api/v1/cases/{id}/plan/interventions/{iid}"),
            BudgetGet(_) => ("GET", "/api/v1/cases/{id}/budget"),
            BudgetSpend(_) => ("POST", "/api/v1/cases/{id}/budget/spends"),
            BudgetReverse(_) => ("POST", "/api/v1/cases/{id}/budget/spends/{entry_id}/reversal"),
            CommitteesList => ("GET", "/api/v1/committees"),
            CommitteesCreate => ("POST", "/api/v1/committees"),
            CommitteesGet => ("GET", "/api/v1/committees/{id}"),
            CommitteesUpdate => ("PATCH", "/api/v1/committees/{id}"),
            CommitteesSetMembers => ("PUT", "/api/v1/committees/{id}/members"),
            MeetingsList(_) => ("GET", "/api/v1/committees/{id}/meetings"),
            MeetingsCreate(_) => ("POST", "/api/v1/committees/{id}/meetings"),
            MeetingsGet(_) => ("GET", "/api/v1/meetings/{id}"),
            MeetingsAddToAgenda(_) => ("POST", "/api/v1/meetings/{id}/agenda"),
            MeetingsDecide(_) => ("POST", "/api/v1/meetings/{id}/decisions"),
            MeetingsMinutes(_) => ("GET", "/api/v1/meetings/{id}/minutes"),
            Events(_) => ("GET", "/api/v1/events"),
            FollowUps(_) => ("GET", "/api/v1/follow-ups"),
            StatsFlow => ("GET", "/api/v1/stats/flow"),
            OffersList => ("GET", "/api/v1/offers"),
            OffersCreate(_) => ("POST", "/api/v1/offers"),
            OffersGet => ("GET", "/api/v1/offers/{id}"),
            OffersUpdate => ("PATCH", "/api/v1/offers/{id}"),
            SubscriptionsList => ("GET", "/api/v1/subscriptions"),
            SubscriptionsCreate => ("POST", "/api/v1/subscriptions"),
            SubscriptionsRemove => ("DELETE", "/api/v1/subscriptions/{id}"),
            Audit => ("GET", "/api/v1/audit"),
            ConsentsList(_) => ("GET", "/api/v1/cases/{id}/consents"),
            ConsentsGive(_) => ("POST", "/api/v1/cases/{id}/consents"),
            ConsentsWithdraw(_) => ("POST", "/api/v1/cases/{id}/consents/{consent_id}/withdrawal"),
            TransitionsList(_) => ("GET", "/api/v1/transitions"),
            MeTasks(_) => ("GET", "/api/v1/me/tasks"),
            CitizensExport(_) => ("GET", "/api/v1/citizens/{id}/export"),
        }
    }

    /// The case a cell of this column works on, if any.
    fn case(self) -> Option<Case> {
        use Probe::*;
        match self {
            CitizensGet(c)
            | CasesList(c)
            | CasesGet(c)
            | CasesEdit(c)
            | CasesScreen(c)
            | CasesHistory(c)
            | CasesParticipation(c)
            | CasesClose(c)
            | PlansCurrent(c)
            | PlansCopy(c)
            | PlansFhir(c)
            | PlansVersions(c)
            | PlansVersion(c)
            | PlansAddIntervention(c)
            | PlansChangeIntervention(c)
            | BudgetGet(c)
            | BudgetSpend(c)
            | BudgetReverse(c)
            | MeetingsGet(c)
            | MeetingsAddToAgenda(c)
            | MeetingsDecide(c)
            | MeetingsMinutes(c)
            | Events(c)
            | FollowUps(c)
            | ConsentsList(c)
            | ConsentsGive(c)
            | ConsentsWithdraw(c)
            | TransitionsList(c)
            | MeTasks(c)
            | CitizensExport(c) => Some(c),
            _ => None,
        }
    }

    /// What distinguishes columns of one operation.
    fn variant(self) -> String {
        use Probe::*;
        match self {
            MeetingsDecide(c) => format!(" [{} decision; {}]", decision_kind(c), c.name()),
            PlansCopy(c) => format!(" [citizen's copy, text/html; {}]", c.name()),
            PlansFhir(c) => format!(" [FHIR; {}]", c.name()),
            MeetingsList(t) | MeetingsCreate(t) => format!(" [{} committee]", t.name()),
            OffersCreate(OfferDept::HealthCare) | OffersUpdate => " [health_care offer]".into(),
            OffersCreate(OfferDept::Own) => " [own dept's offer]".into(),
            CommitteesGet | CommitteesUpdate | CommitteesSetMembers => " [adult committee]".into(),
            SubscriptionsRemove => " [labour_market's]".into(),
            StatsFlow => " [adult committee: cases counted]".into(),
            _ => self.case().map(|c| format!(" [{}]", c.name())).unwrap_or_default(),
        }
    }

    fn label(self) -> String {
        let (method, path) = self.operation();
        format!("{method} {path}{}", self.variant())
    }

    /// Read cells share one set of cases; every other cell gets its own.
    fn is_read(self) -> bool {
        self.operation().0 == "GET"
    }
}

/// The kind of decision a `MeetingsDecide` column records: the first decision of an awaiting
/// case, else a follow-up.
fn decision_kind(case: Case) -> &'static str {
    if case.stage == Awaiting {
        "initial"
    } else {
        "follow_up"
    }
}

// ---------------------------------------------------------------------------------------------
// The expected outcome of each cell, from api.md
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Allowed,
    /// 2xx, and the list shows the case.
    Shown,
    /// 2xx, and the list leaves the case out.
    Omitted,
    /// 2xx, counting this many of the shared cases.
    Counted(usize),
    /// 403 `forbidden`.
    Forbidden,
    /// 404 `not_found`.
    Hidden,
    /// 409 `invalid_transition` / `conflict`: allowed, but not in this state.
    Conflict,
    /// Anything else (status).
    Other(u16),
}

impl Outcome {
    fn letter(self) -> char {
        match self {
            Outcome::Allowed => 'A',
            Outcome::Shown => 'S',
            Outcome::Omitted => 'o',
            Outcome::Counted(n) => char::from_digit(n as u32, 10).unwrap_or('#'),
            Outcome::Forbidden => 'F',
            Outcome::Hidden => 'H',
            Outcome::Conflict => 'C',
            Outcome::Other(_) => '?',
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Allowed => write!(f, "Allowed (2xx)"),
            Outcome::Shown => write!(f, "Shown (2xx, case listed)"),
            Outcome::Omitted => write!(f, "Omitted (2xx, case not listed)"),
            Outcome::Counted(n) => write!(f, "Counted (2xx, {n} cases counted)"),
            Outcome::Forbidden => write!(f, "Forbidden (403)"),
            Outcome::Hidden => write!(f, "Hidden (404)"),
            Outcome::Conflict => write!(f, "Conflict (409)"),
            Outcome::Other(s) => write!(f, "Other ({s})"),
        }
    }
}

/// A read of a case or of something under it: role, then visibility.
fn case_read(p: Person, case: Case) -> Outcome {
    if !case_role(p) {
        Outcome::Forbidden
    } else if !case.sees(p) {
        Outcome::Hidden
    } else {
        Outcome::Allowed
    }
}

/// A list that may show the case: the list is there for every case role; the case is in it
/// only for those who see it ("one access rule decides this for every path that can reveal a
/// case — ... lists ...").
fn case_list(p: Person, case: Case) -> Outcome {
    if !case_role(p) {
        Outcome::Forbidden
    } else if case.sees(p) {
        Outcome::Shown
    } else {
        Outcome::Omitted
    }
}

/// A change of a case: role, then visibility (404 for "everything under" a case one does not
/// see), then the operation's rule (403), then the case's state (409).
/// SPEC: api.md does not order 404 before the operation rule's 403 for a case one does not
/// see; "Anyone else gets 404 for the case and everything under it" is read as coming first
/// (as the implementation does), and only a bare `auditor` (no case role at all) gets 403
/// before visibility. Likewise 403 before 409: the rule of who may act decides before the
/// state of the case.
fn case_write(p: Person, case: Case, may: bool, state_allows: bool) -> Outcome {
    if !case_role(p) {
        Outcome::Forbidden
    } else if !case.sees(p) {
        Outcome::Hidden
    } else if !may {
        Outcome::Forbidden
    } else if !state_allows {
        Outcome::Conflict
    } else {
        Outcome::Allowed
    }
}

/// SPEC: api.md's table names "meetings, agenda | `admin`, or a `leader` member of that
/// committee" without separating reading from planning. The implementation lets every member
/// of the committee, the leaders and system accounts of its departments, and admins read its
/// meetings (agenda items and minutes still show only the cases the reader sees); this matrix
/// follows it. A presenter who sits in for one case does not read the meeting.
fn meeting_reader(p: Person, track: Track) -> bool {
    has(p, "admin")
        || (seat(p, track).is_some() && case_role(p))
        || ((has(p, "leader") || has(p, "system")) && track.departments().contains(&p.dept))
}

/// api.md: "meetings, agenda | `admin`, or a `leader` member of that committee".
fn meeting_organiser(p: Person, track: Track) -> bool {
    has(p, "admin") || leader_member(p, track)
}

fn expected(probe: Probe, p: Person) -> Outcome {
    use Outcome::*;
    use Probe::*;
    let allowed_if = |ok: bool| if ok { Allowed } else { Forbidden };
    match probe {
        // "register a citizen, refer a case | caseworker, leader, system"
        CitizensRegister | CasesRefer => allowed_if(refers(p)),
        // "GET /citizens/{id} → only for a principal who sees one of the citizen's cases"
        CitizensGet(c) => case_read(p, c),
        // The case, its history, its budget, its plan: "everything under" the case.
        // The citizen's copy and the FHIR bundle are the same plan: the same rule.
        CasesGet(c) | CasesHistory(c) | BudgetGet(c) | PlansCurrent(c) | PlansCopy(c) | PlansFhir(c)
        | PlansVersions(c) | PlansVersion(c) => case_read(p, c),
        // "GET /cases — only cases the caller sees"
        CasesList(c) => case_list(p, c),
        // "edit a referral (while referred) | its referrer, or a leader who sees it"
        CasesEdit(c) => case_write(p, c, same(p, REFERRER) || has(p, "leader"), c.stage == Referred),
        // "screen a case | a leader whose department is on the committee of the case's track";
        // only `referred` moves to `awaiting_committee`.
        CasesScreen(c) => {
            case_write(p, c, has(p, "leader") && Track::Adult.departments().contains(&p.dept), c.stage == Referred)
        }
        // "minor plan adjustments, spends, participation notes | the case's current coordinator";
        // "A closed case takes no further spends, decisions or adjustments (409)".
        CasesParticipation(c)
        | PlansAddIntervention(c)
        | PlansChangeIntervention(c)
        | BudgetSpend(c)
        | BudgetReverse(c) => case_write(p, c, c.coordinates(p), c.stage == Active),
        // "close a case | its coordinator, or a leader member of its committee"; only
        // `active` → `closed`.
        CasesClose(c) => case_write(p, c, c.coordinates(p) || leader_member(p, Track::Adult), c.stage == Active),
        // "read committees and their members | any authenticated principal" (but the auditor).
        CommitteesList | CommitteesGet => allowed_if(case_role(p)),
        // "create committees, set their members | admin". SPEC: PATCH /committees/{id}
        // (rename, activate) is not in api.md; as a committee write it is `admin`'s too.
        CommitteesCreate | CommitteesUpdate | CommitteesSetMembers => allowed_if(has(p, "admin")),
        MeetingsList(t) => allowed_if(meeting_reader(p, t)),
        MeetingsCreate(t) => allowed_if(meeting_organiser(p, t)),
        // The meeting is for its readers; its agenda and minutes show only the cases the
        // reader sees.
        MeetingsGet(c) | MeetingsMinutes(c) => {
            if !meeting_reader(p, Track::Adult) {
                Forbidden
            } else if c.sees(p) {
                Shown
            } else {
                Omitted
            }
        }
        // "meetings, agenda | admin, or a leader member"; "the case must be
        // awaiting_committee or active". SPEC: api.md grants the agenda to `admin` but gives
        // `admin` no part in any case, and "one access rule decides this for every path that
        // can reveal a case" (the agenda item names the citizen): the visibility rule is read
        // as deciding, so an admin who does not see the case gets 404 (as the implementation
        // does). The organiser rule (403) comes before the case is looked up.
        MeetingsAddToAgenda(c) => {
            if !meeting_organiser(p, Track::Adult) {
                Forbidden
            } else if !c.sees(p) {
                Hidden
            } else if !matches!(c.stage, Awaiting | Active) {
                Conflict
            } else {
                Allowed
            }
        }
        // "decisions | a leader member of that committee"; initial: awaiting → active; a
        // follow-up needs an active case; a closed case takes no further decisions (409).
        MeetingsDecide(c) => {
            let applies_to = if decision_kind(c) == "initial" { Awaiting } else { Active };
            if !leader_member(p, Track::Adult) {
                Forbidden
            } else if !c.sees(p) {
                Hidden
            } else if c.stage != applies_to {
                Conflict
            } else {
                Allowed
            }
        }
        // "event feed | system, admin"; "the caller's department's events".
        // SPEC: the Integration section scopes the feed by the caller's department (not by the
        // person), so an `admin` reads their department's events although they take part in no
        // case (as implemented).
        Events(c) => {
            if !(has(p, "system") || has(p, "admin")) {
                Forbidden
            } else if c.department_involved(p.dept) {
                Shown
            } else {
                Omitted
            }
        }
        // SPEC: api.md names no role for /follow-ups; it is a list of cases, so every case
        // role gets it and it shows only the cases the caller sees (as implemented).
        FollowUps(c) => case_list(p, c),
        // "statistics | leader, admin", decided by the one access rule: a leader's figures
        // count the cases the leader sees. SPEC: read strictly, the access rule would give an
        // `admin` (who takes part in no case) empty statistics, which would make the `admin`
        // grant pointless; the implementation counts every case for an admin (statistics hold
        // no personal data), and this matrix follows it.
        StatsFlow => {
            if has(p, "admin") {
                Counted(READ_CASES.len())
            } else if has(p, "leader") {
                Counted(READ_CASES.iter().filter(|c| c.sees(p)).count())
            } else {
                Forbidden
            }
        }
        // SPEC: api.md names no role for reading the catalog; every case role reads it (as
        // implemented), the bare auditor does not.
        OffersList | OffersGet => allowed_if(case_role(p)),
        // "offers catalog: write | admin, or a leader for their own department"
        OffersCreate(OfferDept::HealthCare) | OffersUpdate => {
            allowed_if(has(p, "admin") || (has(p, "leader") && p.dept == "health_care"))
        }
        OffersCreate(OfferDept::Own) => allowed_if(has(p, "admin") || has(p, "leader")),
        // SPEC: webhook subscriptions are not in api.md. As implemented: a `system` account
        // manages its own department's subscriptions; another department's is not found.
        SubscriptionsList | SubscriptionsCreate => allowed_if(has(p, "system")),
        SubscriptionsRemove => {
            if !has(p, "system") {
                Forbidden
            } else if p.dept != LM_SYSTEM.dept {
                Hidden
            } else {
                Allowed
            }
        }
        // "audit log | auditor"
        Audit => allowed_if(has(p, "auditor")),
        // Consents are under the case: its readers read them.
        ConsentsList(c) => case_read(p, c),
        // "record or withdraw a consent | the case's referrer, its coordinator, or a leader who
        // sees it". SPEC: api.md is silent on consents of a closed case; the implementation
        // takes none (409), while a withdrawal stays possible in every state.
        ConsentsGive(c) => case_write(p, c, c.records_consents(p), c.stage != Closed),
        ConsentsWithdraw(c) => case_write(p, c, c.records_consents(p), true),
        // "own task list (/me/tasks) | caseworker, leader, admin, system": of the matrix's cases,
        // only a referred one makes a task — screening, for the leaders of the committee's
        // departments (an awaiting case is on an upcoming agenda; the active one has its
        // follow-up in 60 days, no dated intervention and no expiring consent). A department
        // that sees a case by consent alone screens nothing.
        MeTasks(c) => {
            if !case_role(p) {
                Forbidden
            } else if c.stage == Referred && has(p, "leader") && Track::Adult.departments().contains(&p.dept) {
                Shown
            } else {
                Omitted
            }
        }
        // "a citizen's full export (access request) | auditor": whoever takes part in the case or
        // not; every other role 403, on record as a denied access to the citizen.
        CitizensExport(_) => allowed_if(has(p, "auditor")),
        // "transitions list | leader, admin": active youth cases turning 30; the matrix's adult
        // case is never among them (tests/transitions.rs has the youth cases).
        TransitionsList(_) => {
            if has(p, "leader") || has(p, "admin") {
                Omitted
            } else {
                Forbidden
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Performing a cell
// ---------------------------------------------------------------------------------------------

/// A case in a given state, with what the columns under it need.
#[derive(Clone, Debug)]
struct Fixture {
    case: String,
    citizen: String,
    /// An intervention of the current plan (from `Active`).
    intervention: Option<String>,
    /// A spend of the coordinator (from `Active`).
    spend: Option<String>,
    /// The citizen's plan consent (from `Awaiting`).
    consent: Option<String>,
}

/// The shared, never-changed cases and offer of the read cells.
struct ReadSet {
    cases: Vec<(Case, Fixture)>,
    offer: String,
}

/// One service instance with both committees, and the meetings its cases go to.
struct Ctx {
    world: World,
    /// The adult committee's meeting every fixture's agenda item and decisions go to.
    meeting: String,
    /// Another adult meeting, for the agenda columns.
    spare_meeting: String,
    read: Option<ReadSet>,
}

fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset)).format("%Y-%m-%d").to_string()
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut path = template.to_string();
    for (name, value) in vars {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    assert!(!path.contains('{'), "unfilled path parameter in {path}");
    path
}

fn person(p: Person, name: &str) -> Value {
    json!({"sub": p.sub, "name": name, "department": p.dept})
}

fn members(track: Track) -> Value {
    Value::Array(
        track
            .seats()
            .iter()
            .map(|(p, role)| json!({"sub": p.sub, "name": format!("Member {}", p.sub), "department": p.dept, "role": role}))
            .collect(),
    )
}

fn expect(res: Response, statuses: &[u16], what: &str) -> Response {
    assert!(statuses.contains(&res.status.as_u16()), "setup step failed: {what}: {} {}", res.status, res.text);
    res
}

impl Ctx {
    async fn new(read: bool) -> Ctx {
        let world = World::new().await;
        let meeting = world.meeting(AGE).await;
        let spare_meeting = world.meeting(AGE).await;
        let mut ctx = Ctx { world, meeting, spare_meeting, read: None };
        if read {
            let mut cases = Vec::new();
            for case in READ_CASES {
                cases.push((case, ctx.build(case).await));
            }
            let offer = ctx.offer().await;
            ctx.read = Some(ReadSet { cases, offer });
        }
        ctx
    }

    fn token(&self, p: Person) -> String {
        self.world.token(p)
    }

    async fn citizen(&self) -> String {
        let app = &self.world.app;
        let body = json!({"cpr": cpr_for_age(AGE, 20), "name": "Matrix Borger"});
        expect(app.post("/api/v1/citizens", &self.token(REFERRER), &body).await, &[200, 201], "citizen").id()
    }

    /// A new case (see `Stage` and `Case`).
    async fn build(&self, c: Case) -> Fixture {
        let app = &self.world.app;
        let citizen = self.citizen().await;
        let mut body = referral(&citizen);
        body["involved_departments"] = json!(c.referral_departments());
        body["involved_caseworkers"] = json!([person(REFERRER, "Rita"), person(NAMED, "Ivan Involveret")]);
        let case = expect(app.post("/api/v1/cases", &self.token(REFERRER), &body).await, &[201], "referral").id();
        let mut fixture = Fixture { case: case.clone(), citizen, intervention: None, spend: None, consent: None };
        let consents = format!("/api/v1/cases/{case}/consents");
        if c.sharing {
            let body = json!({"kind": "data_sharing", "given_by": "citizen", "form": "written", "given_on": day(0),
                              "departments": c.shared_departments()});
            expect(app.post(&consents, &self.token(REFERRER), &body).await, &[201], "data sharing consent");
        }
        if c.stage >= Awaiting {
            let body = json!({"kind": "plan", "given_by": "citizen", "form": "written", "given_on": day(0)});
            let consent = expect(app.post(&consents, &self.token(REFERRER), &body).await, &[201], "plan consent");
            fixture.consent = Some(consent.id());
            let path = format!("/api/v1/cases/{case}/screening");
            let res = app.post(&path, &self.token(ADULT_LEADER_SOC), &json!({"outcome": "accepted"})).await;
            expect(res, &[200], "screening");
            let path = format!("/api/v1/meetings/{}/agenda", self.meeting);
            let body = json!({"case_id": case, "presenting_caseworkers": [person(PRESENTER, "Pernille Præsentør")]});
            expect(app.post(&path, &self.token(ADULT_LEADER_LM), &body).await, &[201], "agenda");
        }
        if let Some(coordinator) = c.coordinator() {
            let mut decision = initial_decision(&case, AGE);
            decision["coordinator"] = person(coordinator, "Koordinator");
            decision["background_group"] = json!([{
                "sub": BACKGROUND.sub, "name": "Bodil Baggrund", "department": BACKGROUND.dept, "side": "authority"
            }]);
            let path = format!("/api/v1/meetings/{}/decisions", self.meeting);
            expect(app.post(&path, &self.token(ADULT_LEADER_LM), &decision).await, &[201], "initial decision");
            let plan = app.get(&format!("/api/v1/cases/{case}/plan"), &self.token(ADULT_LEADER_LM)).await;
            let plan = expect(plan, &[200], "plan");
            fixture.intervention = plan.body["interventions"][0]["id"].as_str().map(str::to_string);
            let body = json!({"amount_ore": 25_000, "category": "transport", "description": "Buskort"});
            let path = format!("/api/v1/cases/{case}/budget/spends");
            let spend = expect(app.post(&path, &self.token(coordinator), &body).await, &[201], "spend");
            fixture.spend = spend.body["entry"]["id"].as_str().map(str::to_string);
            if c.stage == Closed {
                let path = format!("/api/v1/cases/{case}/closure");
                let res = app.post(&path, &self.token(coordinator), &json!({"reason": "employment"})).await;
                expect(res, &[200], "closure");
            }
        }
        fixture
    }

    /// The case of a cell: the shared one for a read cell, a new one for any other.
    async fn case(&self, c: Case) -> Fixture {
        match &self.read {
            Some(read) => read.cases.iter().find(|(k, _)| *k == c).expect("a shared case").1.clone(),
            None => self.build(c).await,
        }
    }

    async fn offer(&self) -> String {
        let body =
            json!({"name": "Mentorforløb", "department": "health_care", "category": "mentor_support", "track": "both"});
        expect(self.world.app.post("/api/v1/offers", &self.token(ADMIN), &body).await, &[201], "offer").id()
    }

    fn committee(&self, track: Track) -> &str {
        match track {
            Track::Adult => &self.world.adult_committee,
            Track::Youth => &self.world.youth_committee,
        }
    }

    async fn set_active(&self, committee: &str, active: bool) {
        let path = format!("/api/v1/committees/{committee}");
        let res = self.world.app.patch(&path, &self.token(ADMIN), &json!({"active": active})).await;
        expect(res, &[200], "committee (de)activation");
    }
}

/// Where in a response a cell looks for its case.
#[derive(Clone, Debug)]
enum Look {
    /// The list of `GET /cases`, `/follow-ups`, an agenda, the minutes, the event feed.
    Cases,
    FollowUps,
    Agenda,
    Minutes,
    /// The event feed (CloudEvents: the case is the `subject`).
    Events,
    /// The task list.
    Tasks,
    /// How many cases the adult committee's flow statistics count.
    Counted(String),
}

fn lists(body: &Value, look: &Look, case: &str) -> bool {
    let (items, pointer) = match look {
        Look::Cases => (&body["items"], "/id"),
        Look::FollowUps => (&body["items"], "/case/id"),
        Look::Agenda => (&body["agenda"], "/case/id"),
        Look::Minutes => (&body["items"], "/decision/case_id"),
        Look::Events => (&body["items"], "/subject"),
        Look::Tasks => (&body["items"], "/case_id"),
        Look::Counted(_) => unreachable!("not a list"),
    };
    items.as_array().is_some_and(|items| items.iter().any(|i| i.pointer(pointer).and_then(Value::as_str) == Some(case)))
}

/// The number of cases the flow statistics count for one committee.
fn counted(body: &Value, committee: &str) -> usize {
    let committees = body["committees"].as_array().cloned().unwrap_or_default();
    let Some(flow) = committees.iter().find(|c| c["committee_id"] == committee) else {
        return usize::MAX;
    };
    let by_status = flow["cases_by_status"].as_object().cloned().unwrap_or_default();
    by_status.values().map(|n| n.as_u64().unwrap_or(0) as usize).sum()
}

struct Observed {
    outcome: Outcome,
    status: u16,
    text: String,
    /// A 403 or 404 on a case (or its citizen) that left no `denied` entry in the audit log.
    unaudited: bool,
}

fn classify(res: &Response, look: Option<&(Look, String)>) -> Outcome {
    let status = res.status.as_u16();
    match (status, res.code()) {
        (200..=299, _) => match look {
            Some((Look::Counted(committee), _)) => Outcome::Counted(counted(&res.body, committee)),
            Some((look, case)) if lists(&res.body, look, case) => Outcome::Shown,
            Some(_) => Outcome::Omitted,
            None => Outcome::Allowed,
        },
        (403, "forbidden") => Outcome::Forbidden,
        (404, "not_found") => Outcome::Hidden,
        (409, "invalid_transition" | "conflict") => Outcome::Conflict,
        _ => Outcome::Other(status),
    }
}

/// Performs one cell: its setup, the request as `p`, its cleanup.
async fn perform(ctx: &Ctx, probe: Probe, p: Person) -> Observed {
    use Probe::*;
    let app = &ctx.world.app;
    let token = ctx.token(p);
    let (method, template) = probe.operation();
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let fixture = match probe.case() {
        Some(c) => Some(ctx.case(c).await),
        None => None,
    };
    let f = || fixture.as_ref().expect("the column's case");
    let case_path = || fill(template, &[("id", &f().case)]);
    let mut look: Option<(Look, String)> = None;
    let adult = ctx.committee(Track::Adult).to_string();
    // Setup: the path and body of the request.
    let (path, body): (String, Option<Value>) = match probe {
        CitizensRegister => (template.into(), Some(json!({"cpr": cpr_for_age(AGE, 40), "name": "Ny Borger"}))),
        CasesRefer => (template.into(), Some(referral(&ctx.citizen().await))),
        CitizensGet(_) => (fill(template, &[("id", &f().citizen)]), None),
        CasesGet(_) | CasesHistory(_) | BudgetGet(_) | PlansCurrent(_) | PlansCopy(_) | PlansFhir(_)
        | PlansVersions(_) => (case_path(), None),
        PlansVersion(_) => (fill(template, &[("id", &f().case), ("n", "1")]), None),
        CasesList(_) => {
            look = Some((Look::Cases, f().case.clone()));
            (format!("{template}?committee_id={adult}&limit=200"), None)
        }
        CasesEdit(_) => (case_path(), Some(json!({"description": "Corrected by the matrix."}))),
        CasesScreen(_) => (case_path(), Some(json!({"outcome": "accepted"}))),
        CasesParticipation(_) => {
            (case_path(), Some(json!({"on": day(0), "form": "phone", "citizen_view": "Going well."})))
        }
        CasesClose(_) => (case_path(), Some(json!({"reason": "employment"}))),
        PlansAddIntervention(_) => {
            (case_path(), Some(json!({"title": "Ekstra mentor", "responsible_department": "social"})))
        }
        PlansChangeIntervention(_) => {
            let iid = f().intervention.clone().expect("an intervention");
            (fill(template, &[("id", &f().case), ("iid", &iid)]), Some(json!({"status": "completed"})))
        }
        BudgetSpend(_) => {
            (case_path(), Some(json!({"amount_ore": 10_000, "category": "transport", "description": "Togbillet"})))
        }
        BudgetReverse(_) => {
            let entry = f().spend.clone().expect("a spend");
            (fill(template, &[("id", &f().case), ("entry_id", &entry)]), Some(json!({"reason": "Fejlpostering"})))
        }
        CommitteesList => (template.into(), None),
        CommitteesGet => (fill(template, &[("id", &adult)]), None),
        CommitteesCreate => {
            // The track's committee steps aside, so that an allowed creation succeeds.
            ctx.set_active(ctx.committee(Track::Youth), false).await;
            let body = json!({"name": "Unge (ny)", "track": "youth", "departments": Track::Youth.departments()});
            (template.into(), Some(body))
        }
        CommitteesUpdate => (fill(template, &[("id", &adult)]), Some(json!({"name": "Voksne"}))),
        CommitteesSetMembers => (fill(template, &[("id", &adult)]), Some(members(Track::Adult))),
        MeetingsList(t) => (fill(template, &[("id", ctx.committee(t))]), None),
        MeetingsCreate(t) => (
            fill(template, &[("id", ctx.committee(t))]),
            Some(json!({"scheduled_at": format!("{}T09:00:00Z", day(3))})),
        ),
        MeetingsGet(_) => {
            look = Some((Look::Agenda, f().case.clone()));
            (fill(template, &[("id", &ctx.meeting)]), None)
        }
        MeetingsMinutes(_) => {
            look = Some((Look::Minutes, f().case.clone()));
            (fill(template, &[("id", &ctx.meeting)]), None)
        }
        MeetingsAddToAgenda(_) => (
            fill(template, &[("id", &ctx.spare_meeting)]),
            Some(json!({"case_id": f().case, "presenting_caseworkers": []})),
        ),
        MeetingsDecide(c) => {
            let body = if decision_kind(c) == "initial" {
                initial_decision(&f().case, AGE)
            } else {
                json!({
                    "case_id": f().case,
                    "kind": "follow_up",
                    "members_present": World::quorum(AGE),
                    "citizen_participation": {"took_part": true, "form": "meeting"},
                    "follow_up_on": day(90)
                })
            };
            (fill(template, &[("id", &ctx.meeting)]), Some(body))
        }
        Events(_) => {
            look = Some((Look::Events, f().case.clone()));
            (format!("{template}?limit=200"), None)
        }
        FollowUps(_) => {
            look = Some((Look::FollowUps, f().case.clone()));
            (format!("{template}?committee_id={adult}&limit=200"), None)
        }
        StatsFlow => {
            look = Some((Look::Counted(adult.clone()), String::new()));
            (format!("{template}?committee_id={adult}"), None)
        }
        OffersList => (format!("{template}?department=health_care"), None),
        OffersGet => {
            let offer = ctx.read.as_ref().expect("the shared offer").offer.clone();
            (fill(template, &[("id", &offer)]), None)
        }
        OffersCreate(dept) => {
            let dept = if dept == OfferDept::HealthCare { "health_care" } else { p.dept };
            let body =
                json!({"name": "Transportordning", "department": dept, "category": "transport", "track": "adult"});
            (template.into(), Some(body))
        }
        OffersUpdate => (fill(template, &[("id", &ctx.offer().await)]), Some(json!({"description": "Opdateret."}))),
        SubscriptionsList => (template.into(), None),
        SubscriptionsCreate => (template.into(), Some(json!({"url": "http://127.0.0.1:9/matrix-hook"}))),
        SubscriptionsRemove => {
            let body = json!({"url": "http://127.0.0.1:9/matrix-hook"});
            let res = app.post(template.trim_end_matches("/{id}"), &ctx.token(LM_SYSTEM), &body).await;
            (fill(template, &[("id", &expect(res, &[201], "subscription").id())]), None)
        }
        Audit => (format!("{template}?limit=1"), None),
        ConsentsList(_) => (case_path(), None),
        CitizensExport(_) => (fill(template, &[("id", &f().citizen)]), None),
        MeTasks(_) => {
            look = Some((Look::Tasks, f().case.clone()));
            (format!("{template}?limit=200"), None)
        }
        TransitionsList(_) => {
            look = Some((Look::FollowUps, f().case.clone()));
            (format!("{template}?within_days=365&limit=200"), None)
        }
        ConsentsGive(_) => (
            case_path(),
            Some(json!({"kind": "data_sharing", "given_by": "citizen", "form": "oral", "given_on": day(0),
                        "departments": ["health_care"]})),
        ),
        ConsentsWithdraw(_) => {
            let consent = f().consent.clone().expect("a plan consent");
            (fill(template, &[("id", &f().case), ("consent_id", &consent)]), Some(json!({"on": day(0)})))
        }
    };

    // Letters only: a caller's id with anything CPR-shaped in it would be replaced.
    let letters: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_digit() { (c as u8 + 49) as char } else { c })
        .collect();
    let request_id = format!("matrix-{letters}");
    let mut req = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&token);
    req = req.header("x-request-id", &request_id);
    match probe {
        PlansCopy(_) => req = req.header("accept", "text/html"),
        PlansFhir(_) => req = req.header("accept", "application/fhir+json"),
        _ => {}
    }
    if let Some(body) = &body {
        req = req.json(body);
    }
    let res = common::TestApp::read(req.send().await.expect("request sent")).await;
    let outcome = classify(&res, look.as_ref());
    // Every refusal concerning a case — 404 or 403 alike — is on record as a denied access.
    let lists = matches!(
        probe,
        CasesList(_) | Events(_) | FollowUps(_) | MeetingsGet(_) | MeetingsMinutes(_) | TransitionsList(_) | MeTasks(_)
    );
    let unaudited = match (&fixture, outcome) {
        (Some(f), Outcome::Forbidden | Outcome::Hidden) if !lists => {
            app.count(&format!(
                "SELECT count(*) FROM audit_log WHERE request_id = '{request_id}' AND action = 'denied' \
                 AND status = {} AND (case_id = '{}' OR citizen_id = '{}')",
                res.status.as_u16(),
                f.case,
                f.citizen
            )) != 1
        }
        _ => false,
    };

    // Cleanup of what an allowed write left behind that other cells of this world would meet.
    match probe {
        CommitteesCreate => {
            if res.status.is_success() {
                ctx.set_active(&res.id(), false).await;
            }
            ctx.set_active(ctx.committee(Track::Youth), true).await;
        }
        SubscriptionsCreate if res.status.is_success() => {
            app.request(Method::DELETE, &format!("{template}/{}", res.id()), Some(&token), None).await;
        }
        SubscriptionsRemove => {
            app.request(Method::DELETE, &path, Some(&ctx.token(LM_SYSTEM)), None).await;
        }
        _ => {}
    }
    Observed { outcome, status: res.status.as_u16(), text: res.text, unaudited }
}

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

/// The `/api/v1` operations of `openapi/openapi.json`, as (METHOD, path template).
fn documented_operations() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json");
    let doc: Value = serde_json::from_str(&text).expect("the OpenAPI document is JSON");
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "put", "post", "patch", "delete", "head", "options", "trace"].contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn covered_operations() -> BTreeSet<(String, String)> {
    probes().into_iter().map(|p| p.operation()).map(|(m, path)| (m.to_string(), path.to_string())).collect()
}

/// A new endpoint cannot be forgotten: every documented operation has a column, and every
/// column is a documented operation.
#[test]
fn every_documented_operation_is_in_the_matrix() {
    let documented = documented_operations();
    let covered = covered_operations();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&documented).collect();
    assert!(missing.is_empty(), "operations of openapi.json the authorization matrix does not cover: {missing:?}");
    assert!(unknown.is_empty(), "matrix columns that are not operations of openapi.json: {unknown:?}");
}

struct Cell {
    probe: usize,
    row: usize,
    expected: Outcome,
}

struct CellResult {
    probe: usize,
    row: usize,
    expected: Outcome,
    observed: Observed,
}

/// Runs a world's cells one after the other.
async fn run(ctx: &Ctx, probes: &[Probe], cells: Vec<Cell>) -> Vec<CellResult> {
    let mut results = Vec::with_capacity(cells.len());
    for cell in cells {
        let observed = perform(ctx, probes[cell.probe], ROWS[cell.row].who).await;
        results.push(CellResult { probe: cell.probe, row: cell.row, expected: cell.expected, observed });
    }
    results
}

/// Write cells are spread over this many worlds, run side by side; read cells have their own.
const WRITE_WORLDS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    every_documented_operation_is_in_the_matrix();
    let started = std::time::Instant::now();
    let probes = probes();

    let mut read_cells = Vec::new();
    let mut write_cells: Vec<Vec<Cell>> = (0..WRITE_WORLDS).map(|_| Vec::new()).collect();
    let mut n = 0;
    for (i, probe) in probes.iter().enumerate() {
        for (j, row) in ROWS.iter().enumerate() {
            let cell = Cell { probe: i, row: j, expected: expected(*probe, row.who) };
            if probe.is_read() {
                read_cells.push(cell);
            } else {
                write_cells[n % WRITE_WORLDS].push(cell);
                n += 1;
            }
        }
    }

    let (read_ctx, write_ctxs) = tokio::join!(Ctx::new(true), join_all((0..WRITE_WORLDS).map(|_| Ctx::new(false))));
    let setup = started.elapsed();
    let (read_results, write_results) = tokio::join!(
        run(&read_ctx, &probes, read_cells),
        join_all(write_ctxs.iter().zip(write_cells).map(|(ctx, cells)| run(ctx, &probes, cells)))
    );
    let mut results: Vec<CellResult> = read_results.into_iter().chain(write_results.into_iter().flatten()).collect();
    results.sort_by_key(|r| (r.probe, r.row));

    // The grid: one line per column of the matrix, one letter per principal.
    let mut grid = vec![vec![' '; ROWS.len()]; probes.len()];
    let mut mismatches = Vec::new();
    for r in &results {
        let ok = r.observed.outcome == r.expected && !r.observed.unaudited;
        grid[r.probe][r.row] = if ok { r.expected.letter() } else { '!' };
        if !ok {
            let who = ROWS[r.row].who;
            let mut text = r.observed.text.clone();
            text.truncate(300);
            mismatches.push(format!(
                "{} × {} ({}@{}): expected {}, got {}{} [{}] {}",
                probes[r.probe].label(),
                ROWS[r.row].label,
                who.sub,
                who.dept,
                r.expected,
                r.observed.outcome,
                if r.observed.unaudited { " without its denied audit entry" } else { "" },
                r.observed.status,
                text
            ));
        }
    }
    println!("principals (the positions of the grid below):");
    for (j, row) in ROWS.iter().enumerate() {
        println!("  {:>2} {} — {}@{} {:?}", j + 1, row.label, row.who.sub, row.who.dept, row.who.roles);
    }
    println!("A 2xx, S 2xx listing the case, o 2xx without it, digit: cases counted, F 403, H 404, C 409, ! mismatch");
    let width = probes.iter().map(|p| p.label().len()).max().unwrap_or(0);
    for (i, probe) in probes.iter().enumerate() {
        let line: String = grid[i].iter().collect();
        println!("  {:<width$}  {line}", probe.label());
    }
    for m in &mismatches {
        println!("MISMATCH {m}");
    }
    println!(
        "{} principals × {} columns over {} operations; setup {:.1}s, total {:.1}s",
        ROWS.len(),
        probes.len(),
        covered_operations().len(),
        setup.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!("authorization matrix: {} cells, {} mismatches", results.len(), mismatches.len());
    assert_eq!(results.len(), ROWS.len() * probes.len(), "every cell ran");
    assert!(mismatches.is_empty(), "{} authorization mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

//! Committee meetings: the agenda, the decisions taken with the citizen's participation, and
//! the minutes. A decision at a meeting is final (members come with full authority), so
//! decisions are never changed.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::kit::dedup;
use crate::api::kit::extract::{Id, Json, Query};
use crate::api::kit::paging::PageQuery;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::api::views::plan::{self, PlanInput, PlanView};
use crate::api::views::BackgroundMemberRef;
use crate::api::views::PersonRef;
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::decision::{self, ClosureReason, DecisionKind, FixedMember, ParticipationForm};
use crate::domain::{CaseStatus, Department, FieldError, MemberRole, Track};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::cases::{CaseRow, DecisionEffects};
use crate::store::committees::Committee;
use crate::store::decisions::Decision;
use crate::store::events::{self, EventType};
use crate::store::meetings::{Meeting, Presenter};
use crate::store::{self, cursor};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/committees/{id}/meetings")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(web::resource("/meetings/{id}").route(web::get().to(get)).default_service(not_allowed("GET")));
    cfg.service(
        web::resource("/meetings/{id}/agenda")
            .route(web::post().to(add_to_agenda))
            .default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/meetings/{id}/decisions").route(web::post().to(decide)).default_service(not_allowed("POST")),
    );
    cfg.service(
        web::resource("/meetings/{id}/minutes").route(web::get().to(minutes)).default_service(not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MeetingRequest {
    pub scheduled_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AgendaRequest {
    pub case_id: Uuid,
    /// The caseworkers who bring the case; they sit in for it and take part in it from now on.
    #[serde(default)]
    #[validate(length(max = 10), nested)]
    #[schema(max_items = 10)]
    pub presenting_caseworkers: Vec<PersonRef>,
}

/// Whether and how the citizen took part (*borgerinddragelse*, retssikkerhedsloven § 4).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CitizenParticipation {
    pub took_part: bool,
    /// How, when the citizen took part.
    pub form: Option<ParticipationForm>,
    /// The citizen's view, in their words.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
    /// Why not, when the citizen did not take part.
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub reason_not: Option<String>,
}

/// One decision about one case on the agenda.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub case_id: Uuid,
    pub kind: DecisionKind,
    /// The `sub`s of the fixed members present.
    #[validate(length(max = 20))]
    #[schema(max_items = 20, value_type = Vec<crate::api::views::SubText>)]
    pub members_present: Vec<String>,
    #[validate(nested)]
    pub citizen_participation: CitizenParticipation,
    /// `initial` (required) and `revision`: the plan; a revision adopts a new version.
    #[validate(nested)]
    pub plan: Option<PlanInput>,
    /// `initial` (required) and `revision`: the coordinating caseworker.
    #[validate(nested)]
    pub coordinator: Option<PersonRef>,
    /// `initial` (required) and `revision`: the budget and action frame, in øre: at least 1, and
    /// at most the municipality's `HELHED_MAX_FRAME_ORE` (default 5,000,000; above it 422
    /// `frame_above_maximum`).
    #[schema(minimum = 1, maximum = 100_000_000_000i64)]
    pub budget_frame_ore: Option<i64>,
    /// `initial`, `follow_up` (required) and `revision`: when the case returns to the committee.
    pub follow_up_on: Option<NaiveDate>,
    /// `initial` and `revision`: the background group, replacing any earlier one.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub background_group: Option<Vec<BackgroundMemberRef>>,
    /// `closure` (required).
    pub closure_reason: Option<ClosureReason>,
    /// The committee's remarks, for the minutes.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordedBy {
    pub sub: String,
    pub name: Option<String>,
    pub department: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub kind: DecisionKind,
    pub members_present: Vec<String>,
    pub citizen_participation: CitizenParticipation,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: RecordedBy,
    /// The plan version this decision adopted, if it adopted one.
    pub plan_version: Option<i32>,
    pub coordinator: Option<PersonRef>,
    pub budget_frame_ore: Option<i64>,
    pub follow_up_on: Option<NaiveDate>,
    pub background_group: Option<Vec<BackgroundMemberRef>>,
    pub closure_reason: Option<ClosureReason>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingSummary {
    pub id: Uuid,
    pub committee_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The citizen as an agenda or the minutes show them: by name, never by CPR.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedCitizen {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgendaCase {
    pub id: Uuid,
    pub status: CaseStatus,
    pub track: Track,
    pub citizen: NamedCitizen,
    pub follow_up_on: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgendaItemView {
    pub id: Uuid,
    pub position: i32,
    pub case: AgendaCase,
    pub presenting_caseworkers: Vec<PersonRef>,
    pub added_at: DateTime<Utc>,
}

/// A meeting with its agenda. Items about cases the caller does not take part in are left out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub committee_id: Uuid,
    pub scheduled_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub agenda: Vec<AgendaItemView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MinutesCommittee {
    pub id: Uuid,
    pub name: String,
    pub track: Track,
}

/// What the minutes say about one decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MinutesItem {
    pub citizen: NamedCitizen,
    pub decision: DecisionView,
    /// The plan this decision adopted (goals and interventions), if any.
    pub plan: Option<PlanView>,
}

/// A meeting's minutes: its decisions about the cases the caller takes part in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Minutes {
    pub meeting: MeetingSummary,
    pub committee: MinutesCommittee,
    /// Everyone recorded as present at any decision of the meeting, by name.
    pub members_present: Vec<MinutesMember>,
    pub items: Vec<MinutesItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MinutesMember {
    pub sub: String,
    pub name: String,
    pub department: Department,
    pub role: MemberRole,
}

fn summary(m: &Meeting) -> MeetingSummary {
    MeetingSummary { id: m.id, committee_id: m.committee_id, scheduled_at: m.scheduled_at, created_at: m.created_at }
}

fn departments(c: &Committee) -> Vec<Department> {
    c.departments.iter().filter_map(|d| Department::parse(d)).collect()
}

/// The principal's seat on the committee, if any.
fn seat_of(conn: &mut PgConnection, p: &Principal, committee_id: Uuid) -> Result<Option<MemberRole>, AppError> {
    Ok(store::committees::seat(conn, committee_id, &p.sub, p.dept.as_str())?.and_then(|m| MemberRole::parse(&m.role)))
}

/// The meeting and its committee, if the principal may read the committee's meetings.
fn readable_meeting(conn: &mut PgConnection, p: &Principal, id: Uuid) -> Result<(Meeting, Committee), AppError> {
    let meeting = store::meetings::find(conn, id)?.ok_or(AppError::NotFound)?;
    let committee = store::committees::find(conn, meeting.committee_id)?.ok_or(AppError::NotFound)?;
    let seat = seat_of(conn, p, committee.id)?;
    access::require_meeting_reader(p, seat.as_ref(), &departments(&committee))?;
    Ok((meeting, committee))
}

/// Plan a meeting of a committee (admin, or a leader member).
#[utoipa::path(post, operation_id = "meetings_create", path = "/api/v1/committees/{id}/meetings", tag = "meetings", request_body = MeetingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses((status = 201, body = MeetingSummary), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<MeetingRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (committee_id, scheduled_at) = (id.0, body.into_inner().scheduled_at);
    let answer = db
        .tx(move |conn| {
            store::committees::find(conn, committee_id)?.ok_or(AppError::NotFound)?;
            let seat = seat_of(conn, &p, committee_id)?;
            access::require_meeting_organiser(&p, seat.as_ref())?;
            idempotency::once(conn, &p, &key, &digest, |conn| {
                let meeting = store::meetings::create(conn, &p, committee_id, scheduled_at)?;
                Ok(Answer::json(StatusCode::CREATED, &summary(&meeting)))
            })
        })
        .await?;
    Ok(answer.respond_at("/api/v1/meetings/"))
}

/// A committee's meetings.
#[utoipa::path(get, operation_id = "meetings_list", path = "/api/v1/committees/{id}/meetings", tag = "meetings", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Page<MeetingSummary>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    id: Id,
    q: Query<PageQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<MeetingSummary>>, AppError> {
    let committee_id = id.0;
    let limit = page_limit(q.0.limit)?;
    let after = q.0.cursor.as_deref().map(cursor::decode).transpose()?;
    let page = db
        .run(move |conn| {
            let committee = store::committees::find(conn, committee_id)?.ok_or(AppError::NotFound)?;
            let seat = seat_of(conn, &p, committee_id)?;
            access::require_meeting_reader(&p, seat.as_ref(), &departments(&committee))?;
            let rows = store::meetings::list(conn, committee_id, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |m| cursor::encode(m.id));
            Ok(Page { items: rows.iter().map(summary).collect(), next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

type CasesWithCitizens = (HashMap<Uuid, CaseRow>, HashMap<Uuid, store::citizens::Citizen>);

/// The cases among `ids` that the principal sees, with their citizens.
fn visible_cases(conn: &mut PgConnection, p: &Principal, ids: &[Uuid]) -> Result<CasesWithCitizens, AppError> {
    let visible = store::cases::visible_among(conn, p, ids)?;
    let cases: HashMap<Uuid, CaseRow> = store::cases::by_ids(conn, &visible)?.into_iter().map(|c| (c.id, c)).collect();
    let citizen_ids: Vec<Uuid> = cases.values().map(|c| c.citizen_id).collect();
    let citizens = store::citizens::by_ids(conn, &citizen_ids)?.into_iter().map(|c| (c.id, c)).collect();
    Ok((cases, citizens))
}

/// Records a read that showed several cases (an agenda, minutes).
fn record_list_read(
    conn: &mut PgConnection,
    p: &Principal,
    resource: &'static str,
    id: Uuid,
    cases: &HashMap<Uuid, CaseRow>,
) -> Result<(), AppError> {
    let mut case_ids: Vec<Uuid> = cases.keys().copied().collect();
    case_ids.sort();
    let citizen_ids = case_ids.iter().map(|c| cases[c].citizen_id).collect();
    audit::record(
        conn,
        p,
        Entry {
            action: Action::Read,
            resource: resource.into(),
            resource_id: Some(id),
            case_id: None,
            citizen_id: None,
            purpose: Purpose::Committee,
            status: 200,
            filters: None,
            case_ids,
            citizen_ids,
        },
    )
}

/// A meeting with its agenda.
#[utoipa::path(get, operation_id = "meetings_get", path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = Uuid, Path)),
    responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<MeetingView>, AppError> {
    let id = id.0;
    let view = db
        .tx(move |conn| {
            let (meeting, _) = readable_meeting(conn, &p, id)?;
            let items = store::meetings::agenda(conn, id)?;
            let ids: Vec<Uuid> = items.iter().map(|i| i.case_id).collect();
            let (cases, citizens) = visible_cases(conn, &p, &ids)?;
            record_list_read(conn, &p, "meeting", id, &cases)?;
            let mut agenda = Vec::new();
            for item in items {
                let Some(case) = cases.get(&item.case_id) else { continue };
                let citizen = &citizens[&case.citizen_id];
                agenda.push(AgendaItemView {
                    id: item.id,
                    position: item.position,
                    case: AgendaCase {
                        id: case.id,
                        status: CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Active),
                        track: Track::parse(&case.track).unwrap_or(Track::Adult),
                        citizen: NamedCitizen { id: citizen.id, name: citizen.name.clone() },
                        follow_up_on: case.follow_up_on,
                    },
                    presenting_caseworkers: serde_json::from_value(item.presenting_caseworkers).unwrap_or_default(),
                    added_at: item.added_at,
                });
            }
            Ok(MeetingView {
                id: meeting.id,
                committee_id: meeting.committee_id,
                scheduled_at: meeting.scheduled_at,
                created_at: meeting.created_at,
                agenda,
            })
        })
        .await?;
    Ok(web::Json(view))
}

/// Put a case on the agenda (admin, or a leader member): an `awaiting_committee` or `active`
/// case of this committee.
#[utoipa::path(post, operation_id = "meetings_add_to_agenda", path = "/api/v1/meetings/{id}/agenda", tag = "meetings", request_body = AgendaRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses((status = 201, body = AgendaItemView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "invalid_transition: the case's status; conflict: already on the agenda", body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_to_agenda(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<AgendaRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (meeting_id, body) = (id.0, body.into_inner());
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, body.case_id, Purpose::Committee, |conn| {
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let meeting = store::meetings::lock(conn, meeting_id)?.ok_or(AppError::NotFound)?;
                    let seat = seat_of(conn, &p, meeting.committee_id)?;
                    access::require_meeting_organiser(&p, seat.as_ref())?;
                    let case = store::cases::lock_visible(conn, &p, body.case_id)?
                        .ok_or_else(|| audit::deny(&p, "case", body.case_id, Purpose::Committee))?;
                    if case.committee_id != meeting.committee_id {
                        return Err(AppError::InconsistentRequest(vec![FieldError::new(
                            "case_id",
                            "the case belongs to another committee's track",
                        )]));
                    }
                    let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Closed);
                    if !matches!(status, CaseStatus::AwaitingCommittee | CaseStatus::Active) {
                        return Err(AppError::InvalidTransition(format!(
                            "only awaiting_committee or active cases go on an agenda; this one is {status}"
                        )));
                    }
                    if store::meetings::on_agenda(conn, meeting_id, case.id)? {
                        return Err(AppError::Conflict("the case is already on this meeting's agenda".into()));
                    }
                    let presenters = dedup(&body.presenting_caseworkers);
                    let stored: Vec<Presenter> = presenters
                        .iter()
                        .map(|c| Presenter { sub: &c.sub, name: &c.name, department: c.department.as_str() })
                        .collect();
                    let item = store::meetings::add_to_agenda(
                        conn,
                        &p,
                        meeting_id,
                        case.id,
                        &stored,
                        &serde_json::to_value(&presenters).expect("serialisable"),
                    )?;
                    events::emit(
                        conn,
                        &p,
                        case.id,
                        EventType::CaseUpdated,
                        json!({"part": "agenda", "meeting_id": meeting_id}),
                    )?;
                    let entry = Entry::case(Action::Update, Purpose::Committee, case.id, case.citizen_id, 201);
                    let citizen = store::citizens::find(conn, case.citizen_id)?.ok_or(AppError::NotFound)?;
                    let view = AgendaItemView {
                        id: item.id,
                        position: item.position,
                        case: AgendaCase {
                            id: case.id,
                            status,
                            track: Track::parse(&case.track).unwrap_or(Track::Adult),
                            citizen: NamedCitizen { id: citizen.id, name: citizen.name },
                            follow_up_on: case.follow_up_on,
                        },
                        presenting_caseworkers: presenters,
                        added_at: item.added_at,
                    };
                    Ok(Answer::disclosing(StatusCode::CREATED, &view, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// Which fields each kind of decision takes; the rest must be absent.
fn check_fields(d: &DecisionRequest) -> Vec<FieldError> {
    let mut broken = Vec::new();
    let given = [
        ("plan", d.plan.is_some()),
        ("coordinator", d.coordinator.is_some()),
        ("budget_frame_ore", d.budget_frame_ore.is_some()),
        ("follow_up_on", d.follow_up_on.is_some()),
        ("background_group", d.background_group.is_some()),
        ("closure_reason", d.closure_reason.is_some()),
    ];
    let (required, allowed): (&[&str], &[&str]) = match d.kind {
        DecisionKind::Initial => (
            &["plan", "coordinator", "budget_frame_ore", "follow_up_on"],
            &["plan", "coordinator", "budget_frame_ore", "follow_up_on", "background_group"],
        ),
        DecisionKind::Revision => {
            (&[], &["plan", "coordinator", "budget_frame_ore", "follow_up_on", "background_group"])
        }
        DecisionKind::FollowUp => (&["follow_up_on"], &["follow_up_on"]),
        DecisionKind::Closure => (&["closure_reason"], &["closure_reason"]),
    };
    for (field, present) in given {
        if required.contains(&field) && !present {
            broken.push(FieldError::new(field, format!("is required in a {} decision", d.kind)));
        }
        if present && !allowed.contains(&field) {
            broken.push(FieldError::new(field, format!("is not part of a {} decision", d.kind)));
        }
    }
    if d.kind == DecisionKind::Revision && !given.iter().any(|(_, present)| *present) {
        broken.push(FieldError::new(
            "body",
            "a revision changes at least one of plan, coordinator, budget_frame_ore, follow_up_on, background_group",
        ));
    }
    broken
}

/// Record a decision about a case on the agenda (a leader member of the committee).
#[utoipa::path(post, operation_id = "meetings_decide", path = "/api/v1/meetings/{id}/decisions", tag = "meetings", request_body = DecisionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = DecisionView),
        (status = 403, description = "Not a leader member of the committee", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "invalid_transition: the case's status does not allow this kind", body = Problem),
        (status = 422, description = "not_on_agenda, quorum_not_met, validation_failed", body = Problem)),
    security(("bearer" = [])))]
pub async fn decide(
    p: Principal,
    id: Id,
    key: IdempotencyKey,
    body: Json<DecisionRequest>,
    db: web::Data<Db>,
    state: web::Data<crate::State>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (meeting_id, d) = (id.0, body.into_inner());
    let max_frame_ore = state.max_frame_ore;
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, d.case_id, Purpose::Committee, |conn| {
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let meeting = store::meetings::find(conn, meeting_id)?.ok_or(AppError::NotFound)?;
                    let committee = store::committees::find(conn, meeting.committee_id)?.ok_or(AppError::NotFound)?;
                    let seat = seat_of(conn, &p, committee.id)?;
                    access::require_leader_member(&p, seat.as_ref(), "recording a decision")?;
                    let case = store::cases::lock_visible(conn, &p, d.case_id)?
                        .ok_or_else(|| audit::deny(&p, "case", d.case_id, Purpose::Committee))?;
                    if !store::meetings::on_agenda(conn, meeting_id, case.id)? {
                        return Err(AppError::NotOnAgenda);
                    }
                    let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Closed);
                    if status != d.kind.applies_to() {
                        return Err(AppError::InvalidTransition(format!(
                            "a {} decision needs a {} case; this one is {status}",
                            d.kind,
                            d.kind.applies_to()
                        )));
                    }
                    let (view, entry) = decide_on(conn, &p, &meeting, &committee, &case, d, max_frame_ore)?;
                    Ok(Answer::disclosing(StatusCode::CREATED, &view, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// The rules of a decision and its effects, for a case on the agenda with the right status.
pub(crate) fn decide_on(
    conn: &mut PgConnection,
    p: &Principal,
    meeting: &Meeting,
    committee: &Committee,
    case: &CaseRow,
    d: DecisionRequest,
    max_frame_ore: i64,
) -> Result<(DecisionView, Entry), AppError> {
    let members = store::committees::members(conn, &[committee.id])?;
    let fixed: Vec<FixedMember> = members
        .iter()
        .filter_map(|m| {
            Some(FixedMember {
                sub: &m.sub,
                department: Department::parse(&m.department)?,
                role: MemberRole::parse(&m.role)?,
            })
        })
        .collect();
    let committee_departments: [Department; 3] = departments(committee)
        .try_into()
        .map_err(|_| AppError::Internal("stored committee departments unreadable".into()))?;
    let present = dedup(&d.members_present);
    let broken = decision::check_quorum(&present, &fixed, &committee_departments);
    if !broken.is_empty() {
        return Err(AppError::QuorumNotMet(broken));
    }
    // The fields the schema accepts, held against each other, the calendar and the ledger; the
    // first kind of refusal found is the answer's code, with each field it concerns.
    let participation = &d.citizen_participation;
    let mut inconsistent =
        decision::check_participation(participation.took_part, participation.form, participation.reason_not.as_deref());
    inconsistent.extend(check_fields(&d));
    let mut dates = Vec::new();
    let today = Utc::now().date_naive();
    if let Some(follow_up_on) = d.follow_up_on {
        dates.extend(decision::check_follow_up(follow_up_on, meeting.scheduled_at.date_naive(), today));
    }
    let mut above_maximum = Vec::new();
    match d.budget_frame_ore.and_then(|frame| decision::check_frame(frame, max_frame_ore, case.spent_ore)) {
        Some(decision::FrameRefusal::AboveMaximum(e)) => above_maximum.push(e),
        Some(decision::FrameRefusal::BelowSpent(e)) => inconsistent.push(e),
        None => {}
    }
    if !inconsistent.is_empty() {
        return Err(AppError::InconsistentRequest(inconsistent));
    }
    if !dates.is_empty() {
        return Err(AppError::DateNotAllowed(dates));
    }
    if !above_maximum.is_empty() {
        return Err(AppError::FrameAboveMaximum(above_maximum));
    }
    let plan = d.plan.map(|plan| plan.into_plan(conn)).transpose()?;

    let decision_id = Uuid::now_v7();
    let plan_version = match &plan {
        Some(_) => Some(store::plans::latest_version(conn, case.id)?.unwrap_or(0) + 1),
        None => None,
    };
    let background = d.background_group.map(|g| dedup(&g));
    let participation = CitizenParticipation {
        took_part: d.citizen_participation.took_part,
        form: d.citizen_participation.form,
        citizen_view: trimmed(d.citizen_participation.citizen_view),
        reason_not: trimmed(d.citizen_participation.reason_not),
    };
    let row = Decision {
        id: decision_id,
        meeting_id: meeting.id,
        case_id: case.id,
        kind: d.kind.as_str().to_string(),
        members_present: present,
        took_part: participation.took_part,
        participation_form: participation.form.map(|f| f.as_str().to_string()),
        participation_view: participation.citizen_view.clone(),
        reason_not: participation.reason_not.clone(),
        note: trimmed(d.note),
        recorded_at: Utc::now(),
        recorded_by_iss: p.iss.clone(),
        recorded_by_sub: p.sub.clone(),
        recorded_by_dept: p.dept.as_str().to_string(),
        recorded_by_name: p.name.clone(),
        plan_version,
        coordinator: d.coordinator.as_ref().map(|c| serde_json::to_value(c).expect("serialisable")),
        budget_frame_ore: d.budget_frame_ore,
        follow_up_on: d.follow_up_on,
        background_group: background.as_ref().map(|g| serde_json::to_value(g).expect("serialisable")),
        closure_reason: d.closure_reason.map(|r| r.as_str().to_string()),
    };
    store::decisions::insert(conn, &row).map_err(second_initial)?;
    if let Some(plan) = &plan {
        store::plans::adopt(conn, case, decision_id, plan)?;
    }
    let coordinator_changes = d.coordinator.as_ref().is_some_and(|c| {
        case.coordinator_sub.as_deref() != Some(c.sub.as_str())
            || case.coordinator_dept.as_deref() != Some(c.department.as_str())
    });
    let closing = d.kind == DecisionKind::Closure;
    let effects = DecisionEffects {
        status: (d.kind.leads_to().as_str() != case.status).then(|| d.kind.leads_to().as_str().to_string()),
        coordinator_sub: d.coordinator.as_ref().map(|c| c.sub.clone()),
        coordinator_dept: d.coordinator.as_ref().map(|c| c.department.as_str().to_string()),
        coordinator_name: d.coordinator.as_ref().map(|c| c.name.trim().to_string()),
        frame_ore: d.budget_frame_ore,
        follow_up_on: d.follow_up_on,
        closed_at: closing.then(Utc::now),
        closure_reason: d.closure_reason.map(|r| r.as_str().to_string()),
    };
    store::cases::apply(conn, case.id, &effects)?;
    if let Some(group) = &background {
        let members: Vec<store::plans::BackgroundMember> = group
            .iter()
            .enumerate()
            .map(|(i, m)| store::plans::BackgroundMember {
                case_id: case.id,
                sub: m.sub.clone(),
                department: m.department.as_str().to_string(),
                name: m.name.trim().to_string(),
                side: m.side.as_str().to_string(),
                position: i as i32,
            })
            .collect();
        store::plans::set_background_group(conn, case.id, &members)?;
    }

    events::emit(
        conn,
        p,
        case.id,
        EventType::DecisionRecorded,
        json!({"decision_id": decision_id, "kind": d.kind, "meeting_id": meeting.id}),
    )?;
    if let Some(version) = plan_version {
        events::emit(
            conn,
            p,
            case.id,
            EventType::PlanAdopted,
            json!({"version": version, "decision_id": decision_id}),
        )?;
    }
    if coordinator_changes {
        events::emit(conn, p, case.id, EventType::CoordinatorChanged, json!({"decision_id": decision_id}))?;
    }
    if closing {
        events::emit(
            conn,
            p,
            case.id,
            EventType::CaseClosed,
            json!({"reason": d.closure_reason, "decision_id": decision_id}),
        )?;
    }
    let entry = Entry::case(Action::Create, Purpose::Committee, case.id, case.citizen_id, 201)
        .resource("decision", decision_id);
    Ok((decision_view(row), entry))
}

/// Two initial decisions racing for one case meet the database's one-initial index.
fn second_initial(e: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::InvalidTransition("the case already has its initial decision".into())
        }
        other => other.into(),
    }
}

fn decision_view(d: Decision) -> DecisionView {
    DecisionView {
        id: d.id,
        meeting_id: d.meeting_id,
        case_id: d.case_id,
        kind: DecisionKind::parse(&d.kind).unwrap_or(DecisionKind::Revision),
        members_present: d.members_present,
        citizen_participation: CitizenParticipation {
            took_part: d.took_part,
            form: d.participation_form.as_deref().and_then(ParticipationForm::parse),
            citizen_view: d.participation_view,
            reason_not: d.reason_not,
        },
        note: d.note,
        recorded_at: d.recorded_at,
        recorded_by: RecordedBy { sub: d.recorded_by_sub, name: d.recorded_by_name, department: d.recorded_by_dept },
        plan_version: d.plan_version,
        coordinator: d.coordinator.and_then(|c| serde_json::from_value(c).ok()),
        budget_frame_ore: d.budget_frame_ore,
        follow_up_on: d.follow_up_on,
        background_group: d.background_group.and_then(|g| serde_json::from_value(g).ok()),
        closure_reason: d.closure_reason.as_deref().and_then(ClosureReason::parse),
    }
}

/// The meeting's minutes, as JSON or (with `Accept: text/markdown`) as a document to file.
#[utoipa::path(get, operation_id = "meetings_minutes", path = "/api/v1/meetings/{id}/minutes", tag = "meetings", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The minutes: as JSON, or as Markdown (in Danish) with `Accept: text/markdown`",
            content((Minutes = "application/json"), (String = "text/markdown"))),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn minutes(p: Principal, id: Id, req: HttpRequest, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let id = id.0;
    let markdown = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/markdown"));
    let minutes = db
        .tx(move |conn| {
            let (meeting, committee) = readable_meeting(conn, &p, id)?;
            let decisions = store::decisions::of_meeting(conn, id)?;
            let ids: Vec<Uuid> = decisions.iter().map(|d| d.case_id).collect();
            let (cases, citizens) = visible_cases(conn, &p, &ids)?;
            record_list_read(conn, &p, "minutes", id, &cases)?;
            let members = store::committees::members(conn, &[committee.id])?;
            let mut present: Vec<String> = Vec::new();
            let mut items = Vec::new();
            for d in decisions {
                let Some(case) = cases.get(&d.case_id) else { continue };
                for sub in &d.members_present {
                    if !present.contains(sub) {
                        present.push(sub.clone());
                    }
                }
                let citizen = &citizens[&case.citizen_id];
                let plan = match d.plan_version {
                    Some(v) => plan::load(conn, case.id, v)?,
                    None => None,
                };
                items.push(MinutesItem {
                    citizen: NamedCitizen { id: citizen.id, name: citizen.name.clone() },
                    decision: decision_view(d),
                    plan,
                });
            }
            let members_present = members
                .iter()
                .filter(|m| present.contains(&m.sub))
                .filter_map(|m| {
                    Some(MinutesMember {
                        sub: m.sub.clone(),
                        name: m.name.clone(),
                        department: Department::parse(&m.department)?,
                        role: MemberRole::parse(&m.role)?,
                    })
                })
                .collect();
            Ok(Minutes {
                meeting: summary(&meeting),
                committee: MinutesCommittee {
                    id: committee.id,
                    name: committee.name.clone(),
                    track: Track::parse(&committee.track).unwrap_or(Track::Adult),
                },
                members_present,
                items,
            })
        })
        .await?;
    if markdown {
        Ok(HttpResponse::Ok().content_type("text/markdown; charset=utf-8").body(render_markdown(&minutes)))
    } else {
        Ok(HttpResponse::Ok().json(minutes))
    }
}

fn kroner(ore: i64) -> String {
    let kr = ore / 100;
    let digits = kr.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    match ore % 100 {
        0 => format!("{grouped} kr."),
        cents => format!("{grouped},{cents:02} kr."),
    }
}

fn kind_title(kind: DecisionKind) -> &'static str {
    match kind {
        DecisionKind::Initial => "Første afgørelse (initial decision)",
        DecisionKind::Revision => "Revision",
        DecisionKind::FollowUp => "Opfølgning (follow-up)",
        DecisionKind::Closure => "Afslutning (closure)",
    }
}

/// The minutes as a document a committee secretary would file. Citizens by name, never CPR.
pub fn render_markdown(m: &Minutes) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "# Referat — {}", md(&m.committee.name));
    let _ = writeln!(out);
    let _ = writeln!(out, "- **Mødedato:** {}", m.meeting.scheduled_at.format("%Y-%m-%d %H:%M UTC"));
    let _ = writeln!(out, "- **Spor:** {}", m.committee.track);
    let _ = writeln!(out, "- **Møde-id:** {}", m.meeting.id);
    let _ = writeln!(out);
    let _ = writeln!(out, "## Til stede");
    let _ = writeln!(out);
    if m.members_present.is_empty() {
        let _ = writeln!(out, "Ingen afgørelser registreret.");
    }
    for member in &m.members_present {
        let _ =
            writeln!(out, "- {} ({}, {})", md(&member.name), member.department, member.role.as_str().replace('_', " "));
    }
    for (n, item) in m.items.iter().enumerate() {
        let d = &item.decision;
        let _ = writeln!(out);
        let _ = writeln!(out, "## {}. {} — {}", n + 1, md(&item.citizen.name), kind_title(d.kind));
        let _ = writeln!(out);
        let p = &d.citizen_participation;
        let participation = if p.took_part {
            format!("deltog ({})", p.form.map(|f| f.as_str().replace('_', " ")).unwrap_or_default())
        } else {
            format!("deltog ikke — {}", md(p.reason_not.as_deref().unwrap_or("")))
        };
        let _ = writeln!(out, "- **Borgerens deltagelse:** {participation}");
        if let Some(view) = &p.citizen_view {
            let _ = writeln!(out, "- **Borgerens synspunkt:** {}", md(view));
        }
        if let Some(c) = &d.coordinator {
            let _ = writeln!(out, "- **Koordinerende sagsbehandler:** {} ({})", md(&c.name), c.department);
        }
        if let Some(frame) = d.budget_frame_ore {
            let _ = writeln!(out, "- **Budget- og handlingsramme:** {}", kroner(frame));
        }
        if let Some(date) = d.follow_up_on {
            let _ = writeln!(out, "- **Opfølgning:** {date}");
        }
        if let Some(reason) = d.closure_reason {
            let _ = writeln!(out, "- **Afslutningsårsag:** {}", reason.as_str().replace('_', " "));
        }
        if let Some(group) = &d.background_group {
            let names: Vec<String> =
                group.iter().map(|g| format!("{} ({}, {})", md(&g.name), g.department, g.side)).collect();
            let _ = writeln!(out, "- **Baggrundsgruppe:** {}", names.join("; "));
        }
        if let Some(note) = &d.note {
            let _ = writeln!(out, "- **Bemærkninger:** {}", md(note));
        }
        if let Some(plan) = &item.plan {
            let _ = writeln!(out);
            let _ = writeln!(out, "### {} version {}", plan.kind, plan.version);
            if let Some(goals) = &plan.citizen_goals {
                let _ = writeln!(out);
                let _ = writeln!(out, "Borgerens egne mål: {}", md(goals));
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "Mål:");
            for g in &plan.goals {
                let target = g.target_date.map(|t| format!(" (senest {t})")).unwrap_or_default();
                let _ = writeln!(out, "- {}: {}{target}", g.area, md(&g.description));
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "Indsatser:");
            for i in &plan.interventions {
                let cost = i.cost_estimate_ore.map(|c| format!(", anslået {}", kroner(c))).unwrap_or_default();
                let _ = writeln!(out, "- {} — ansvar: {}, {}{cost}", md(&i.title), i.responsible_department, i.status);
            }
        }
    }
    out
}

/// Text a person wrote, as Markdown shows it literally: on one line (so it cannot start a
/// heading or a list item of its own) and with every character that could make a link, an
/// image, HTML, emphasis or a table backslash-escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '!' | '#' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{kroner, md};

    #[test]
    fn what_people_wrote_cannot_become_markdown() {
        let forged = "syg\n\n## 2. Forged decision\n- **Budget- og handlingsramme:** 1.000.000 kr.";
        let shown = md(forged);
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.contains("\\#\\# 2. Forged") && shown.contains("\\*\\*Budget"), "{shown}");
        assert_eq!(md("<img src=x onerror=alert(1)>"), "\\<img src=x onerror=alert\\(1\\)\\>");
        assert_eq!(md("[x](javascript:alert(1))"), "\\[x\\]\\(javascript:alert\\(1\\)\\)");
        assert_eq!(md("Åse Ærø"), "Åse Ærø");
    }

    #[test]
    fn kroner_are_grouped_danish_style() {
        assert_eq!(kroner(5_000_000), "50.000 kr.");
        assert_eq!(kroner(2_500_050), "25.000,50 kr.");
        assert_eq!(kroner(99), "0,99 kr.");
    }
}

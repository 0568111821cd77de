//! Cases: the referral (*indstilling*), its screening (*visitation*), reading one case, the list
//! of the cases a caller sees, and a case's history.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Parties};
use crate::api::kit::extract::{Id, Json, Query};
use crate::api::kit::paging::PageQuery;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::api::kit::{check_if_match, dedup, etag};
use crate::api::views::case::{departments, person, status_of, CaseSummary};
use crate::api::views::BackgroundMemberRef;
use crate::api::views::PersonRef;
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::decision::{ClosureReason, ParticipationForm};
use crate::domain::eligibility::{self, Exclusions, Ineligible};
use crate::domain::plan::PlanKind;
use crate::domain::referral::{self, ReferralContent};
use crate::domain::{
    cpr, status, CaseStatus, DeclineReason, Department, MemberRole, ProblemArea, ScreeningOutcome, Side, Track,
};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::cases::{CaseContext, CaseRow, ListFilter, NewCase, ReferralFields};
use crate::store::events::{self, EventType};
use crate::store::{self, cursor};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/cases")
            .route(web::get().to(list))
            .route(web::post().to(refer))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/cases/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(edit))
            .default_service(not_allowed("GET, PATCH")),
    );
    cfg.service(
        web::resource("/cases/{id}/screening").route(web::post().to(screen)).default_service(not_allowed("POST")),
    );
    cfg.service(web::resource("/cases/{id}/history").route(web::get().to(history)).default_service(not_allowed("GET")));
    cfg.service(
        web::resource("/cases/{id}/participation")
            .route(web::post().to(participation))
            .default_service(not_allowed("POST")),
    );
    cfg.service(web::resource("/cases/{id}/closure").route(web::post().to(close)).default_service(not_allowed("POST")));
}

/// A referral of a citizen to the committee of their track.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    pub citizen_id: Uuid,
    #[serde(default)]
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub problem_areas: Vec<ProblemArea>,
    /// The citizen's situation and why the case is complex.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default)]
    #[validate(length(max = 5))]
    #[schema(max_items = 5)]
    pub involved_departments: Vec<Department>,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub involved_caseworkers: Vec<PersonRef>,
    #[serde(default)]
    #[validate(length(max = 100), custom(function = "crate::api::views::short_texts"))]
    #[schema(max_items = 100, value_type = Vec<crate::api::views::ShortText>)]
    pub current_interventions: Vec<String>,
    /// The citizen's own view of their situation.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
    /// Required for a citizen aged 15–17: the individual professional assessment.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub under_18_justification: Option<String>,
    #[serde(default)]
    pub exclusions: Exclusions,
}

/// Completes or corrects a referral while it is `referred`; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReferralPatch {
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub problem_areas: Option<Vec<ProblemArea>>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[validate(length(max = 5))]
    #[schema(max_items = 5)]
    pub involved_departments: Option<Vec<Department>>,
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub involved_caseworkers: Option<Vec<PersonRef>>,
    #[validate(length(max = 100), custom(function = "crate::api::views::short_texts"))]
    #[schema(max_items = 100, value_type = Option<Vec<crate::api::views::ShortText>>)]
    pub current_interventions: Option<Vec<String>>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub under_18_justification: Option<String>,
    pub exclusions: Option<Exclusions>,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRequest {
    pub outcome: ScreeningOutcome,
    /// Required when declined.
    pub reason: Option<DeclineReason>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// The citizen as a case shows them: never the CPR number.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseCitizen {
    pub id: Uuid,
    pub name: String,
    /// Age today, in whole years.
    pub age: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Referral {
    pub problem_areas: Vec<ProblemArea>,
    pub description: Option<String>,
    pub involved_departments: Vec<Department>,
    pub involved_caseworkers: Vec<PersonRef>,
    pub current_interventions: Vec<String>,
    pub citizen_view: Option<String>,
    pub under_18_justification: Option<String>,
    pub exclusions: Exclusions,
    pub age_at_referral: i32,
    pub referred_at: DateTime<Utc>,
    pub referred_by: Actor,
}

/// Someone who acted on a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub sub: String,
    pub name: Option<String>,
    pub department: Department,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Screening {
    pub outcome: ScreeningOutcome,
    pub reason: Option<DeclineReason>,
    pub note: Option<String>,
    pub screened_at: DateTime<Utc>,
    pub screened_by: Actor,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitteeRef {
    pub id: Uuid,
    pub name: String,
}

/// The coordinator's budget and action frame (*budget- og handlingsramme*).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BudgetSummary {
    pub frame_ore: i64,
    pub spent_ore: i64,
    pub remaining_ore: i64,
}

/// A case, as those who take part in it see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub status: CaseStatus,
    pub track: Track,
    pub committee: CommitteeRef,
    pub citizen: CaseCitizen,
    pub referral: Referral,
    pub screening: Option<Screening>,
    /// The coordinating caseworker (*koordinerende sagsbehandler*), once the committee has
    /// appointed one.
    pub coordinator: Option<PersonRef>,
    /// The current plan version, once the committee has adopted one (details at `/plan`).
    pub plan: Option<PlanRef>,
    pub budget: BudgetSummary,
    pub follow_up_on: Option<NaiveDate>,
    /// The background group (*baggrundsgruppe*) the coordinator can call on.
    pub background_group: Vec<BackgroundMemberRef>,
    /// The citizen's participation between meetings, as the coordinator noted it.
    pub participation_notes: Vec<ParticipationNoteView>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanRef {
    pub version: i32,
    pub kind: PlanKind,
    pub adopted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ParticipationNoteView {
    pub id: Uuid,
    pub on: NaiveDate,
    pub form: ParticipationForm,
    pub citizen_view: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: HistoryActor,
}

impl ParticipationNoteView {
    fn from_row(n: store::plans::ParticipationNote) -> Option<ParticipationNoteView> {
        Some(ParticipationNoteView {
            id: n.id,
            on: n.on_date,
            form: ParticipationForm::parse(&n.form)?,
            citizen_view: n.citizen_view,
            recorded_at: n.recorded_at,
            recorded_by: HistoryActor {
                iss: n.recorded_by_iss,
                sub: n.recorded_by_sub,
                department: n.recorded_by_dept,
            },
        })
    }
}

/// A note of the citizen's participation between meetings.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ParticipationRequest {
    pub on: NaiveDate,
    pub form: ParticipationForm,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClosureRequest {
    pub reason: ClosureReason,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    pub status: Option<CaseStatus>,
    pub track: Option<Track>,
    pub committee_id: Option<Uuid>,
    /// The coordinator's `sub`.
    #[param(min_length = 1, max_length = 255)]
    pub coordinator: Option<String>,
    pub involved_department: Option<Department>,
    /// Cases whose follow-up date is before this date.
    pub follow_up_before: Option<NaiveDate>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One event in a case's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEvent {
    pub id: i64,
    #[serde(rename = "type")]
    pub type_: store::events::EventTypeName,
    pub at: DateTime<Utc>,
    pub actor: HistoryActor,
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryActor {
    pub iss: String,
    pub sub: String,
    pub department: String,
}

impl CaseView {
    /// Assembles the view of a case the caller may see.
    fn load(conn: &mut diesel::PgConnection, c: CaseRow) -> Result<CaseView, AppError> {
        let context = store::cases::context(conn, c.id)?;
        CaseView::load_in(conn, c, context)
    }

    /// Assembles the view of a case whose citizen and committee are at hand.
    fn load_in(conn: &mut diesel::PgConnection, c: CaseRow, context: CaseContext) -> Result<CaseView, AppError> {
        let internal = |what: &str| AppError::Internal(format!("stored {what} unreadable"));
        let plan = store::plans::latest_adopted(conn, c.id)?.map(|(version, kind, adopted_at)| PlanRef {
            version,
            kind: PlanKind::parse(&kind).unwrap_or(PlanKind::Indsatsplan),
            adopted_at,
        });
        let background_group = store::plans::background_group(conn, c.id)?
            .into_iter()
            .filter_map(|m| {
                Some(BackgroundMemberRef {
                    sub: m.sub,
                    name: m.name,
                    department: Department::parse(&m.department)?,
                    side: Side::parse(&m.side)?,
                })
            })
            .collect();
        let participation_notes =
            store::plans::participation(conn, c.id)?.into_iter().filter_map(ParticipationNoteView::from_row).collect();
        let screening = match (&c.screening_outcome, c.screened_at, &c.screener_sub, &c.screener_dept) {
            (Some(outcome), Some(at), Some(sub), Some(dept)) => Some(Screening {
                outcome: ScreeningOutcome::parse(outcome).ok_or_else(|| internal("screening"))?,
                reason: c.screening_reason.as_deref().and_then(DeclineReason::parse),
                note: c.screening_note.clone(),
                screened_at: at,
                screened_by: Actor {
                    sub: sub.clone(),
                    name: c.screener_name.clone(),
                    department: Department::parse(dept).ok_or_else(|| internal("screener"))?,
                },
            }),
            _ => None,
        };
        Ok(CaseView {
            id: c.id,
            status: status_of(&c)?,
            track: Track::parse(&c.track).ok_or_else(|| internal("track"))?,
            committee: CommitteeRef { id: c.committee_id, name: context.committee_name },
            citizen: CaseCitizen {
                id: c.citizen_id,
                name: context.citizen_name,
                age: cpr::age_on(context.citizen_birth_date, Utc::now().date_naive()),
            },
            referral: Referral {
                problem_areas: c.problem_areas.iter().filter_map(|a| ProblemArea::parse(a)).collect(),
                description: c.description.clone(),
                involved_departments: departments(&c.involved_departments),
                involved_caseworkers: serde_json::from_value(c.involved_caseworkers.clone())
                    .map_err(|_| internal("caseworkers"))?,
                current_interventions: c.current_interventions.clone(),
                citizen_view: c.citizen_view.clone(),
                under_18_justification: c.under_18_justification.clone(),
                exclusions: serde_json::from_value(c.exclusions.clone()).map_err(|_| internal("exclusions"))?,
                age_at_referral: c.age_at_referral,
                referred_at: c.referred_at,
                referred_by: Actor {
                    sub: c.referrer_sub.clone(),
                    name: c.referrer_name.clone(),
                    department: Department::parse(&c.referrer_dept).ok_or_else(|| internal("referrer"))?,
                },
            },
            screening,
            coordinator: person(&c.coordinator_sub, &c.coordinator_name, &c.coordinator_dept),
            plan,
            budget: BudgetSummary {
                frame_ore: c.frame_ore,
                spent_ore: c.spent_ore,
                remaining_ore: c.frame_ore - c.spent_ore,
            },
            follow_up_on: c.follow_up_on,
            background_group,
            participation_notes,
            closed_at: c.closed_at,
            closure_reason: c.closure_reason.clone(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }
}

fn with_etag(mut response: actix_web::HttpResponseBuilder, view: &CaseView) -> HttpResponse {
    response.insert_header((actix_web::http::header::ETAG, etag(view.version))).json(view)
}

/// A case view as a storable answer, with its ETag and the audit entry that records it.
fn answer(status: StatusCode, view: &CaseView, entry: Entry) -> Answer {
    Answer::disclosing(status, view, entry).with_etag(etag(view.version))
}

fn texts(items: &[String]) -> Vec<String> {
    items.iter().map(|t| t.trim().to_string()).collect()
}

fn strings<T: Copy>(items: &[T], as_str: impl Fn(T) -> &'static str) -> Vec<String> {
    items.iter().map(|i| as_str(*i).to_string()).collect()
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// Refer a citizen: the track follows from the age on the day of referral, the committee is
/// the active one of that track.
#[utoipa::path(post, operation_id = "cases_refer", path = "/api/v1/cases", tag = "cases", request_body = ReferralRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer")),
    responses(
        (status = 201, body = CaseView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 409, description = "No active committee for the track", body = Problem),
        (status = 422, description = "validation_failed, outside_target_group", body = Problem)),
    security(("bearer" = [])))]
pub async fn refer(
    p: Principal,
    key: IdempotencyKey,
    body: Json<ReferralRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    access::require_referrer_role(&p)?;
    let digest = *body.digest();
    let r = body.into_inner();
    let answer = db
        .tx(move |conn| {
            idempotency::once(conn, &p, &key, &digest, |conn| {
                let citizen = store::citizens::find(conn, r.citizen_id)?.ok_or_else(|| {
                    AppError::UnknownReference(vec![crate::domain::FieldError::new(
                        "citizen_id",
                        "no citizen is registered with this id",
                    )])
                })?;
                let now = Utc::now();
                let age = cpr::age_on(citizen.birth_date, now.date_naive());
                let justification = trimmed(r.under_18_justification);
                let track =
                    eligibility::track_for(age, justification.as_deref(), &r.exclusions).map_err(|e| match e {
                        Ineligible::OutsideTargetGroup(rules) => AppError::OutsideTargetGroup(rules),
                        Ineligible::JustificationMissing => {
                            AppError::ReferralIncomplete(vec![crate::domain::FieldError::new(
                                "under_18_justification",
                                "a citizen aged 15–17 is referred only with a written professional justification",
                            )])
                        }
                    })?;
                let committee = store::committees::active_for_track(conn, track.as_str())?
                    .ok_or_else(|| AppError::Conflict(format!("there is no active {track} committee to refer to")))?;
                let caseworkers = serde_json::to_value(dedup(&r.involved_caseworkers)).expect("serialisable");
                let exclusions = serde_json::to_value(r.exclusions).expect("serialisable");
                let (description, citizen_view) = (trimmed(r.description), trimmed(r.citizen_view));
                let case = store::cases::insert(
                    conn,
                    &NewCase {
                        id: Uuid::now_v7(),
                        citizen_id: citizen.id,
                        track: track.as_str(),
                        committee_id: committee.id,
                        status: CaseStatus::Referred.as_str(),
                        age_at_referral: age,
                        problem_areas: &strings(&dedup(&r.problem_areas), ProblemArea::as_str),
                        description: description.as_deref(),
                        involved_departments: &strings(&dedup(&r.involved_departments), Department::as_str),
                        involved_caseworkers: &caseworkers,
                        current_interventions: &texts(&r.current_interventions),
                        citizen_view: citizen_view.as_deref(),
                        under_18_justification: justification.as_deref(),
                        exclusions: &exclusions,
                        referred_at: now,
                        referrer_iss: &p.iss,
                        referrer_sub: &p.sub,
                        referrer_dept: p.dept.as_str(),
                        referrer_name: p.name.as_deref(),
                    },
                )?;
                events::emit(
                    conn,
                    &p,
                    case.id,
                    EventType::CaseReferred,
                    json!({"track": track, "committee_id": committee.id}),
                )?;
                let entry = Entry::case(Action::Create, Purpose::Referral, case.id, case.citizen_id, 201);
                CaseView::load(conn, case).map(|v| answer(StatusCode::CREATED, &v, entry))
            })
        })
        .await?;
    Ok(answer.respond_at("/api/v1/cases/"))
}

/// Loads a case the caller sees for a change, locked; a case they do not see is a recorded 404.
fn lock_for_change(
    conn: &mut diesel::PgConnection,
    p: &Principal,
    id: Uuid,
    purpose: Purpose,
) -> Result<CaseRow, AppError> {
    store::cases::lock_visible(conn, p, id)?.ok_or_else(|| audit::deny(p, "case", id, purpose))
}

/// Complete or correct a referral while it is `referred`: its referrer, or a leader who sees it.
#[utoipa::path(patch, operation_id = "cases_edit", path = "/api/v1/cases/{id}", tag = "cases", request_body = ReferralPatch,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The case's ETag")),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The case is no longer referred", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn edit(
    p: Principal,
    id: Id,
    req: HttpRequest,
    body: Json<ReferralPatch>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (id, patch, headers) = (id.0, body.into_inner(), req.headers().clone());
    let view = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Referral, |conn| edit_referral(conn, &p, id, patch, &headers))
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &view))
}

fn edit_referral(
    conn: &mut diesel::PgConnection,
    p: &Principal,
    id: Uuid,
    patch: ReferralPatch,
    headers: &actix_web::http::header::HeaderMap,
) -> Result<CaseView, AppError> {
    access::require_case_role(p)?;
    let case = lock_for_change(conn, p, id, Purpose::Referral)?;
    access::require_referral_editor(
        p,
        &Parties { referrer: (&case.referrer_sub, &case.referrer_dept), committee_departments: &[] },
    )?;
    check_if_match(headers, case.version)?;
    if status_of(&case)? != CaseStatus::Referred {
        return Err(AppError::InvalidTransition(format!(
            "a referral can be edited only while the case is referred; it is {}",
            case.status
        )));
    }
    let exclusions = match patch.exclusions {
        Some(e) => e,
        None => serde_json::from_value(case.exclusions.clone()).unwrap_or_default(),
    };
    let justification = match patch.under_18_justification {
        Some(j) => trimmed(Some(j)),
        None => case.under_18_justification.clone(),
    };
    // The track was fixed by the age on the day of referral; the exclusions and the
    // justification are checked again against that age.
    eligibility::track_for(case.age_at_referral, justification.as_deref(), &exclusions).map_err(|e| match e {
        Ineligible::OutsideTargetGroup(rules) => AppError::OutsideTargetGroup(rules),
        Ineligible::JustificationMissing => AppError::ReferralIncomplete(vec![crate::domain::FieldError::new(
            "under_18_justification",
            "a citizen aged 15–17 needs the written justification",
        )]),
    })?;
    let fields = ReferralFields {
        problem_areas: patch
            .problem_areas
            .map(|a| strings(&dedup(&a), ProblemArea::as_str))
            .unwrap_or(case.problem_areas),
        description: patch.description.map(|d| trimmed(Some(d))).unwrap_or(case.description),
        involved_departments: patch
            .involved_departments
            .map(|d| strings(&dedup(&d), Department::as_str))
            .unwrap_or(case.involved_departments),
        involved_caseworkers: match patch.involved_caseworkers {
            Some(c) => serde_json::to_value(dedup(&c)).expect("serialisable"),
            None => case.involved_caseworkers,
        },
        current_interventions: patch.current_interventions.map(|t| texts(&t)).unwrap_or(case.current_interventions),
        citizen_view: patch.citizen_view.map(|v| trimmed(Some(v))).unwrap_or(case.citizen_view),
        under_18_justification: justification,
        exclusions: serde_json::to_value(exclusions).expect("serialisable"),
    };
    let case = store::cases::update_referral(conn, id, &fields)?;
    events::emit(conn, p, id, EventType::CaseUpdated, json!({"part": "referral"}))?;
    audit::record(conn, p, Entry::case(Action::Update, Purpose::Referral, id, case.citizen_id, 200))?;
    CaseView::load(conn, case)
}

/// Screen a referral: a leader whose department is on the committee of the case's track
/// decides whether the case goes to the committee.
#[utoipa::path(post, operation_id = "cases_screen", path = "/api/v1/cases/{id}/screening", tag = "cases", request_body = ScreeningRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The case's ETag")),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "invalid_transition", body = Problem),
        (status = 412, body = Problem),
        (status = 422, description = "referral_incomplete, validation_failed", body = Problem)),
    security(("bearer" = [])))]
pub async fn screen(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    req: HttpRequest,
    body: Json<ScreeningRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, s, headers) = (id.0, body.into_inner(), req.headers().clone());
    referral::check_screening(s.outcome, s.reason).map_err(|e| AppError::InconsistentRequest(vec![e]))?;
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Screening, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = lock_for_change(conn, &p, id, Purpose::Screening)?;
                    check_if_match(&headers, case.version)?;
                    let committee = store::committees::find(conn, case.committee_id)?.ok_or(AppError::NotFound)?;
                    let committee_departments = departments(&committee.departments);
                    access::require_screener(
                        &p,
                        &Parties {
                            referrer: (&case.referrer_sub, &case.referrer_dept),
                            committee_departments: &committee_departments,
                        },
                    )?;
                    let to = match s.outcome {
                        ScreeningOutcome::Accepted => CaseStatus::AwaitingCommittee,
                        ScreeningOutcome::Declined => CaseStatus::Declined,
                    };
                    status::check_move(status_of(&case)?, to).map_err(AppError::InvalidTransition)?;
                    let problem_areas: Vec<_> =
                        case.problem_areas.iter().filter_map(|a| ProblemArea::parse(a)).collect();
                    let involved = departments(&case.involved_departments);
                    let missing = referral::missing_for_screening(&ReferralContent {
                        problem_areas: &problem_areas,
                        description: case.description.as_deref(),
                        involved_departments: &involved,
                        citizen_view: case.citizen_view.as_deref(),
                    });
                    if !missing.is_empty() {
                        return Err(AppError::ReferralIncomplete(missing));
                    }
                    let note = trimmed(s.note);
                    let case = store::cases::apply_screening(
                        conn,
                        &p,
                        id,
                        &store::cases::Screening {
                            status: to.as_str(),
                            outcome: s.outcome.as_str(),
                            reason: s.reason.map(DeclineReason::as_str),
                            note: note.as_deref(),
                        },
                    )?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::CaseScreened,
                        json!({"outcome": s.outcome, "reason": s.reason}),
                    )?;
                    let entry = Entry::case(Action::Update, Purpose::Screening, id, case.citizen_id, 200);
                    CaseView::load(conn, case).map(|v| answer(StatusCode::OK, &v, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// One case, for those who take part in it.
#[utoipa::path(get, operation_id = "cases_get", path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = CaseView, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let id = id.0;
    let view = db
        .read(move |conn| {
            audit::on_case(conn, &p, id, audit::purpose_for(&p, None), |conn| {
                access::require_case_role(&p)?;
                let (case, context) = store::cases::find_visible_in_context(conn, &p, id)?
                    .ok_or_else(|| audit::deny(&p, "case", id, audit::purpose_for(&p, None)))?;
                let purpose = audit::purpose_for(&p, Some(status_of(&case)?));
                let citizen_id = case.citizen_id;
                let view = CaseView::load_in(conn, case, context)?;
                audit::record(conn, &p, Entry::case(Action::Read, purpose, id, citizen_id, 200))?;
                Ok(view)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &view))
}

/// The cases the caller sees, in referral order.
#[utoipa::path(get, operation_id = "cases_list", path = "/api/v1/cases", tag = "cases", params(CaseListQuery),
    responses((status = 200, body = Page<CaseSummary>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<CaseListQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<CaseSummary>>, AppError> {
    access::require_case_role(&p)?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let filter = ListFilter {
        status: q.status.map(|s| s.as_str().to_string()),
        track: q.track.map(|t| t.as_str().to_string()),
        committee_id: q.committee_id,
        coordinator: q.coordinator,
        involved_department: q.involved_department.map(|d| d.as_str().to_string()),
        follow_up_before: q.follow_up_before,
    };
    let page = db
        .read(move |conn| {
            let rows = store::cases::list_visible(conn, &p, &filter, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |c| cursor::encode(c.id));
            audit::record(
                conn,
                &p,
                Entry {
                    action: Action::Read,
                    resource: "case_list".into(),
                    resource_id: None,
                    case_id: None,
                    citizen_id: None,
                    purpose: audit::purpose_for(&p, q.status),
                    status: 200,
                    filters: Some(json!({"filters": filter, "limit": limit, "after": after})),
                    case_ids: rows.iter().map(|c| c.id).collect(),
                    citizen_ids: rows.iter().map(|c| c.citizen_id).collect(),
                },
            )?;
            let items = rows.iter().map(CaseSummary::from_row).collect::<Result<_, _>>()?;
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

/// Every event of a case, oldest first.
#[utoipa::path(get, operation_id = "cases_history", path = "/api/v1/cases/{id}/history", tag = "cases", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Page<HistoryEvent>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    p: Principal,
    id: Id,
    q: Query<PageQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<HistoryEvent>>, AppError> {
    let id = id.0;
    let limit = page_limit(q.0.limit)?;
    let after = q.0.cursor.as_deref().map(cursor::decode_seq).transpose()?;
    let page = db
        .read(move |conn| {
            audit::on_case(conn, &p, id, audit::purpose_for(&p, None), |conn| {
                access::require_case_role(&p)?;
                let case = store::cases::find_visible(conn, &p, id)?
                    .ok_or_else(|| audit::deny(&p, "case_history", id, audit::purpose_for(&p, None)))?;
                let purpose = audit::purpose_for(&p, Some(status_of(&case)?));
                let rows = events::history(conn, id, after, limit + 1)?;
                let (rows, next_cursor) = paginate(rows, limit, |e| cursor::encode_seq(e.id));
                audit::record(
                    conn,
                    &p,
                    Entry::case(Action::Read, purpose, id, case.citizen_id, 200).resource("case_history", id),
                )?;
                let items = rows
                    .into_iter()
                    .map(|e| HistoryEvent {
                        id: e.id,
                        type_: store::events::EventTypeName(e.type_),
                        at: e.at,
                        actor: HistoryActor { iss: e.actor_iss, sub: e.actor_sub, department: e.actor_dept },
                        detail: e.detail,
                    })
                    .collect();
                Ok(Page { items, next_cursor })
            })
        })
        .await?;
    Ok(web::Json(page))
}

/// Note how the citizen took part between meetings (the current coordinator).
#[utoipa::path(post, operation_id = "cases_participation", path = "/api/v1/cases/{id}/participation", tag = "cases", request_body = ParticipationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path)),
    responses(
        (status = 201, body = ParticipationNoteView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The case is not active", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn participation(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    body: Json<ParticipationRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, note) = (id.0, body.into_inner());
    if note.on > Utc::now().date_naive() {
        return Err(AppError::DateNotAllowed(vec![crate::domain::FieldError::new("on", "must not be in the future")]));
    }
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Coordination, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = lock_for_change(conn, &p, id, Purpose::Coordination)?;
                    access::require_coordinator(&p, case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref())?;
                    if status_of(&case)? != CaseStatus::Active {
                        return Err(AppError::InvalidTransition(format!(
                            "a {} case takes no participation notes",
                            case.status
                        )));
                    }
                    let view_text = trimmed(note.citizen_view);
                    let n = store::plans::add_participation(
                        conn,
                        &p,
                        id,
                        note.on,
                        note.form.as_str(),
                        view_text.as_deref(),
                    )?;
                    events::emit(
                        conn,
                        &p,
                        id,
                        EventType::CaseUpdated,
                        json!({"part": "participation", "form": note.form}),
                    )?;
                    let entry = Entry::case(Action::Create, Purpose::Coordination, id, case.citizen_id, 201)
                        .resource("participation_note", n.id);
                    let note = ParticipationNoteView::from_row(n)
                        .ok_or_else(|| AppError::Internal("stored participation note unreadable".into()))?;
                    Ok(Answer::disclosing(StatusCode::CREATED, &note, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Close a case (its coordinator, or a leader member of its committee). A closed case takes
/// no further spends, decisions or adjustments.
#[utoipa::path(post, operation_id = "cases_close", path = "/api/v1/cases/{id}/closure", tag = "cases", request_body = ClosureRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer"), ("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The case's ETag")),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "invalid_transition", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    p: Principal,
    key: IdempotencyKey,
    id: Id,
    req: HttpRequest,
    body: Json<ClosureRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let (id, closure, headers) = (id.0, body.into_inner(), req.headers().clone());
    let answer = db
        .tx(move |conn| {
            audit::on_case(conn, &p, id, Purpose::Coordination, |conn| {
                access::require_case_role(&p)?;
                idempotency::once(conn, &p, &key, &digest, |conn| {
                    let case = lock_for_change(conn, &p, id, Purpose::Coordination)?;
                    let seat = store::committees::seat(conn, case.committee_id, &p.sub, p.dept.as_str())?;
                    let seat = seat.and_then(|m| MemberRole::parse(&m.role));
                    let coordinator =
                        access::is_coordinator(&p, case.coordinator_sub.as_deref(), case.coordinator_dept.as_deref());
                    if !coordinator && !access::is_leader_member(&p, seat.as_ref()) {
                        return Err(AppError::Forbidden(
                            "a case is closed by its coordinator or a leader member of its committee".into(),
                        ));
                    }
                    check_if_match(&headers, case.version)?;
                    status::check_move(status_of(&case)?, CaseStatus::Closed).map_err(AppError::InvalidTransition)?;
                    let note = trimmed(closure.note);
                    let effects = store::cases::DecisionEffects {
                        status: Some(CaseStatus::Closed.as_str().to_string()),
                        closed_at: Some(Utc::now()),
                        closure_reason: Some(closure.reason.as_str().to_string()),
                        ..Default::default()
                    };
                    let case = store::cases::apply(conn, id, &effects)?;
                    events::emit(conn, &p, id, EventType::CaseClosed, json!({"reason": closure.reason, "note": note}))?;
                    let entry = Entry::case(Action::Update, Purpose::Coordination, id, case.citizen_id, 200);
                    CaseView::load(conn, case).map(|v| answer(StatusCode::OK, &v, entry))
                })
            })
        })
        .await?;
    Ok(answer.respond())
}

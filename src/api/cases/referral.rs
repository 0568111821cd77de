//! The referral (*indstilling*): referring a citizen, and completing or correcting the referral
//! while the case is `referred`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::view::{answer, lock_for_change, strings, texts, trimmed, with_etag, CaseView};
use crate::access::{self, Parties};
use crate::api::kit::extract::{Id, Json};
use crate::api::kit::{check_if_match, dedup};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::eligibility::{self, Exclusions, Ineligible};
use crate::domain::{cpr, CaseStatus, Department, ProblemArea};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, IdempotencyKey};
use crate::store::cases::{NewCase, ReferralFields};
use crate::store::events::{self, EventType};
use crate::store::{self};
use crate::views::case::status_of;
use crate::views::PersonRef;

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
    #[validate(length(max = 100), custom(function = "crate::views::short_texts"))]
    #[schema(max_items = 100, value_type = Vec<crate::views::ShortText>)]
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
    #[validate(length(max = 100), custom(function = "crate::views::short_texts"))]
    #[schema(max_items = 100, value_type = Option<Vec<crate::views::ShortText>>)]
    pub current_interventions: Option<Vec<String>>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub citizen_view: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub under_18_justification: Option<String>,
    pub exclusions: Option<Exclusions>,
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

//! Committees (*koordinations- og visitationsudvalg*) and their fixed members: read by every
//! authenticated principal, written by `admin`.

use actix_web::http::header::ETAG;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::kit::extract::{Id, Json, Query};
use crate::api::kit::paging::PageQuery;
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::api::kit::{check_if_match, etag};
use crate::audit::{self, Action, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::committee::{self, Seat};
use crate::domain::{Department, MemberRole, Role, Track};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::committees::{Committee, Member};
use crate::store::{self, cursor};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/committees")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/committees/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .default_service(not_allowed("GET, PATCH")),
    );
    cfg.service(
        web::resource("/committees/{id}/members").route(web::put().to(set_members)).default_service(not_allowed("PUT")),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommitteeRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    pub track: Track,
    /// The two departments that send leaders and caseworkers, then the fixed-staff department.
    #[schema(min_items = 3, max_items = 3)]
    pub departments: Vec<Department>,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommitteePatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    /// Only one committee per track is active; new referrals go to it.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MemberSeat {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sub: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub department: Department,
    pub role: MemberRole,
}

/// The full list of fixed members.
#[derive(Debug, Deserialize, Validate)]
#[serde(transparent)]
pub struct MembersRequest {
    #[validate(length(max = 50), nested)]
    pub members: Vec<MemberSeat>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitteeView {
    pub id: Uuid,
    pub name: String,
    pub track: Track,
    pub departments: Vec<Department>,
    pub active: bool,
    pub members: Vec<MemberSeat>,
    pub version: i32,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn view(c: Committee, members: &[Member]) -> CommitteeView {
    CommitteeView {
        id: c.id,
        name: c.name,
        track: Track::parse(&c.track).unwrap_or(Track::Adult),
        departments: c.departments.iter().filter_map(|d| Department::parse(d)).collect(),
        active: c.active,
        members: members
            .iter()
            .filter(|m| m.committee_id == c.id)
            .filter_map(|m| {
                Some(MemberSeat {
                    sub: m.sub.clone(),
                    name: m.name.clone(),
                    department: Department::parse(&m.department)?,
                    role: MemberRole::parse(&m.role)?,
                })
            })
            .collect(),
        version: c.version,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

fn load(conn: &mut diesel::PgConnection, id: Uuid) -> Result<CommitteeView, AppError> {
    let committee = store::committees::find(conn, id)?.ok_or(AppError::NotFound)?;
    let members = store::committees::members(conn, &[id])?;
    Ok(view(committee, &members))
}

fn respond(mut builder: actix_web::HttpResponseBuilder, view: CommitteeView) -> HttpResponse {
    builder.insert_header((ETAG, etag(view.version))).json(view)
}

/// Reading committees is for every role but a bare auditor.
fn require_reader(p: &Principal) -> Result<(), AppError> {
    p.require_any(&[Role::Caseworker, Role::Leader, Role::Admin, Role::System], "reading committees")
}

/// The committees, with their members.
#[utoipa::path(get, operation_id = "committees_list", path = "/api/v1/committees", tag = "committees", params(PageQuery),
    responses((status = 200, body = Page<CommitteeView>)), security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<PageQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<CommitteeView>>, AppError> {
    require_reader(&p)?;
    let limit = page_limit(q.0.limit)?;
    let after = q.0.cursor.as_deref().map(cursor::decode).transpose()?;
    let page = db
        .run(move |conn| {
            let rows = store::committees::list(conn, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |c| cursor::encode(c.id));
            let ids: Vec<_> = rows.iter().map(|c| c.id).collect();
            let members = store::committees::members(conn, &ids)?;
            Ok(Page { items: rows.into_iter().map(|c| view(c, &members)).collect(), next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

/// One committee, with its members.
#[utoipa::path(get, operation_id = "committees_get", path = "/api/v1/committees/{id}", tag = "committees", params(("id" = Uuid, Path)),
    responses((status = 200, body = CommitteeView, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    require_reader(&p)?;
    let id = id.0;
    let committee = db.run(move |conn| load(conn, id)).await?;
    Ok(respond(HttpResponse::Ok(), committee))
}

/// Create a committee for a track; it is active at once. A track with an active committee
/// already refuses a second one (409): deactivate the old one first.
#[utoipa::path(post, operation_id = "committees_create", path = "/api/v1/committees", tag = "committees", request_body = CommitteeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer")),
    responses(
        (status = 201, body = CommitteeView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 409, description = "The track already has an active committee", body = Problem),
        (status = 422, description = "composition_invalid, validation_failed", body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    p: Principal,
    key: IdempotencyKey,
    body: Json<CommitteeRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    access::require_admin(&p, "creating committees")?;
    let digest = *body.digest();
    let body = body.into_inner();
    let broken = committee::check_departments(body.track, &body.departments);
    if !broken.is_empty() {
        return Err(AppError::CompositionInvalid(broken));
    }
    let name = body.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::validation("name", "is required"));
    }
    let answer = db
        .tx(move |conn| {
            idempotency::once(conn, &p, &key, &digest, |conn| {
                if store::committees::active_for_track(conn, body.track.as_str())?.is_some() {
                    return Err(AppError::Conflict(format!(
                        "the {} track already has an active committee; deactivate it first",
                        body.track
                    )));
                }
                let departments: Vec<String> = body.departments.iter().map(|d| d.as_str().to_string()).collect();
                let created = store::committees::create(conn, &name, body.track.as_str(), &departments)
                    .map_err(|e| one_active_conflict(e, body.track))?;
                let view = load(conn, created.id)?;
                let tag = etag(view.version);
                Ok(Answer::json(StatusCode::CREATED, &view).with_etag(tag))
            })
        })
        .await?;
    Ok(answer.respond_at("/api/v1/committees/"))
}

/// Two creations racing for a track meet the database's one-active-per-track index.
fn one_active_conflict(e: diesel::result::Error, track: Track) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::Conflict(format!("the {track} track already has an active committee"))
        }
        other => other.into(),
    }
}

/// Rename a committee, or activate or deactivate it.
#[utoipa::path(patch, operation_id = "committees_update", path = "/api/v1/committees/{id}", tag = "committees", request_body = CommitteePatch,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The committee's ETag")),
    responses(
        (status = 200, body = CommitteeView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    p: Principal,
    id: Id,
    req: HttpRequest,
    body: Json<CommitteePatch>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    access::require_admin(&p, "changing committees")?;
    let (id, patch, headers) = (id.0, body.into_inner(), req.headers().clone());
    if patch.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(AppError::validation("name", "must not be blank"));
    }
    let view = db
        .tx(move |conn| {
            let committee = store::committees::lock(conn, id)?.ok_or(AppError::NotFound)?;
            check_if_match(&headers, committee.version)?;
            let track = Track::parse(&committee.track).unwrap_or(Track::Adult);
            let name = patch.name.as_deref().map(str::trim);
            store::committees::update(conn, id, name, patch.active).map_err(|e| one_active_conflict(e, track))?;
            load(conn, id)
        })
        .await?;
    Ok(respond(HttpResponse::Ok(), view))
}

/// Set the fixed members: 2 leaders and 2–4 caseworkers from the first two departments, and 1
/// fixed staff member from the third.
#[utoipa::path(put, operation_id = "committees_set_members", path = "/api/v1/committees/{id}/members", tag = "committees", request_body = Vec<MemberSeat>,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The committee's ETag")),
    responses(
        (status = 200, body = CommitteeView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem),
        (status = 422, description = "composition_invalid, validation_failed", body = Problem)),
    security(("bearer" = [])))]
pub async fn set_members(
    p: Principal,
    id: Id,
    req: HttpRequest,
    body: Json<MembersRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    access::require_admin(&p, "setting committee members")?;
    let (id, seats, headers) = (id.0, body.into_inner().members, req.headers().clone());
    let view = db
        .tx(move |conn| {
            let committee = store::committees::lock(conn, id)?.ok_or(AppError::NotFound)?;
            check_if_match(&headers, committee.version)?;
            let departments: Vec<Department> =
                committee.departments.iter().filter_map(|d| Department::parse(d)).collect();
            let departments: [Department; 3] = departments
                .try_into()
                .map_err(|_| AppError::Internal("stored committee departments unreadable".into()))?;
            let rules: Vec<Seat> =
                seats.iter().map(|s| Seat { sub: s.sub.as_str(), department: s.department, role: s.role }).collect();
            let broken = committee::check_composition(&departments, &rules);
            if !broken.is_empty() {
                return Err(AppError::CompositionInvalid(broken));
            }
            let members: Vec<Member> = seats
                .iter()
                .enumerate()
                .map(|(i, s)| Member {
                    committee_id: id,
                    sub: s.sub.clone(),
                    name: s.name.trim().to_string(),
                    department: s.department.as_str().to_string(),
                    role: s.role.as_str().to_string(),
                    position: i as i32,
                })
                .collect();
            store::committees::set_members(conn, id, &members)?;
            // Who sits on a committee decides who sees its cases: each change is on record.
            audit::record(
                conn,
                &p,
                audit::Entry::about(Action::Update, Purpose::Committee, "committee_members", id, 200),
            )?;
            load(conn, id)
        })
        .await?;
    Ok(respond(HttpResponse::Ok(), view))
}

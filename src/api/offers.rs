//! The offers catalog (*tilbud og indsatsmuligheder*): what each department can offer, for
//! plans to point to. Read by everyone who works with cases; written by admins, or by a leader
//! for their own department.

use actix_web::http::header::ETAG;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::kit::extract::{Id, Json, Query};
use crate::api::kit::paging::{page_limit, paginate, Page};
use crate::api::kit::{check_if_match, etag};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{vocabulary, Department, Role};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store::offers::{Offer, OfferChange, OfferFilter};
use crate::store::{self, cursor};

vocabulary! {
    /// Which track an offer is for.
    OfferTrack { Youth => "youth", Adult => "adult", Both => "both" }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/offers")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/offers/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .default_service(not_allowed("GET, PATCH")),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    pub department: Department,
    /// The kind of offer, e.g. `housing_support`, `mentor_support`, `education`.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub category: String,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub track: OfferTrack,
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000i64)]
    pub unit_cost_ore: Option<i64>,
    /// Default true.
    pub active: Option<bool>,
}

/// A change of an offer; absent fields stay. The department does not change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct OfferPatch {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub category: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub track: Option<OfferTrack>,
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000i64)]
    pub unit_cost_ore: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    /// Words in the name or description (case-insensitive).
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub department: Option<Department>,
    #[param(max_length = 100)]
    pub category: Option<String>,
    /// Offers for this track (those for both tracks included).
    pub track: Option<OfferTrack>,
    /// Default: active offers only.
    pub active: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferView {
    pub id: Uuid,
    pub name: String,
    pub department: Department,
    pub category: String,
    pub description: Option<String>,
    pub track: OfferTrack,
    pub unit_cost_ore: Option<i64>,
    pub active: bool,
    pub version: i32,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn view(o: Offer) -> OfferView {
    OfferView {
        id: o.id,
        name: o.name,
        department: Department::parse(&o.department).unwrap_or(Department::Social),
        category: o.category,
        description: o.description,
        track: OfferTrack::parse(&o.track).unwrap_or(OfferTrack::Both),
        unit_cost_ore: o.unit_cost_ore,
        active: o.active,
        version: o.version,
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

/// Admins write any offer; a leader writes their own department's.
fn require_writer(p: &Principal, department: Department) -> Result<(), AppError> {
    if p.has(Role::Admin) || (p.has(Role::Leader) && p.dept == department) {
        Ok(())
    } else {
        Err(AppError::Forbidden("the catalog is written by admins, or by a leader for their own department".into()))
    }
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn required(field: &str, text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        Err(AppError::validation(field, "must not be blank"))
    } else {
        Ok(text.to_string())
    }
}

/// The catalog, searchable by words, department, category and track.
#[utoipa::path(get, operation_id = "offers_list", path = "/api/v1/offers", tag = "offers", params(OfferQuery),
    responses((status = 200, body = Page<OfferView>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list(
    p: Principal,
    q: Query<OfferQuery>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<OfferView>>, AppError> {
    access::require_case_role(&p)?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::validation("q", "must be at most 200 characters"));
    }
    let filter = OfferFilter {
        words: q.q.map(|t| t.split_whitespace().map(str::to_string).collect()).unwrap_or_default(),
        department: q.department.map(|d| d.as_str().to_string()),
        category: q.category,
        track: q.track.map(|t| t.as_str().to_string()),
        active: q.active.unwrap_or(true),
    };
    let page = db
        .run(move |conn| {
            let rows = store::offers::search(conn, &filter, after, limit + 1)?;
            let (rows, next_cursor) = paginate(rows, limit, |o| cursor::encode(o.id));
            Ok(Page { items: rows.into_iter().map(view).collect(), next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

/// One offer.
#[utoipa::path(get, operation_id = "offers_get", path = "/api/v1/offers/{id}", tag = "offers", params(("id" = Uuid, Path)),
    responses((status = 200, body = OfferView, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    access::require_case_role(&p)?;
    let id = id.0;
    let offer = db.run(move |conn| store::offers::find(conn, id)?.ok_or(AppError::NotFound)).await?;
    Ok(HttpResponse::Ok().insert_header((ETAG, etag(offer.version))).json(view(offer)))
}

/// Add an offer to the catalog.
#[utoipa::path(post, operation_id = "offers_create", path = "/api/v1/offers", tag = "offers", request_body = OfferRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer")),
    responses((status = 201, body = OfferView, headers(("ETag" = String))), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    p: Principal,
    key: IdempotencyKey,
    body: Json<OfferRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let digest = *body.digest();
    let o = body.into_inner();
    require_writer(&p, o.department)?;
    let (name, category) = (required("name", &o.name)?, required("category", &o.category)?);
    let answer = db
        .tx(move |conn| {
            idempotency::once(conn, &p, &key, &digest, |conn| {
                let offer = store::offers::create(
                    conn,
                    &store::offers::NewOffer {
                        name: &name,
                        department: o.department.as_str(),
                        category: &category,
                        description: trimmed(o.description).as_deref(),
                        track: o.track.as_str(),
                        unit_cost_ore: o.unit_cost_ore,
                        active: o.active.unwrap_or(true),
                    },
                )?;
                let tag = etag(offer.version);
                Ok(Answer::json(StatusCode::CREATED, &view(offer)).with_etag(tag))
            })
        })
        .await?;
    Ok(answer.respond_at("/api/v1/offers/"))
}

/// Change an offer (send its `ETag` as `If-Match`).
#[utoipa::path(patch, operation_id = "offers_update", path = "/api/v1/offers/{id}", tag = "offers", request_body = OfferPatch,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The offer's ETag")),
    responses((status = 200, body = OfferView, headers(("ETag" = String))), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    p: Principal,
    id: Id,
    req: HttpRequest,
    body: Json<OfferPatch>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (id, patch, headers) = (id.0, body.into_inner(), req.headers().clone());
    let name = patch.name.as_deref().map(|n| required("name", n)).transpose()?;
    let category = patch.category.as_deref().map(|c| required("category", c)).transpose()?;
    let offer = db
        .tx(move |conn| {
            let current = store::offers::lock(conn, id)?.ok_or(AppError::NotFound)?;
            let department = Department::parse(&current.department).unwrap_or(Department::Social);
            require_writer(&p, department)?;
            check_if_match(&headers, current.version)?;
            let change = OfferChange {
                name,
                category,
                description: patch.description.map(|d| trimmed(Some(d))),
                track: patch.track.map(|t| t.as_str().to_string()),
                unit_cost_ore: patch.unit_cost_ore.map(Some),
                active: patch.active,
            };
            Ok(store::offers::update(conn, id, &change)?)
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((ETAG, etag(offer.version))).json(view(offer)))
}

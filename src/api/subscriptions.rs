//! Webhook subscriptions: a departmental system asks to have its department's events pushed to
//! a URL, signed (Standard Webhooks) with a `whsec_` secret Helhed makes and shows it once.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::api::kit::extract::{Id, Json};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{Department, Role};
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::schema::subscriptions;
use crate::webhooks::{destination, Subscription};

pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::kit::method_not_allowed as not_allowed;
    cfg.service(
        web::resource("/subscriptions")
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(not_allowed("GET, POST")),
    );
    cfg.service(
        web::resource("/subscriptions/{id}").route(web::delete().to(remove)).default_service(not_allowed("DELETE")),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// Where to POST each event: https to a public address (or one in `HELHED_WEBHOOK_ALLOW`),
    /// or plain http to an address in `HELHED_WEBHOOK_ALLOW`; no user info.
    #[validate(length(min = 1, max = 2000), custom(function = "http_url"))]
    #[schema(min_length = 1, max_length = 2000, pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\u0000]*$")]
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub department: Department,
    pub url: String,
    pub active: bool,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Events delivered so far.
    pub delivered: i64,
    /// Failed attempts in a row; the next one waits 2^attempts seconds (at most five minutes).
    pub attempts: i32,
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The Standard Webhooks signing secret, `whsec_` and the base64 of 32 random bytes (the HMAC
    /// key): only in the answer that created the subscription (and its idempotent replay).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]{43}=$")]
    pub secret: Option<String>,
}

fn view(s: Subscription, with_secret: bool) -> SubscriptionView {
    SubscriptionView {
        id: s.id,
        department: Department::parse(&s.department).unwrap_or(Department::Social),
        url: s.url,
        active: s.active,
        created_at: s.created_at,
        delivered: s.delivered,
        attempts: s.attempts,
        next_attempt_at: s.next_attempt_at,
        last_error: s.last_error,
        secret: with_secret.then_some(s.secret),
    }
}

/// The form the schema gives a URL: it starts `http://` or `https://`. Whether that destination
/// is allowed is the destination rule's to say (422 `destination_not_allowed`).
fn http_url(url: &str) -> Result<(), validator::ValidationError> {
    let scheme = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if scheme.starts_with("http://") || scheme.starts_with("https://") {
        Ok(())
    } else {
        Err(validator::ValidationError::new("url").with_message("must start with http:// or https://".into()))
    }
}

fn require_system(p: &Principal) -> Result<(), AppError> {
    p.require_any(&[Role::System], "managing webhook subscriptions")
}

/// Subscribe the caller's department to its events (`system`).
///
/// Each event is POSTed to `url` as its CloudEvent (`application/cloudevents+json`), following the
/// Standard Webhooks specification: `webhook-id` (the same for every attempt at one event),
/// `webhook-timestamp` and `webhook-signature`, verified with the `secret` of this answer by any
/// Standard Webhooks library; an event written by a request carries that request's W3C trace
/// (its `traceparent`'s trace id, or the trace Helhed started for it) in a `traceparent`.
#[utoipa::path(post, operation_id = "subscriptions_create", path = "/api/v1/subscriptions", tag = "integration", request_body = SubscriptionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer")),
    responses((status = 201, body = SubscriptionView), (status = 403, body = Problem),
        (status = 422, description = "validation_failed, or destination_not_allowed: the URL's scheme, user info or resolved address breaks the destination rule", body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    p: Principal,
    key: IdempotencyKey,
    body: Json<SubscriptionRequest>,
    db: web::Data<Db>,
    state: web::Data<crate::state::State>,
) -> Result<HttpResponse, AppError> {
    require_system(&p)?;
    let digest = *body.digest();
    let body = body.into_inner();
    let (url, allow) = (body.url.clone(), state.webhook_allow.clone());
    web::block(move || destination::check(&url, &allow))
        .await
        .map_err(|_| AppError::Internal("the destination check did not finish".into()))?
        .map_err(|refused| AppError::DestinationNotAllowed(refused.0))?;
    let secret = crate::webhooks::new_secret();
    let answer = db
        .tx(move |conn| {
            idempotency::once(conn, &p, &key, &digest, |conn| {
                let created: Subscription = diesel::insert_into(subscriptions::table)
                    .values((
                        subscriptions::id.eq(Uuid::now_v7()),
                        subscriptions::department.eq(p.dept.as_str()),
                        subscriptions::owner_iss.eq(&p.iss),
                        subscriptions::owner_sub.eq(&p.sub),
                        subscriptions::url.eq(&body.url),
                        subscriptions::secret.eq(&secret),
                    ))
                    .returning(Subscription::as_returning())
                    .get_result(conn)?;
                Ok(Answer::json(StatusCode::CREATED, &view(created, true)))
            })
        })
        .await?;
    Ok(answer.respond())
}

/// The department's subscriptions, with their delivery state (`system`).
#[utoipa::path(get, operation_id = "subscriptions_list", path = "/api/v1/subscriptions", tag = "integration",
    responses((status = 200, body = Vec<SubscriptionView>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(p: Principal, db: web::Data<Db>) -> Result<web::Json<Vec<SubscriptionView>>, AppError> {
    require_system(&p)?;
    let rows = db
        .run(move |conn| {
            Ok(subscriptions::table
                .filter(subscriptions::department.eq(p.dept.as_str()))
                .filter(subscriptions::active.eq(true))
                .order(subscriptions::created_at.asc())
                .select(Subscription::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(web::Json(rows.into_iter().map(|s| view(s, false)).collect()))
}

/// End a subscription of the department (`system`).
#[utoipa::path(delete, operation_id = "subscriptions_remove", path = "/api/v1/subscriptions/{id}", tag = "integration", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Ended"), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn remove(p: Principal, id: Id, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    require_system(&p)?;
    let id = id.0;
    let ended = db
        .run(move |conn| {
            Ok(diesel::update(
                subscriptions::table
                    .filter(subscriptions::id.eq(id))
                    .filter(subscriptions::department.eq(p.dept.as_str()))
                    .filter(subscriptions::active.eq(true)),
            )
            .set(subscriptions::active.eq(false))
            .execute(conn)?)
        })
        .await?;
    if ended == 0 {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

//! Citizens: registered by CPR number, and the answer to a citizen's access request. The CPR
//! appears only in these responses.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access;
use crate::api::kit::extract::{Id, Json};
use crate::audit::{self, Action, Entry, Purpose};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::cpr::Cpr;
use crate::domain::Role;
use crate::error::{AppError, Problem};
use crate::idempotency::{self, Answer, IdempotencyKey};
use crate::store;
use crate::store::audit::AuditFilter;
use crate::views::audit::{report, Consultation};
use crate::views::case::{CaseView, HistoryEvent};
use crate::views::consent::{self, ConsentView};
use crate::views::ledger::{self, LedgerEntry};
use crate::views::meeting::{decision_view, DecisionView};
use crate::views::plan::PlanView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/citizens")
            .route(web::post().to(register))
            .default_service(crate::api::kit::method_not_allowed("POST")),
    );
    cfg.service(
        web::resource("/citizens/{id}")
            .route(web::get().to(get))
            .default_service(crate::api::kit::method_not_allowed("GET")),
    );
    cfg.service(
        web::resource("/citizens/{id}/export")
            .route(web::get().to(export))
            .default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CitizenRequest {
    /// CPR number: 10 digits, or `DDMMYY-SSSS`.
    #[schema(pattern = "^[0-9]{6}-?[0-9]{4}$", example = "0101901234")]
    pub cpr: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CitizenView {
    pub id: Uuid,
    pub name: String,
    pub birth_date: NaiveDate,
    pub cpr: String,
}

impl From<store::citizens::Citizen> for CitizenView {
    fn from(c: store::citizens::Citizen) -> Self {
        CitizenView { id: c.id, name: c.name, birth_date: c.birth_date, cpr: c.cpr }
    }
}

/// Register a citizen, or find the one registered with this CPR number. The answer is the same
/// whether the citizen was known or not — that a person is in this programme is itself
/// sensitive: always 201, and the stored name only for a caller who sees one of the citizen's
/// cases (otherwise the name the caller sent). The stored name is never overwritten here.
#[utoipa::path(post, operation_id = "citizens_register", path = "/api/v1/citizens", tag = "citizens", request_body = CitizenRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body replay the first answer")),
    responses(
        (status = 201, description = "The citizen, registered now or before (the answer does not say which)", body = CitizenView),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn register(
    p: Principal,
    key: IdempotencyKey,
    body: Json<CitizenRequest>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    access::require_referrer_role(&p)?;
    let digest = *body.digest();
    let body = body.into_inner();
    let cpr = Cpr::parse_on(body.cpr.trim(), chrono::Utc::now().date_naive())
        .map_err(|e| AppError::CprInvalid(vec![crate::domain::FieldError::new("cpr", e.to_string())]))?;
    let name = body.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::validation("name", "is required"));
    }
    let answer = db
        .tx(move |conn| {
            // Computed afresh on a replay too: what the caller may see of the citizen is decided now.
            idempotency::recomputed(conn, &p, &key, &digest, |conn| {
                let (citizen, created) = store::citizens::register(conn, cpr.digits(), &name, cpr.birth_date())?;
                let sees_a_case = store::cases::citizen_visible(conn, &p, citizen.id)?.is_some();
                let action = if created { Action::Create } else { Action::Read };
                audit::record(conn, &p, Entry::citizen(action, Purpose::Referral, citizen.id, 201))?;
                let view = CitizenView {
                    id: citizen.id,
                    name: if sees_a_case { citizen.name } else { name },
                    birth_date: citizen.birth_date,
                    cpr: citizen.cpr,
                };
                Ok(Answer::json(StatusCode::CREATED, &view))
            })
        })
        .await?;
    Ok(answer.respond_at("/api/v1/citizens/"))
}

/// A citizen, for a principal who sees one of the citizen's cases.
#[utoipa::path(get, operation_id = "citizens_get", path = "/api/v1/citizens/{id}", tag = "citizens",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CitizenView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<CitizenView>, AppError> {
    let id = id.0;
    let citizen = db
        .read(move |conn| {
            access::require_case_role(&p).map_err(audit::citizen_forbidden(&p, id))?;
            let Some(status) = store::cases::citizen_visible(conn, &p, id)? else {
                return Err(audit::deny(&p, "citizen", id, audit::purpose_for(&p, None)));
            };
            let purpose = audit::purpose_for(&p, crate::domain::CaseStatus::parse(&status));
            let citizen = store::citizens::find(conn, id)?.ok_or(AppError::NotFound)?;
            audit::record(conn, &p, Entry::citizen(Action::Read, purpose, id, 200))?;
            Ok(citizen)
        })
        .await?;
    Ok(web::Json(citizen.into()))
}

/// One case in a citizen's export: the case and everything under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseExport {
    /// The case as those who take part in it see it: referral, screening, coordinator, budget,
    /// background group, participation notes, consent summary.
    pub case: CaseView,
    pub decisions: Vec<DecisionView>,
    /// Every plan version, oldest first, with its amendments.
    pub plan_versions: Vec<PlanView>,
    pub consents: Vec<ConsentView>,
    /// The budget ledger, oldest first.
    pub ledger: Vec<LedgerEntry>,
    /// Every event of the case, oldest first.
    pub history: Vec<HistoryEvent>,
}

/// Everything held about a citizen (GDPR art. 15), with the consultation report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CitizenExport {
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub citizen: CitizenView,
    pub cases: Vec<CaseExport>,
    /// Every day the citizen's data was consulted, and for which purposes.
    pub consultations: Vec<Consultation>,
}

fn case_export(conn: &mut diesel::PgConnection, case: crate::store::cases::CaseRow) -> Result<CaseExport, AppError> {
    let id = case.id;
    let mut plan_versions = Vec::new();
    for v in store::plans::versions(conn, id)? {
        plan_versions.extend(crate::views::plan::load(conn, id, v.version)?);
    }
    Ok(CaseExport {
        decisions: store::decisions::of_case(conn, id)?.into_iter().map(decision_view).collect(),
        plan_versions,
        consents: store::consents::of_case(conn, id)?.into_iter().map(consent::view).collect::<Result<_, _>>()?,
        ledger: ledger::entries(conn, id)?,
        history: store::events::history(conn, id, None, i64::MAX)?.into_iter().map(HistoryEvent::from_row).collect(),
        case: CaseView::load(conn, case)?,
    })
}

/// The answer to the citizen's access request (`auditor`): one document with everything held
/// about them, and when their data was consulted for what. Audited as `access_request`.
#[utoipa::path(get, operation_id = "citizens_export", path = "/api/v1/citizens/{id}/export", tag = "citizens", params(("id" = Uuid, Path)),
    responses((status = 200, body = CitizenExport), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn export(p: Principal, id: Id, db: web::Data<Db>) -> Result<web::Json<CitizenExport>, AppError> {
    let id = id.0;
    let export = db
        .read(move |conn| {
            p.require_any(&[Role::Auditor], "a citizen's export").map_err(audit::citizen_forbidden(&p, id))?;
            let citizen = store::citizens::find(conn, id)?
                .ok_or_else(|| audit::deny(&p, "citizen", id, Purpose::AccessRequest))?;
            let rows = store::cases::of_citizen(conn, id)?;
            let case_ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
            let cases = rows.into_iter().map(|c| case_export(conn, c)).collect::<Result<Vec<_>, _>>()?;
            let consultations = report(store::audit::consultations(conn, id, &AuditFilter::default())?);
            let mut entry =
                Entry::citizen(Action::Read, Purpose::AccessRequest, id, 200).resource("citizen_export", id);
            entry.case_ids = case_ids;
            audit::record(conn, &p, entry)?;
            Ok(CitizenExport { exported_at: chrono::Utc::now(), citizen: citizen.into(), cases, consultations })
        })
        .await?;
    Ok(web::Json(export))
}

//! My tasks: what waits for the caller, most urgent first — referrals to screen, accepted cases
//! on no agenda, follow-ups due, interventions past their end, consents running out or gone, and
//! young people turning 30. Only cases the caller sees; no CPR; audited as a list read.

use std::collections::HashMap;

use actix_web::web;
use chrono::{Duration, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access;
use crate::api::kit::extract::Query;
use crate::api::kit::paging::{page_limit, paginate, Page, PageQuery};
use crate::audit::{self, Action, Entry};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::consent::{self, ConsentKind};
use crate::domain::eligibility::ADULT_FROM;
use crate::domain::plan::InterventionStatus;
use crate::domain::{cpr, vocabulary, FieldError};
use crate::error::{AppError, Problem};
use crate::store::cases::CaseRow;
use crate::store::{self, tasks};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me/tasks")
            .route(web::get().to(list))
            .default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

vocabulary! {
    /// What kind of work a task is.
    TaskKind {
        /// A leader of the committee's departments: a referral to screen.
        ScreeningWaiting => "screening_waiting",
        /// A leader member: an accepted case on no upcoming agenda.
        AgendaWaiting => "agenda_waiting",
        /// The coordinator and the leader members: a follow-up within 14 days, or past.
        FollowUpDue => "follow_up_due",
        /// The coordinator: a planned or active intervention past its end date.
        InterventionOverdue => "intervention_overdue",
        /// The coordinator: a consent that runs out within 30 days.
        ConsentExpiring => "consent_expiring",
        /// The coordinator: an active case without a current plan consent, to close.
        ConsentWithdrawn => "consent_withdrawn",
        /// A leader member of the youth committee: the citizen turns 30 within 90 days.
        TransitionDue => "transition_due",
    }
}

/// One thing that waits for the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub kind: TaskKind,
    pub case_id: Uuid,
    /// When it is due: the follow-up date, the intervention's end, the consent's expiry, the 30th
    /// birthday; for a waiting case the day it started waiting.
    pub due_on: NaiveDate,
    /// Past its date; a waiting case, waiting for more than 14 days.
    pub overdue: bool,
    /// What it is, in a few words (no names, no CPR).
    pub detail: String,
    #[serde(skip)]
    citizen_id: Uuid,
}

/// How long a case may wait for screening or an agenda before its task is overdue.
const WAITING_DAYS: i64 = 14;
const CONSENT_NOTICE_DAYS: i64 = 30;
const TRANSITION_NOTICE_DAYS: i64 = 90;

/// Everything that waits for `p` today, most urgent first.
fn tasks_of(conn: &mut PgConnection, p: &Principal, today: NaiveDate) -> Result<Vec<Task>, AppError> {
    let mut out = Vec::new();
    let mut push = |kind: TaskKind, c: &CaseRow, due_on: NaiveDate, overdue: bool, detail: String| {
        out.push(Task { kind, case_id: c.id, due_on, overdue, detail, citizen_id: c.citizen_id });
    };
    let waited_too_long = |since: NaiveDate| since + Duration::days(WAITING_DAYS) < today;

    for c in tasks::to_screen(conn, p)? {
        let since = c.referred_at.date_naive();
        push(TaskKind::ScreeningWaiting, &c, since, waited_too_long(since), "a referral waits for screening".into());
    }
    let seats = tasks::leader_seats(conn, p, None)?;
    for c in tasks::to_put_on_agenda(conn, p, &seats)? {
        let since = c.screened_at.map(|t| t.date_naive()).unwrap_or(today);
        push(
            TaskKind::AgendaWaiting,
            &c,
            since,
            waited_too_long(since),
            "an accepted case is on no upcoming agenda".into(),
        );
    }
    for c in tasks::follow_ups_due(conn, p, &seats, today + Duration::days(WAITING_DAYS))? {
        if let Some(on) = c.follow_up_on {
            push(TaskKind::FollowUpDue, &c, on, on < today, "the case is due back at its committee".into());
        }
    }
    for c in tasks::coordinated(conn, p)? {
        // Interventions as amended: the current plan version, read as every reader reads it.
        let version = store::plans::latest_version(conn, c.id)?.unwrap_or(0);
        if let Some(plan) = crate::views::plan::load(conn, c.id, version)? {
            let late: Vec<NaiveDate> = plan
                .interventions
                .iter()
                .filter(|i| matches!(i.status, InterventionStatus::Planned | InterventionStatus::Active))
                .filter_map(|i| i.end_on)
                .filter(|end| *end < today)
                .collect();
            if let Some(first) = late.iter().min() {
                let detail = format!("{} intervention(s) past their end date", late.len());
                push(TaskKind::InterventionOverdue, &c, *first, true, detail);
            }
        }
        let consents = store::consents::rules_of_case(conn, c.id)?;
        let under_18 = store::consents::under_18_on(conn, c.id, today)?;
        if consent::plan_holds(&consents, today, under_18) {
            let ending = consents
                .iter()
                .filter(|k| k.current_on(today))
                .filter_map(|k| k.expires_on.map(|end| (end, k.kind)))
                .filter(|(end, _)| *end <= today + Duration::days(CONSENT_NOTICE_DAYS))
                .min();
            if let Some((end, kind)) = ending {
                let what = if kind == ConsentKind::Plan { "plan" } else { "data-sharing" };
                push(TaskKind::ConsentExpiring, &c, end, false, format!("a {what} consent runs out"));
            }
        } else {
            let since = store::consents::of_case(conn, c.id)?
                .iter()
                .filter(|k| k.kind == ConsentKind::Plan.as_str())
                .filter_map(|k| k.withdrawn_on.or(k.expires_on.map(|e| e + Duration::days(1))))
                .max()
                .unwrap_or(today);
            let detail = "no current plan consent: only closure is possible".to_string();
            push(TaskKind::ConsentWithdrawn, &c, since, true, detail);
        }
    }
    let youth_seats = tasks::leader_seats(conn, p, Some("youth"))?;
    if !youth_seats.is_empty() {
        let horizon = today + Duration::days(TRANSITION_NOTICE_DAYS);
        let born_by = cpr::birthday(horizon, -ADULT_FROM);
        for (c, born) in store::cases::transitions(conn, p, born_by, None, i64::MAX)? {
            let turns_30 = cpr::birthday(born, ADULT_FROM);
            if youth_seats.contains(&c.committee_id) && turns_30 <= horizon {
                push(TaskKind::TransitionDue, &c, turns_30, turns_30 <= today, "the citizen turns 30: transfer".into());
            }
        }
    }
    out.sort_by_key(|t| (t.due_on, t.kind, t.case_id));
    Ok(out)
}

fn encode(t: &Task) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}/{}/{}", t.due_on, t.kind, t.case_id))
}

fn decode(cursor: &str) -> Result<(NaiveDate, TaskKind, Uuid), AppError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let mut parts = text.splitn(3, '/');
            let on: NaiveDate = parts.next()?.parse().ok()?;
            // A date this API never wrote (before 1900, after 9999) is no cursor of ours.
            (1900..=9999).contains(&chrono::Datelike::year(&on)).then_some(())?;
            let kind = TaskKind::parse(parts.next()?)?;
            Some((on, kind, Uuid::parse_str(parts.next()?).ok()?))
        })
        .ok_or_else(|| AppError::InvalidCursor(vec![FieldError::new("cursor", "is not a cursor this API returned")]))
}

/// What waits for the caller, most urgent first (`caseworker`, `leader`, `admin`, `system`).
#[utoipa::path(get, operation_id = "me_tasks", path = "/api/v1/me/tasks", tag = "cases", params(PageQuery),
    responses((status = 200, body = Page<Task>), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(p: Principal, q: Query<PageQuery>, db: web::Data<Db>) -> Result<web::Json<Page<Task>>, AppError> {
    access::require_case_role(&p)?;
    let q = q.0;
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(decode).transpose()?;
    let page = db
        .read(move |conn| {
            let mut all = tasks_of(conn, &p, Utc::now().date_naive())?;
            if let Some(after) = after {
                all.retain(|t| (t.due_on, t.kind, t.case_id) > after);
            }
            all.truncate(limit as usize + 1);
            let (items, next_cursor) = paginate(all, limit, encode);
            let mut citizens: HashMap<Uuid, ()> = HashMap::new();
            let mut case_ids: Vec<Uuid> = Vec::new();
            for t in &items {
                if !case_ids.contains(&t.case_id) {
                    case_ids.push(t.case_id);
                }
                citizens.insert(t.citizen_id, ());
            }
            audit::record(
                conn,
                &p,
                Entry {
                    action: Action::Read,
                    resource: "tasks".into(),
                    resource_id: None,
                    case_id: None,
                    citizen_id: None,
                    purpose: audit::purpose_for(&p, None),
                    status: 200,
                    filters: Some(json!({"limit": limit})),
                    case_ids,
                    citizen_ids: citizens.into_keys().collect(),
                },
            )?;
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

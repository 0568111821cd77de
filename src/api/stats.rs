//! Flow statistics for the people who steer (`leader`, `admin`): is the committee a bottleneck?
//! Counts and durations per committee and period, computed in SQL, with no personal data.

use std::collections::BTreeMap;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access;
use crate::api::kit::extract::Query;
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::{Role, Track};
use crate::error::{AppError, Problem};
use crate::store;
use crate::store::stats::{Durations, Period};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/stats/flow")
            .route(web::get().to(flow))
            .default_service(crate::api::kit::method_not_allowed("GET")),
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    pub committee_id: Option<Uuid>,
    /// Cases referred (and decisions recorded) from this instant.
    pub from: Option<DateTime<Utc>>,
    /// … until this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DurationStats {
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    /// How many cases the figures are over.
    pub count: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Waiting {
    /// Cases accepted and waiting for their first decision now.
    pub count: i64,
    /// How long the longest of them has waited since screening, in days.
    pub longest_days: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Participation {
    pub decisions: i64,
    pub took_part: i64,
    /// took_part / decisions; null without decisions.
    pub share: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FrameUse {
    pub frame_ore: i64,
    pub spent_ore: i64,
    /// spent / frame; null without frames.
    pub share: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitteeFlow {
    pub committee_id: Uuid,
    pub name: String,
    pub track: Track,
    /// Cases referred in the period, by their status now.
    pub cases_by_status: BTreeMap<String, i64>,
    pub referral_to_screening: DurationStats,
    pub screening_to_first_decision: DurationStats,
    pub waiting: Waiting,
    /// Active cases whose follow-up date has passed, now.
    pub overdue_follow_ups: i64,
    /// Decisions recorded in the period, and whether the citizen took part.
    pub citizen_participation: Participation,
    /// The frames of the counted cases and what is spent of them, now.
    pub frame_use: FrameUse,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Flow {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub committees: Vec<CommitteeFlow>,
}

fn durations(d: Durations) -> DurationStats {
    let round = |v: Option<f64>| v.map(|v| (v * 100.0).round() / 100.0);
    DurationStats { median_days: round(d.median_days), p90_days: round(d.p90_days), count: d.count }
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0)
}

/// How cases flow through each committee: counts by status, time from referral to screening
/// and from screening to first decision (median and 90th percentile), cases waiting and the
/// longest wait, overdue follow-ups, the citizen's participation, and frame use.
#[utoipa::path(get, operation_id = "stats_flow", path = "/api/v1/stats/flow", tag = "statistics", params(FlowQuery),
    responses((status = 200, body = Flow), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn flow(p: Principal, q: Query<FlowQuery>, db: web::Data<Db>) -> Result<web::Json<Flow>, AppError> {
    p.require_any(&[Role::Leader, Role::Admin], "reading flow statistics")?;
    let q = q.0;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to <= from {
            return Err(AppError::InconsistentRequest(vec![crate::domain::FieldError::new(
                "to",
                "must be after from",
            )]));
        }
    }
    let flow = db
        .run(move |conn| {
            let committees = match q.committee_id {
                Some(id) => vec![store::committees::find(conn, id)?.ok_or(AppError::NotFound)?],
                None => store::committees::list(conn, None, 1000)?,
            };
            let period = Period { from: q.from, to: q.to };
            let mut figures = store::stats::flow(conn, || access::statistics_cases(&p), q.committee_id, &period)?;
            let items = committees
                .into_iter()
                .map(|c| {
                    let f = figures.remove(&c.id).unwrap_or_default();
                    CommitteeFlow {
                        committee_id: c.id,
                        name: c.name,
                        track: Track::parse(&c.track).unwrap_or(Track::Adult),
                        cases_by_status: f.by_status,
                        referral_to_screening: durations(f.referral_to_screening),
                        screening_to_first_decision: durations(f.screening_to_decision),
                        waiting: Waiting {
                            count: f.waiting,
                            longest_days: f.longest_wait_days.map(|d| (d * 100.0).round() / 100.0),
                        },
                        overdue_follow_ups: f.overdue_follow_ups,
                        citizen_participation: Participation {
                            decisions: f.decisions,
                            took_part: f.decisions_with_participation,
                            share: share(f.decisions_with_participation, f.decisions),
                        },
                        frame_use: FrameUse {
                            frame_ore: f.frame_ore,
                            spent_ore: f.spent_ore,
                            share: share(f.spent_ore, f.frame_ore),
                        },
                    }
                })
                .collect();
            Ok(Flow { from: q.from, to: q.to, committees: items })
        })
        .await?;
    Ok(web::Json(flow))
}

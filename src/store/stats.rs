//! Flow statistics, computed in SQL over the cases a principal may count: how long each step
//! takes, how many cases wait, which follow-ups are overdue, whether citizens take part, and
//! how much of the frames is used. Only counts and durations leave this module.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Timestamptz};
use uuid::Uuid;

use crate::access::CaseFilter;
use crate::schema::cases;

/// Median, 90th percentile and number of observations, in days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Durations {
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub count: i64,
}

#[derive(Debug, Clone, Default)]
pub struct CommitteeFlow {
    pub by_status: BTreeMap<String, i64>,
    pub referral_to_screening: Durations,
    pub screening_to_decision: Durations,
    pub waiting: i64,
    pub longest_wait_days: Option<f64>,
    pub overdue_follow_ups: i64,
    pub decisions: i64,
    pub decisions_with_participation: i64,
    pub frame_ore: i64,
    pub spent_ore: i64,
}

pub struct Period {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Narrows a grouped query to the counted cases: those `visible` keeps, of one committee if
/// asked, and (with `period`) referred within the period.
macro_rules! counted {
    ($query:expr, $visible:expr, $committee:expr, $period:expr) => {{
        let mut query = $query.filter($visible()).into_boxed();
        if let Some(committee) = $committee {
            query = query.filter(cases::committee_id.eq(committee));
        }
        if let Some(period) = $period {
            let period: &Period = period;
            if let Some(from) = period.from {
                query = query.filter(cases::referred_at.ge(from));
            }
            if let Some(to) = period.to {
                query = query.filter(cases::referred_at.lt(to));
            }
        }
        query
    }};
}

const DAYS: &str = "/ 86400.0";

/// `extract(epoch …)` is numeric; the figures leave as float8.
fn days(seconds: &str) -> String {
    format!("(extract(epoch FROM {seconds}) {DAYS})::float8")
}

fn percentiles(seconds: &str) -> (String, String) {
    (
        format!("percentile_cont(0.5) WITHIN GROUP (ORDER BY {})", days(seconds)),
        format!("percentile_cont(0.9) WITHIN GROUP (ORDER BY {})", days(seconds)),
    )
}

/// The flow of every committee the principal's cases belong to.
pub fn flow(
    conn: &mut PgConnection,
    visible: impl Fn() -> CaseFilter,
    committee: Option<Uuid>,
    period: &Period,
) -> QueryResult<BTreeMap<Uuid, CommitteeFlow>> {
    let mut out: BTreeMap<Uuid, CommitteeFlow> = BTreeMap::new();

    // Counts by status of the cases referred in the period.
    let rows: Vec<(Uuid, String, i64)> = counted!(
        cases::table.group_by((cases::committee_id, cases::status)).select((
            cases::committee_id,
            cases::status,
            count_star()
        )),
        visible,
        committee,
        Some(period)
    )
    .load(conn)?;
    for (committee, status, n) in rows {
        out.entry(committee).or_default().by_status.insert(status, n);
    }

    // Referral → screening, for the cases screened.
    let (median, p90) = percentiles("screened_at - referred_at");
    let rows: Vec<(Uuid, Option<f64>, Option<f64>, i64)> = counted!(
        cases::table.filter(cases::screened_at.is_not_null()).group_by(cases::committee_id).select((
            cases::committee_id,
            sql::<Nullable<Double>>(&median),
            sql::<Nullable<Double>>(&p90),
            count_star()
        )),
        visible,
        committee,
        Some(period)
    )
    .load(conn)?;
    for (committee, median_days, p90_days, count) in rows {
        out.entry(committee).or_default().referral_to_screening = Durations { median_days, p90_days, count };
    }

    // Screening → first decision, for the cases decided.
    let first_decision = "(SELECT d.recorded_at FROM decisions d WHERE d.case_id = cases.id AND d.kind = 'initial')";
    let (median, p90) = percentiles(&format!("{first_decision} - screened_at"));
    let rows: Vec<(Uuid, Option<f64>, Option<f64>, i64)> = counted!(
        cases::table
            .filter(cases::screened_at.is_not_null())
            .filter(sql::<diesel::sql_types::Bool>(&format!("{first_decision} IS NOT NULL")))
            .group_by(cases::committee_id)
            .select((
                cases::committee_id,
                sql::<Nullable<Double>>(&median),
                sql::<Nullable<Double>>(&p90),
                count_star()
            )),
        visible,
        committee,
        Some(period)
    )
    .load(conn)?;
    for (committee, median_days, p90_days, count) in rows {
        out.entry(committee).or_default().screening_to_decision = Durations { median_days, p90_days, count };
    }

    // Waiting for the committee now, and the longest wait so far.
    let rows: Vec<(Uuid, i64, Option<f64>)> = counted!(
        cases::table.filter(cases::status.eq("awaiting_committee")).group_by(cases::committee_id).select((
            cases::committee_id,
            count_star(),
            sql::<Nullable<Double>>(&format!("max({})", days("now() - screened_at"))),
        )),
        visible,
        committee,
        None::<&Period>
    )
    .load(conn)?;
    for (committee, n, longest) in rows {
        let flow = out.entry(committee).or_default();
        flow.waiting = n;
        flow.longest_wait_days = longest;
    }

    // Follow-ups overdue now.
    let rows: Vec<(Uuid, i64)> = counted!(
        cases::table
            .filter(cases::status.eq("active"))
            .filter(cases::follow_up_on.lt(sql::<Nullable<diesel::sql_types::Date>>("current_date")))
            .group_by(cases::committee_id)
            .select((cases::committee_id, count_star())),
        visible,
        committee,
        None::<&Period>
    )
    .load(conn)?;
    for (committee, n) in rows {
        out.entry(committee).or_default().overdue_follow_ups = n;
    }

    // Decisions recorded in the period, and how many with the citizen taking part.
    let count_decisions = |took_part_only: bool| {
        sql::<BigInt>("coalesce(sum((SELECT count(*) FROM decisions d WHERE d.case_id = cases.id")
            .sql(if took_part_only { " AND d.took_part" } else { "" })
            .sql(" AND (")
            .bind::<Nullable<Timestamptz>, _>(period.from)
            .sql("::timestamptz IS NULL OR d.recorded_at >= ")
            .bind::<Nullable<Timestamptz>, _>(period.from)
            .sql(") AND (")
            .bind::<Nullable<Timestamptz>, _>(period.to)
            .sql("::timestamptz IS NULL OR d.recorded_at < ")
            .bind::<Nullable<Timestamptz>, _>(period.to)
            .sql("))), 0)::bigint")
    };
    let rows: Vec<(Uuid, i64, i64, i64, i64)> = counted!(
        cases::table.group_by(cases::committee_id).select((
            cases::committee_id,
            count_decisions(false),
            count_decisions(true),
            sql::<BigInt>("coalesce(sum(frame_ore), 0)::bigint"),
            sql::<BigInt>("coalesce(sum(spent_ore), 0)::bigint"),
        )),
        visible,
        committee,
        None::<&Period>
    )
    .load(conn)?;
    for (committee, decisions, took_part, frame, spent) in rows {
        let flow = out.entry(committee).or_default();
        flow.decisions = decisions;
        flow.decisions_with_participation = took_part;
        flow.frame_ore = frame;
        flow.spent_ore = spent;
    }
    Ok(out)
}

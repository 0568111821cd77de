//! Prometheus metrics of one instance: requests by route template and status with latency
//! histograms, the connection pool, and a few domain gauges read from the database at scrape.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route template, status) → series
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    pool_checkouts: AtomicU64,
    pool_timeouts: AtomicU64,
    pool_wait_micros: AtomicU64,
}

pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let series = requests.entry((method.to_string(), route.to_string(), status)).or_default();
        series.count += 1;
        series.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                series.buckets[i] += 1;
            }
        }
    }

    /// The text exposition format; `pool` is (connections, idle), `domain` the gauges read now.
    pub fn render(&self, pool: (u32, u32), domain: Option<&Domain>) -> String {
        let mut out = String::new();
        let _ =
            writeln!(out, "# HELP helhed_http_requests_total Requests answered, by method, route template and status.");
        let _ = writeln!(out, "# TYPE helhed_http_requests_total counter");
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), s) in requests.iter() {
            let _ = writeln!(
                out,
                "helhed_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP helhed_http_request_duration_seconds Time to answer, by method, route template and status."
        );
        let _ = writeln!(out, "# TYPE helhed_http_request_duration_seconds histogram");
        for ((method, route, status), s) in requests.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "helhed_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(out, "helhed_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "helhed_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "helhed_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        drop(requests);
        let (connections, idle) = pool;
        let gauges = [
            ("helhed_db_pool_connections", "Connections the pool holds.", connections as u64),
            ("helhed_db_pool_idle_connections", "Idle connections in the pool.", idle as u64),
            (
                "helhed_db_pool_in_use_connections",
                "Connections in use by requests.",
                connections.saturating_sub(idle) as u64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        let counters = [
            (
                "helhed_db_pool_checkouts_total",
                "Connections handed to requests.",
                self.pool_checkouts.load(Ordering::Relaxed),
            ),
            (
                "helhed_db_pool_checkout_timeouts_total",
                "Requests that found no connection in time (answered 503).",
                self.pool_timeouts.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
        let wait = self.pool_wait_micros.load(Ordering::Relaxed) as f64 / 1_000_000.0;
        let _ = writeln!(
            out,
            "# HELP helhed_db_pool_wait_seconds_total Time requests waited for a connection.\n# TYPE helhed_db_pool_wait_seconds_total counter\nhelhed_db_pool_wait_seconds_total {wait}"
        );
        let _ =
            writeln!(out, "# HELP helhed_db_up Whether the database answered this scrape.\n# TYPE helhed_db_up gauge");
        match domain {
            None => {
                let _ = writeln!(out, "helhed_db_up 0");
            }
            Some(d) => {
                let _ = writeln!(out, "helhed_db_up 1");
                let _ = writeln!(out, "# HELP helhed_cases Cases by status.\n# TYPE helhed_cases gauge");
                for (status, n) in &d.cases_by_status {
                    let _ = writeln!(out, "helhed_cases{{status=\"{status}\"}} {n}");
                }
                let _ = writeln!(
                    out,
                    "# HELP helhed_follow_ups_overdue Active cases past their follow-up date.\n# TYPE helhed_follow_ups_overdue gauge\nhelhed_follow_ups_overdue {}",
                    d.overdue_follow_ups
                );
            }
        }
        out
    }
}

/// The domain gauges, read at scrape time.
pub struct Domain {
    pub cases_by_status: Vec<(String, i64)>,
    pub overdue_follow_ups: i64,
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A request waited this long in the queue in front of the pool and got its turn.
pub fn gate_passed(waited: Duration) {
    global().pool_wait_micros.fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
}

/// A request waited this long in the queue in front of the pool and gave up.
pub fn gate_timed_out(waited: Duration) {
    let m = global();
    m.pool_timeouts.fetch_add(1, Ordering::Relaxed);
    m.pool_wait_micros.fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
}

/// Counts the pool's checkouts, waits and timeouts.
#[derive(Debug)]
pub struct PoolEvents;

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        let m = global();
        m.pool_checkouts.fetch_add(1, Ordering::Relaxed);
        m.pool_wait_micros.fetch_add(event.duration().as_micros() as u64, Ordering::Relaxed);
    }

    fn handle_timeout(&self, event: r2d2::event::TimeoutEvent) {
        let m = global();
        m.pool_timeouts.fetch_add(1, Ordering::Relaxed);
        m.pool_wait_micros.fetch_add(event.timeout().as_micros() as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/cases/{id}", 200, Duration::from_millis(3));
        m.observe("GET", "/api/v1/cases/{id}", 200, Duration::from_millis(30));
        let text = m.render((2, 1), None);
        assert!(text.contains(r#"helhed_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"} 2"#));
        assert!(text.contains(r#"le="0.005"} 1"#));
        assert!(text.contains(r#"le="0.05"} 2"#));
        assert!(text.contains(r#"le="+Inf"} 2"#));
        assert!(text.contains("helhed_db_pool_in_use_connections 1"));
        assert!(text.contains("helhed_db_up 0"));
    }
}

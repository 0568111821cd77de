//! /metrics is valid Prometheus text with requests by route template and status, latency
//! histograms, the pool, and domain gauges.

mod common;

use std::collections::HashMap;

use common::world::{World, REFERRER};
use reqwest::Method;

/// Parses the text exposition format strictly enough to catch malformed lines: every sample is
/// `name{labels} value` with a float value, every metric has a TYPE before its samples.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap();
            let kind = parts.next().unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"].iter().fold(name, |n, suffix| n.strip_suffix(suffix).unwrap_or(n));
        assert!(typed.contains(name) || typed.contains(family), "no TYPE before {line}");
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                for pair in labels[1..labels.len() - 1].split("\",") {
                    let (key, value) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label in {line}"));
                    assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
                    assert!(!value.contains('\n'));
                }
            }
        }
        samples.insert(series.to_string(), value);
    }
    samples
}

#[tokio::test]
async fn metrics_are_parsable_and_count_what_happened() {
    let world = World::new().await;
    let app = &world.app;
    let case = world.referred(45).await;
    let token = app.as_(REFERRER);
    for _ in 0..3 {
        app.get(&format!("/api/v1/cases/{case}"), &token).await.expect(200);
    }
    app.get(&format!("/api/v1/cases/{}", uuid::Uuid::new_v4()), &token).await.expect(404);
    app.get("/no/such/path/0101901234", &token).await.expect(404);

    let res = app.request(Method::GET, "/metrics", None, None).await.expect(200);
    assert!(res.header("content-type").unwrap().starts_with("text/plain"));
    let samples = parse(&res.text);
    let get_case = r#"helhed_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"}"#;
    assert!(samples[get_case] >= 3.0, "{}", res.text);
    assert!(samples.contains_key(r#"helhed_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="404"}"#));
    assert!(samples.keys().any(|k| k.contains(r#"route="unmatched""#)), "unmatched paths share one label");
    assert!(!res.text.contains("0101901234"), "no path reaches a label");
    let bucket = r#"helhed_http_request_duration_seconds_bucket{method="GET",route="/api/v1/cases/{id}",status="200",le="+Inf"}"#;
    assert!(samples[bucket] >= 3.0);
    assert!(samples.contains_key("helhed_db_pool_connections"));
    assert!(samples.contains_key("helhed_db_pool_in_use_connections"));
    assert!(samples["helhed_db_pool_checkouts_total"] > 0.0);
    assert_eq!(samples["helhed_db_up"], 1.0);
    assert_eq!(samples[r#"helhed_cases{status="referred"}"#], 1.0);
    assert_eq!(samples["helhed_follow_ups_overdue"], 0.0);
}

//! `/metrics`: the traffic model in Prometheus text exposition format (0.0.4).

use std::fmt::Write;

use super::traffic::TrafficSnapshot;

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn render(snapshot: &TrafficSnapshot) -> String {
    let mut counters = String::from(
        "# HELP http_requests_total Requests served, by rollout version and status code.\n# TYPE http_requests_total counter\n",
    );
    let mut histograms = String::from(
        "# HELP http_request_duration_seconds Request latency, by rollout version and status code.\n# TYPE http_request_duration_seconds histogram\n",
    );
    for version in &snapshot.versions {
        for code in &version.by_code {
            let labels = format!(
                "namespace=\"{}\",rollout=\"{}\",rollouts_pod_template_hash=\"{}\",code=\"{}\"",
                escape(&version.namespace),
                escape(&version.rollout),
                escape(&version.pod_template_hash),
                code.code
            );
            let _ = writeln!(
                counters,
                "http_requests_total{{{labels}}} {}",
                code.requests
            );
            for (le, count) in &code.latency_buckets {
                let _ = writeln!(
                    histograms,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {count}"
                );
            }
            let _ = writeln!(
                histograms,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                code.requests
            );
            let _ = writeln!(
                histograms,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                code.latency_sum_seconds
            );
            let _ = writeln!(
                histograms,
                "http_request_duration_seconds_count{{{labels}}} {}",
                code.requests
            );
        }
    }
    counters + &histograms
}

//! The `[metrics]` section: what parses, what it means, and errors that name the field.

use std::time::Duration;

use flightdeck::metrics::MetricsConfig;
use flightdeck::metrics::Tolerance;
use flightdeck::metrics::{MetricQueries, Preset};
use flightdeck::model::Direction;

#[derive(serde::Deserialize)]
struct File {
    metrics: MetricsConfig,
}

fn parse(text: &str) -> Result<MetricsConfig, String> {
    toml::from_str::<File>(text)
        .map(|f| f.metrics)
        .map_err(|e| e.to_string())
}

const FULL: &str = r#"
[metrics]
url = "https://prometheus.example:9090"
preset = "istio"
timeout = "1m30s"
insecure = true
bearer_token_env = "PROM_TOKEN"
headers = { "X-Scope-OrgID" = "shop" }
group_weights = { errors = 60, latency = 30, business = 10 }
cluster_label = "cluster"
clusters = { "admin@prod-eu" = "prod-eu" }

[metrics.thresholds]
pass = 90
marginal = 70
min_requests = 1000

[[metrics.metric]]
name = "orders/min"
unit = "orders/min"
direction = "higher"
group = "business"
query = 'sum(rate(orders_total{namespace="{{namespace}}",rollouts_pod_template_hash="{{hash}}"}[{{rate_interval}}])) * 60'

[[metrics.metric]]
name = "error rate"
critical = true
errors = 'sum(increase(grpc_server_handled_total{grpc_code!="OK",rollouts_pod_template_hash="{{hash}}"}[{{interval}}]))'
requests = 'sum(increase(grpc_server_handled_total{rollouts_pod_template_hash="{{hash}}"}[{{interval}}]))'
"#;

#[test]
fn a_full_section_parses_with_defaults_filled_in() {
    let c = parse(FULL).unwrap();
    assert_eq!(c.preset, Preset::Istio);
    assert_eq!(c.timeout, Duration::from_secs(90));
    assert!(c.insecure);
    assert_eq!(c.thresholds.pass, 90.0);
    assert_eq!(c.thresholds.min_requests, 1000);
    assert_eq!(
        c.thresholds.confidence, 0.99,
        "unset thresholds keep their defaults"
    );
    assert_eq!(c.group_weights["errors"], 60.0);
    assert_eq!(c.cluster_label.as_deref(), Some("cluster"));
    assert_eq!(c.clusters["admin@prod-eu"], "prod-eu");
}

#[test]
fn user_metrics_join_the_preset_and_replace_its_namesakes() {
    let defs = parse(FULL).unwrap().definitions().unwrap();
    let names: Vec<&str> = defs.iter().map(|d| d.spec.name.as_str()).collect();
    assert_eq!(names, ["latency p99", "orders/min", "error rate"]);
    // The preset's own queries match the cluster label; the user's are as written.
    let MetricQueries::Series { query } = &defs[0].queries else {
        panic!("a series")
    };
    assert!(query.contains(r#"cluster="{{cluster}}""#), "{query}");
    assert_eq!(defs[1].spec.direction, Direction::Higher);
    assert!(matches!(defs[1].queries, MetricQueries::Series { .. }));
    let MetricQueries::Counts { errors, .. } = &defs[2].queries else {
        panic!("counts")
    };
    assert!(errors.contains("grpc_server_handled_total"));
    assert!(defs[2].spec.critical);
    assert_eq!(
        defs[2].spec.group, "error rate",
        "the group defaults to the name"
    );
}

#[test]
fn the_minimal_section_is_a_url() {
    let c = parse("[metrics]\nurl = \"http://prometheus:9090\"").unwrap();
    assert_eq!(c.preset, Preset::Argo);
    assert_eq!(c.timeout, Duration::from_secs(5));
    assert!(!c.insecure);
    assert_eq!(c.definitions().unwrap().len(), 2);
}

#[test]
fn errors_name_the_field() {
    let unknown = parse("[metrics]\nurl = \"http://p\"\ntimout = \"5s\"").unwrap_err();
    assert!(unknown.contains("unknown field `timout`"), "{unknown}");

    let wrong_type =
        parse("[metrics]\nurl = \"http://p\"\n[metrics.thresholds]\npass = \"high\"").unwrap_err();
    assert!(
        wrong_type.contains("pass") && wrong_type.contains("invalid type: string"),
        "{wrong_type}"
    );

    let bad_duration = parse("[metrics]\nurl = \"http://p\"\ntimeout = \"soon\"").unwrap_err();
    assert!(
        bad_duration.contains("timeout") && bad_duration.contains("`soon` is not a duration"),
        "{bad_duration}"
    );

    let bad_preset = parse("[metrics]\nurl = \"http://p\"\npreset = \"consul\"").unwrap_err();
    assert!(
        bad_preset.contains("preset") && bad_preset.contains("unknown variant `consul`"),
        "{bad_preset}"
    );

    // A section with no backend at all: neither a Prometheus `url` nor named backends.
    let missing = parse("[metrics]\npreset = \"argo\"")
        .unwrap()
        .check()
        .unwrap_err();
    assert_eq!(
        missing,
        "[metrics] needs a `url` (a Prometheus) or [metrics.backends.NAME] tables"
    );

    let metric_field = parse("[metrics]\nurl = \"http://p\"\n[[metrics.metric]]\nname = \"x\"\ndirection = \"up\"\nquery = \"q\"")
        .unwrap_err();
    assert!(
        metric_field.contains("direction") && metric_field.contains("unknown variant `up`"),
        "{metric_field}"
    );
}

#[test]
fn a_metric_needs_one_kind_of_query() {
    let only_errors = parse(
        "[metrics]\nurl = \"http://p\"\n[[metrics.metric]]\nname = \"failures\"\nerrors = \"q\"",
    )
    .unwrap();
    assert_eq!(
        only_errors.definitions().unwrap_err().to_string(),
        "metrics.metric `failures`: `errors` and `requests` go together"
    );
    let both = parse("[metrics]\nurl = \"http://p\"\n[[metrics.metric]]\nname = \"x\"\nquery = \"q\"\nerrors = \"e\"\nrequests = \"r\"").unwrap();
    assert!(
        both.definitions()
            .unwrap_err()
            .to_string()
            .contains("not both")
    );
    let none = parse("[metrics]\nurl = \"http://p\"\n[[metrics.metric]]\nname = \"x\"").unwrap();
    assert!(
        none.definitions()
            .unwrap_err()
            .to_string()
            .contains("needs `query`")
    );
}

/// `tolerance` keeps its name and default and now means a fraction of the baseline's
/// level; a metric may set its own, with a floor in its unit. Out-of-range numbers are
/// refused with their line.
#[test]
fn allowed_changes_parse_and_out_of_range_numbers_name_their_line() {
    let c = parse(
        "[metrics]\nurl = \"http://p\"\n[metrics.thresholds]\ntolerance = 0.2\n\
         [[metrics.metric]]\nname = \"orders/min\"\ntolerance = 0.1\nmin_shift = 5\nquery = \"q\"\n\
         [[metrics.metric]]\nname = \"queue\"\nquery = \"q\"",
    )
    .unwrap();
    assert_eq!(c.thresholds.tolerance, 0.2);
    let defs = c.definitions().unwrap();
    assert_eq!(
        defs[2].spec.tolerance,
        Some(Tolerance {
            fraction: Some(0.1),
            min_shift: 5.0
        })
    );
    assert_eq!(defs[3].spec.tolerance, None, "the thresholds' tolerance");
    assert_eq!(
        parse("[metrics]\nurl = \"http://p\"")
            .unwrap()
            .thresholds
            .min_samples,
        5
    );

    for (text, field, line) in [
        (
            "[metrics.thresholds]\ntolerance = -0.1",
            "`-0.1` must be a number of 0 or more",
            4,
        ),
        (
            "[metrics.thresholds]\nconfidence = 98",
            "`98` must lie between 0 and 1",
            4,
        ),
        (
            "[[metrics.metric]]\nname = \"x\"\nquery = \"q\"\nmin_shift = -5",
            "`-5` must be a number of 0 or more",
            6,
        ),
    ] {
        let err = parse(&format!("[metrics]\nurl = \"http://p\"\n{text}")).unwrap_err();
        assert!(
            err.contains(field) && err.contains(&format!("line {line}")),
            "{err}"
        );
    }
}

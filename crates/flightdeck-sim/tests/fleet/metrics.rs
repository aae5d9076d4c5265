//! `/metrics` scraped over HTTP and read with a real exposition-format parser.

use std::collections::BTreeMap;

use flightdeck_testkit::*;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use prometheus_parse::{Scrape, Value as Sample};
use serde_json::json;

use flightdeck_sim::Scenario;

#[tokio::test]
async fn metrics_parse_and_show_both_versions_of_the_checkout_canary() {
    let fleet = start(Scenario::Demo, false).await;
    let client = client(&fleet, "sim-prod-eu").await;
    let request = hyper::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(request).await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("the exposition format parses");

    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    );
    let checkout = Api::<DynamicObject>::namespaced_with(client.clone(), "shop", &resource)
        .get("checkout")
        .await
        .unwrap();
    let stable = checkout.data["status"]["stableRS"]
        .as_str()
        .unwrap()
        .to_string();
    let canary = checkout.data["status"]["currentPodHash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(stable, canary);
    assert_eq!(
        checkout.data["status"]["canary"]["weights"]["canary"]["weight"],
        json!(20)
    );

    // Requests and failures per version of shop/checkout.
    let mut requests: BTreeMap<(String, String), f64> = BTreeMap::new();
    for sample in scrape
        .samples
        .iter()
        .filter(|s| s.metric == "http_requests_total")
    {
        if sample.labels.get("namespace") != Some("shop")
            || sample.labels.get("rollout") != Some("checkout")
        {
            continue;
        }
        let Sample::Counter(count) = sample.value else {
            panic!("http_requests_total is not a counter: {sample:?}")
        };
        let hash = sample
            .labels
            .get("rollouts_pod_template_hash")
            .unwrap()
            .to_string();
        let code = sample.labels.get("code").unwrap().to_string();
        *requests.entry((hash, code)).or_default() += count;
    }
    let total = |hash: &str| {
        requests
            .iter()
            .filter(|((h, _), _)| h == hash)
            .map(|(_, n)| n)
            .sum::<f64>()
    };
    let failed = |hash: &str| {
        requests
            .iter()
            .filter(|((h, c), _)| h == hash && c.starts_with('5'))
            .map(|(_, n)| n)
            .sum::<f64>()
    };
    assert!(total(&stable) > 0.0 && total(&canary) > 0.0, "{requests:?}");
    let canary_failures = failed(&canary) / total(&canary);
    let stable_failures = failed(&stable) / total(&stable);
    assert!(
        (0.3..0.5).contains(&canary_failures),
        "canary fails {canary_failures}"
    );
    assert!(stable_failures < 0.01, "stable fails {stable_failures}");

    // The latency histogram has the same labels, with buckets, sum and count.
    let histogram = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "http_request_duration_seconds"
                && s.labels.get("rollouts_pod_template_hash") == Some(canary.as_str())
                && s.labels.get("code") == Some("200")
        })
        .expect("a latency histogram for the canary");
    let Sample::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {histogram:?}")
    };
    let under_half_second = buckets.iter().find(|b| b.less_than == 0.5).unwrap().count;
    let under_quarter_second = buckets.iter().find(|b| b.less_than == 0.25).unwrap().count;
    assert!(
        under_half_second > 0.0,
        "the canary's successes come in under its 500 ms timeout"
    );
    assert!(
        under_quarter_second < 0.01 * under_half_second,
        "the new payment call makes checkouts slower than 250 ms"
    );
}

#[tokio::test]
async fn the_in_process_traffic_handle_shows_the_search_regression() {
    let fleet = start(Scenario::Demo, false).await;
    let traffic = fleet
        .traffic("sim-prod-us")
        .expect("a traffic handle for the context");
    let snapshot = traffic.snapshot();
    let search: Vec<_> = snapshot
        .versions
        .iter()
        .filter(|v| v.rollout == "search-api" && v.weight > 0.0)
        .collect();
    assert_eq!(
        search.len(),
        2,
        "stable and canary of search-api serve traffic: {search:?}"
    );
    // The N+1 canary: most of its successful requests are slower than the stable's p99.
    let slow_share = |v: &flightdeck_sim::VersionTraffic| {
        let ok = &v.by_code[0];
        let under = ok
            .latency_buckets
            .iter()
            .find(|(le, _)| *le == 0.25)
            .unwrap()
            .1;
        1.0 - under as f64 / ok.requests as f64
    };
    let (a, b) = (slow_share(search[0]), slow_share(search[1]));
    assert!(a.max(b) > 0.3 && a.min(b) < 0.05, "slow shares {a} and {b}");
}

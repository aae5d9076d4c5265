//! The template variables of one version of a target (see `templates`): where it runs,
//! which pods are its, and the windows its queries cover.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::metrics::queried::{Plan, Resolution};
use crate::metrics::rollout_metrics::Target;
use crate::model::Workload;

/// Prometheus' duration text in whole seconds: `37s`.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// The template variables for one version (see `templates`). Without the pods' labels,
/// `version` is the pod-template hash and `service` the Service Argo's examples name for
/// the role (`checkout-canary`); `cluster` is the context's name unless mapped. `pods`,
/// `workload`, `version_match` and a Canary's `service` follow the kind: Argo's
/// `rollouts-pod-template-hash`, a Deployment's `pod-template-hash`, a Flagger Canary's
/// primary and target Deployments (their `app` selector label, their Services).
pub(super) fn variables(
    target: &Target,
    cluster: Option<&String>,
    hash: &str,
    role: &str,
    plan: &Plan,
    resolution: Resolution,
) -> BTreeMap<String, String> {
    let name = target.key.name.as_str();
    let (pods, workload, version_match, service) = match &target.flagger_target {
        Some(t) => {
            let primary = role == "stable";
            let workload = if primary {
                format!("{t}-primary")
            } else {
                t.clone()
            };
            let side = if primary { "primary" } else { "canary" };
            let pods = format!(r#"app="{workload}""#);
            (pods, workload, ".*".to_string(), format!("{t}-{side}"))
        }
        None => {
            let label = match target.key.kind {
                Workload::Deployment => "pod_template_hash",
                _ => "rollouts_pod_template_hash",
            };
            let pods = format!(r#"{label}="{hash}""#);
            (
                pods,
                name.to_string(),
                hash.to_string(),
                format!("{name}-{role}"),
            )
        }
    };
    [
        ("context", target.key.context.to_string()),
        (
            "cluster",
            cluster
                .map_or(target.key.context.as_str(), String::as_str)
                .to_string(),
        ),
        ("namespace", target.key.namespace.to_string()),
        ("rollout", target.key.name.to_string()),
        ("hash", hash.to_string()),
        ("version", hash.to_string()),
        ("version_match", version_match),
        ("pods", pods),
        ("workload", workload),
        ("service", service),
        ("interval", seconds(plan.lifetime)),
        ("rate_interval", seconds(resolution.rate_interval)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::metrics::templates::{MetricQueries, Preset, render};

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn each_version_gets_its_own_variables() {
        let plan = Plan::new(at(0), at(2_220), Resolution::default());
        let vars = variables(
            &Target::checkout(),
            None,
            "5d2a",
            "canary",
            &plan,
            Resolution::default(),
        );
        let errors_query = |cluster_label| match &Preset::Argo.metrics(cluster_label)[0].queries {
            MetricQueries::Counts { errors, .. } => errors.clone(),
            other => panic!("error rate counts, not {other:?}"),
        };
        assert_eq!(
            render(&errors_query(None), &vars).unwrap(),
            r#"sum(increase(http_requests_total{namespace="shop",rollouts_pod_template_hash="5d2a",code=~"5.."}[2220s]))"#
        );
        assert_eq!(vars["service"], "checkout-canary");
        assert_eq!(vars["rate_interval"], "60s");
        assert_eq!((&*vars["context"], &*vars["cluster"]), ("prod", "prod"));

        // One Prometheus over many clusters: the context's own label value.
        let mapped = "eu-west-1".to_string();
        let vars = variables(
            &Target::checkout(),
            Some(&mapped),
            "5d2a",
            "canary",
            &plan,
            Resolution::default(),
        );
        assert_eq!(
            render(&errors_query(Some("k8s_cluster")), &vars).unwrap(),
            r#"sum(increase(http_requests_total{namespace="shop",rollouts_pod_template_hash="5d2a",k8s_cluster="eu-west-1",code=~"5.."}[2220s]))"#
        );
    }

    /// Each kind's versions are its pods as its controller labels them: a Canary's primary
    /// and target Deployments by the selector label (`app`), a Deployment's ReplicaSets by
    /// `pod-template-hash` (Prometheus' pod label mapping writes `pod_template_hash`).
    #[test]
    fn each_kind_selects_its_versions_pods_as_its_controller_labels_them() {
        use crate::model::testing::{flagger_canary, replica_set, rollout};
        use crate::model::{FlaggerPhase, Phase, Workload};
        let plan = Plan::new(at(0), at(600), Resolution::default());
        let resolution = Resolution::default();
        let query = |target: &Target, hash: &str, role: &str, preset: Preset| {
            let vars = variables(target, None, hash, role, &plan, resolution);
            match &preset.metrics(None)[0].queries {
                MetricQueries::Counts { requests, .. } => render(requests, &vars).unwrap(),
                other => panic!("error rate counts, not {other:?}"),
            }
        };
        let podinfo = flagger_canary(FlaggerPhase::Progressing, 20);
        let canary = Target::of(&podinfo, &[]).expect("a Canary in analysis has a target");
        let (stable, new) = (canary.stable_hash.clone(), canary.canary_hash.clone());
        assert_eq!(
            query(&canary, &stable, "stable", Preset::Argo),
            r#"sum(increase(http_requests_total{namespace="test",app="podinfo-primary"}[600s]))"#
        );
        assert_eq!(
            query(&canary, &new, "canary", Preset::Argo),
            r#"sum(increase(http_requests_total{namespace="test",app="podinfo"}[600s]))"#
        );
        // Istio by workload (Flagger's own queries' `destination_workload`), NGINX by
        // the Services Flagger makes.
        assert!(
            query(&canary, &stable, "stable", Preset::Istio)
                .contains(r#"destination_workload="podinfo-primary""#)
        );
        assert!(
            query(&canary, &new, "canary", Preset::Nginx).contains(r#"service="podinfo-canary""#)
        );

        let mut web = rollout("eu", "shop", "web", Phase::Progressing);
        web.key.kind = Workload::Deployment;
        web.workload = Workload::Deployment;
        web.strategy = crate::model::Strategy::Other;
        web.revision = Some(5);
        let sets = [replica_set(&web, "h4", 4, 2), replica_set(&web, "h5", 5, 1)];
        let rolling = Target::of(&web, &sets).expect("a rolling update has two versions");
        assert_eq!((&*rolling.stable_hash, &*rolling.canary_hash), ("h4", "h5"));
        assert_eq!(
            query(&rolling, "h5", "canary", Preset::Argo),
            r#"sum(increase(http_requests_total{namespace="shop",pod_template_hash="h5"}[600s]))"#
        );
        // Rolled: one version, nothing to compare.
        let done = [replica_set(&web, "h4", 4, 0), replica_set(&web, "h5", 5, 3)];
        assert_eq!(Target::of(&web, &done), None);
    }
}

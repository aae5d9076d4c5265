//! How a rollout's requests split across its versions, handed to the traffic model: all to
//! a blue-green's active side, a traffic-routed canary's `status.canary.weights`, or a basic
//! canary's shares of the available pods.

use serde_json::Value;

use super::Controller;
use super::rollout::Round;
use crate::objects::str_at;
use crate::replica_sets::Set;
use crate::store::ObjectKey;
use crate::traffic::Behaviour;

/// (pod-template hash, weight 0-100) per version that gets traffic.
fn split(rollout: &Value, status: &Value, sets: &[Set]) -> Vec<(String, f64)> {
    let mut split: Vec<(String, f64)> = Vec::new();
    if rollout["spec"]["strategy"]["blueGreen"].is_object() {
        split.push((
            str_at(status, "blueGreen.activeSelector").to_string(),
            100.0,
        ));
    } else if let Some(weights) = status["canary"]["weights"].as_object() {
        let additional = weights.get("additional").and_then(Value::as_array);
        let destinations = [&weights["stable"], &weights["canary"]]
            .into_iter()
            .chain(additional.into_iter().flatten());
        for destination in destinations {
            let h = str_at(destination, "podTemplateHash").to_string();
            let w = destination["weight"].as_f64().unwrap_or(0.0);
            match split.iter_mut().find(|(x, _)| *x == h) {
                Some(entry) => entry.1 += w,
                None => split.push((h, w)),
            }
        }
    } else {
        let total: i64 = sets.iter().map(|s| s.count("availableReplicas")).sum();
        for s in sets.iter().filter(|s| s.count("availableReplicas") > 0) {
            split.push((
                s.hash().to_string(),
                100.0 * s.count("availableReplicas") as f64 / total as f64,
            ));
        }
    }
    split.retain(|(h, _)| !h.is_empty());
    split
}

impl Controller {
    /// Tell the traffic model how this rollout's requests split across its versions.
    /// `experiment_images`: (pod-template hash, image) of a running experiment's templates.
    pub(super) fn share_traffic(
        &self,
        key: &ObjectKey,
        round: &Round,
        experiment_images: &[(String, String)],
    ) {
        let image_of = |h: &str| {
            round
                .sets
                .iter()
                .find(|s| s.hash() == h)
                .map(|s| s.image().to_string())
                .or_else(|| {
                    experiment_images
                        .iter()
                        .find(|(x, _)| x == h)
                        .map(|(_, image)| image.clone())
                })
                .unwrap_or_default()
        };
        let split: Vec<(String, f64, Behaviour)> = split(round.rollout, &round.status, &round.sets)
            .into_iter()
            .map(|(h, w)| {
                let behaviour = (self.versions.behaviour)(&key.namespace, &key.name, &image_of(&h));
                (h, w, behaviour)
            })
            .collect();
        self.traffic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_split(&key.namespace, &key.name, &split);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::read_set;
    use super::*;

    fn shares(split: &[(String, f64)]) -> Vec<(&str, f64)> {
        split.iter().map(|(h, w)| (h.as_str(), *w)).collect()
    }

    #[test]
    fn a_blue_green_sends_everything_to_its_active_side() {
        let rollout = json!({"spec": {"strategy": {"blueGreen": {}}}});
        let status = json!({"blueGreen": {"activeSelector": "blue", "previewSelector": "green"}});
        let sets = [read_set("blue", 1, 4, 4), read_set("green", 2, 4, 4)];
        assert_eq!(shares(&split(&rollout, &status, &sets)), [("blue", 100.0)]);
        // Before the first reconcile names one, no version gets traffic.
        assert!(split(&rollout, &json!({}), &sets).is_empty());
    }

    #[test]
    fn a_routed_canary_splits_by_its_weights_experiment_templates_included() {
        let rollout = json!({"spec": {"strategy": {"canary": {"trafficRouting": {}}}}});
        let status = json!({"canary": {"weights": {
            "stable": {"podTemplateHash": "old", "weight": 70},
            "canary": {"podTemplateHash": "new", "weight": 20},
            "additional": [{"podTemplateHash": "base", "weight": 5}, {"podTemplateHash": "new", "weight": 5}],
        }}});
        assert_eq!(
            shares(&split(&rollout, &status, &[])),
            [("old", 70.0), ("new", 25.0), ("base", 5.0)]
        );
    }

    #[test]
    fn a_basic_canary_splits_by_available_pods() {
        let rollout = json!({"spec": {"strategy": {"canary": {}}}});
        let sets = [
            read_set("old", 1, 8, 6),
            read_set("new", 2, 2, 2),
            read_set("starting", 3, 2, 0),
        ];
        assert_eq!(
            shares(&split(&rollout, &json!({}), &sets)),
            [("old", 75.0), ("new", 25.0)]
        );
    }
}

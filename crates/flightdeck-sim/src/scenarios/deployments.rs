//! The demo's plain Deployments in prod-us, moved by the simulated Deployment controller:
//! rolling updates done before the live start, one paused halfway through its update,
//! and one stuck on its progress deadline (its new image is never pulled).

use serde_json::{Value, json};

use super::manifests::image;
use super::{Action, Change};
use crate::store::ObjectKey;

/// One plain Deployment and its update.
struct Plain {
    namespace: &'static str,
    name: &'static str,
    replicas: i64,
    /// `maxSurge`, `maxUnavailable`.
    rolling: (Value, Value),
    /// The first tag, and the tag rolled out that many seconds after the start.
    tags: (&'static str, &'static str, i64),
    /// Paused a second after its update started.
    paused: bool,
    progress_deadline: i64,
}

/// The image of invoices' update, which cannot be pulled.
pub const NEVER_PULLED: &str = "/payments/invoices:v3.1.0";

fn plain() -> [Plain; 4] {
    let quarter = || (json!("25%"), json!("25%"));
    [
        Plain {
            namespace: "platform",
            name: "gateway",
            replicas: 4,
            rolling: quarter(),
            tags: ("v4.1.0", "v4.2.0", 600),
            paused: false,
            progress_deadline: 600,
        },
        Plain {
            namespace: "platform",
            name: "config-api",
            replicas: 2,
            rolling: (json!(1), json!(0)),
            tags: ("v1.12.2", "v1.12.3", 780),
            paused: false,
            progress_deadline: 600,
        },
        Plain {
            namespace: "shop",
            name: "recommender",
            replicas: 6,
            rolling: quarter(),
            tags: ("v2.2.0", "v2.3.0", 700),
            paused: true,
            progress_deadline: 600,
        },
        Plain {
            namespace: "payments",
            name: "invoices",
            replicas: 3,
            rolling: quarter(),
            tags: ("v3.0.1", "v3.1.0", 500),
            paused: false,
            progress_deadline: 120,
        },
    ]
}

fn deployment(p: &Plain) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": p.name, "namespace": p.namespace, "labels": {"app": p.name}},
        "spec": {
            "replicas": p.replicas,
            "progressDeadlineSeconds": p.progress_deadline,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": p.name}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": p.rolling.0, "maxUnavailable": p.rolling.1}},
            "template": {
                "metadata": {"labels": {"app": p.name}},
                "spec": {"containers": [{"name": p.name, "image": image(p.namespace, p.name, p.tags.0)}]}
            }
        }
    })
}

/// The plain Deployments of `cluster` (prod-us only): created at `start`, each updated
/// later (and one paused a second after).
pub(super) fn demo_deployments(cluster: usize, start: i64) -> Vec<Action> {
    if cluster != 1 {
        return Vec::new();
    }
    let at = |at, change| Action {
        at,
        cluster,
        change,
    };
    plain()
        .iter()
        .flat_map(|p| {
            let key = ObjectKey::new(p.namespace, p.name);
            let update = start + p.tags.2;
            let image = image(p.namespace, p.name, p.tags.1);
            let mut actions = vec![
                at(start, Change::Create(deployment(p))),
                at(
                    update,
                    Change::SetDeploymentImage {
                        key: key.clone(),
                        image,
                    },
                ),
            ];
            if p.paused {
                actions.push(at(update + 1, Change::PauseDeployment(key)));
            }
            actions
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_paused_and_one_updates_to_an_image_never_pulled() {
        let all = plain();
        assert_eq!(all.iter().filter(|p| p.paused).count(), 1);
        let stuck = &all[3];
        assert!(image(stuck.namespace, stuck.name, stuck.tags.1).ends_with(NEVER_PULLED));
        // Its update started long enough before the live start to have timed out.
        assert!(stuck.tags.2 + stuck.progress_deadline < super::super::DEMO_HISTORY);
        assert_eq!(demo_deployments(1, -900).len(), 9);
        assert!(demo_deployments(0, -900).is_empty());
    }
}

//! Generated rollouts for scale runs: many per cluster, in a mix of states.

use jiff::Timestamp;

use super::manifests::{
    GATED_CANARY, LONG_CANARY, QUICK_CANARY, Strategy, image, namespace, rollout,
};
use super::{Action, Change};
use crate::store::ObjectKey;

/// Seconds of history for scale runs: enough for updates to reach their states.
pub const SCALE_HISTORY: i64 = 12;

/// `per_cluster` generated rollouts per cluster in 50 namespaces: six in ten Healthy, and
/// one each progressing, paused at `pause: {}`, blue-green awaiting promotion, aborted.
pub fn scale(clusters: usize, per_cluster: usize, origin: Timestamp) -> Vec<Action> {
    let mut actions = Vec::new();
    let start = -SCALE_HISTORY;
    for cluster in 0..clusters {
        for ns in 0..50 {
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(namespace(&format!("team-{ns:02}"))),
            });
        }
        for i in 0..per_cluster {
            let ns = format!("team-{:02}", i % 50);
            let name = format!("svc-{i:05}");
            let strategy = match i % 10 {
                6 => Strategy::Canary(LONG_CANARY),
                7 => Strategy::IstioCanary(GATED_CANARY),
                8 => Strategy::BlueGreenManual,
                _ => Strategy::Canary(QUICK_CANARY),
            };
            let first = image(&ns, &name, "v1.0.0");
            let created = origin - jiff::SignedDuration::from_hours(24 * (1 + i as i64 % 300));
            actions.push(Action {
                at: start,
                cluster,
                change: Change::Create(rollout(&ns, &name, 3, strategy, &first, created)),
            });
            let key = ObjectKey::new(&ns, &name);
            if i % 10 >= 6 {
                actions.push(Action {
                    at: start + 2,
                    cluster,
                    change: Change::SetImage {
                        key: key.clone(),
                        image: image(&ns, &name, "v1.1.0"),
                    },
                });
            }
            if i % 10 == 9 {
                actions.push(Action {
                    at: start + 6,
                    cluster,
                    change: Change::Abort(key),
                });
            }
        }
    }
    actions.sort_by_key(|a| a.at);
    actions
}

//! The task that keeps each canary's metrics report fresh: every few seconds it reads and
//! judges the canaries the cockpit names, a few at a time, and sends each report as an
//! event. A backend that is down gives every canary an error report, and one canary's
//! failed queries never hold up the others.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::metrics::rollout_metrics::{RolloutMetrics, RolloutMetricsReport, Target, report};
use crate::model::ObjectKey;

/// Canaries read at once: enough to keep a fleet fresh, few enough to spare the backend.
const CONCURRENT_READS: usize = 4;

/// A fresh report for one canary; `Err` says in words why there is none (the backend is
/// unreachable or not ready).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsUpdate {
    pub key: ObjectKey,
    pub report: Result<RolloutMetricsReport, String>,
}

/// The running poller; dropping it stops the task.
pub struct Poller {
    targets: watch::Sender<Vec<Target>>,
    task: JoinHandle<()>,
}

impl Poller {
    /// The canaries to poll from now on. A change is polled at once; the same list again
    /// changes nothing.
    pub fn set_targets(&self, targets: Vec<Target>) {
        self.targets.send_if_modified(|current| {
            let changed = *current != targets;
            *current = targets;
            changed
        });
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts polling, with no canaries until [`Poller::set_targets`]. Stops on its own when
/// `events`' receiver is gone.
pub fn spawn_poller(
    source: Arc<dyn RolloutMetrics>,
    every: Duration,
    events: mpsc::Sender<MetricsUpdate>,
) -> Poller {
    let (targets, mut watched) = watch::channel(Vec::new());
    let task = tokio::spawn(async move {
        loop {
            let round = watched.borrow_and_update().clone();
            if !poll(source.as_ref(), round, &events).await {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                changed = watched.changed() => if changed.is_err() { return },
            }
        }
    });
    Poller { targets, task }
}

/// One round over `targets`; false when nobody listens any more.
async fn poll(
    source: &dyn RolloutMetrics,
    targets: Vec<Target>,
    events: &mpsc::Sender<MetricsUpdate>,
) -> bool {
    let mut updates = std::pin::pin!(updates(source, targets));
    while let Some(update) = updates.next().await {
        if events.send(update).await.is_err() {
            return false;
        }
    }
    true
}

/// Every target's report, once (for a headless command).
pub async fn read_once(source: &dyn RolloutMetrics, targets: Vec<Target>) -> Vec<MetricsUpdate> {
    updates(source, targets).collect().await
}

/// Each target's report as it is ready, a few read at once; a backend that
/// is not ready gives each the reason instead.
fn updates(
    source: &dyn RolloutMetrics,
    targets: Vec<Target>,
) -> impl futures::Stream<Item = MetricsUpdate> + '_ {
    futures::stream::once(async move {
        let down = if targets.is_empty() {
            None
        } else {
            source.ready().await.err()
        };
        let reports = futures::stream::iter(targets).map(move |target| {
            let down = down.clone();
            async move {
                let report = match down {
                    Some(down) => Err(down),
                    None => Ok(report(source, &target).await),
                };
                MetricsUpdate {
                    report,
                    key: target.key,
                }
            }
        });
        reports.buffer_unordered(CONCURRENT_READS)
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::future::BoxFuture;
    use jiff::Timestamp;

    use super::*;
    use crate::metrics::rollout_metrics::{
        MetricKind, MetricReading, PerVersion, RolloutReading, Scoring,
    };
    use crate::metrics::templates::Preset;

    /// A backend that is down while `down` holds a reason, and whose queries fail for
    /// the rollouts named in `failing`.
    struct Fake {
        down: Mutex<Option<String>>,
        failing: Vec<String>,
        scoring: Scoring,
    }

    impl RolloutMetrics for Fake {
        fn ready(&self) -> BoxFuture<'_, Result<(), String>> {
            let down = self.down.lock().unwrap().clone();
            Box::pin(async move { down.map_or(Ok(()), Err) })
        }

        fn read<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, RolloutReading> {
            let definition = &Preset::Argo.metrics(None)[0];
            let versions = if self.failing.iter().any(|f| *f == target.key.name) {
                Err("execution: query timed out".to_string())
            } else {
                Ok(PerVersion::default())
            };
            let reading = RolloutReading {
                metrics: vec![MetricReading {
                    spec: definition.spec.clone(),
                    kind: MetricKind::of(definition),
                    versions,
                }],
                rps: None,
            };
            Box::pin(async move { reading })
        }

        fn scoring(&self) -> &Scoring {
            &self.scoring
        }
    }

    fn target(name: &str) -> Target {
        Target {
            key: ObjectKey::new("prod", "shop", name),
            stable_hash: "7f9c".into(),
            canary_hash: "5d2a".into(),
            baseline_hash: None,
            since: Timestamp::UNIX_EPOCH,
            flagger_target: None,
        }
    }

    async fn next(events: &mut mpsc::Receiver<MetricsUpdate>) -> MetricsUpdate {
        tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an update within 10 s")
            .expect("the poller runs")
    }

    fn fake(failing: &[&str]) -> Arc<Fake> {
        Arc::new(Fake {
            down: Mutex::new(None),
            failing: failing.iter().map(|s| s.to_string()).collect(),
            scoring: Scoring::default(),
        })
    }

    #[tokio::test]
    async fn each_target_gets_its_report_and_a_failing_one_does_not_stop_the_others() {
        let (tx, mut events) = mpsc::channel(16);
        let poller = spawn_poller(fake(&["cart"]), Duration::from_secs(3600), tx);
        poller.set_targets(vec![target("checkout"), target("cart")]);
        let mut updates = [next(&mut events).await, next(&mut events).await];
        updates.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(updates[0].key.name, "cart");
        let cart = updates[0].report.as_ref().unwrap();
        assert!(matches!(
            &cart.metrics[0].state,
            crate::metrics::rollout_metrics::MetricState::QueryError(e) if e.contains("timed out")
        ));
        assert_eq!(updates[1].key.name, "checkout");
        assert!(updates[1].report.is_ok());
    }

    #[tokio::test]
    async fn a_backend_that_is_down_gives_every_target_the_reason() {
        let source = fake(&[]);
        *source.down.lock().unwrap() = Some("Prometheus at http://p:9090: unreachable".into());
        let (tx, mut events) = mpsc::channel(16);
        let poller = spawn_poller(source.clone(), Duration::from_millis(20), tx);
        poller.set_targets(vec![target("checkout")]);
        let update = next(&mut events).await;
        assert_eq!(
            update.report,
            Err("Prometheus at http://p:9090: unreachable".into())
        );
        // Back up: the next rounds report again.
        *source.down.lock().unwrap() = None;
        while next(&mut events).await.report.is_err() {}
    }

    #[tokio::test]
    async fn new_targets_are_polled_at_once_and_the_task_ends_with_its_listener() {
        let (tx, mut events) = mpsc::channel(16);
        let poller = spawn_poller(fake(&[]), Duration::from_secs(3600), tx);
        poller.set_targets(vec![target("checkout")]);
        assert_eq!(next(&mut events).await.key.name, "checkout");
        // An hour until the next round, unless the targets change.
        poller.set_targets(vec![target("search")]);
        assert_eq!(next(&mut events).await.key.name, "search");
        drop(events);
        poller.set_targets(vec![target("cart")]);
        tokio::time::timeout(Duration::from_secs(10), async {
            while !poller.task.is_finished() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the task ends once nobody listens");
    }
}

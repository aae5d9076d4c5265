//! Reaction: from a change sent to the simulator's API (a merge patch of
//! `spec.paused`, as `kubectl argo rollouts pause` sends) to the frame that
//! shows it; and, for comparison, to the watch event that tells a client of
//! the simulator in this process (the part of the time that is not the
//! cockpit's).

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use color_eyre::eyre;
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use serde_json::json;
use tokio::runtime::Runtime;

use super::pty::{Cockpit, WIDTH};
use flightdeck::model::ObjectKey;

async fn rollouts(kubeconfig: &Path, key: &ObjectKey) -> eyre::Result<Api<DynamicObject>> {
    let options = KubeConfigOptions {
        context: Some(key.context.to_string()),
        ..KubeConfigOptions::default()
    };
    let config =
        kube::Config::from_custom_kubeconfig(Kubeconfig::read_from(kubeconfig)?, &options).await?;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        "rollouts",
    );
    let client = kube::Client::try_from(config)?;
    Ok(Api::namespaced_with(client, &key.namespace, &resource))
}

/// The rollout's row in the fleet pane (the left half) shows `phase`.
fn row_shows(screen: &vt100::Screen, key: &ObjectKey, phase: &str) -> bool {
    screen.rows(0, WIDTH / 2).any(|row| {
        row.contains(key.name.as_str()) && row.contains(key.context.as_str()) && row.contains(phase)
    })
}

/// When a watch of this process sees each change of `spec.paused` on `name`.
async fn watch_paused(api: Api<DynamicObject>, name: String, seen: mpsc::Sender<(Instant, bool)>) {
    let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()));
    while let Some(Ok(event)) = stream.next().await {
        if let watcher::Event::Apply(object) = event
            && object.metadata.name.as_deref() == Some(&name)
        {
            let paused = object.data["spec"]["paused"].as_bool().unwrap_or(false);
            if seen.send((Instant::now(), paused)).is_err() {
                return;
            }
        }
    }
}

/// From each patch sent: to the frame that shows it, and to the event of
/// a plain watch.
pub struct Reaction {
    pub frame: Vec<Duration>,
    pub watch: Vec<Duration>,
}

/// Filter the fleet down to `key`'s name, then pause and resume it
/// `rounds` times.
pub fn measure(
    cockpit: &mut Cockpit,
    runtime: &Runtime,
    kubeconfig: &Path,
    key: &ObjectKey,
    rounds: usize,
) -> eyre::Result<Reaction> {
    let api = runtime.block_on(rollouts(kubeconfig, key))?;
    let (tx, seen) = mpsc::channel();
    let watch = runtime.spawn(watch_paused(api.clone(), key.name.to_string(), tx));
    // Esc alone (clearing the filter), not taken with `/` as alt-/.
    cockpit.type_keys("\x1b")?;
    cockpit.settle(Duration::from_millis(300), Duration::from_secs(5));
    cockpit.type_keys(&format!("/{}\r", key.name))?;
    cockpit.wait_for("the filtered fleet", Duration::from_secs(10), |s| {
        row_shows(s, key, "Healthy")
    })?;
    let mut reaction = Reaction {
        frame: Vec::new(),
        watch: Vec::new(),
    };
    for round in 0..rounds {
        let paused = round % 2 == 0;
        cockpit.settle(Duration::from_millis(300), Duration::from_secs(5));
        while seen.try_recv().is_ok() {}
        let patch = Patch::Merge(json!({ "spec": { "paused": paused } }));
        let sent = Instant::now();
        runtime.block_on(api.patch(&key.name, &PatchParams::default(), &patch))?;
        let phase = if paused { "Paused" } else { "Healthy" };
        let shown =
            cockpit.wait_for(phase, Duration::from_secs(10), |s| row_shows(s, key, phase))?;
        reaction.frame.push(shown.saturating_duration_since(sent));
        let watched = loop {
            match seen.recv_timeout(Duration::from_secs(10))? {
                (at, now) if now == paused => break at,
                _ => {}
            }
        };
        reaction.watch.push(watched.saturating_duration_since(sent));
    }
    watch.abort();
    Ok(reaction)
}

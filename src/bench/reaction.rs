//! Reaction: from a change sent to the simulator's API (a merge patch of
//! `spec.paused`, as `kubectl argo rollouts pause` sends) to the frame that
//! shows it.

use std::path::Path;
use std::time::{Duration, Instant};

use color_eyre::eyre;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tokio::runtime::Runtime;

use super::pty::{Cockpit, WIDTH};
use crate::model::ObjectKey;

async fn rollouts(kubeconfig: &Path, key: &ObjectKey) -> eyre::Result<Api<DynamicObject>> {
    let options = KubeConfigOptions {
        context: Some(key.context.clone()),
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
    screen
        .rows(0, WIDTH / 2)
        .any(|row| row.contains(&key.name) && row.contains(&key.context) && row.contains(phase))
}

/// Filter the fleet down to `key`'s name, then pause and resume it
/// `rounds` times; the time from each patch sent to its frame.
pub fn measure(
    cockpit: &mut Cockpit,
    runtime: &Runtime,
    kubeconfig: &Path,
    key: &ObjectKey,
    rounds: usize,
) -> eyre::Result<Vec<Duration>> {
    let api = runtime.block_on(rollouts(kubeconfig, key))?;
    // Esc alone (clearing the filter), not taken with `/` as alt-/.
    cockpit.type_keys("\x1b")?;
    cockpit.settle(Duration::from_millis(300), Duration::from_secs(5));
    cockpit.type_keys(&format!("/{}\r", key.name))?;
    cockpit.wait_for("the filtered fleet", Duration::from_secs(10), |s| {
        row_shows(s, key, "Healthy")
    })?;
    let mut times = Vec::new();
    for round in 0..rounds {
        let paused = round % 2 == 0;
        cockpit.settle(Duration::from_millis(300), Duration::from_secs(5));
        let patch = Patch::Merge(json!({ "spec": { "paused": paused } }));
        let sent = Instant::now();
        runtime.block_on(api.patch(&key.name, &PatchParams::default(), &patch))?;
        let phase = if paused { "Paused" } else { "Healthy" };
        let shown = cockpit.wait_for(phase, Duration::from_secs(10), |s| {
            row_shows(s, key, phase)
        })?;
        times.push(shown.saturating_duration_since(sent));
    }
    Ok(times)
}

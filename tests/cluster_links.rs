//! flightdeck over the links real users have: an HTTP CONNECT proxy, a
//! SOCKS5 proxy (kubeconfig `proxy-url`, or `HTTPS_PROXY` with `NO_PROXY`
//! honoured), and a link that misbehaves (a fault-injecting proxy).

mod sim_support;
mod support {
    pub mod proxy;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use flightdeck::sim::{Fleet, Scenario};
use kube::config::Kubeconfig;
use support::proxy::Proxy;

const EU: &str = "sim-prod-eu";

/// The fleet's kubeconfig with `proxy-url` set on every cluster (or not).
fn kubeconfig(fleet: &Fleet, dir: &Path, proxy_url: Option<String>) -> PathBuf {
    let mut config = Kubeconfig::read_from(fleet.kubeconfig_path()).unwrap();
    for named in &mut config.clusters {
        named.cluster.as_mut().unwrap().proxy_url = proxy_url.clone();
    }
    let path = dir.join("kubeconfig.json");
    // JSON is YAML: kube reads it as it reads any kubeconfig.
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    path
}

async fn status(kubeconfig: &Path, dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", EU, "status", "-o", "json"])
        .env("XDG_DATA_HOME", dir)
        .env("XDG_STATE_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env_remove("HTTPS_PROXY")
        .env_remove("NO_PROXY")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn lists_checkout(output: &Output) -> bool {
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    rows.as_array()
        .is_some_and(|rows| rows.iter().any(|r| r["name"] == "checkout"))
}

fn server_of(fleet: &Fleet, context: &str) -> String {
    let server = &fleet
        .contexts()
        .iter()
        .find(|c| c.name == context)
        .unwrap()
        .server;
    server.trim_start_matches("http://").to_string()
}

/// Behind a bastion: the kubeconfig's `proxy-url` or `HTTPS_PROXY` sends
/// every request through an HTTP CONNECT proxy; `NO_PROXY` is honoured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_connect_proxy_carries_the_traffic() {
    let fleet = sim_support::start(Scenario::Demo, false).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::connect(dir.path());
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let target = format!("CONNECT {}", server_of(&fleet, EU));

    let through_kubeconfig = kubeconfig(&fleet, dir.path(), Some(url.clone()));
    let output = status(&through_kubeconfig, dir.path(), &[]).await;
    assert!(output.status.success(), "{output:?}");
    assert!(lists_checkout(&output), "{output:?}");
    let tunnels = proxy.log().iter().filter(|l| **l == target).count();
    assert!(
        tunnels > 0,
        "no tunnel to the API server: {:?}",
        proxy.log()
    );

    let plain = kubeconfig(&fleet, dir.path(), None);
    let output = status(&plain, dir.path(), &[("HTTPS_PROXY", &url)]).await;
    assert!(
        output.status.success() && lists_checkout(&output),
        "{output:?}"
    );
    let more = proxy.log().iter().filter(|l| **l == target).count();
    assert!(
        more > tunnels,
        "HTTPS_PROXY was not used: {:?}",
        proxy.log()
    );

    let output = status(
        &plain,
        dir.path(),
        &[("HTTPS_PROXY", &url), ("NO_PROXY", "127.0.0.1")],
    )
    .await;
    assert!(
        output.status.success() && lists_checkout(&output),
        "{output:?}"
    );
    assert_eq!(
        proxy.log().iter().filter(|l| **l == target).count(),
        more,
        "NO_PROXY was not honoured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socks5_proxy_carries_the_traffic() {
    let fleet = sim_support::start(Scenario::Demo, false).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::socks5(dir.path());
    let config = kubeconfig(
        &fleet,
        dir.path(),
        Some(format!("socks5://127.0.0.1:{}", proxy.port)),
    );
    let output = status(&config, dir.path(), &[]).await;
    assert!(
        output.status.success() && lists_checkout(&output),
        "{output:?}"
    );
    let target = format!("SOCKS5 {}", server_of(&fleet, EU));
    assert!(proxy.log().contains(&target), "{:?}", proxy.log());
}

/// A fresh rollout in `context`, for a watch to see.
fn new_rollout(fleet: &Fleet, context: &str, name: &str) {
    let rollout = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example.com/shop/probe:v1"}]}
            },
            "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}
        }
    });
    fleet.load(context, rollout).unwrap();
}

/// Waits for the first event `pick` takes, for at most `seconds`.
async fn next<T>(
    events: &mut tokio::sync::mpsc::Receiver<flightdeck::cluster::ClusterEvent>,
    seconds: u64,
    mut pick: impl FnMut(&flightdeck::cluster::ClusterEvent) -> Option<T>,
) -> Option<T> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        if let Some(found) = pick(&event) {
            return Some(found);
        }
    }
    None
}

/// Every way a link between flightdeck and an API server misbehaves, one
/// after another: each is said in plain words as soon as a watch meets it,
/// the other context goes on, and the watch recovers by itself when the
/// fault ends. The table of what each fault read as is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_link_is_said_in_plain_words_and_recovered_from() {
    use flightdeck::cluster::{self, Change, ClusterEvent, Kind, Scope};

    const US: &str = "sim-prod-us";
    let fleet = sim_support::start(Scenario::Empty, false).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::faulty(dir.path(), &server_of(&fleet, EU));
    // sim-prod-eu through the faulty link, sim-prod-us straight.
    let mut config = Kubeconfig::read_from(fleet.kubeconfig_path()).unwrap();
    for named in &mut config.clusters {
        if named.name == EU {
            named.cluster.as_mut().unwrap().server =
                Some(format!("http://127.0.0.1:{}", proxy.port));
        }
    }
    let path = dir.path().join("kubeconfig.json");
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    let connection = cluster::connect(&Scope {
        kubeconfig: Some(path),
        all_contexts: true,
        // Watches are made again every 2 s, so each fault is met at once.
        watch_timeout: Some(std::time::Duration::from_secs(2)),
        ..Scope::default()
    })
    .await
    .unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(4096);
    let _watches = connection.watch(connection.selected(), None, tx);
    let mut live = std::collections::HashSet::new();
    next(&mut events, 30, |e| {
        if let ClusterEvent::Live {
            context,
            kind: Kind::Rollout,
        } = e
        {
            live.insert(context.clone());
        }
        (live.len() == 2).then_some(())
    })
    .await
    .expect("both contexts list");

    let mut table = Vec::new();
    for (round, fault) in [
        "reset",
        "503",
        "429",
        "garbage",
        "truncated",
        "stall",
        "silent",
    ]
    .into_iter()
    .enumerate()
    {
        proxy.fault_now(fault);
        let words = next(&mut events, 60, |e| match e {
            ClusterEvent::Down {
                context,
                kind: Kind::Rollout,
                error,
            } if context == EU => Some(error.clone()),
            _ => None,
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "{fault}: the rollouts' watch never said it was down; through the proxy: {:#?}",
                proxy.log().iter().rev().take(12).collect::<Vec<_>>()
            )
        });
        assert!(
            !words.is_empty() && !words.contains("Error {") && !words.contains("Some("),
            "{fault}: not plain words: {words}"
        );
        // The other context goes on meanwhile.
        let other = format!("us-probe-{round}");
        new_rollout(&fleet, US, &other);
        next(&mut events, 30, |e| match e {
            ClusterEvent::Rollout(Change::Applied(r)) if r.key.name == other => Some(()),
            _ => None,
        })
        .await
        .unwrap_or_else(|| panic!("{fault}: sim-prod-us stopped while sim-prod-eu was down"));
        // The fault ends: the watch comes back and shows what changed.
        proxy.fault_now("pass");
        let probe = format!("eu-probe-{round}");
        new_rollout(&fleet, EU, &probe);
        let mut back = false;
        next(&mut events, 90, |e| match e {
            ClusterEvent::Live {
                context,
                kind: Kind::Rollout,
            } if context == EU => {
                back = true;
                None
            }
            ClusterEvent::Rollout(Change::Applied(r)) if r.key.name == probe => back.then_some(()),
            ClusterEvent::Rollout(Change::Relisted { context, items, .. })
                if context == EU && items.iter().any(|r| r.key.name == probe) =>
            {
                back.then_some(())
            }
            _ => None,
        })
        .await
        .unwrap_or_else(|| panic!("{fault}: sim-prod-eu did not recover"));
        table.push(format!("| {fault} | {words} | recovered |"));
    }
    println!(
        "| fault | said | after |\n|---|---|---|\n{}",
        table.join("\n")
    );
}

//! flightdeck over the links real users have: an HTTP CONNECT proxy, a
//! SOCKS5 proxy (kubeconfig `proxy-url`, or `HTTPS_PROXY` with `NO_PROXY`
//! honoured), and a link that misbehaves (a fault-injecting proxy).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use flightdeck_sim::{Fleet, Scenario};
use flightdeck_testkit::Proxy;
use kube::config::Kubeconfig;

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
    let fleet = flightdeck_testkit::start(Scenario::Demo, false).await;
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
    let fleet = flightdeck_testkit::start(Scenario::Demo, false).await;
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
    let fleet = flightdeck_testkit::start(Scenario::Empty, false).await;
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

/// Watches of one context of `fleet`, as the cockpit starts them.
async fn watching(
    fleet: &Fleet,
    context: &str,
    namespaces: &[&str],
) -> (
    flightdeck::cluster::Watches,
    tokio::sync::mpsc::Receiver<flightdeck::cluster::ClusterEvent>,
) {
    use flightdeck::cluster::{self, Scope};
    let mut config_namespaces = std::collections::BTreeMap::new();
    if !namespaces.is_empty() {
        config_namespaces.insert(
            context.to_string(),
            namespaces.iter().map(|n| n.to_string()).collect(),
        );
    }
    let connection = cluster::connect(&Scope {
        kubeconfig: Some(fleet.kubeconfig_path().to_path_buf()),
        contexts: vec![context.to_string()],
        namespaces: config_namespaces,
        ..Scope::default()
    })
    .await
    .unwrap();
    let (tx, events) = tokio::sync::mpsc::channel(4096);
    let watches = connection.watch(connection.selected(), None, tx);
    (watches, events)
}

/// A user who may list rollouts but not ReplicaSets or AnalysisRuns gets
/// the rollouts, and "forbidden" for the others, in RBAC's words: the
/// context is live, not down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_may_not_read_replica_sets_still_gets_the_rollouts() {
    use flightdeck::cluster::{Change, ClusterEvent, Kind};
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        extra_users: vec![&flightdeck_sim::ROLLOUTS_ONLY],
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let context = "sim-prod-eu-rollouts-only";
    let (_watches, mut events) = watching(&fleet, context, &[]).await;
    let (mut rollouts, mut live) = (0, false);
    let mut refused = std::collections::HashMap::new();
    // Each other kind refused by name: Argo's and Deployments' ReplicaSets, Canaries,
    // Deployments.
    let others = [
        (Kind::ReplicaSet, "replicasets.apps"),
        (Kind::DeploymentReplicaSet, "replicasets.apps"),
        (Kind::Canary, "canaries.flagger.app"),
        (Kind::Deployment, "deployments.apps"),
    ];
    next(&mut events, 30, |e| {
        match e {
            ClusterEvent::Rollout(Change::Relisted { items, .. }) => rollouts = items.len(),
            ClusterEvent::Live {
                kind: Kind::Rollout,
                ..
            } => live = true,
            ClusterEvent::Down {
                kind: Kind::Rollout,
                error,
                ..
            } => {
                panic!("the rollouts' watch went down: {error}")
            }
            ClusterEvent::Down { kind, error, .. } => {
                refused.insert(*kind, error.clone());
            }
            _ => {}
        }
        (live && others.iter().all(|(k, _)| refused.contains_key(k))).then_some(())
    })
    .await
    .expect("the rollouts live and the other kinds refused");
    assert!(rollouts > 5, "{rollouts} rollouts");
    for (kind, resource) in others {
        let words = &refused[&kind];
        assert!(
            words.starts_with("RBAC: ") && words.contains(resource),
            "{kind:?}: {words}"
        );
    }
}

/// A user who may read one namespace only: the cluster-wide list is
/// refused, so the context is watched in the namespaces config names, and
/// says so; without any, it says how to name them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_of_one_namespace_is_watched_in_it() {
    use flightdeck::cluster::{Change, ClusterEvent, Kind};
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        extra_users: vec![&flightdeck_sim::SHOP_ONLY],
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let context = "sim-prod-eu-shop-only";
    let (_watches, mut events) = watching(&fleet, context, &["shop"]).await;
    let mut note = None;
    let listed = next(&mut events, 30, |e| match e {
        ClusterEvent::Scoped {
            namespaces,
            note: said,
            ..
        } => {
            assert_eq!(namespaces, &["shop".to_string()]);
            note = Some(said.clone());
            None
        }
        ClusterEvent::Rollout(Change::Relisted {
            namespace, items, ..
        }) => {
            assert_eq!(namespace.as_deref(), Some("shop"));
            Some(items.clone())
        }
        ClusterEvent::Down {
            kind: Kind::Rollout,
            error,
            ..
        } => panic!("down: {error}"),
        _ => None,
    })
    .await
    .expect("the rollouts of shop");
    assert!(!listed.is_empty() && listed.iter().all(|r| r.key.namespace == "shop"));
    let note = note.expect("the scope said before the list");
    assert!(
        note.contains("all namespaces") && note.contains("watching shop (config.toml)"),
        "{note}"
    );

    let (_watches, mut events) = watching(&fleet, context, &[]).await;
    let said = next(&mut events, 30, |e| match e {
        ClusterEvent::Scoped {
            namespaces, note, ..
        } if namespaces.is_empty() => Some(note.clone()),
        _ => None,
    })
    .await
    .expect("why nothing can be watched");
    assert!(said.contains("namespaces = [...]"), "{said}");
}

/// An exec credential plugin (as `aws eks get-token` or `kubelogin` are)
/// that issues short-lived tokens: it runs once per token, not once per
/// request or action, and the watches and actions go on across expiry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_plugin_runs_once_per_token_and_the_watches_outlive_it() {
    use flightdeck::cluster::{self, ClusterEvent, Kind, Scope};
    use flightdeck::model::{ObjectKey, RolloutAction};

    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let plugin = dir.path().join("fake-get-token");
    // The server takes a token for 7 s; the credential says it expires in
    // 65 s, so kube (which renews a minute ahead) asks again after 5 s.
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho run >> {}\nnow=$(date +%s)\nexp=$(date -u -d @$((now + 65)) +%Y-%m-%dT%H:%M:%SZ)\n\
             printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"fd-%s\",\"expirationTimestamp\":\"%s\"}}}}' \"$now\" \"$exp\"\n",
            runs.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&plugin).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let fleet = flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        token_context: Some(plugin.clone()),
        ..flightdeck_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let context = "sim-prod-eu-token";
    let connection = cluster::connect(&Scope {
        kubeconfig: Some(fleet.kubeconfig_path().to_path_buf()),
        contexts: vec![context.into()],
        watch_timeout: Some(std::time::Duration::from_secs(2)),
        ..Scope::default()
    })
    .await
    .unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(4096);
    let _watches = connection.watch(connection.selected(), None, tx);
    next(&mut events, 30, |e| {
        matches!(
            e,
            ClusterEvent::Live {
                kind: Kind::Rollout,
                ..
            }
        )
        .then_some(())
    })
    .await
    .expect("the rollouts list with the plugin's token");
    // 16 s of actions, one a second, while the watches are made again every 2 s.
    let key = ObjectKey::new(context, "shop", "frontend");
    let started = std::time::Instant::now();
    let mut actions = 0;
    while started.elapsed() < std::time::Duration::from_secs(16) {
        let action = if actions % 2 == 0 {
            RolloutAction::Pause
        } else {
            RolloutAction::Resume
        };
        connection
            .act(&key, action)
            .await
            .unwrap_or_else(|e| panic!("{action} after {:?}: {e}", started.elapsed()));
        actions += 1;
        while let Ok(event) = events.try_recv() {
            if let ClusterEvent::Down { error, .. } = event {
                panic!("a watch went down after {:?}: {error}", started.elapsed());
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let runs = std::fs::read_to_string(&runs).unwrap().lines().count();
    // A token lasts about 5 s of use: 16 s is 3 to 5 runs, not one per action.
    assert!(actions >= 12, "{actions} actions");
    assert!(
        (3..=6).contains(&runs),
        "the plugin ran {runs} times for {actions} actions"
    );
    let tokens: std::collections::HashSet<String> = fleet
        .requests(context)
        .into_iter()
        .filter_map(|r| r.bearer_token)
        .collect();
    assert!(tokens.len() >= 3, "{tokens:?}");
}

/// etcd compacts the history a watch would resume from (410 Gone): the
/// watches that meet it list again, nothing is said to be down, and what
/// changes afterwards still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_history_is_listed_again() {
    use flightdeck::cluster::{Change, ClusterEvent};
    let fleet = flightdeck_testkit::start(Scenario::Demo, false).await;
    let (_watches, mut events) = watching(&fleet, EU, &[]).await;
    let mut live = 0;
    next(&mut events, 30, |e| {
        live += usize::from(matches!(e, ClusterEvent::Live { .. }));
        (live == 3).then_some(())
    })
    .await
    .expect("every kind listed");
    fleet.compact(EU).unwrap();
    let down = |e: &ClusterEvent| {
        if let ClusterEvent::Down { error, .. } = e {
            panic!("said to be down: {error}")
        }
    };
    next(&mut events, 30, |e| {
        down(e);
        let relisted = matches!(
            e,
            ClusterEvent::Rollout(Change::Relisted { .. })
                | ClusterEvent::ReplicaSet(Change::Relisted { .. })
                | ClusterEvent::AnalysisRun(Change::Relisted { .. })
        );
        relisted.then_some(())
    })
    .await
    .expect("listed again after the compaction");
    new_rollout(&fleet, EU, "after-compaction");
    next(&mut events, 30, |e| {
        down(e);
        match e {
            ClusterEvent::Rollout(Change::Applied(r)) if r.key.name == "after-compaction" => {
                Some(())
            }
            ClusterEvent::Rollout(Change::Relisted { items, .. })
                if items.iter().any(|r| r.key.name == "after-compaction") =>
            {
                Some(())
            }
            _ => None,
        }
    })
    .await
    .expect("a change after the compaction arrives");
}

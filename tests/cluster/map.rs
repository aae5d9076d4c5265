//! Mapping real controller-written objects (`../shared/fixtures`) to the
//! model, checked against what `kubectl argo rollouts get rollout` shows for
//! the same files: the expected values come from argo-rollouts'
//! `pkg/kubectl-argo-rollouts/cmd/get/get_test.go` and `info/info_test.go`,
//! which run the plugin on these very fixtures.

use std::path::{Path, PathBuf};

use flightdeck::cluster::{map_analysis_run, map_replica_set, map_rollout};
use flightdeck::model::{
    AnalysisPhase, Phase, ReplicaSet, Role, Rollout, Step, Strategy, actual_weight,
};
use serde_json::Value;

const CONTEXT: &str = "prod-eu";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/argo-rollouts")
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kind(obj: &Value) -> &str {
    obj["kind"].as_str().unwrap_or_default()
}

/// Every Rollout and ReplicaSet in one `status/` folder, mapped.
fn status_folder(folder: &str) -> (Vec<Rollout>, Vec<ReplicaSet>) {
    let mut rollouts = Vec::new();
    let mut replica_sets = Vec::new();
    let dir = fixtures().join("status").join(folder);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        for obj in yaml_documents(&path) {
            match kind(&obj) {
                "Rollout" => rollouts.push(map_rollout(CONTEXT, &obj).unwrap()),
                "ReplicaSet" => replica_sets.push(map_replica_set(CONTEXT, &obj).unwrap()),
                _ => {}
            }
        }
    }
    (rollouts, replica_sets)
}

fn named<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &str) -> &'a T {
    items
        .iter()
        .find(|i| key(i) == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn rollout<'a>(rollouts: &'a [Rollout], name: &str) -> &'a Rollout {
    named(rollouts, name, |r| &r.key.name)
}

/// What `kubectl argo rollouts get` prints in its header for a rollout.
#[derive(Debug, PartialEq)]
struct Header {
    status: &'static str,
    message: String,
    step: Option<String>,
    set_weight: u32,
    actual_weight: u32,
    desired: u32,
    current: u32,
    updated: u32,
    ready: u32,
    available: u32,
}

fn header(r: &Rollout, replica_sets: &[ReplicaSet]) -> Header {
    Header {
        status: r.phase.label(),
        message: r.message.to_string(),
        step: r.step_label(),
        set_weight: r.set_weight,
        actual_weight: actual_weight(r, replica_sets),
        desired: r.replicas.desired,
        current: r.replicas.current,
        updated: r.replicas.updated,
        ready: r.replicas.ready,
        available: r.replicas.available,
    }
}

const TIMED_OUT: &str =
    r#"ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing."#;

fn degraded_canary_at_step_0(actual_weight: u32) -> Header {
    Header {
        status: "Degraded",
        message: TIMED_OUT.into(),
        step: Some("0/8".into()),
        set_weight: 20,
        actual_weight,
        desired: 5,
        current: 6,
        updated: 1,
        ready: 5,
        available: 5,
    }
}

#[test]
fn canary_rollouts_read_as_the_plugin_shows_them() {
    let (rollouts, replica_sets) = status_folder("canary");
    assert_eq!(rollouts.len(), 6);
    assert_eq!(replica_sets.len(), 3);

    // TestGetCanaryRollout and TestGetCanaryPingPongRollout.
    for name in ["canary-demo", "canary-demo-pingpong"] {
        let r = rollout(&rollouts, name);
        assert_eq!(
            header(r, &replica_sets),
            degraded_canary_at_step_0(0),
            "{name}"
        );
        assert_eq!(
            r.strategy,
            Strategy::Canary {
                traffic_routed: false
            }
        );
    }
    // TestCanaryRolloutInfoWeights: traffic-routed, so ActualWeight is
    // status.canary.weights.canary.weight (20) when present, else SetWeight.
    for name in ["canary-demo-weights", "canary-demo-weights-na"] {
        let r = rollout(&rollouts, name);
        assert_eq!(
            header(r, &replica_sets),
            degraded_canary_at_step_0(20),
            "{name}"
        );
        assert_eq!(
            r.strategy,
            Strategy::Canary {
                traffic_routed: true
            }
        );
    }
    // The two workloadRef rollouts carry the same status block; the plugin's
    // tests print neither, so these follow from the same rules.
    for name in ["canary-demo-workloadRef", "canary-demo-workloadRef-deploy"] {
        let r = rollout(&rollouts, name);
        assert_eq!(
            header(r, &replica_sets),
            degraded_canary_at_step_0(0),
            "{name}"
        );
        assert!(
            r.images.is_empty(),
            "{name}: the template is in the workload"
        );
    }
}

#[test]
fn canary_details_come_from_spec_and_status() {
    let (rollouts, _) = status_folder("canary");
    let r = rollout(&rollouts, "canary-demo");
    assert_eq!(r.key.to_string(), "prod-eu/jesse-test/canary-demo");
    assert_eq!(r.revision, Some(31));
    assert_eq!(r.generation, 429);
    // Written as the string "429" by this (pre-1.0) controller.
    assert_eq!(r.observed_generation, 429);
    assert_eq!(
        r.created.get(),
        Some("2019-10-25T06:07:18Z".parse().unwrap())
    );
    assert_eq!(
        *r.steps,
        [
            Step::SetWeight(20),
            Step::Pause { seconds: None },
            Step::SetWeight(40),
            Step::Pause { seconds: Some(10) },
            Step::SetWeight(60),
            Step::Pause { seconds: Some(10) },
            Step::SetWeight(80),
            Step::Pause { seconds: Some(10) },
        ]
    );
    assert_eq!(r.current_step, Some(0));
    assert_eq!(r.stable_hash.as_deref(), Some("877894d5b"));
    assert_eq!(r.current_hash.as_deref(), Some("65fb5ffc84"));
    assert_eq!(*r.images, ["argoproj/rollouts-demo:does-not-exist"]);
    assert!(!r.paused_by_user && !r.aborted && !r.controller_pause);
    assert!(r.pause_conditions.is_empty());
    assert_eq!(r.conditions.len(), 2);
    assert_eq!(r.conditions[1].kind, "Progressing");
    assert_eq!(r.conditions[1].reason, "ProgressDeadlineExceeded");
    // No pause: the state began at the Progressing condition's last update.
    assert_eq!(r.since.get(), Some("2019-10-28T04:52:55Z".parse().unwrap()));
}

#[test]
fn canary_replica_sets_have_the_plugins_roles() {
    let (rollouts, replica_sets) = status_folder("canary");
    let rs = |name: &str| named(&replica_sets, name, |rs| &rs.key.name);
    // The revision tree of TestGetCanaryRollout (and the ping-pong variant,
    // whose ReplicaSets are the same).
    for name in ["canary-demo", "canary-demo-pingpong"] {
        let r = rollout(&rollouts, name);
        assert_eq!(rs("canary-demo-65fb5ffc84").roles(r), vec![Role::Canary]);
        assert_eq!(rs("canary-demo-877894d5b").roles(r), vec![Role::Stable]);
        assert_eq!(rs("canary-demo-859c99b45c").roles(r), vec![Role::Old]);
    }
    let canary = rs("canary-demo-65fb5ffc84");
    assert_eq!(canary.owner.as_deref(), Some("canary-demo"));
    assert_eq!(canary.hash, "65fb5ffc84");
    assert_eq!(canary.revision, Some(31));
    assert_eq!(*canary.images, ["argoproj/rollouts-demo:does-not-exist"]);
    assert_eq!((canary.replicas.desired, canary.replicas.current), (1, 1));
    assert_eq!(canary.replicas.available, 0);
    // TestCanaryRolloutInfo: the images, with their tags.
    assert_eq!(
        *rs("canary-demo-877894d5b").images,
        ["argoproj/rollouts-demo:green"]
    );
    assert_eq!(rs("canary-demo-877894d5b").revision, Some(30));
    assert_eq!(rs("canary-demo-877894d5b").replicas.available, 5);
    assert_eq!(rs("canary-demo-859c99b45c").revision, Some(29));
    assert_eq!(rs("canary-demo-859c99b45c").replicas.desired, 0);
}

#[test]
fn without_traffic_routing_actual_weight_is_the_canarys_share_of_available_pods() {
    let dir = fixtures().join("status/canary");
    let ro = map_rollout(
        CONTEXT,
        &yaml_documents(&dir.join("canary-rollout.yaml"))[0],
    )
    .unwrap();
    let mut canary = yaml_documents(&dir.join("canary-rs.yaml")).remove(0);
    let stable = map_replica_set(CONTEXT, &yaml_documents(&dir.join("stable-rs.yaml"))[0]).unwrap();
    // Once the canary's one pod is available: 1 of the rollout's 5 → 20%.
    canary["status"]["availableReplicas"] = 1.into();
    let canary = map_replica_set(CONTEXT, &canary).unwrap();
    assert_eq!(actual_weight(&ro, &[stable.clone(), canary.clone()]), 20);
    // A ReplicaSet of another rollout does not count.
    let mut elsewhere = canary.clone();
    elsewhere.owner = Some("other".into());
    assert_eq!(actual_weight(&ro, &[stable, elsewhere]), 0);
}

#[test]
fn blue_green_rollout_reads_as_the_plugin_shows_it() {
    let (rollouts, replica_sets) = status_folder("blue-green");
    assert_eq!(rollouts.len(), 1);
    let r = &rollouts[0];
    // TestGetBlueGreenRollout.
    assert_eq!(
        header(r, &replica_sets),
        Header {
            status: "Paused",
            message: "BlueGreenPause".into(),
            step: None,
            // Not shown by the plugin for blue-green: the new version gets
            // no traffic until the active service points at it.
            set_weight: 0,
            actual_weight: 0,
            desired: 3,
            current: 6,
            updated: 3,
            ready: 6,
            available: 3,
        }
    );
    assert_eq!(r.strategy, Strategy::BlueGreen);
    assert!(r.controller_pause);
    assert_eq!(r.pause_conditions.len(), 1);
    assert_eq!(r.pause_conditions[0].reason, "BlueGreenPause");
    assert_eq!(r.since.get(), Some("2019-10-28T04:50:20Z".parse().unwrap()));
    assert!(r.waiting_for_person());

    let rs = |name: &str| named(&replica_sets, name, |rs| &rs.key.name);
    let rows: Vec<_> = [
        "bluegreen-demo-74b948fccb",
        "bluegreen-demo-6cbccd9f99",
        "bluegreen-demo-746d5fddf6",
    ]
    .iter()
    .map(|name| {
        let rs = rs(name);
        (rs.revision, rs.roles(r), rs.images[0].as_str())
    })
    .collect();
    assert_eq!(
        rows,
        vec![
            (
                Some(11),
                vec![Role::Preview],
                "argoproj/rollouts-demo:green"
            ),
            (
                Some(10),
                vec![Role::Stable, Role::Active],
                "argoproj/rollouts-demo:blue"
            ),
            (Some(8), vec![Role::Old], "argoproj/rollouts-demo:red"),
        ]
    );
}

/// The Rollouts among a file's documents. Other documents may hold YAML
/// that has no JSON form (`{{args.x}}` in an AnalysisTemplate parses as a
/// mapping used as a key), so each is read on its own.
fn rollout_documents(path: &Path) -> Vec<Value> {
    #[derive(serde::Deserialize)]
    struct KindOnly {
        kind: Option<String>,
    }
    let text = std::fs::read_to_string(path).unwrap();
    let mut rollouts = Vec::new();
    for doc in text.split("\n---") {
        match serde_saphyr::from_str::<Option<Value>>(doc) {
            Ok(Some(obj)) if kind(&obj) == "Rollout" => rollouts.push(obj),
            Ok(_) => {}
            Err(e) => {
                let kind = serde_saphyr::from_str::<KindOnly>(doc)
                    .ok()
                    .and_then(|k| k.kind);
                assert_ne!(kind.as_deref(), Some("Rollout"), "{}: {e}", path.display());
            }
        }
    }
    rollouts
}

#[test]
fn example_rollouts_map_without_a_status() {
    let dir = fixtures().join("examples");
    let mut mapped = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        for obj in rollout_documents(&entry.unwrap().path()) {
            mapped.push(map_rollout(CONTEXT, &obj).unwrap());
        }
    }
    assert_eq!(mapped.len(), 8);
    for r in &mapped {
        // No status yet: Argo's CalculateRolloutPhase says Progressing.
        assert_eq!(r.phase, Phase::Progressing, "{}", r.key);
        assert_eq!(r.message, "more replicas need to be updated", "{}", r.key);
        assert!(!r.images.is_empty(), "{}", r.key);
    }
    let canary = rollout(&mapped, "rollout-canary");
    assert_eq!(canary.steps[3], Step::Pause { seconds: Some(40) });
    assert_eq!(canary.set_weight, 20);
    let analysis = rollout(&mapped, "rollout-analysis-step");
    assert_eq!(
        analysis.steps[1],
        Step::Analysis {
            templates: vec!["random-fail".into(), "always-pass".into()]
        }
    );
    let preview = rollout(&mapped, "rollout-canary-preview");
    assert_eq!(preview.steps[0], Step::Other("experiment".into()));
    let blue_green = rollout(&mapped, "rollout-bluegreen");
    assert_eq!(blue_green.strategy, Strategy::BlueGreen);
}

#[test]
fn analysis_run_maps_its_metrics() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cluster/analysis-run-inconclusive.yaml");
    let run = map_analysis_run(CONTEXT, &yaml_documents(&path)[0]).unwrap();
    assert_eq!(run.key.to_string(), "prod-eu/shop/checkout-5d2a8c7f9-7-2");
    assert_eq!(run.owner.as_deref(), Some("checkout"));
    assert_eq!(run.hash.as_deref(), Some("5d2a8c7f9"));
    assert_eq!(run.phase, AnalysisPhase::Inconclusive);
    assert!(
        run.message
            .starts_with(r#"metric "success-rate" assessed Inconclusive"#)
    );
    assert_eq!(run.started, Some("2024-05-02T10:00:00Z".parse().unwrap()));
    let tally: Vec<_> = run
        .metrics
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.phase,
                [m.successful, m.failed, m.inconclusive, m.errors],
                m.last_value(),
            )
        })
        .collect();
    assert_eq!(
        tally,
        vec![
            (
                "success-rate",
                AnalysisPhase::Inconclusive,
                [2, 1, 1, 0],
                Some("[0.950]")
            ),
            // The last measurement errored without a value: the latest
            // value is the one before it.
            (
                "p99-latency",
                AnalysisPhase::Running,
                [1, 0, 0, 1],
                Some("[0.212]")
            ),
        ]
    );
}

/// The watches decode only what the mapping reads: every fixture maps the same from
/// what they keep as from the whole object, errors included.
#[test]
fn what_the_watches_keep_maps_as_the_whole_object_does() {
    use flightdeck::cluster::{Kind, as_watched, map_experiment};
    let mut objects: Vec<(String, Value)> = Vec::new();
    for folder in ["status", "examples"] {
        let (found, _) = flightdeck_testkit::fixture_objects_and_unloadable(folder);
        objects.extend(found);
    }
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster");
    for entry in std::fs::read_dir(&ours).unwrap() {
        let path = entry.unwrap().path();
        for obj in yaml_documents(&path) {
            objects.push((path.display().to_string(), obj));
        }
    }
    let mut compared = [0; 4];
    for (file, obj) in &objects {
        let (kind, at) = match kind(obj) {
            "Rollout" => (Kind::Rollout, 0),
            "ReplicaSet" => (Kind::ReplicaSet, 1),
            "AnalysisRun" => (Kind::AnalysisRun, 2),
            "Experiment" => (Kind::Experiment, 3),
            _ => continue,
        };
        let map = |json: &Value| match kind {
            Kind::Rollout => format!("{:?}", map_rollout(CONTEXT, json)),
            Kind::ReplicaSet => format!("{:?}", map_replica_set(CONTEXT, json)),
            Kind::AnalysisRun => format!("{:?}", map_analysis_run(CONTEXT, json)),
            Kind::Experiment => format!("{:?}", map_experiment(CONTEXT, json)),
            Kind::Canary => format!("{:?}", flightdeck::cluster::map_canary(CONTEXT, json)),
            Kind::Deployment => {
                format!("{:?}", flightdeck::cluster::map_deployment(CONTEXT, json))
            }
            Kind::DeploymentReplicaSet => format!(
                "{:?}",
                flightdeck::cluster::map_deployment_replica_set(CONTEXT, json)
            ),
        };
        let kept = as_watched(kind, obj);
        assert_eq!(map(&kept), map(obj), "{file}: {}", obj["metadata"]["name"]);
        assert!(
            kept["metadata"].get("managedFields").is_none(),
            "{file}: managedFields kept"
        );
        assert!(kept.to_string().len() <= obj.to_string().len());
        compared[at] += 1;
    }
    // Each kind has fixtures to compare.
    assert!(compared.iter().all(|n| *n > 0), "{compared:?}");
}

#[test]
fn an_experiment_maps_its_templates_and_analyses() {
    use flightdeck::cluster::{Kind, as_watched, map_experiment};
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cluster/experiment-running.yaml");
    let obj = &yaml_documents(&path)[0];
    for json in [obj.clone(), as_watched(Kind::Experiment, obj)] {
        let e = map_experiment(CONTEXT, &json).unwrap();
        assert_eq!(
            (e.owner.as_deref(), e.hash.as_deref(), e.phase),
            (Some("search"), Some("6f9c7d8b5"), AnalysisPhase::Running)
        );
        let templates: Vec<_> = e
            .templates
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.images.joined(),
                    t.available,
                    t.status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            templates,
            [
                (
                    "baseline",
                    "registry.example.com/search:v1".to_string(),
                    1,
                    "Running"
                ),
                (
                    "canary",
                    "registry.example.com/search:v2".to_string(),
                    0,
                    "Progressing"
                ),
            ]
        );
        assert_eq!(
            e.analyses,
            [("ranking".to_string(), AnalysisPhase::Running)]
        );
    }
}

//! The headless action commands, run as the built binary against an
//! in-process simulated fleet: exit codes, one-line reasons, `--yes`, no
//! prompt without a terminal, RBAC refusals, and the audit trail (also when
//! the process is killed right after sending).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use flightdeck::audit::{Audit, Entry, EntryState};
use flightdeck_sim::{Fleet, Scenario};
use flightdeck_testkit::start;
use jiff::Timestamp;

const EU: &str = "sim-prod-eu";

async fn fleet() -> Fleet {
    start(Scenario::Demo, true).await
}

fn flightdeck(fleet: &Fleet, data: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    command
        .arg("--kubeconfig")
        .arg(fleet.kubeconfig_path())
        .args(args)
        .env("XDG_DATA_HOME", data)
        .env("XDG_STATE_HOME", data)
        .stdin(Stdio::null());
    command
}

/// Run to the end off the runtime's thread, so the fleet keeps serving.
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("flightdeck runs"))
        .await
        .unwrap()
}

fn audit_path(data: &Path) -> PathBuf {
    data.join("flightdeck/audit.sqlite")
}

fn trail(data: &Path) -> Vec<Entry> {
    if !audit_path(data).exists() {
        return Vec::new();
    }
    Audit::open(&audit_path(data))
        .unwrap()
        .list(Timestamp::MIN)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The single line a failed command leaves on stderr.
fn reason(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    lines[0].to_string()
}

fn patches(fleet: &Fleet, context: &str) -> Vec<String> {
    fleet
        .requests(context)
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.contains("selfsubjectaccessreviews"))
        // kube's Api writes an empty query as a bare `?`.
        .map(|r| format!("{} {} {}", r.method, r.path.trim_end_matches('?'), r.body))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_with_yes_shows_the_blast_radius_audits_and_acts() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    let output = run(flightdeck(
        &fleet,
        data.path(),
        &["abort", "shop/checkout", "--yes"],
    ))
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "abort sim-prod-eu/shop/checkout\n  context    sim-prod-eu\n  namespace  shop\n  \
         stable     r3 registry.example.com/shop/checkout:v2.4.1 · traffic 80% → 100% · pods 10 → 10\n  \
         canary     r4 registry.example.com/shop/checkout:v2.5.0 · traffic 20% → 0% · pods 2 → 0 in 30s\n  \
         moves      20% of traffic · rps unknown: no metrics\n  pods       0 started · 2 stopped\n\
         sending abort to sim-prod-eu/shop/checkout (audit entry 1)\ndone: status patch {\"status\":{\"abort\":true}}\n"
    );
    let sent = patches(&fleet, EU);
    assert_eq!(
        sent[0],
        r#"PATCH /apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status {"status":{"abort":true}}"#
    );
    assert!(sent[1].starts_with("POST /apis/events.k8s.io/v1/namespaces/shop/events"));
    assert_eq!(sent.len(), 2);
    let [entry] = &trail(data.path())[..] else {
        panic!("one audit entry expected")
    };
    assert_eq!(
        (
            entry.user.as_str(),
            entry.context.as_str(),
            entry.namespace.as_str(),
            entry.name.as_str(),
            entry.action.as_str(),
            entry.before.as_str()
        ),
        (
            "admin@flightdeck.sim",
            EU,
            "shop",
            "checkout",
            "abort",
            "Paused, step 1/8, canary 20%, revision 4"
        )
    );
    assert_eq!(
        entry.outcome,
        EntryState::Done(r#"status patch {"status":{"abort":true}}"#.into())
    );

    // The trail as scripts read it.
    let listed = run(flightdeck(&fleet, data.path(), &["audit", "-o", "json"])).await;
    assert!(listed.status.success(), "{listed:?}");
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(json[0]["action"], "abort");
    assert_eq!(json[0]["outcome"]["state"], "done");
    let bad = run(flightdeck(
        &fleet,
        data.path(),
        &["audit", "--since", "lately"],
    ))
    .await;
    assert_eq!(
        reason(&bad),
        r#"flightdeck: --since "lately" is not an age like 30m, 24h or 7d"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_one_line_and_send_nothing() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["abort", "shop/checkout"],
            "flightdeck: not sending abort to sim-prod-eu/shop/checkout: stdin is not a terminal to confirm on; add --yes",
        ),
        (
            &["abort", "shop/checkout", "--yes", "--readonly"],
            "flightdeck: read-only: abort not sent (--readonly)",
        ),
        (
            &["pause", "shop/nope", "--yes"],
            "flightdeck: rollout shop/nope not found in sim-prod-eu",
        ),
        (
            &["retry", "shop/checkout", "--yes"],
            "flightdeck: retry: the rollout is not aborted (retry restarts an aborted rollout)",
        ),
        (
            &["undo", "shop/checkout", "--to-revision", "99", "--yes"],
            "flightdeck: undo: revision 99 is not in the rollout's history",
        ),
        (
            &["promote", "checkout", "--yes"],
            r#"flightdeck: "checkout" is not [CONTEXT/]NAMESPACE/NAME (e.g. shop/checkout or prod-eu/shop/checkout)"#,
        ),
    ];
    fleet.clear_requests(EU);
    for (args, expected) in cases {
        let output = run(flightdeck(&fleet, data.path(), args)).await;
        assert_eq!(reason(&output), expected, "{args:?}");
    }
    assert_eq!(patches(&fleet, EU), Vec::<String>::new());
    assert!(trail(data.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_rights_is_refused_in_plain_words_and_the_attempt_is_audited() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    let readonly = format!("{EU}-readonly");
    let output = run(flightdeck(
        &fleet,
        data.path(),
        &["abort", &format!("{readonly}/shop/checkout"), "--yes"],
    ))
    .await;
    let refusal = "RBAC: user viewer@flightdeck.sim cannot patch rollouts/status in namespace shop";
    assert_eq!(reason(&output), format!("flightdeck: {refusal}"));
    assert_eq!(patches(&fleet, &readonly), Vec::<String>::new());
    let [entry] = &trail(data.path())[..] else {
        panic!("one audit entry expected")
    };
    assert_eq!(
        (entry.user.as_str(), entry.context.as_str()),
        ("viewer@flightdeck.sim", readonly.as_str())
    );
    assert_eq!(entry.outcome, EntryState::Failed(refusal.into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_right_after_sending_leaves_its_audit_entry() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    let mut command = flightdeck(&fleet, data.path(), &["pause", "shop/frontend", "--yes"]);
    let line = tokio::task::spawn_blocking(move || {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 || line.starts_with("sending ") {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, no outcome
        child.wait().unwrap();
        line
    })
    .await
    .unwrap();
    assert_eq!(
        line,
        "sending pause to sim-prod-eu/shop/frontend (audit entry 1)\n"
    );
    let [entry] = &trail(data.path())[..] else {
        panic!("the audit entry is missing")
    };
    assert_eq!(
        (
            entry.action.as_str(),
            entry.name.as_str(),
            entry.user.as_str()
        ),
        ("pause", "frontend", "admin@flightdeck.sim")
    );
    // Killed before or after the answer came: never a made-up failure.
    assert!(
        matches!(entry.outcome, EntryState::Pending | EntryState::Done(_)),
        "{:?}",
        entry.outcome
    );
}

/// On a `production = true` context the costly actions need the rollout's
/// name: without a terminal, `--yes` alone is refused (and nothing sent),
/// `--confirm NAME` with the right name goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_contexts_need_the_rollouts_name_to_abort() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.toml");
    std::fs::write(&config, "[contexts.sim-prod-eu]\nproduction = true\n").unwrap();
    let with_config = |args: &[&str]| {
        let mut command = flightdeck(&fleet, data.path(), args);
        command.env("FLIGHTDECK_CONFIG", &config);
        command
    };
    fleet.clear_requests(EU);
    let output = run(with_config(&["abort", "shop/checkout", "--yes"])).await;
    assert_eq!(
        reason(&output),
        "flightdeck: not sending abort to sim-prod-eu/shop/checkout: sim-prod-eu is production; confirm with --confirm checkout"
    );
    let output = run(with_config(&[
        "abort",
        "shop/checkout",
        "--confirm",
        "cart",
    ]))
    .await;
    assert_eq!(
        reason(&output),
        "flightdeck: production: abort of shop/checkout in sim-prod-eu needs the rollout's name typed to confirm"
    );
    assert_eq!(patches(&fleet, EU), Vec::<String>::new());
    // The refused attempt with a wrong name is in the trail.
    assert!(matches!(&trail(data.path())[..], [e] if matches!(e.outcome, EntryState::Failed(_))));
    // Pause is not among the costly actions; the name is not needed.
    let output = run(with_config(&["pause", "shop/checkout", "--yes"])).await;
    assert!(output.status.success(), "{output:?}");
    let output = run(with_config(&[
        "abort",
        "shop/checkout",
        "--confirm",
        "checkout",
    ]))
    .await;
    assert!(output.status.success(), "{output:?}");
    let abort = r#"PATCH /apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status {"status":{"abort":true}}"#;
    assert!(patches(&fleet, EU).iter().any(|p| p == abort));
}

/// `status -o json` says what the cockpit knows: Argo's own phase with
/// `aborted` beside it, the revision, who holds a paused rollout, the
/// object's age and time in its step, and the verdict, which is `no
/// verdict` (never FAIL) when the metrics backend cannot be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_carries_what_the_cockpit_knows() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    let output = run(flightdeck(
        &fleet,
        data.path(),
        &["abort", "shop/checkout", "--yes"],
    ))
    .await;
    assert!(output.status.success(), "{output:?}");
    let config = data.path().join("config.toml");
    std::fs::write(
        &config,
        "[metrics]\nurl = \"http://127.0.0.1:1\"\ntimeout = \"1s\"\n",
    )
    .unwrap();
    let status = |fleet: &Fleet| {
        let mut command = flightdeck(fleet, data.path(), &["status", "-o", "json"]);
        command.env("FLIGHTDECK_CONFIG", &config);
        command
    };
    // The abort reaches the watch in a moment.
    let mut checkout = serde_json::Value::Null;
    for _ in 0..50 {
        let output = run(status(&fleet)).await;
        assert!(output.status.success(), "{output:?}");
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        checkout = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "checkout" && r["context"] == EU)
            .cloned()
            .unwrap();
        if checkout["aborted"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(checkout["phase"], "Degraded", "{checkout}");
    assert_eq!(checkout["aborted"], true, "{checkout}");
    assert_eq!(checkout["revision"], 4, "{checkout}");
    assert_eq!(checkout["new_version_weight"], 0, "{checkout}");
    assert!(checkout["age_seconds"].as_i64().unwrap() > 0, "{checkout}");
    assert!(checkout["in_step_seconds"].as_i64().is_some(), "{checkout}");
    let verdict = &checkout["verdict"];
    assert_eq!(verdict["outcome"], "no verdict", "{checkout}");
    assert!(
        verdict["error"].as_str().unwrap().contains("127.0.0.1:1"),
        "{verdict}"
    );
    let output = run(status(&fleet)).await;
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let by_step = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["paused_by"] == "step")
        .expect("a canary held by its pause step");
    assert_eq!(by_step["phase"], "Paused", "{by_step}");
    let table = run(flightdeck(&fleet, data.path(), &["status"])).await;
    let text = String::from_utf8_lossy(&table.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("sim-prod-eu") && l.contains(" checkout "))
        .unwrap();
    assert!(line.contains("Aborted"), "{line}");
}

/// `resume` on a blue-green waiting for promotion: refused with the reason,
/// and nothing sent (it once promoted it, switching all traffic under the
/// word "resume").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_never_promotes_a_waiting_blue_green() {
    let fleet = fleet().await;
    let data = tempfile::tempdir().unwrap();
    fleet.clear_requests(EU);
    let output = run(flightdeck(
        &fleet,
        data.path(),
        &["resume", "payments/ledger", "--yes"],
    ))
    .await;
    assert_eq!(
        reason(&output),
        "flightdeck: resume: the rollout waits for promotion; resume only lifts a person's pause, promote moves it on"
    );
    assert_eq!(patches(&fleet, EU), Vec::<String>::new());
}

/// Whether the API server streams lists (one watch per kind, objects as they come) or
/// refuses them with 422 as Kubernetes without the WatchList feature does, `status`
/// shows the same fleet: flightdeck lists in pages of 500 where it must, as kubectl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_the_same_whether_lists_are_streamed_or_refused() {
    use flightdeck_sim::FleetOptions;
    let mut fleets = Vec::new();
    for streamed_lists in [true, false] {
        let fleet = Fleet::start(FleetOptions {
            streamed_lists,
            // Time all but stands still, so both fleets are the same fleet.
            speed: 0.001,
            ..FleetOptions::default()
        })
        .await
        .unwrap();
        let data = tempfile::tempdir().unwrap();
        let output = run(flightdeck(&fleet, data.path(), &["status", "-o", "json"])).await;
        assert!(output.status.success(), "{output:?}");
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let mut seen: Vec<String> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {}/{} r{} {} {}",
                    r["context"], r["namespace"], r["name"], r["revision"], r["phase"], r["images"]
                )
            })
            .collect();
        seen.sort();
        let lists: Vec<String> = fleet
            .requests(EU)
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.contains("/rollouts"))
            .map(|r| r.path)
            .collect();
        fleets.push((seen, lists));
    }
    let (streamed, refused) = (&fleets[0], &fleets[1]);
    assert!(streamed.0.len() > 5, "{:?}", streamed.0);
    assert_eq!(streamed.0, refused.0);
    let asked = |lists: &[String], what: &str| lists.iter().any(|p| p.contains(what));
    assert!(
        asked(&streamed.1, "sendInitialEvents=true"),
        "{:?}",
        streamed.1
    );
    assert!(!asked(&streamed.1, "limit=500"), "{:?}", streamed.1);
    assert!(
        asked(&refused.1, "sendInitialEvents=true"),
        "{:?}",
        refused.1
    );
    assert!(asked(&refused.1, "limit=500"), "{:?}", refused.1);
}

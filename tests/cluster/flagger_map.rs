//! Mapping Flagger Canaries: the real examples of fluxcd/flagger
//! (`../shared/fixtures/flagger`, no status: never analysed yet) and Canaries with the
//! status blocks Flagger writes (`tests/fixtures/flagger`), each checked field by field,
//! and as the watch decodes them (`as_watched`) the same as whole.

use std::path::{Path, PathBuf};

use flightdeck::cluster::{Kind, as_watched, map_canary};
use flightdeck::model::{FlaggerPhase, FlaggerStrategy, Phase, Rollout, Step, Workload};
use serde_json::Value;

const CONTEXT: &str = "prod-eu";

fn shared(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/flagger")
        .join(file)
}

fn ours(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/flagger")
        .join(file)
}

fn object(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Mapped whole and as watched, which must agree.
fn mapped(path: &Path) -> Rollout {
    let obj = object(path);
    let whole = map_canary(CONTEXT, &obj).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let kept = map_canary(CONTEXT, &as_watched(Kind::Canary, &obj)).unwrap();
    assert_eq!(kept, whole, "{}", path.display());
    whole
}

#[test]
fn flaggers_own_examples_map_as_canaries_not_yet_analysed() {
    for file in [
        "istio-canary.yaml",
        "linkerd-canary.yaml",
        "istio-abtest.yaml",
    ] {
        let r = mapped(&shared(file));
        assert_eq!(r.workload, Workload::FlaggerCanary, "{file}");
        assert_eq!(r.key.to_string(), "prod-eu/test/podinfo");
        let f = r.flagger.as_deref().unwrap();
        assert_eq!(f.phase, FlaggerPhase::Initializing, "{file}");
        assert_eq!(f.target, "podinfo");
        assert_eq!((f.interval, f.threshold), (Some(15), Some(10)), "{file}");
        assert!(!r.update_in_flight(), "{file}");
    }
    let canary = mapped(&shared("istio-canary.yaml"));
    // stepWeight 5 up to maxWeight 50: ten weights, then the promotion.
    assert_eq!(canary.steps.len(), 11);
    assert_eq!(canary.steps[0], Step::SetWeight(5));
    assert_eq!(canary.steps[9], Step::SetWeight(50));
    let ab = mapped(&shared("istio-abtest.yaml"));
    let f = ab.flagger.as_deref().unwrap();
    assert_eq!(f.strategy, FlaggerStrategy::AbTesting);
    assert_eq!(f.max_iterations, Some(10));
    assert_eq!(
        f.matches,
        [
            "cookie ~ ^(.*?;)?(type=insider)(;.*)?$",
            "header user-agent ~ .*Firefox.*"
        ]
    );
}

/// The list items (`- X`) right after the line containing `marker` in Flagger's CRD, read
/// as text: serde-saphyr refuses the file's long quoted descriptions (issue of the
/// parser, not of the CRD, which kubectl applies).
fn crd_enum_after(marker: &str) -> Vec<String> {
    let text = std::fs::read_to_string(shared("crd.yaml")).unwrap();
    let mut lines = text.lines().skip_while(|l| !l.contains(marker));
    lines.next().expect("the marker is in the CRD");
    lines
        .skip_while(|l| !l.trim_start().starts_with("- "))
        .take_while(|l| l.trim_start().starts_with("- "))
        .map(|l| l.trim_start()[2..].trim_matches('"').to_string())
        .collect()
}

#[test]
fn the_phases_and_webhook_types_are_those_of_flaggers_crd() {
    let phases = crd_enum_after("Analysis phase of this canary");
    let ours: Vec<String> = std::iter::once(String::new())
        .chain(FlaggerPhase::ALL.iter().map(|p| p.label().to_string()))
        .collect();
    assert_eq!(phases, ours);
    let text = std::fs::read_to_string(shared("crd.yaml")).unwrap();
    for hook in ["confirm-rollout", "confirm-promotion", "rollback"] {
        assert!(
            text.contains(&format!("- {hook}")),
            "{hook} is no webhook type of the CRD"
        );
    }
    for field in [
        "canaryWeight:",
        "failedChecks:",
        "lastAppliedSpec:",
        "lastPromotedSpec:",
        "stepWeights:",
        "suspend:",
        "skipAnalysis:",
    ] {
        assert!(text.contains(field), "{field} is not in the CRD");
    }
}

#[test]
fn a_progressing_canary_reads_its_weight_checks_and_rollback_gate() {
    let r = mapped(&ours("podinfo-progressing.yaml"));
    assert_eq!(r.phase, Phase::Progressing);
    assert_eq!((r.actual_weight, r.current_step), (15, Some(2)));
    assert_eq!(r.step_label().as_deref(), Some("2/11"));
    assert!(r.update_in_flight());
    assert_eq!(r.since.get(), Some("2026-07-21T10:04:15Z".parse().unwrap()));
    let f = r.flagger.as_deref().unwrap();
    assert_eq!(f.checks_label(), "2/10 failed checks");
    assert_eq!(f.last_applied.as_deref(), Some("5f4d8b9c7"));
    assert_eq!(f.last_promoted.as_deref(), Some("7b6c5d4e3"));
    assert_eq!(
        f.rollback_gate.as_ref().map(|g| g.url.as_str()),
        Some("http://flagger-loadtester.test/rollback/check")
    );
    assert!(f.promotion_gate.is_none());
    assert_eq!(r.conditions[0].reason, "Progressing");
    assert_eq!(
        r.message,
        "New revision detected, progressing canary analysis."
    );
}

#[test]
fn an_ab_test_counts_iterations_with_no_weight() {
    let r = mapped(&ours("abtest-progressing.yaml"));
    let f = r.flagger.as_deref().unwrap();
    assert_eq!(f.strategy, FlaggerStrategy::AbTesting);
    assert_eq!((f.iterations, f.canary_weight), (4, 0));
    assert_eq!((r.current_step, r.steps.len()), (Some(4), 11));
    assert_eq!(r.steps[0], Step::Other("#1".into()));
}

#[test]
fn waiting_for_promotion_is_a_pause_for_a_person_at_the_gate() {
    let r = mapped(&ours("podinfo-waiting-promotion.yaml"));
    assert_eq!(r.phase, Phase::Paused);
    assert!(r.waiting_for_person());
    assert_eq!(r.phase_label(), "WaitingPromotion");
    let f = r.flagger.as_deref().unwrap();
    assert_eq!(f.step_weights, [1, 10, 25, 50]);
    assert_eq!(f.interval, Some(60));
    // Four weights, the gate, the promotion: at the gate.
    assert_eq!(r.steps.len(), 6);
    assert_eq!(r.current_step, Some(4));
    assert_eq!(r.steps[4], Step::Other("gate".into()));
    assert_eq!(
        f.promotion_gate.as_ref().map(|g| g.webhook.as_str()),
        Some("ask for promotion")
    );
}

#[test]
fn failed_is_aborted_and_succeeded_is_settled() {
    let failed = mapped(&ours("podinfo-failed.yaml"));
    assert_eq!((failed.phase, failed.aborted), (Phase::Aborted, true));
    assert_eq!(failed.actual_weight, 0);
    assert_eq!(failed.phase_label(), "Failed");
    assert_eq!(
        failed.flagger.as_deref().unwrap().checks_label(),
        "10/10 failed checks"
    );
    let done = mapped(&ours("podinfo-succeeded.yaml"));
    assert_eq!(done.phase, Phase::Healthy);
    assert!(!done.update_in_flight());
    assert_eq!(done.current_step, Some(done.steps.len()));
}

#[test]
fn bad_fields_are_errors_that_name_the_canary_and_the_field() {
    let mut obj = object(&ours("podinfo-progressing.yaml"));
    obj["status"]["failedChecks"] = (-1).into();
    let err = map_canary(CONTEXT, &obj).unwrap_err();
    assert_eq!(err.object, "test/podinfo");
    assert_eq!(err.field, "status.failedChecks");
    let mut obj = object(&ours("podinfo-progressing.yaml"));
    obj["spec"]["analysis"]["interval"] = "soon".into();
    let err = map_canary(CONTEXT, &obj).unwrap_err();
    assert_eq!(err.field, "spec.analysis.interval");
    let mut obj = object(&ours("abtest-progressing.yaml"));
    obj["spec"]["analysis"]["match"][0] = "x".into();
    let err = map_canary(CONTEXT, &obj).unwrap_err();
    assert_eq!(err.field, "spec.analysis.match[0]");
}

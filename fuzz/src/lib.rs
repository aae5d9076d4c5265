//! The fuzz targets' bodies, one per decoder: each feeds the fuzzer's bytes
//! to the public entry point the product itself reads that input with.
//!
//! The same file is compiled into the main crate's `tests/fuzz_corpus.rs`,
//! which runs every file of `fuzz/corpus/` through these functions on the
//! stable toolchain, so the corpus keeps being checked by `cargo test`.
//! The property is "no panic"; the few assertions are invariants that the
//! cockpit relies on.

use flightdeck::app::Keymap;
use flightdeck::cluster::{
    Kind, as_watched, map_analysis_run, map_experiment, map_replica_set, map_rollout,
};
use flightdeck::config::ConfigFile;
use flightdeck::metrics::decode_response;
use flightdeck::model::actual_weight;
use flightdeck::model::{RolloutAction, blast_radius};
use flightdeck::ui::Theme;
use reqwest::StatusCode;
use termprofile::TermProfile;

/// A raw Kubernetes object (JSON) through each of the three mappings, as
/// the watchers map what the API server sends; a rollout then through what
/// the cockpit computes from it for display and for each action.
pub fn cluster_object(data: &[u8]) {
    let Ok(object) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let replica_set = map_replica_set("fuzz", &object).ok();
    let _ = map_analysis_run("fuzz", &object);
    // What the watches decode maps exactly as the whole object does, errors included.
    let same = |kind, map: &dyn Fn(&serde_json::Value) -> String| {
        assert_eq!(map(&as_watched(kind, &object)), map(&object), "{kind:?}");
    };
    same(Kind::Rollout, &|j| format!("{:?}", map_rollout("fuzz", j)));
    same(Kind::ReplicaSet, &|j| {
        format!("{:?}", map_replica_set("fuzz", j))
    });
    same(Kind::AnalysisRun, &|j| {
        format!("{:?}", map_analysis_run("fuzz", j))
    });
    same(Kind::Experiment, &|j| {
        format!("{:?}", map_experiment("fuzz", j))
    });
    let Ok(rollout) = map_rollout("fuzz", &object) else {
        return;
    };
    // Weights are percentages: the screens show `100 - weight` for stable.
    assert!(
        rollout.set_weight <= 100,
        "set weight {}",
        rollout.set_weight
    );
    assert!(
        rollout.actual_weight <= 100,
        "actual weight {}",
        rollout.actual_weight
    );
    let weight = actual_weight(&rollout, replica_set.as_slice());
    assert!(weight <= 100, "actual weight with its ReplicaSet {weight}");
    let _ = (rollout.step_label(), rollout.urgency());
    // A timed pause ends after it began.
    if let Some(end) = rollout.pause_ends_at() {
        let began = rollout.pause_conditions.iter().filter_map(|c| c.since);
        assert!(
            began.clone().any(|at| at <= end),
            "ends {end}, began {:?}",
            began.collect::<Vec<_>>()
        );
    }
    let actions = [
        RolloutAction::Promote,
        RolloutAction::PromoteFull,
        RolloutAction::Pause,
        RolloutAction::Resume,
        RolloutAction::Abort,
        RolloutAction::Retry,
        RolloutAction::Undo { revision: None },
        RolloutAction::Restart,
    ];
    let replica_sets: Vec<_> = replica_set.into_iter().collect();
    for action in actions {
        let blast = blast_radius(&rollout, &replica_sets, action, Some((90.0, 10.0)));
        for v in &blast.versions {
            assert!(
                v.share_before <= 100 && v.share_after <= 100,
                "{action:?}: {:?} {} → {}",
                v.role,
                v.share_before,
                v.share_after
            );
        }
        assert!(
            blast.moved_percent <= 100,
            "{action:?}: moved {}",
            blast.moved_percent
        );
        let _ = (blast.pods_started(), blast.pods_stopped());
    }
}

/// A Prometheus HTTP API answer, written as its status code on the first
/// line and the body after it (`200\n{"status":"success",...}`).
pub fn prometheus_response(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (status, body) = text.split_once('\n').unwrap_or((text, ""));
    let Some(status) = status
        .trim()
        .parse()
        .ok()
        .and_then(|code| StatusCode::from_u16(code).ok())
    else {
        return;
    };
    if let Ok(result) = decode_response("Prometheus at fuzz", status, body) {
        let _ = (result.single_value(), result.values());
    }
}

/// `config.toml`.
pub fn config_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ConfigFile::parse(text);
    }
}

/// `keymap.toml`, on its own and over the default keys as the loader reads it.
pub fn keymap_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Keymap::parse(text, None);
        let _ = Keymap::parse(text, Some(&Keymap::default_keys()));
    }
}

/// `themes/NAME.toml`, brought down to each kind of terminal as the loader does.
pub fn theme_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(theme) = Theme::parse(text) {
        for profile in [
            TermProfile::NoTty,
            TermProfile::NoColor,
            TermProfile::Ansi16,
            TermProfile::Ansi256,
            TermProfile::TrueColor,
        ] {
            let _ = theme.clone().adapted_to(profile);
        }
    }
}

//! Start-up and memory at scale: 10,000 rollouts in one context, 50,000 over ten.

use std::path::Path;
use std::time::{Duration, Instant};

use color_eyre::eyre;

use super::memory;
use super::pty::Cockpit;
use super::report::{Figure, ms, percentile};
use super::sim::Simulator;
use super::startup;

const ONE_CONTEXT: usize = 10_000;
const CONTEXTS: u16 = 10;
const PER_CONTEXT: usize = 5_000;

/// The cockpit's start-up to the whole fleet of one context of 10,000 rollouts.
pub fn one_context(home: &Path, context: &str) -> eyre::Result<Vec<Figure>> {
    let sim = Simulator::start(1, ONE_CONTEXT, home)?;
    let times = startup::measure(&sim, context, ONE_CONTEXT, home, 5)?;
    let worst = percentile(&times, 100.0);
    Ok(vec![
        Figure::new(
            format!("start-up to the fleet, {ONE_CONTEXT} rollouts, 1 context"),
            format!(
                "median {}, worst {} of 5",
                ms(percentile(&times, 50.0)),
                ms(worst)
            ),
        )
        .target("< 500 ms", worst < Duration::from_millis(500)),
    ])
}

/// 50,000 rollouts over ten contexts: start-up to the whole fleet, and the memory it
/// holds once every kind has arrived.
pub fn ten_contexts(home: &Path) -> eyre::Result<Vec<Figure>> {
    let rollouts = usize::from(CONTEXTS) * PER_CONTEXT;
    let sim = Simulator::start(CONTEXTS, PER_CONTEXT, home)?;
    let started = Instant::now();
    let mut cockpit = Cockpit::spawn(&["--kubeconfig", sim.kubeconfig(), "--all-contexts"], home)?;
    let shown = cockpit.wait_for("the fleet", Duration::from_secs(120), |s| {
        startup::shows_fleet(s, rollouts)
    })?;
    // Let the ReplicaSets, AnalysisRuns and Experiments arrive too.
    cockpit.settle(Duration::from_secs(2), Duration::from_secs(60));
    let peak_kib = memory::peak_rss_kib(cockpit.pid())?;
    cockpit.quit()?;
    let peak_mb = peak_kib as f64 * 1024.0 / 1e6;
    // The whole process's peak over the rollouts: an upper bound of each one's share.
    let per_rollout_kb = peak_kib as f64 * 1024.0 / 1e3 / rollouts as f64;
    Ok(vec![
        Figure::new(
            format!("start-up to the fleet, {rollouts} rollouts in {CONTEXTS} contexts"),
            ms(shown - started),
        )
        .target("< 2 s", shown - started < Duration::from_secs(2)),
        Figure::new(
            format!("peak RSS, {rollouts} rollouts + ReplicaSets, {CONTEXTS} contexts"),
            format!("{peak_mb:.1} MB"),
        )
        .target("< 150 MB", peak_mb < 150.0),
        Figure::new(
            "  per rollout (the whole peak over the rollouts)",
            format!("{per_rollout_kb:.2} KB"),
        )
        .target("≤ 2.5 KB", per_rollout_kb <= 2.5),
    ])
}

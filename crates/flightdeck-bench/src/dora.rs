//! DORA at scale: the figures over a million deploys, the last day's changes, recording
//! what the watches see (derived in `app::update`, merged into a SQLite ledger), and the
//! memory the deploys of ten thousand rollouts take in the cockpit.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use flightdeck::app::{Effect, Event, update};
use flightdeck::cluster::{Change, ClusterEvent};
use flightdeck::dora::{self, By, Deploy, DeployId, Failure, History, Settings, Window};
use flightdeck::ledger::{Ledger, Location};

use super::fleet::{self, Listed};
use super::report::{Figure, kib_field, ms, percentile};

const WORKLOADS: usize = 10_000;
const PER_WORKLOAD: usize = 100;

/// A million deploys: ten thousand workloads, a hundred each over ninety days, one in
/// ten aborted twenty minutes in.
fn synthetic(now: Timestamp) -> Vec<Deploy> {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: i64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as i64
    };
    let span = 90 * 86_400 / PER_WORKLOAD as i64;
    let mut out = Vec::with_capacity(WORKLOADS * PER_WORKLOAD);
    for w in 0..WORKLOADS {
        for r in 0..PER_WORKLOAD {
            let started =
                now - SignedDuration::from_secs(90 * 86_400 - r as i64 * span - next(span / 2));
            let id = DeployId {
                context: flightdeck::model::interned(&format!("sim-prod-{}", w % 10)),
                namespace: flightdeck::model::interned(&format!("team-{:02}", w % 50)),
                kind: Default::default(),
                name: format!("svc-{w:05}").into(),
                hash: format!("{w:x}{r:x}").into(),
                revision: r as u64 + 1,
            };
            let mut d = Deploy::new(id, started);
            if next(10) == 0 {
                let at = started + SignedDuration::from_mins(20);
                d.details_mut().failed = Some((Failure::Aborted, at));
                d.details_mut().stopped = Some(at + SignedDuration::from_secs(30));
                d.peak_weight = 20;
            } else {
                d.set_commit(Some(
                    started - SignedDuration::from_secs(1_800 + next(18_000)),
                ));
                d.set_completed(Some(started + SignedDuration::from_secs(600 + next(1_800))));
                d.peak_weight = 100;
            }
            out.push(d);
        }
    }
    out
}

fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Vec<Duration>, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(std::hint::black_box(f()));
        times.push(start.elapsed());
    }
    (times, last.expect("at least one run"))
}

/// The process's resident set now, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| kib_field(&s, "VmRSS:"))
        .unwrap_or(0)
}

pub fn figures(listed: &Listed) -> Vec<Figure> {
    let mut figures = Vec::new();
    let now = Timestamp::now();
    let settings = Settings::default();
    let deploys = synthetic(now);
    let count = deploys.len();
    let start = Instant::now();
    let history = History::from_deploys(deploys);
    figures.push(Figure::new(
        format!("DORA: {count} deploys into memory (from a ledger's rows)"),
        ms(start.elapsed()),
    ));
    let period = Window::Month.ending(now);
    let (times, fleet) = timed(5, || dora::fleet(&history, period, &settings));
    let worst = percentile(&times, 100.0);
    figures.push(
        Figure::new(
            format!("DORA figures, fleet, 30 d of {count} deploys"),
            format!(
                "median {}, worst {} of 5 ({} deploys in the window)",
                ms(percentile(&times, 50.0)),
                ms(worst),
                fleet.deploys
            ),
        )
        .target("< 100 ms", worst < Duration::from_millis(100)),
    );
    let (times, rows) = timed(3, || {
        dora::figures_by(&history, By::Workload, period, &settings)
    });
    figures.push(Figure::new(
        format!("  per workload ({} rows)", rows.len()),
        format!("median {}", ms(percentile(&times, 50.0))),
    ));
    let day = now - SignedDuration::from_hours(24);
    let (times, found) = timed(5, || history.since_with_previous(day).len());
    figures.push(Figure::new(
        format!("  finding the last 24 h's {found} deploys"),
        format!("median {}", ms(percentile(&times, 50.0))),
    ));
    let kept = flightdeck::app::CHANGES_KEPT;
    let (times, changes) = timed(5, || dora::changes(&history, day, kept));
    let worst = percentile(&times, 100.0);
    figures.push(
        Figure::new(
            format!(
                "changes view, last 24 h (the newest {} rows it keeps)",
                changes.len()
            ),
            format!(
                "median {}, worst {} of 5",
                ms(percentile(&times, 50.0)),
                ms(worst)
            ),
        )
        .target("< 10 ms", worst < Duration::from_millis(10)),
    );
    let (times, all) = timed(3, || dora::changes(&history, day, usize::MAX).len());
    figures.push(Figure::new(
        format!("  all {all} rows (flightdeck changes --since 24h)"),
        format!("median {}", ms(percentile(&times, 50.0))),
    ));
    drop(history);
    figures.extend(recording(listed));
    figures
}

/// Watch events of the scale fleet's rollouts through `app::update`, their facts merged
/// into a SQLite ledger in batches, as the ledger's thread writes them; and the memory
/// of the deploys the fleet's ten thousand rollouts show.
fn recording(listed: &Listed) -> Vec<Figure> {
    let mut figures = Vec::new();
    let state_before = rss_kib();
    let mut state = fleet::state(listed, super::FLEET, (200, 60));
    let whole = rss_kib().saturating_sub(state_before) as f64 / 1024.0;
    let held = state.dora.history.len();
    let bytes = state.dora.history.heap_bytes() as f64 / 1e6;
    figures.push(
        Figure::new(
            format!(
                "ledger in the cockpit's memory, {} rollouts ({held} deploys)",
                state.rollouts.len()
            ),
            format!(
                "{bytes:.1} MB by their sizes, {:.0} bytes a deploy (the whole state: {whole:.0} MB RSS)",
                bytes * 1e6 / held.max(1) as f64
            ),
        )
        .target("< 10 MB", bytes < 10.0),
    );
    let dir = std::env::temp_dir().join(format!("flightdeck-bench-ledger-{}", std::process::id()));
    let Ok(mut ledger) = Ledger::open(&Location::Sqlite(dir.join("ledger.sqlite"))) else {
        figures.push(Figure::new(
            "recording an observed event",
            "no ledger could be opened",
        ));
        return figures;
    };
    let mut rollouts: Vec<_> = state
        .rollouts
        .values()
        .filter(|r| r.update_in_flight())
        .map(|r| (**r).clone())
        .collect();
    rollouts.sort_by(|a, b| a.key.cmp(&b.key));
    let events = 10_000;
    let mut pending = Vec::new();
    let start = Instant::now();
    let len = rollouts.len().max(1);
    for i in 0..events {
        let Some(r) = rollouts.get_mut(i % len) else {
            break;
        };
        // Each event a new share of traffic, as a canary's steps move it.
        r.actual_weight = (r.actual_weight + 7) % 100;
        state.now += SignedDuration::from_secs(1);
        let event = Event::Cluster(ClusterEvent::Rollout(Change::Applied(Box::new(r.clone()))));
        for effect in update(&mut state, event).effects {
            if let Effect::Record(facts) = effect {
                pending.extend(facts);
            }
        }
        if pending.len() >= 500 {
            let _ = ledger.record(&pending);
            pending.clear();
        }
    }
    let _ = ledger.record(&pending);
    let each = start.elapsed() / events as u32;
    figures.push(
        Figure::new(
            format!("recording an observed event ({events}, SQLite, synchronous=FULL)"),
            format!("{} each, amortised", ms(each)),
        )
        .target("< 1 ms", each < Duration::from_millis(1)),
    );
    drop(ledger);
    let _ = std::fs::remove_dir_all(&dir);
    figures
}

//! `flightdeck bench`: flightdeck's speed and memory at scale, and how far its
//! canary verdict can be trusted, each figure printed beside its target.
//!
//! The simulated fleet runs in a process of its own (`demo --serve`). The
//! cockpit is the real binary on a pseudo-terminal for start-up, memory,
//! idle and reaction; render and update run in this process on a `State`
//! built from what the real watchers list from the simulator.

mod dora;
mod fleet;
mod idle;
mod memory;
mod pty;
mod reaction;
mod render;
mod report;
mod scale;
mod sim;
mod slow_link;
mod startup;
mod update;
pub mod verdict;
mod versus;

use std::path::{Path, PathBuf};
use std::time::Duration;

use color_eyre::eyre;
use tokio::runtime::Runtime;

use clap::ValueEnum;

use flightdeck::model::ObjectKey;
use pty::Cockpit;
use report::{Figure, ms, percentile};
use sim::Simulator;

/// The parts of `flightdeck bench`, so that one can be run (or profiled) alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Start-up against 1,000 rollouts.
    Startup,
    /// The real cockpit on 10,000 rollouts: start-up, idle, reaction, memory.
    Cockpit,
    /// Frames drawn into a `TestBackend` at 200x60.
    Render,
    /// `app::update` on watch events and filter keystrokes.
    Update,
    /// The canary verdict on seeded simulated canaries: false FAILs and detections.
    Verdict,
    /// `flightdeck status` beside `kubectl get` at 10,000 rollouts.
    Status,
    /// Start-up at 10,000 rollouts in one context and 50,000 in ten, and memory.
    Scale,
    /// 10,000 rollouts through 100 ms round trips: the fleet whole, an action's effect.
    SlowLink,
    /// DORA: figures over a million deploys, the last day's changes, recording, memory.
    Dora,
}

const CLUSTERS: u16 = 10;
const PER_CLUSTER: usize = 1_000;
const FLEET: usize = CLUSTERS as usize * PER_CLUSTER;
/// The first simulated context (`demo --serve` names them).
const FIRST_CONTEXT: &str = "sim-prod-eu";
const IDLE: Duration = Duration::from_secs(10);

pub fn run(runtime: &Runtime, only: &[Part]) -> eyre::Result<()> {
    let home = std::env::temp_dir().join(format!("flightdeck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&home)?;
    let parts = if only.is_empty() {
        Part::value_variants()
    } else {
        only
    };
    let result = measure(runtime, &home, parts);
    let _ = std::fs::remove_dir_all(&home);
    let figures = result?;
    let date = jiff::Zoned::now().date();
    println!("flightdeck bench, {date}, on {}\n", report::machine());
    print!("{}", report::table(&figures));
    Ok(())
}

/// Seeded canaries per case set for the verdict's figures.
const VERDICT_CANARIES: usize = 1_000;

/// A home of its own for each part: one part's ledger must not be the next one's
/// history (the 10-context cockpit would load the 84,000 deploys the 50,000-rollout
/// part recorded, and its memory would measure them).
fn home_for(home: &Path, part: &str) -> eyre::Result<PathBuf> {
    let own = home.join(part);
    std::fs::create_dir_all(&own)?;
    Ok(own)
}

fn measure(runtime: &Runtime, home: &Path, parts: &[Part]) -> eyre::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    if parts.contains(&Part::Verdict) {
        step(&format!(
            "the verdict on {VERDICT_CANARIES} seeded canaries per case"
        ));
        figures.extend(verdict::figures(VERDICT_CANARIES));
    }
    if parts.contains(&Part::Status) {
        step("`status` beside `kubectl get`: a simulator of 1 cluster of 10000 rollouts");
        let home = home_for(home, "status")?;
        let sim = Simulator::start(1, 10_000, &home)?;
        figures.extend(versus::figures(&sim, 10_000, &home)?);
    }
    if parts.contains(&Part::Scale) {
        step("start-up at 10000 rollouts in 1 context");
        figures.extend(scale::one_context(
            &home_for(home, "scale-1")?,
            FIRST_CONTEXT,
        )?);
        step("start-up and memory at 50000 rollouts in 10 contexts");
        figures.extend(scale::ten_contexts(&home_for(home, "scale-10")?)?);
    }
    if parts.contains(&Part::SlowLink) {
        step("a slow link: 10000 rollouts through 100 ms round trips");
        figures.extend(slow_link::figures(
            &home_for(home, "slow-link")?,
            FIRST_CONTEXT,
        )?);
    }
    if parts.contains(&Part::Startup) {
        step(&format!(
            "start-up: a simulator of 1 cluster of {PER_CLUSTER} rollouts"
        ));
        let home = home_for(home, "startup")?;
        let sim = Simulator::start(1, PER_CLUSTER, &home)?;
        let times = startup::measure(&sim, FIRST_CONTEXT, PER_CLUSTER, &home, 5)?;
        let worst = percentile(&times, 100.0);
        figures.push(
            Figure::new(
                format!("start-up to the fleet, {PER_CLUSTER} rollouts"),
                format!(
                    "median {}, worst {} of 5",
                    ms(percentile(&times, 50.0)),
                    ms(worst)
                ),
            )
            .target("< 300 ms", worst < Duration::from_millis(300)),
        );
    }
    let whole = parts.contains(&Part::Cockpit);
    let render = parts.contains(&Part::Render);
    let update = parts.contains(&Part::Update);
    let dora = parts.contains(&Part::Dora);
    if !(whole || render || update || dora) {
        return Ok(figures);
    }
    step(&format!(
        "a simulator of {CLUSTERS} clusters of {PER_CLUSTER} rollouts"
    ));
    let home = home_for(home, "fleet")?;
    let sim = Simulator::start(CLUSTERS, PER_CLUSTER, &home)?;
    if whole {
        figures.extend(whole_fleet(&sim, runtime, &home)?);
    }
    if render || update || dora {
        step("listing the fleet in-process for render, update and DORA");
        let listed = runtime.block_on(fleet::list(&sim.kubeconfig))?;
        drop(sim);
        if render {
            figures.extend(renders(&listed));
        }
        if update {
            figures.extend(updates(&listed));
        }
        if dora {
            step("DORA: a million deploys, and recording what the fleet's watches see");
            figures.extend(dora::figures(&listed));
        }
    }
    Ok(figures)
}

fn step(what: &str) {
    eprintln!("bench: {what}…");
}

/// One cockpit on all ten contexts, driven as a person would.
fn whole_fleet(sim: &Simulator, runtime: &Runtime, home: &Path) -> eyre::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let started = std::time::Instant::now();
    let mut cockpit = Cockpit::spawn(&["--kubeconfig", sim.kubeconfig(), "--all-contexts"], home)?;
    let shown = cockpit.wait_for("the fleet", Duration::from_secs(120), |s| {
        startup::shows_fleet(s, FLEET)
    })?;
    figures.push(Figure::new(
        format!("start-up to the fleet, {FLEET} rollouts in {CLUSTERS} contexts"),
        ms(shown - started),
    ));
    // Let the ReplicaSets and AnalysisRuns arrive.
    cockpit.settle(Duration::from_secs(2), Duration::from_secs(30));

    let quiet = idle::measure(&mut cockpit, IDLE);
    report_changes("no countdown", &quiet);
    figures.push(
        Figure::new("idle 10 s, no countdown on screen", idle_figure(&quiet)).target(
            "0 frames but clock ticks",
            quiet.empty == 0 && quiet.frames <= 10,
        ),
    );

    // A canary in a timed pause: its countdown ticks once a second.
    let timed = ObjectKey::new(FIRST_CONTEXT, "team-06", "svc-00006");
    cockpit.type_keys(&format!("/{}\r", timed.name))?;
    cockpit.wait_for("the timed pause", Duration::from_secs(10), |s| {
        s.contents().contains(&format!("matching /{}", timed.name))
    })?;
    cockpit.settle(Duration::from_millis(1500), Duration::from_secs(10));
    let ticking = idle::measure(&mut cockpit, IDLE);
    report_changes("a countdown", &ticking);
    figures.push(
        Figure::new("idle 10 s, a countdown on screen", idle_figure(&ticking)).target(
            "≤ 10 frames (1 Hz)",
            ticking.empty == 0 && ticking.frames <= 10,
        ),
    );

    let healthy = ObjectKey::new(FIRST_CONTEXT, "team-42", "svc-00042");
    let reaction = reaction::measure(&mut cockpit, runtime, &sim.kubeconfig, &healthy, 10)?;
    let worst = percentile(&reaction.frame, 100.0);
    figures.push(
        Figure::new(
            "reaction: API change to frame",
            format!(
                "median {}, worst {} of 10",
                ms(percentile(&reaction.frame, 50.0)),
                ms(worst)
            ),
        )
        .target("< 100 ms", worst < Duration::from_millis(100)),
    );
    let share: Vec<Duration> = reaction
        .frame
        .iter()
        .zip(&reaction.watch)
        .map(|(frame, watch)| frame.saturating_sub(*watch))
        .collect();
    figures.push(Figure::new(
        "  of which the simulator's (a plain watch's event)",
        format!(
            "median {}, worst {} of 10",
            ms(percentile(&reaction.watch, 50.0)),
            ms(percentile(&reaction.watch, 100.0))
        ),
    ));
    figures.push(Figure::new(
        "  and the cockpit's (frame after that event)",
        format!(
            "median {}, worst {} of 10",
            ms(percentile(&share, 50.0)),
            ms(percentile(&share, 100.0))
        ),
    ));

    let peak = memory::peak_rss_kib(cockpit.pid())? as f64 * 1024.0 / 1e6;
    figures.push(
        Figure::new(
            format!("peak RSS, {FLEET} rollouts + ReplicaSets, {CLUSTERS} contexts"),
            format!("{peak:.1} MB"),
        )
        .target("< 80 MB", peak < 80.0),
    );
    cockpit.quit()?;
    Ok(figures)
}

fn idle_figure(idle: &idle::Idle) -> String {
    format!(
        "{} frames ({} changing nothing), {} bytes",
        idle.frames, idle.empty, idle.bytes
    )
}

/// What moved on screen while idle, so that a tick of the clock can be
/// told from a frame drawn for nothing.
fn report_changes(what: &str, idle: &idle::Idle) {
    if !idle.changed.is_empty() {
        eprintln!(
            "bench: idle, {what}: {} rows changed, as:",
            idle.changed.len()
        );
    }
    for row in idle.changed.iter().take(3) {
        eprintln!("bench:   {row}");
    }
}

/// Frames of `State`s of the simulated fleet's first rollouts.
fn renders(listed: &fleet::Listed) -> Vec<Figure> {
    let mut figures = Vec::new();
    for rollouts in [100, 1_000, FLEET] {
        step(&format!("render, {rollouts} rollouts"));
        let mut state = fleet::state(listed, rollouts, (pty::WIDTH, pty::HEIGHT));
        let times = render::frames(&mut state, 1_000);
        let p99 = percentile(&times, 99.0);
        let figure = Figure::new(
            format!("render 200x60, {rollouts} rollouts"),
            format!("median {}, p99 {}", ms(percentile(&times, 50.0)), ms(p99)),
        );
        figures.push(if rollouts == FLEET {
            figure.target("p99 < 1 ms", p99 < Duration::from_millis(1))
        } else {
            figure
        });
    }
    figures
}

/// Watch events and keystrokes through `app::update` on the whole fleet.
fn updates(listed: &fleet::Listed) -> Vec<Figure> {
    let mut figures = Vec::new();
    step("update");
    let mut state = fleet::state(listed, FLEET, (pty::WIDTH, pty::HEIGHT));
    let changes = update::changes(&state);
    let count = changes.len();
    let rate = update::rate(&mut state, changes, count);
    figures.push(Figure::new(
        format!("update: {count} watch events at once, {FLEET} rollouts"),
        format!("{rate:.0} events/s"),
    ));
    let mut changes = update::changes(&state);
    changes.truncate(1_000);
    let rate = update::rate(&mut state, changes, 1);
    figures.push(Figure::new(
        "update: watch events one at a time (+ settle)",
        format!("{rate:.0} events/s"),
    ));
    let times = update::keystrokes(&mut state, "svc-00042", 20);
    let p99 = percentile(&times, 99.0);
    figures.push(
        Figure::new(
            format!("filter keystroke, {FLEET} rollouts"),
            format!("median {}, p99 {}", ms(percentile(&times, 50.0)), ms(p99)),
        )
        .target("< 2 ms", p99 < Duration::from_millis(2)),
    );
    figures
}

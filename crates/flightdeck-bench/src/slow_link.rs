//! A slow link: every request to the simulated cluster answered after 100 ms, as from
//! a laptop in Europe to a cluster in us-east. The fleet of 10,000 rollouts whole on
//! screen, and an action's effect on screen, counted in round trips.

use std::path::Path;
use std::time::{Duration, Instant};

use color_eyre::eyre;

use flightdeck::model::ObjectKey;

use super::pty::Cockpit;
use super::report::{Figure, ms, percentile};
use super::sim::Simulator;
use super::startup;

const ROUND_TRIP: Duration = Duration::from_millis(100);
const ROLLOUTS: usize = 10_000;
const ACTIONS: usize = 4;

pub fn figures(home: &Path, context: &str) -> eyre::Result<Vec<Figure>> {
    let sim = Simulator::start_with(1, ROLLOUTS, &["--latency", "100ms"], home)?;
    let started = Instant::now();
    let mut cockpit = Cockpit::spawn(
        &["--kubeconfig", sim.kubeconfig(), "--context", context],
        home,
    )?;
    let first = cockpit.wait_for("a first frame", Duration::from_secs(30), |s| {
        s.contents().contains(" FLEET ") || s.contents().contains("Connecting to")
    })?;
    let whole = cockpit.wait_for("the fleet", Duration::from_secs(120), |s| {
        startup::shows_fleet(s, ROLLOUTS)
    })?;
    let mut figures = vec![
        Figure::new("slow link (100 ms): first frame", ms(first - started)),
        Figure::new(
            format!("slow link (100 ms): the fleet of {ROLLOUTS} whole"),
            ms(whole - started),
        )
        .target("< 2 s", whole - started < Duration::from_secs(2)),
    ];
    cockpit = pause_and_resume(cockpit, context, &mut figures)?;
    cockpit.quit()?;
    drop(sim);
    // A server without streamed lists (Kubernetes 1.33's default): pages of 500.
    let sim = Simulator::start_with(
        1,
        ROLLOUTS,
        &["--latency", "100ms", "--no-streamed-lists"],
        home,
    )?;
    let started = Instant::now();
    let mut cockpit = Cockpit::spawn(
        &["--kubeconfig", sim.kubeconfig(), "--context", context],
        home,
    )?;
    let whole = cockpit.wait_for("the fleet", Duration::from_secs(120), |s| {
        startup::shows_fleet(s, ROLLOUTS)
    })?;
    cockpit.quit()?;
    figures.push(Figure::new(
        "  the same from a server that does not stream lists (pages of 500)",
        ms(whole - started),
    ));
    Ok(figures)
}

/// Pause and resume a healthy rollout with its keys: the time to its row's new phase.
fn pause_and_resume(
    mut cockpit: Cockpit,
    context: &str,
    figures: &mut Vec<Figure>,
) -> eyre::Result<Cockpit> {
    let key = ObjectKey::new(context, "team-42", "svc-00042");
    cockpit.settle(Duration::from_millis(500), Duration::from_secs(20));
    cockpit.type_keys(&format!("/{}\r", key.name))?;
    cockpit.wait_for("the filtered fleet", Duration::from_secs(10), |s| {
        row_shows(s, &key.name, "Healthy")
    })?;
    let mut times = Vec::new();
    for round in 0..ACTIONS {
        cockpit.settle(Duration::from_millis(300), Duration::from_secs(5));
        let pausing = round % 2 == 0;
        let phase = if pausing { "Paused" } else { "Healthy" };
        // Pause goes at once; resume shows its blast radius first, and goes on `y`.
        if !pausing {
            cockpit.type_keys(" ")?;
            cockpit.wait_for("resume's blast radius", Duration::from_secs(10), |s| {
                s.contents().contains(&format!("resume {}?", key.name))
            })?;
        }
        let pressed = Instant::now();
        cockpit.type_keys(if pausing { " " } else { "y" })?;
        let shown = cockpit.wait_for(phase, Duration::from_secs(10), |s| {
            row_shows(s, &key.name, phase)
        })?;
        times.push(shown.saturating_duration_since(pressed));
    }
    let worst = percentile(&times, 100.0);
    let trips = worst.as_secs_f64() / ROUND_TRIP.as_secs_f64();
    figures.push(
        Figure::new(
            "slow link (100 ms): pause, or resume's `y`, to the phase on screen",
            format!(
                "median {}, worst {} of {ACTIONS} ({trips:.1} round trips)",
                ms(percentile(&times, 50.0)),
                ms(worst)
            ),
        )
        .target("≤ 3 round trips", worst <= 3 * ROUND_TRIP),
    );
    Ok(cockpit)
}

/// One context: rows carry no context column.
fn row_shows(screen: &vt100::Screen, name: &str, phase: &str) -> bool {
    screen
        .rows(0, super::pty::WIDTH / 2)
        .any(|row| row.contains(name) && row.contains(phase))
}

//! Start-up: from the cockpit's process start to the first frame that shows
//! the fleet, against 1,000 rollouts of one simulated context.

use std::path::Path;
use std::time::{Duration, Instant};

use color_eyre::eyre;

use super::pty::Cockpit;
use super::sim::Simulator;

/// The fleet's title once every rollout is in it.
pub fn shows_fleet(screen: &vt100::Screen, rollouts: usize) -> bool {
    screen.contents().contains(&format!(" FLEET {rollouts} "))
}

/// The time to the first full fleet, `runs` times over.
pub fn measure(
    sim: &Simulator,
    context: &str,
    rollouts: usize,
    home: &Path,
    runs: usize,
) -> eyre::Result<Vec<Duration>> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let args = ["--kubeconfig", sim.kubeconfig(), "--context", context];
        let mut cockpit = Cockpit::spawn(&args, home)?;
        let shown = cockpit.wait_for("the fleet", Duration::from_secs(60), |s| {
            shows_fleet(s, rollouts)
        })?;
        times.push(shown - started);
        cockpit.quit()?;
    }
    Ok(times)
}

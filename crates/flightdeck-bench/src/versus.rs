//! `flightdeck status` and `kubectl get` side by side: the same list of the same
//! server, in turn, round by round, each process's wall time, CPU time and peak RSS
//! as the kernel counts them (`wait4`).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use color_eyre::eyre::{self, WrapErr, bail};

use super::report::{Figure, ms, percentile};
use super::sim::{Simulator, home_env};

/// One process, to its end.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    pub cpu: Duration,
    pub peak_rss_kib: u64,
}

/// Runs `command` with no input and its output thrown away; its figures.
pub fn timed(what: &str, command: &mut Command, home: &Path) -> eyre::Result<Run> {
    let errors = home.join("stderr");
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&errors)?)
        .spawn()
        .wrap_err_with(|| format!("cannot start {what}"))?;
    let pid = i32::try_from(child.id())?;
    let mut status = 0;
    // SAFETY: rusage is plain data, filled in by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which std has not reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if reaped != pid {
        bail!("waiting for {what}: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let said = std::fs::read_to_string(&errors).unwrap_or_default();
        bail!("{what} failed ({status}): {}", said.trim());
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Ok(Run {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak_rss_kib: usage.ru_maxrss as u64,
    })
}

/// Rounds of each side, after one of each to warm caches (kubectl's discovery).
const ROUNDS: usize = 5;

/// `flightdeck status` against `kubectl get rollouts.argoproj.io -A`, as a table and
/// as JSON, on the simulator's first context.
pub fn figures(sim: &Simulator, rollouts: usize, home: &Path) -> eyre::Result<Vec<Figure>> {
    let kubectl_found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let cache = home.join("kube-cache");
    let flightdeck = |json: bool| {
        let mut command = Command::new(std::env::current_exe().unwrap_or_default());
        command
            .args(["--kubeconfig", sim.kubeconfig(), "status"])
            .envs(home_env(home));
        if json {
            command.args(["-o", "json"]);
        }
        command
    };
    let kubectl = |json: bool| {
        let mut command = Command::new("kubectl");
        command
            .args(["--kubeconfig", sim.kubeconfig()])
            .arg("--cache-dir")
            .arg(&cache)
            .args(["get", "rollouts.argoproj.io", "-A"]);
        if json {
            command.args(["-o", "json"]);
        }
        command
    };
    let mut figures = Vec::new();
    for json in [false, true] {
        let form = if json { "status -o json" } else { "status" };
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..=ROUNDS {
            let run = timed("flightdeck status", &mut flightdeck(json), home)?;
            let peer = if kubectl_found {
                Some(timed("kubectl get", &mut kubectl(json), home)?)
            } else {
                None
            };
            if round > 0 {
                ours.push(run);
                theirs.extend(peer);
            }
        }
        figures.extend(side_by_side(form, rollouts, &ours, &theirs, !json));
    }
    if !kubectl_found {
        figures.push(Figure::new(
            "kubectl",
            "not on PATH: no side-by-side figures",
        ));
    }
    Ok(figures)
}

fn median(runs: &[Run], of: impl Fn(&Run) -> Duration) -> Duration {
    percentile(&runs.iter().map(of).collect::<Vec<_>>(), 50.0)
}

/// Medians of both sides and their ratio; the table form carries the targets.
fn side_by_side(
    form: &str,
    rollouts: usize,
    ours: &[Run],
    theirs: &[Run],
    targets: bool,
) -> Vec<Figure> {
    let mut figures = Vec::new();
    let wall = median(ours, |r| r.wall);
    let cpu = median(ours, |r| r.cpu);
    let rss = ours.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0;
    let what = format!("`{form}`, {rollouts} rollouts, median of {ROUNDS}");
    if theirs.is_empty() {
        figures.push(Figure::new(
            what,
            format!("{} wall, {} CPU, {rss:.0} MB", ms(wall), ms(cpu)),
        ));
        return figures;
    }
    let (peer_wall, peer_cpu) = (median(theirs, |r| r.wall), median(theirs, |r| r.cpu));
    let peer_rss = theirs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0;
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    let (wall_ratio, cpu_ratio) = (ratio(wall, peer_wall), ratio(cpu, peer_cpu));
    let wall_figure = Figure::new(
        format!("{what}: wall"),
        format!(
            "{} vs kubectl {}: {wall_ratio:.1}× faster",
            ms(wall),
            ms(peer_wall)
        ),
    );
    let cpu_figure = Figure::new(
        format!("{what}: CPU"),
        format!(
            "{} vs kubectl {}: {cpu_ratio:.1}× less",
            ms(cpu),
            ms(peer_cpu)
        ),
    );
    if targets {
        figures.push(wall_figure.target("≥ 3× kubectl", wall_ratio >= 3.0));
        figures.push(cpu_figure.target("≥ 3× kubectl", cpu_ratio >= 3.0));
    } else {
        figures.push(wall_figure);
        figures.push(cpu_figure);
    }
    figures.push(Figure::new(
        format!("{what}: peak RSS"),
        format!("{rss:.0} MB vs kubectl {peer_rss:.0} MB"),
    ));
    figures
}

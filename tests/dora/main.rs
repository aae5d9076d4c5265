//! DORA end to end: `flightdeck record` on a simulated fleet (killed and restarted,
//! and after the cluster has forgotten a revision), the ledger on a real PostgreSQL,
//! and the cockpit's strip and changes view in a real terminal.

mod postgres;
mod record;
mod terminal;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flightdeck::dora::Deploy;
use flightdeck::ledger::{Ledger, Location};

/// The simulated fleet with its thirty days of past, its clock standing still (so
/// that what the ledger should hold does not move while a test looks).
pub async fn frozen_fleet() -> flightdeck_sim::Fleet {
    flightdeck_sim::Fleet::start(flightdeck_sim::FleetOptions {
        speed: 1e-6,
        past: true,
        ..Default::default()
    })
    .await
    .expect("the fleet starts")
}

/// `config.toml` under `home` says `text`.
pub fn write_config(home: &Path, text: &str) {
    std::fs::create_dir_all(home.join("config/flightdeck")).unwrap();
    std::fs::write(home.join("config/flightdeck/config.toml"), text).unwrap();
}

/// `flightdeck ARGS` with its files under `home`, stderr to `home/stderr`.
pub fn flightdeck(home: &Path, args: &[&str]) -> Child {
    flightdeck_with(home, args, &[])
}

/// The same, with these environment variables.
pub fn flightdeck_with(home: &Path, args: &[&str], vars: &[(&str, &str)]) -> Child {
    let stderr = std::fs::File::create(home.join("stderr")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(args)
        .envs(vars.iter().copied())
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("flightdeck runs")
}

/// A child that is killed when dropped, so that a failing test leaves no recorder running.
pub struct Running(pub Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn stderr_of(home: &Path) -> String {
    std::fs::read_to_string(home.join("stderr")).unwrap_or_default()
}

pub fn ledger_path(home: &Path) -> PathBuf {
    home.join("data/flightdeck/ledger.sqlite")
}

/// The ledger's deploys, sorted, as text (for comparing two moments).
pub fn dump(path: &Path) -> Vec<String> {
    if !path.exists() {
        return Vec::new();
    }
    let Ok(mut ledger) = Ledger::open(&Location::Sqlite(path.to_path_buf())) else {
        return Vec::new();
    };
    let mut rows: Vec<String> = ledger
        .load(jiff::Timestamp::MIN)
        .unwrap_or_default()
        .iter()
        .map(|d: &Deploy| serde_json::to_string(d).unwrap())
        .collect();
    rows.sort();
    rows
}

/// Wait until the ledger holds deploys and has not changed for `quiet`.
pub async fn settled(path: &Path, quiet: Duration, timeout: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut last = Vec::new();
    let mut since = Instant::now();
    loop {
        let now = dump(path);
        if now != last {
            last = now;
            since = Instant::now();
        } else if !last.is_empty() && since.elapsed() >= quiet {
            return last;
        }
        assert!(
            start.elapsed() < timeout,
            "the ledger at {} did not settle ({} deploys)",
            path.display(),
            last.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

//! Logs go to a file in the state dir, never to the terminal the cockpit
//! draws on. `FLIGHTDECK_LOG` sets the filter (default `info`).

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use crate::paths;

static LOG_PATH: OnceLock<PathBuf> = OnceLock::new();

/// Where the log goes, once `init` has started it.
pub fn path() -> Option<&'static Path> {
    LOG_PATH.get().map(PathBuf::as_path)
}

/// Start logging to `flightdeck.log`; returns its path, or `None` when no
/// state dir can be had (then nothing is logged).
pub fn init() -> Option<PathBuf> {
    let dir = paths::state_dir()?;
    fs::create_dir_all(&dir).ok()?;
    let path = dir.join("flightdeck.log");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter =
        EnvFilter::try_from_env("FLIGHTDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(file)
        .with_ansi(false)
        .try_init()
        .ok()?;
    let _ = LOG_PATH.set(path.clone());
    Some(path)
}

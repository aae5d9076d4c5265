//! Where flightdeck keeps its files. XDG variables are honoured on every
//! platform (macOS users expect `~/.config`, as gitui and television do).

use std::env;
use std::path::PathBuf;

fn home() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

fn xdg(var: &str, fallback: &[&str]) -> Option<PathBuf> {
    match env::var_os(var).filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => home().map(|h| fallback.iter().fold(h, |p, part| p.join(part))),
    }
}

/// `$XDG_CONFIG_HOME/flightdeck`, else `~/.config/flightdeck`.
pub fn config_dir() -> Option<PathBuf> {
    xdg("XDG_CONFIG_HOME", &[".config"]).map(|d| d.join("flightdeck"))
}

/// `$FLIGHTDECK_CONFIG`, else `config.toml` in the config dir.
pub fn config_file() -> Option<PathBuf> {
    match env::var_os("FLIGHTDECK_CONFIG").filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => config_dir().map(|d| d.join("config.toml")),
    }
}

/// `$XDG_DATA_HOME/flightdeck`, else `~/.local/share/flightdeck`: the ledger
/// and the audit trail.
pub fn data_dir() -> Option<PathBuf> {
    xdg("XDG_DATA_HOME", &[".local", "share"]).map(|d| d.join("flightdeck"))
}

/// `$XDG_STATE_HOME/flightdeck`, else `~/.local/state/flightdeck`: logs.
pub fn state_dir() -> Option<PathBuf> {
    xdg("XDG_STATE_HOME", &[".local", "state"]).map(|d| d.join("flightdeck"))
}

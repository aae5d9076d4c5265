//! The simulated fleet in a process of its own (`flightdeck demo --serve`),
//! so that what is measured of the cockpit is the cockpit's alone.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use color_eyre::eyre::{self, WrapErr, eyre};
use rustix::process::{Pid, Signal, kill_process};

pub struct Simulator {
    child: Child,
    pub kubeconfig: PathBuf,
}

impl Simulator {
    /// `clusters` simulated clusters of `rollouts` generated rollouts each;
    /// returns once they answer (the kubeconfig path is printed then).
    pub fn start(clusters: u16, rollouts: usize, home: &Path) -> eyre::Result<Simulator> {
        Simulator::start_with(clusters, rollouts, &[], home)
    }

    /// The same, with more of `demo`'s options (`--latency 100ms`).
    pub fn start_with(
        clusters: u16,
        rollouts: usize,
        options: &[&str],
        home: &Path,
    ) -> eyre::Result<Simulator> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["demo", "--serve", "--clusters", &clusters.to_string()])
            .args(["--rollouts", &rollouts.to_string()])
            .args(options)
            .envs(home_env(home))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .wrap_err("cannot start the simulator")?;
        let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let simulator = Simulator {
            child,
            kubeconfig: PathBuf::from(line.trim()),
        };
        if !simulator.kubeconfig.is_file() {
            return Err(eyre!("the simulator printed no kubeconfig path"));
        }
        Ok(simulator)
    }

    pub fn kubeconfig(&self) -> &str {
        self.kubeconfig.to_str().unwrap_or_default()
    }
}

impl Drop for Simulator {
    /// SIGTERM, so that it removes the kubeconfig it wrote.
    fn drop(&mut self) {
        let pid = Pid::from_child(&self.child);
        if kill_process(pid, Signal::TERM).is_err() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// HOME and the XDG dirs under `home`: nothing of the user's is read or written.
pub fn home_env(home: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("HOME", home.into()),
        ("XDG_CONFIG_HOME", home.join("config").into()),
        ("XDG_STATE_HOME", home.join("state").into()),
        ("XDG_DATA_HOME", home.join("data").into()),
    ]
}

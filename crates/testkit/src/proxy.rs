//! The test proxies of `proxies.py` (HTTP CONNECT, SOCKS5, fault-injecting),
//! started on 127.0.0.1 for one test and stopped when it ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Proxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
    control: PathBuf,
}

impl Proxy {
    fn start(args: &[&str], dir: &Path, name: &str) -> Proxy {
        let log = dir.join(format!("{name}.log"));
        let control = dir.join(format!("{name}.fault"));
        let script = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/proxies.py"));
        let mut command = Command::new("python3");
        command.arg(script).args(args);
        match args[0] {
            "fault" => command.arg(&control).arg(&log),
            _ => command.arg(&log),
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the test proxies");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the {name} proxy did not start: {line:?}"));
        Proxy {
            child,
            port,
            log,
            control,
        }
    }

    /// An HTTP CONNECT proxy.
    pub fn connect(dir: &Path) -> Proxy {
        Proxy::start(&["connect"], dir, "connect")
    }

    pub fn socks5(dir: &Path) -> Proxy {
        Proxy::start(&["socks5"], dir, "socks5")
    }

    /// An HTTP proxy in front of `upstream` (`host:port`) that injects the
    /// fault set with [`Proxy::fault_now`].
    pub fn faulty(dir: &Path, upstream: &str) -> Proxy {
        Proxy::start(&["fault", upstream], dir, "fault")
    }

    /// `pass`, `reset`, `stall`, `503`, `429`, `garbage`, `truncated`, `silent`.
    pub fn fault_now(&self, mode: &str) {
        std::fs::write(&self.control, mode).unwrap();
    }

    /// What went through, a line per connection or request.
    pub fn log(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A real terminal for end-to-end tests: a private tmux server running a
//! shell, driven with send-keys and read with capture-pane.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    pub session: String,
}

impl Tmux {
    /// A shell in a `width`x`height` terminal, with `home` as HOME and the
    /// XDG dirs under it, so nothing of the user's is read or written.
    pub fn start(width: u16, height: u16, home: &Path) -> Tmux {
        let tmux = Tmux {
            socket: format!(
                "flightdeck-test-{}-{}",
                std::process::id(),
                fastrand::u32(..)
            ),
            session: "t".into(),
        };
        let home = home.display().to_string();
        let status = tmux
            .cmd(&[
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .args([
                "-e",
                &format!("HOME={home}"),
                "-e",
                "TERM=xterm-256color",
                "-e",
                "PS1=$ ",
            ])
            .args([
                "-e",
                &format!("XDG_CONFIG_HOME={home}/config"),
                "-e",
                &format!("XDG_STATE_HOME={home}/state"),
            ])
            .args(["-e", &format!("XDG_DATA_HOME={home}/data")])
            .args(["bash", "--norc", "--noprofile"])
            .status()
            .expect("tmux runs (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Type text literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Press named keys (`Enter`, `Escape`, `C-c`).
    pub fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", &self.session, key]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-t", &self.session])
                .stdout,
        )
        .into_owned()
    }

    /// A tmux format of the pane, such as `#{alternate_on}`.
    pub fn pane(&self, format: &str) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["display-message", "-p", "-t", &self.session, format])
                .stdout,
        )
        .trim()
        .to_string()
    }

    /// Wait until the screen satisfies `ready` and has settled; panic with
    /// the screen if it never does. Settled: the same on a second look a
    /// moment later, because a capture can land while tmux is half-way
    /// through a frame, and a half-drawn frame would fail what follows.
    pub fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                std::thread::sleep(Duration::from_millis(50));
                if self.screen() == screen {
                    return screen;
                }
                continue;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

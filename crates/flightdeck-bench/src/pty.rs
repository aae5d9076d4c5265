//! The cockpit as a person runs it: the real binary on a pseudo-terminal,
//! its output read the moment it arrives and kept as a screen (vt100), with
//! a count of the bytes and frames it wrote.

use std::fs::File;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use color_eyre::eyre::{self, WrapErr, bail};
use rustix::fs::OFlags;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};

/// ratatui ends every frame by hiding the cursor (crossterm's `Hide`), so
/// each frame drawn writes this once.
const FRAME_END: &[u8] = b"\x1b[?25l";

pub const WIDTH: u16 = 200;
pub const HEIGHT: u16 = 60;

/// Output seen so far: what the screen shows, and how much was written.
pub struct Cockpit {
    child: Child,
    keys: File,
    output: Receiver<(Instant, Vec<u8>)>,
    screen: vt100::Parser,
    /// The last bytes read, to find a frame's end split across two reads.
    tail: Vec<u8>,
    pub bytes: usize,
    pub frames: usize,
    /// Frames after which the screen read the same as after the one before.
    pub empty_frames: usize,
    last_frame: String,
}

impl Cockpit {
    /// `flightdeck ARGS` on a new WIDTHxHEIGHT pseudo-terminal, with `home`
    /// as HOME and the XDG dirs, so nothing of the user's is read or written.
    pub fn spawn(args: &[&str], home: &Path) -> eyre::Result<Cockpit> {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let name = ptsname(&master, Vec::new())?;
        let terminal = File::options()
            .read(true)
            .write(true)
            .custom_flags(OFlags::NOCTTY.bits() as i32)
            .open(name.to_str()?)
            .wrap_err("cannot open the pseudo-terminal")?;
        tcsetwinsize(
            &terminal,
            Winsize {
                ws_row: HEIGHT,
                ws_col: WIDTH,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )?;
        let child = Command::new(std::env::current_exe()?)
            .args(args)
            .env("TERM", "xterm-256color")
            .env_remove("FLIGHTDECK_CONFIG")
            .envs(super::sim::home_env(home))
            .stdin(Stdio::from(terminal.try_clone()?))
            .stdout(Stdio::from(terminal.try_clone()?))
            .stderr(Stdio::from(terminal))
            .spawn()
            .wrap_err("cannot start the cockpit")?;
        let mut reader = File::from(master.try_clone()?);
        let (tx, output) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = vec![0; 1 << 16];
            // Ends with EIO once the cockpit has exited.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
        Ok(Cockpit {
            child,
            keys: File::from(master),
            output,
            screen: vt100::Parser::new(nonzero(HEIGHT), nonzero(WIDTH), 0),
            tail: Vec::new(),
            bytes: 0,
            frames: 0,
            empty_frames: 0,
            last_frame: String::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.screen.screen()
    }

    /// Type as a person would.
    pub fn type_keys(&mut self, keys: &str) -> eyre::Result<()> {
        self.keys.write_all(keys.as_bytes())?;
        Ok(())
    }

    fn take(&mut self, chunk: &[u8]) {
        self.screen.process(chunk);
        self.bytes += chunk.len();
        self.tail.extend_from_slice(chunk);
        let ended = self
            .tail
            .windows(FRAME_END.len())
            .filter(|w| *w == FRAME_END)
            .count();
        if ended > 0 {
            self.frames += ended;
            let now = self.screen().contents();
            if now == self.last_frame {
                self.empty_frames += ended;
            }
            self.last_frame = now;
        }
        let keep = self.tail.len().min(FRAME_END.len() - 1);
        self.tail.drain(..self.tail.len() - keep);
    }

    /// Read output until the screen satisfies `shows`; the instant the
    /// bytes that completed it arrived.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        shows: impl Fn(&vt100::Screen) -> bool,
    ) -> eyre::Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok((at, chunk)) => {
                    self.take(&chunk);
                    if shows(self.screen()) {
                        return Ok(at);
                    }
                }
                Err(RecvTimeoutError::Timeout) => bail!(
                    "the cockpit did not show {what} within {timeout:?}; its screen:\n{}",
                    self.screen().contents()
                ),
                Err(RecvTimeoutError::Disconnected) => bail!(
                    "the cockpit exited before showing {what}; its screen:\n{}",
                    self.screen().contents()
                ),
            }
        }
    }

    /// Take what has been written already, without waiting.
    pub fn drain(&mut self) {
        while let Ok((_, chunk)) = self.output.try_recv() {
            self.take(&chunk);
        }
    }

    /// Read everything written during `period`.
    pub fn watch_for(&mut self, period: Duration) {
        let end = Instant::now() + period;
        while let Ok((_, chunk)) = self
            .output
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.take(&chunk);
        }
    }

    /// Read until nothing has been written for `quiet` (at most `limit`).
    pub fn settle(&mut self, quiet: Duration, limit: Duration) {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            match self.output.recv_timeout(quiet) {
                Ok((_, chunk)) => self.take(&chunk),
                Err(_) => return,
            }
        }
    }

    /// `q`, then wait for the process to leave (killed after 10 s).
    pub fn quit(mut self) -> eyre::Result<()> {
        self.type_keys("q")?;
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            self.watch_for(Duration::from_millis(50));
        }
        bail!("the cockpit did not quit on `q`")
    }
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

impl Drop for Cockpit {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

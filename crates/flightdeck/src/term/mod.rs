//! The terminal: enter and leave raw mode and the alternate screen, and put
//! it back on every way out (return, error, panic, Ctrl-C, SIGTERM, SIGHUP);
//! suspend on Ctrl-Z; frames inside synchronized updates; the 16 colours in
//! their own codes where the terminal has no more.

mod sgr16;

use std::io::{self, Stdout, Write, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre;
use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use termprofile::{DetectorSettings, TermProfile};
use tokio::signal::unix::{SignalKind, signal};

use sgr16::Sgr16;

pub type Tui = Terminal<CrosstermBackend<Sgr16<Stdout>>>;

/// Whether the cockpit holds the terminal (raw mode, alternate screen), so
/// that restoring writes nothing when it never did.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// What the terminal on stdout can show, from the environment (`NO_COLOR`,
/// `FORCE_COLOR`, `COLORTERM`, `TERM`): read before the cockpit takes the
/// screen. Not asked of tmux (`tmux info` would be a process per start);
/// inside tmux its `TERM` says what it passes on.
pub fn colour_profile() -> TermProfile {
    TermProfile::detect(&stdout(), DetectorSettings::new().enable_tmux_info(false))
}

/// Whether the terminal draws from a console font (the Linux console),
/// which lacks most symbols: then the ui draws with glyphs it has.
pub fn console_font() -> bool {
    std::env::var("TERM")
        .is_ok_and(|term| matches!(term.as_str(), "linux" | "cons25" | "vt100" | "vt220"))
}

/// Restores the terminal when dropped, whatever the way out.
pub struct Session {
    pub terminal: Tui,
}

impl Session {
    /// Takes the terminal: raw mode, the alternate screen. `profile`: what
    /// it can show (a 16-colour one gets its own colour codes).
    pub fn enter(profile: TermProfile) -> io::Result<Session> {
        take_screen()?;
        let sixteen = profile <= TermProfile::Ansi16 && profile > TermProfile::NoColor;
        match Terminal::new(CrosstermBackend::new(Sgr16::new(stdout(), sixteen))) {
            Ok(terminal) => Ok(Session { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Draw a frame inside a synchronized update, so that a terminal that
    /// knows it (most, over SSH too) shows it whole, never half drawn.
    pub fn draw<T>(&mut self, render: impl FnOnce(&mut ratatui::Frame) -> T) -> io::Result<T> {
        let backend = self.terminal.backend_mut();
        execute!(backend, BeginSynchronizedUpdate)?;
        let mut out = None;
        let drawn = self
            .terminal
            .draw(|frame| out = Some(render(frame)))
            .map(|_| ());
        let end = execute!(self.terminal.backend_mut(), EndSynchronizedUpdate);
        drawn?;
        end?;
        Ok(out.expect("draw renders once"))
    }

    /// Ctrl-Z: give the terminal back and stop, as a shell job does; on
    /// `fg`, take it again and redraw all of it.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TSTP)
            .map_err(io::Error::from)?;
        // Here again after SIGCONT.
        take_screen()?;
        self.terminal.clear()
    }
}

fn take_screen() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen).and_then(|()| out.flush()) {
        restore();
        return Err(e);
    }
    Ok(())
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
    }
}

/// Leave the alternate screen, show the cursor, end raw mode. Errors are
/// ignored: after SIGHUP there may be no terminal left to write to.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(stdout(), LeaveAlternateScreen, Show);
        let _ = disable_raw_mode();
    }
}

/// color-eyre's panic report, restoring the terminal first so that the
/// report is readable and the shell usable. (Errors leave through `Session`'s
/// drop, which restores the terminal before they are printed.)
pub fn install_hooks() -> eyre::Result<()> {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default().into_hooks();
    let panic_hook = panic_hook.into_panic_hook();
    eyre_hook.install()?;
    std::panic::set_hook(Box::new(move |info| {
        restore();
        panic_hook(info);
    }));
    Ok(())
}

/// Resolves with the signal's number when SIGTERM, SIGHUP (the SSH
/// connection dropped) or SIGINT arrives. From then on the process has a
/// few seconds to leave: a terminal whose output is blocked (a stalled
/// link) must not keep it running, so a watchdog ends raw mode (an ioctl,
/// which no blocked write holds up) and exits with 128 + the signal.
pub async fn terminate_signal() -> io::Result<i32> {
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let number = tokio::select! {
        _ = term.recv() => 15,
        _ = hup.recv() => 1,
        _ = int.recv() => 2,
    };
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        let _ = disable_raw_mode();
        std::process::exit(128 + number);
    });
    Ok(number)
}

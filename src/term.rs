//! The terminal: enter and leave raw mode and the alternate screen, and put
//! it back on every way out (return, error, panic, Ctrl-C, SIGTERM, SIGHUP).

use std::io::{self, Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre;
use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use termprofile::{DetectorSettings, TermProfile};
use tokio::signal::unix::{SignalKind, signal};

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

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

/// Restores the terminal when dropped, whatever the way out.
pub struct Session {
    pub terminal: Tui,
}

impl Session {
    pub fn enter() -> io::Result<Session> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen) {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(Session { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
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

/// Resolves when SIGTERM, SIGHUP (the SSH connection dropped) or SIGINT arrives.
pub async fn terminate_signal() -> io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = hup.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

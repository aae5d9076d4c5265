//! The cockpit in a real terminal: `flightdeck demo --seed 1` in tmux.

use std::time::Duration;

use flightdeck_testkit::Tmux;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn demo_shows_the_fleet_filters_to_checkout_and_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(120, 40, home.path());
    tmux.type_text(&format!(
        "{} demo --seed 1",
        env!("CARGO_BIN_EXE_flightdeck")
    ));
    tmux.press("Enter");

    let screen = tmux.wait_for("the fleet", WAIT, |s| {
        s.contains("FLEET") && s.contains("checkout") && s.contains("● sim-prod-us")
    });
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "1",
        "the cockpit uses the alternate screen"
    );
    assert!(screen.contains("● sim-prod-eu"), "{screen}");

    tmux.type_text("/checkout");
    let screen = tmux.wait_for("the filter to narrow", WAIT, |s| {
        s.contains("matching /checkout")
    });
    tmux.press("Enter");
    // Only checkout rows are left in the fleet pane (the left 57 columns).
    let rows: Vec<String> = screen
        .lines()
        .map(|l| l.chars().take(57).collect::<String>())
        .filter(|l| l.starts_with('│') && l.contains("sim-prod-"))
        .collect();
    assert!(!rows.is_empty(), "{screen}");
    assert!(rows.iter().all(|r| r.contains("checkout")), "{screen}");
    let pane = tmux.wait_for("the rollout pane", WAIT, |s| {
        s.contains("checkout · shop ·") && s.contains("steps")
    });
    assert!(pane.contains("stable"), "the versions are shown:\n{pane}");

    tmux.type_text("q");
    tmux.wait_for("the shell prompt", WAIT, |s| {
        s.lines().any(|l| l.trim() == "$")
    });
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen is left"
    );
    tmux.type_text("stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon");
    tmux.press("Enter");
    let screen = tmux.wait_for("stty", WAIT, |s| {
        s.lines()
            .any(|l| l.trim() == "icanon" || l.trim() == "-icanon")
    });
    let lines: Vec<&str> = screen.lines().map(str::trim).collect();
    assert!(
        lines.contains(&"echo") && lines.contains(&"icanon"),
        "echo and canonical mode are back:\n{screen}"
    );
}

/// SIGTERM and SIGHUP (an SSH connection dropping) end the cockpit and give
/// the terminal back, as `q` does.
#[test]
fn signals_restore_the_terminal() {
    for signal in ["TERM", "HUP"] {
        let home = tempfile::tempdir().unwrap();
        let tmux = Tmux::start(100, 30, home.path());
        tmux.type_text(&format!(
            "{} demo --seed 2",
            env!("CARGO_BIN_EXE_flightdeck")
        ));
        tmux.press("Enter");
        tmux.wait_for("the fleet", WAIT, |s| {
            s.contains("FLEET") && s.contains("● sim-prod-eu")
        });
        let shell = tmux.pane("#{pane_pid}");
        let pid = std::process::Command::new("pgrep")
            .args(["-P", &shell])
            .output()
            .unwrap();
        let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
        assert!(!pid.is_empty(), "flightdeck runs under the shell");
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        tmux.wait_for("the shell prompt", WAIT, |s| {
            s.lines().any(|l| l.trim() == "$")
        });
        assert_eq!(
            tmux.pane("#{alternate_on}"),
            "0",
            "SIG{signal}: the alternate screen is left"
        );
        // The status says how it ended: 128 + the signal, as shells expect.
        tmux.type_text("echo \"status $?\"");
        tmux.press("Enter");
        let code = if signal == "TERM" { 143 } else { 129 };
        tmux.wait_for("the exit status", WAIT, |s| {
            s.contains(&format!("status {code}"))
        });
        tmux.type_text("stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo");
        tmux.press("Enter");
        let screen = tmux.wait_for("stty", WAIT, |s| {
            s.lines().any(|l| matches!(l.trim(), "echo" | "-echo"))
        });
        assert!(
            screen.lines().any(|l| l.trim() == "echo"),
            "SIG{signal}: echo is back:\n{screen}"
        );
    }
}

/// Ctrl-Z gives the shell back, as any job does; `fg` brings the cockpit
/// back, drawn whole.
#[test]
fn ctrl_z_suspends_and_fg_resumes() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(100, 30, home.path());
    tmux.type_text(&format!(
        "{} demo --seed 2",
        env!("CARGO_BIN_EXE_flightdeck")
    ));
    tmux.press("Enter");
    tmux.wait_for("the fleet", WAIT, |s| s.contains("● sim-prod-eu"));
    tmux.press("C-z");
    tmux.wait_for("the job stopped", WAIT, |s| s.contains("Stopped"));
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the screen is given back"
    );
    tmux.type_text("fg");
    tmux.press("Enter");
    tmux.wait_for("the cockpit again", WAIT, |s| {
        s.contains("FLEET") && s.contains("● sim-prod-eu")
    });
    assert_eq!(tmux.pane("#{alternate_on}"), "1");
    tmux.type_text("q");
    tmux.wait_for("the shell prompt", WAIT, |s| {
        s.lines().any(|l| l.trim() == "$")
    });
}

/// `flightdeck` with `args` on a new pseudo-terminal of 200x60 (its own
/// session), `TERM` as given; the pty's master side is returned unread.
fn on_pty(
    args: &[&str],
    term: &str,
    home: &std::path::Path,
) -> (std::process::Child, std::fs::File) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let size = rustix::termios::Winsize {
        ws_row: 60,
        ws_col: 200,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&slave, size).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    command
        .args(args)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("TERM", term)
        .env_remove("COLORTERM")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null());
    unsafe {
        command.pre_exec(|| {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    (command.spawn().unwrap(), std::fs::File::from(master))
}

/// A terminal that takes no more output (a stalled SSH link: nobody reads
/// the pty) cannot keep the cockpit from leaving on SIGTERM.
#[test]
fn sigterm_ends_the_cockpit_even_when_its_output_is_blocked() {
    let home = tempfile::tempdir().unwrap();
    let args = ["demo", "--seed", "1", "--speed", "20"];
    let (mut child, master) = on_pty(&args, "xterm-256color", home.path());
    // Nobody reads `master`: once its buffer is full, every write blocks.
    std::thread::sleep(Duration::from_secs(8));
    assert!(child.try_wait().unwrap().is_none(), "the cockpit runs");
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(kill.unwrap().success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("still running 20 s after SIGTERM with its output blocked");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(143), "{status:?}");
    drop(master);
}

/// The Linux console: colours in its 16-colour codes (30–37, 90–97), never
/// `38;5;N`; and glyphs its font has.
#[test]
fn a_linux_console_gets_its_colour_codes_and_glyphs() {
    use std::io::Read;
    let home = tempfile::tempdir().unwrap();
    let (mut child, mut master) = on_pty(&["demo", "--seed", "1"], "linux", home.path());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let start = std::time::Instant::now();
    while start.elapsed() < WAIT {
        if let Ok(bytes) = rx.recv_timeout(Duration::from_millis(200)) {
            output.extend(bytes);
        }
        let text = String::from_utf8_lossy(&output);
        if text.contains("FLEET") && text.contains("checkout") && text.contains("FAIL") {
            break;
        }
    }
    let _ = child.kill();
    let text = String::from_utf8_lossy(&output).into_owned();
    assert!(text.contains("FLEET"), "no fleet drawn: {text:?}");
    assert!(
        !text.contains("38;5;") && !text.contains("48;5;"),
        "256-colour codes: {text:?}"
    );
    // A foreground of the 16 (30–37, 90–97), as a code of its own.
    let sixteen = text.split("\x1b[").any(|sequence| {
        let code: String = sequence.chars().take_while(char::is_ascii_digit).collect();
        let next = sequence.chars().nth(code.len());
        matches!(code.as_str(), "31" | "32" | "33" | "36" | "91" | "96")
            && matches!(next, Some(';' | 'm'))
    });
    assert!(sixteen, "no 16-colour codes: {text:?}");
    for missing in ["✔", "◌", "‖", "▶"] {
        assert!(!text.contains(missing), "{missing} drawn on a console");
    }
    // Every frame inside a synchronized update: no half-drawn screens.
    let (begins, ends) = (
        text.matches("\x1b[?2026h").count(),
        text.matches("\x1b[?2026l").count(),
    );
    assert!(
        begins > 0 && ends >= begins - 1,
        "{begins} begins, {ends} ends"
    );
}

/// The incident of issue #11: a canary whose new pods never become ready
/// is Degraded by its progress deadline, and that is exactly when abort is
/// needed: `a`, the blast radius, `y`, and it is aborted.
#[test]
fn abort_a_canary_degraded_by_its_progress_deadline() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(120, 40, home.path());
    let bin = env!("CARGO_BIN_EXE_flightdeck");
    tmux.type_text(&format!("{bin} demo --seed 1"));
    tmux.press("Enter");
    tmux.wait_for("the fleet", WAIT, |s| s.contains("● sim-prod-eu"));
    tmux.type_text(":ctx sim-prod-eu");
    tmux.press("Enter");
    tmux.type_text("/fraud-check");
    tmux.press("Enter");
    tmux.wait_for("fraud-check Degraded by its deadline", WAIT, |s| {
        s.contains("fraud-check · payments · sim-prod-eu")
            && s.contains("✖ Degraded")
            && s.contains("ProgressDeadlineExceeded")
    });
    tmux.type_text("a");
    let dialog = tmux.wait_for("the blast radius", WAIT, |s| {
        s.contains("abort fraud-check?") && s.contains("cancel")
    });
    assert!(dialog.contains("version"), "{dialog}");
    tmux.type_text("y");
    tmux.wait_for("aborted", WAIT, |s| {
        s.contains("abort fraud-check: done") && s.contains("⊘ Aborted")
    });
    tmux.type_text("q");
}

//! The cockpit in a real terminal: `flightdeck demo --seed 1` in tmux.

mod support {
    pub mod tmux;
}

use std::time::Duration;

use support::tmux::Tmux;

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

/// The 3 a.m. path: the failing checkout canary, `a`, the blast radius,
/// confirm, and the canary's traffic goes back to stable; the audit trail
/// holds who did it.
#[test]
fn abort_the_failing_canary_from_the_cockpit() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(120, 40, home.path());
    let bin = env!("CARGO_BIN_EXE_flightdeck");
    tmux.type_text(&format!("{bin} demo --seed 1"));
    tmux.press("Enter");
    tmux.wait_for("the fleet", WAIT, |s| {
        s.contains("FLEET") && s.contains("● sim-prod-eu")
    });
    tmux.type_text(":ctx sim-prod-eu");
    tmux.press("Enter");
    tmux.type_text("/checkout");
    tmux.press("Enter");
    // The verdict names the metric that fails it.
    tmux.wait_for("checkout's verdict", WAIT, |s| {
        s.contains("checkout · shop · sim-prod-eu")
            && s.contains("FAIL")
            && s.contains("error rate High")
    });

    tmux.type_text("a");
    // Its last line is the measured rate, so the whole dialog is drawn.
    let dialog = tmux.wait_for("the blast radius", WAIT, |s| {
        s.contains("abort checkout?") && s.contains("req/s")
    });
    assert!(
        dialog.contains("context sim-prod-eu  namespace shop"),
        "{dialog}"
    );
    let canary_line = dialog
        .lines()
        .find(|l| l.contains("canary") && l.contains("→"))
        .unwrap_or_default();
    assert!(
        canary_line.contains("20% →   0%"),
        "the canary goes to 0%:\n{dialog}"
    );
    assert!(dialog.contains("req/s (measured)"), "{dialog}");

    tmux.type_text("y");
    // The action's result, the phase and the weight come from different
    // events (the API's answer, then the watch), so wait for all three.
    tmux.wait_for("the abort done, Aborted and the canary at 0%", WAIT, |s| {
        let canary_weight_zero = s
            .lines()
            .find(|l| l.contains("│canary ") && l.contains('%'))
            .is_some_and(|l| l.trim_end_matches('│').trim_end().ends_with(" 0%"));
        s.contains("abort checkout: done") && s.contains("⊘ Aborted") && canary_weight_zero
    });

    tmux.type_text("q");
    tmux.wait_for("the shell prompt", WAIT, |s| {
        s.lines().any(|l| l.trim() == "$")
    });
    let trail = home.path().join("audit.json");
    tmux.type_text(&format!("{bin} audit -o json > {}", trail.display()));
    tmux.press("Enter");
    let start = std::time::Instant::now();
    let entries: serde_json::Value = loop {
        if let Ok(text) = std::fs::read_to_string(&trail)
            && let Ok(json) = serde_json::from_str(&text)
        {
            break json;
        }
        assert!(
            start.elapsed() < WAIT,
            "no audit output in {}",
            trail.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let entries = entries.as_array().expect("a JSON list");
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["action"], "abort", "{entry}");
    assert_eq!(entry["context"], "sim-prod-eu", "{entry}");
    assert!(entry.to_string().contains("checkout"), "{entry}");
    assert!(entry.to_string().contains("done"), "{entry}");
}

/// `--speed 10`: the cockpit reads the fleet's timestamps in simulated
/// time, so a countdown runs ten times as fast as the wall clock (on the
/// wall clock a one-hour pause read "217m43s left" after a while).
#[test]
fn countdowns_follow_the_simulated_clock() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(120, 40, home.path());
    let bin = env!("CARGO_BIN_EXE_flightdeck");
    tmux.type_text(&format!("{bin} demo --seed 1 --speed 10"));
    tmux.press("Enter");
    tmux.wait_for("the fleet", WAIT, |s| s.contains("● sim-prod-eu"));
    tmux.type_text("/checkout");
    tmux.press("Enter");
    let seconds_left = |screen: &str| -> u64 {
        let left = screen
            .split('(')
            .find_map(|part| part.split_once(" left)").map(|(t, _)| t.to_string()))
            .unwrap_or_else(|| panic!("no countdown:\n{screen}"));
        let (minutes, seconds) = left.split_once('m').unwrap_or(("0", &left));
        minutes.parse::<u64>().unwrap() * 60 + seconds.trim_end_matches('s').parse::<u64>().unwrap()
    };
    let countdown = |s: &str| s.contains("checkout · shop · sim-prod-eu") && s.contains(" left)");
    let first = seconds_left(&tmux.wait_for("checkout's countdown", WAIT, countdown));
    assert!(first <= 3600, "a one-hour pause shows {first}s left");
    let wall = std::time::Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let second = seconds_left(&tmux.wait_for("the countdown again", WAIT, countdown));
    // At least 3 wall seconds went by: 30 simulated ones (15 allows for ticks).
    assert!(wall.elapsed() >= Duration::from_secs(3));
    assert!(
        first.saturating_sub(second) >= 15,
        "in 3 s at --speed 10 the countdown went from {first}s to {second}s"
    );
    tmux.type_text("q");
}

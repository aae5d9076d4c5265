//! The demo in a real terminal: the DORA strip from the simulator's thirty days, and
//! aborting the failing checkout canary shows in the changes view and raises its change
//! fail rate.

use std::time::Duration;

use flightdeck_testkit::Tmux;

const WAIT: Duration = Duration::from_secs(60);

/// `flightdeck demo` in a 120x40 terminal.
fn demo(home: &std::path::Path) -> Tmux {
    let tmux = Tmux::start(120, 40, home);
    tmux.type_text(&format!(
        "{} demo --seed 1",
        env!("CARGO_BIN_EXE_flightdeck")
    ));
    tmux.press("Enter");
    tmux
}

/// The change fail rate on the strip's line that starts with `lead`.
fn change_fail(screen: &str, lead: &str) -> Option<f64> {
    let line = screen.lines().find(|l| l.trim_start().starts_with(lead))?;
    let after = line.split("change fail ").nth(1)?;
    after.split('%').next()?.trim().parse().ok()
}

#[test]
fn the_demo_shows_dora_and_an_abort_raises_the_change_fail_rate() {
    let home = tempfile::tempdir().unwrap();
    let tmux = demo(home.path());
    let screen = tmux.wait_for("the DORA strip", WAIT, |s| {
        s.contains("DORA 30d fleet") && change_fail(s, "DORA 30d").is_some()
    });
    assert!(
        screen.contains("deploys") || screen.contains("/day"),
        "{screen}"
    );
    tmux.type_text(":ctx sim-prod-eu");
    tmux.press("Enter");
    tmux.type_text("/checkout");
    tmux.press("Enter");
    let screen = tmux.wait_for("checkout's own line", WAIT, |s| {
        s.contains("checkout · shop · sim-prod-eu") && change_fail(s, "checkout ").is_some()
    });
    let before = change_fail(&screen, "checkout ").unwrap();
    tmux.type_text("a");
    tmux.wait_for("the blast radius", WAIT, |s| s.contains("abort checkout?"));
    tmux.type_text("y");
    tmux.wait_for("aborted", WAIT, |s| s.contains("abort checkout: done"));
    let screen = tmux.wait_for("the change fail rate to rise", WAIT, |s| {
        change_fail(s, "checkout ").is_some_and(|after| after > before)
    });
    assert!(change_fail(&screen, "checkout ").unwrap() > before);
    tmux.type_text("c");
    let changes = tmux.wait_for("the abort in the changes view", WAIT, |s| {
        s.contains("changes · last 30d")
            && s.lines()
                .any(|l| l.contains("shop/checkout") && l.contains("abort"))
            && s.lines()
                .any(|l| l.contains("shop/checkout") && l.contains("aborted"))
    });
    let newest = changes
        .lines()
        .find(|l| l.contains("shop/checkout"))
        .unwrap_or_default();
    assert!(newest.contains("abort"), "newest first:\n{changes}");
    tmux.press("Escape");
    tmux.type_text("q");
}

#[test]
fn aborting_the_failing_flagger_canary_shows_in_the_changes_view_with_its_kind() {
    let home = tempfile::tempdir().unwrap();
    let tmux = demo(home.path());
    tmux.wait_for("the DORA strip", WAIT, |s| s.contains("DORA 30d fleet"));
    tmux.type_text("/basket");
    tmux.press("Enter");
    tmux.wait_for("basket's analysis", WAIT, |s| {
        s.contains("basket · shop · sim-prod-eu · Flagger canary")
    });
    tmux.type_text("a");
    tmux.wait_for("the blast radius", WAIT, |s| s.contains("abort basket?"));
    tmux.type_text("y");
    tmux.wait_for("aborted", WAIT, |s| s.contains("abort basket: done"));
    tmux.press("Escape");
    tmux.type_text("c");
    let changes = tmux.wait_for("the Canary's abort in the changes view", WAIT, |s| {
        s.contains("changes · last 30d")
            && s.lines()
                .any(|l| l.contains("F shop/basket") && l.contains("abort"))
            && s.lines().any(|l| {
                // Flagger rolls it back once the gate is open, maybe before the abort's
                // answer comes: the earlier failure is the one kept.
                l.contains("F shop/basket") && (l.contains("aborted") || l.contains("rolled back"))
            })
    });
    assert!(
        !changes.lines().any(|l| l.contains("A shop/basket")),
        "a Canary, not a Rollout:\n{changes}"
    );
    tmux.press("Escape");
    tmux.type_text("q");
}

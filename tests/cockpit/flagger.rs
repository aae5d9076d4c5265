//! Flagger Canaries and plain Deployments in the cockpit beside Argo Rollouts: the demo's
//! fleet shows all three kinds (the K column), `:kind canary` narrows to the Canaries, and
//! the canary failing its checks is aborted through its rollback gate.

use std::time::Duration;

use flightdeck_testkit::Tmux;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn the_fleet_shows_all_three_kinds_and_aborts_the_failing_canary() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(120, 40, home.path());
    let bin = env!("CARGO_BIN_EXE_flightdeck");
    tmux.type_text(&format!("{bin} demo --seed 1"));
    tmux.press("Enter");
    let fleet = tmux.wait_for("a fleet of three kinds", WAIT, |s| {
        s.contains("● sim-prod-eu")
            && s.contains(" K NAME")
            && s.contains("F basket")
            && s.contains("D invoices")
    });
    assert!(fleet.contains("A checkout"), "{fleet}");
    // The Deployments Flagger moves show under their Canaries, not as rows.
    assert!(!fleet.contains("D basket"), "{fleet}");
    tmux.type_text(":kind canary");
    tmux.press("Enter");
    let canaries = tmux.wait_for("only canaries", WAIT, |s| {
        s.contains("FLEET 3 ") && s.contains("F billing") && s.contains("F storef")
    });
    assert!(!canaries.contains("A checkout"), "{canaries}");
    tmux.type_text("/basket");
    tmux.press("Enter");
    tmux.wait_for("basket's analysis", WAIT, |s| {
        s.contains("basket · shop · sim-prod-eu · Flagger canary")
            && s.contains("failed checks")
            && s.contains("rollback/check")
    });
    tmux.type_text("a");
    let dialog = tmux.wait_for("the blast radius", WAIT, |s| {
        s.contains("abort basket?") && s.contains("cancel")
    });
    assert!(dialog.contains("opens the rollback gate"), "{dialog}");
    tmux.type_text("y");
    tmux.wait_for("rolled back", WAIT, |s| {
        s.contains("abort basket: done") && s.contains("Failed")
    });
    tmux.type_text("q");
}

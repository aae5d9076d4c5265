//! A small run of the harness behind `flightdeck bench --only verdict`: seeded canaries of
//! the demo's traffic, read as the Prometheus reader reads them and judged by the
//! production code. Healthy canaries never FAIL; the demo's incidents FAIL in every
//! window that has the configured minimum of data.

use flightdeck_bench::verdict::{Tally, WINDOWS, healthy_canaries, incidents, lives};

#[test]
fn healthy_canaries_of_the_demos_traffic_never_fail() {
    let healthy = lives(&healthy_canaries(), 200);
    for seconds in WINDOWS {
        let t = Tally::of(&healthy, seconds);
        assert_eq!(t.fail, 0, "{seconds} s windows: {t:?}");
    }
}

#[test]
fn the_demos_incidents_fail_once_there_is_enough_data() {
    for (label, case) in incidents() {
        let lives = lives(&[case], 50);
        for seconds in WINDOWS {
            let t = Tally::of(&lives, seconds);
            assert_eq!(t.fail, t.judged(), "{label}, {seconds} s windows: {t:?}");
        }
        let last = Tally::of(&lives, WINDOWS[2]);
        assert_eq!(
            last.fail,
            lives.len(),
            "{label}: every canary judged by 15 min"
        );
    }
}

//! The figures on hand-worked tables, and what observing a rollout yields.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::model::testing::{at, canary, replica_set, rollout};
use crate::model::{Condition, ObjectKey, Phase, RolloutAction};

const H: i64 = 3_600;
const D: i64 = 86_400;

/// 2024-05-01T00:00:00Z plus `s` seconds.
fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_714_521_600 + s).unwrap()
}

fn week() -> Period {
    Period {
        from: t(0),
        to: t(7 * D),
    }
}

fn deploy(name: &str, revision: u64, started: i64) -> Deploy {
    let id = DeployId {
        context: if name == "search" { "us" } else { "eu" }.into(),
        namespace: "shop".into(),
        kind: Default::default(),
        name: name.into(),
        hash: format!("{name}{revision}").into(),
        revision,
    };
    Deploy::new(id, t(started))
}

fn done(mut d: Deploy, completed: i64, commit: Option<i64>) -> Deploy {
    d.set_completed(Some(t(completed)));
    d.set_commit(commit.map(t));
    d
}

/// checkout, in the week [day 0, day 7):
///
/// | rev | started      | what                                    | counts as           |
/// |-----|--------------|-----------------------------------------|---------------------|
/// | 0   | day 0 − 1 s  | at 100% 00:00:10                        | previous window     |
/// | 1   | day 0 01:30  | commit 00:00, at 100% 02:00             | success, lead 2 h   |
/// | 2   | day 1 10:00  | 20% canary aborted 10:30, stopped 10:31 | failure, recovery 1 m|
/// | 3   | day 1 12:00  | commit 11:00, at 100% 13:00             | success, lead 2 h, rework |
/// | 4   | day 3 09:00  | at 100% 09:30, no commit time           | failure: fixed forward by 5 at 10:00, recovery 20 m |
/// | 5   | day 3 10:00  | commit 09:50, at 100% 10:20             | success, lead 30 m, rework |
/// | 6   | day 7 − 1 s  | in progress                             | a deploy, no outcome |
/// | 7   | day 7 02:00  | in progress                             | next window         |
///
/// search: day 2 a success at 100% an hour later with no commit time; day 4 an abort
/// at 00:10 with no healthy version since.
fn history() -> History {
    let mut aborted = deploy("checkout", 2, D + 10 * H);
    aborted.details_mut().failed = Some((Failure::Aborted, t(D + 10 * H + 1_800)));
    aborted.details_mut().stopped = Some(t(D + 10 * H + 1_860));
    aborted.traffic = vec![TrafficMark {
        at: t(D + 10 * H),
        weight: 20,
        step: Some(0),
    }]
    .into();
    aborted.peak_weight = 20;
    aborted.details_mut().request_rate = Some(100.0);
    let mut search_aborted = deploy("search", 2, 4 * D);
    search_aborted.details_mut().failed = Some((Failure::Aborted, t(4 * D + 600)));
    search_aborted.peak_weight = 10;
    History::from_deploys([
        done(deploy("checkout", 0, -1), 10, None),
        done(deploy("checkout", 1, H + 1_800), 2 * H, Some(0)),
        aborted,
        done(
            deploy("checkout", 3, D + 12 * H),
            D + 13 * H,
            Some(D + 11 * H),
        ),
        done(
            deploy("checkout", 4, 3 * D + 9 * H),
            3 * D + 9 * H + 1_800,
            None,
        ),
        done(
            deploy("checkout", 5, 3 * D + 10 * H),
            3 * D + 10 * H + 1_200,
            Some(3 * D + 10 * H - 600),
        ),
        deploy("checkout", 6, 7 * D - 1),
        deploy("checkout", 7, 7 * D + 2 * H),
        done(deploy("search", 1, 2 * D), 2 * D + H, None),
        search_aborted,
    ])
}

#[test]
fn no_deploys_give_no_figures_and_no_zeros() {
    let f = fleet(&History::new(), week(), &Settings::default());
    assert_eq!((f.deploys, f.succeeded, f.failed), (0, 0, 0));
    assert_eq!(f.per_day, 0.0);
    assert_eq!(f.lead_time, None);
    assert_eq!(f.change_fail_rate, None);
    assert_eq!(f.recovery, None);
    assert_eq!(f.rework_rate, None);
    assert_eq!(f.change_fail_band(), None);
    assert_eq!(f.frequency_band(), None);
}

#[test]
fn a_workloads_week_by_hand() {
    let h = history();
    let key = ObjectKey::new("eu", "shop", "checkout");
    let f = figures_of(h.of(&key), week(), &Settings::default());
    assert_eq!(f.deploys, 6, "revisions 1 to 6; 0 and 7 are outside");
    assert_eq!(f.succeeded, 3);
    assert!((f.per_day - 3.0 / 7.0).abs() < 1e-12);
    assert!((f.days_with_deploy - 3.0 / 7.0).abs() < 1e-12);
    assert_eq!(f.lead_time, Some(SignedDuration::from_hours(2)));
    assert_eq!(f.lead_time_unknown, 0);
    assert_eq!(f.failed, 2);
    assert_eq!(f.change_fail_rate, Some(2.0 / 6.0));
    // The median of 1 min and 20 min.
    assert_eq!(f.recovery, Some(SignedDuration::from_secs(630)));
    assert_eq!(f.unrecovered, 0);
    assert_eq!(f.reworks, 2);
    assert_eq!(f.rework_rate, Some(2.0 / 6.0));
    // 20% for the 31 minutes before the abort's stop; 4 only 30 minutes at 100%,
    // which no mark records: its peak (100) over its time.
    let revision_2 = 0.2 * 1_860.0;
    let revision_4 = 1.0 * 3_600.0;
    assert!((f.exposure.share_seconds - (revision_2 + revision_4)).abs() < 1e-6);
    assert!((f.exposure.requests.unwrap() - revision_2 * 100.0).abs() < 1e-6);
    assert_eq!(f.frequency_band(), Some(Band::High));
    assert_eq!(f.lead_time_band(), Some(Band::Elite));
    assert_eq!(f.change_fail_band(), Some(Band::Low));
    assert_eq!(f.recovery_band(), Some(Band::Elite));
}

#[test]
fn a_failure_without_recovery_and_a_deploy_without_commit_time() {
    let h = history();
    let key = ObjectKey::new("us", "shop", "search");
    let f = figures_of(h.of(&key), week(), &Settings::default());
    assert_eq!((f.deploys, f.succeeded, f.failed), (2, 1, 1));
    assert_eq!(f.lead_time, None, "unknown, not zero");
    assert_eq!(f.lead_time_unknown, 1);
    assert_eq!(f.recovery, None, "not recovered yet: no time");
    assert_eq!(f.unrecovered, 1);
    assert_eq!(f.reworks, 0);
    // No traffic mark and no stop: its peak share until its failure was detected.
    assert!((f.exposure.share_seconds - 0.1 * 600.0).abs() < 1e-9);
    assert_eq!(f.exposure.requests, None);
}

#[test]
fn groups_and_the_fleet_add_up() {
    let h = history();
    let by_context = figures_by(&h, By::Context, week(), &Settings::default());
    assert_eq!(by_context.keys().collect::<Vec<_>>(), ["eu", "us"]);
    assert_eq!(by_context["eu"].deploys, 6);
    let f = fleet(&h, week(), &Settings::default());
    assert_eq!((f.deploys, f.succeeded, f.failed), (8, 4, 3));
    assert_eq!(f.unrecovered, 1);
    // Leads: 2 h, 2 h, 30 m known; search's unknown.
    assert_eq!(f.lead_time, Some(SignedDuration::from_hours(2)));
    assert_eq!(f.lead_time_unknown, 1);
    assert_eq!(
        figures_by(&h, By::Workload, week(), &Settings::default()).len(),
        2
    );
}

#[test]
fn window_boundaries_count_a_deploy_in_the_window_it_started_in() {
    let h = history();
    let key = ObjectKey::new("eu", "shop", "checkout");
    let day0 = Period {
        from: t(0),
        to: t(D),
    };
    let f = figures_of(h.of(&key), day0, &Settings::default());
    assert_eq!(f.deploys, 1, "revision 1 only; 0 started a second before");
    let before = figures_of(h.of(&key), day0.previous(), &Settings::default());
    assert_eq!(before.deploys, 1, "revision 0");
    let next = Period {
        from: t(7 * D + 2 * H),
        to: t(8 * D),
    };
    assert_eq!(
        figures_of(h.of(&key), next, &Settings::default()).deploys,
        1
    );
    assert_eq!(Window::Week.ending(t(7 * D)), week());
}

#[test]
fn the_fix_forward_window_decides_what_a_quick_redeploy_is() {
    let h = history();
    let key = ObjectKey::new("eu", "shop", "checkout");
    let strict = Settings {
        fix_forward: SignedDuration::from_mins(10),
    };
    let f = figures_of(h.of(&key), week(), &strict);
    assert_eq!(
        f.failed, 1,
        "revision 4 was replaced 30 minutes after it settled"
    );
    assert_eq!(f.reworks, 1);
}

#[test]
fn trends_compare_with_the_previous_window() {
    let h = history();
    let settings = Settings::default();
    let now = fleet(&h, week(), &settings);
    let before = fleet(&h, week().previous(), &settings);
    let trends = trends(&now, &before);
    assert_eq!(
        trends.frequency,
        Some(Trend::Better),
        "4 successes against 1"
    );
    assert_eq!(
        trends.change_fail_rate,
        Some(Trend::Worse),
        "3/8 against 0/1"
    );
    assert_eq!(trends.lead_time, None, "no lead time before");
}

#[test]
fn weekly_counts_successes_oldest_week_first() {
    let h = history();
    let key = ObjectKey::new("eu", "shop", "checkout");
    assert_eq!(
        weekly(h.of(&key), 3, t(7 * D), &Settings::default()),
        [0, 1, 3],
        "revision 4 was fixed forward"
    );
}

fn annotations() -> Vec<String> {
    COMMIT_TIME_ANNOTATIONS.map(str::to_string).to_vec()
}

fn fail_at(at: Timestamp) -> VerdictMark {
    VerdictMark {
        at,
        outcome: "FAIL".into(),
        deciding: "error rate".into(),
    }
}

fn condition(kind: &str, reason: &str, since: Timestamp) -> Condition {
    Condition {
        kind: kind.into(),
        status: "True".into(),
        reason: reason.into(),
        message: "".into(),
        since: Some(since).into(),
    }
}

#[test]
fn the_clusters_history_gives_revisions_completion_and_rollbacks() {
    let mut r = rollout("eu", "shop", "checkout", Phase::Healthy);
    r.conditions = vec![condition("Completed", "RolloutCompleted", at(-60))];
    let bad = replica_set(&r, "bbb", 2, 0);
    // Revision 1's template brought back as revision 3 by an undo.
    let mut back = replica_set(&r, "checkout-stable", 3, 4);
    back.revision_history = Box::new([1]);
    back.created = Some(at(-7_200)).into();
    back.template_times = crate::model::template_times([("dora/commitTimestamp", "1790000000")]);
    let sets = [bad.clone(), back];
    let observation = Observation {
        rollout: &r,
        replica_sets: &sets,
        target: None,
        live: None,
        commit_annotations: &annotations(),
        verdict: None,
        request_rate: None,
    };
    let facts = deploys_of(&observation);
    let revisions: Vec<(u64, Outcome)> =
        facts.iter().map(|d| (d.id.revision, d.outcome())).collect();
    assert_eq!(
        revisions,
        [
            (1, Outcome::Superseded),
            (2, Outcome::Failed(Failure::RolledBack)),
            (3, Outcome::Succeeded)
        ]
    );
    assert_eq!(facts[2].commit(), Some(at(0)));
    assert_eq!(facts[0].started, at(-7_200));
    assert_eq!(facts[2].completed(), Some(at(-60)));
    // Brought back no earlier than revision 2 started.
    assert_eq!(facts[2].started, bad.created.get().unwrap());
    assert_eq!(facts[1].failed().unwrap().1, bad.created.get().unwrap());
}

#[test]
fn a_live_abort_is_a_failure_stopped_when_the_canary_has_no_traffic() {
    let mut r = canary("eu", "shop", "checkout", Phase::Progressing, 2);
    let key = r.key.clone();
    let sets = [
        replica_set(&r, "checkout-stable", 1, 10),
        replica_set(&r, "checkout-canary", 2, 5),
    ];
    fn observe<'a>(
        r: &'a crate::model::Rollout,
        sets: &'a [crate::model::ReplicaSet],
        live: Timestamp,
    ) -> Observation<'a> {
        Observation {
            rollout: r,
            replica_sets: sets,
            target: None,
            live: Some(live),
            commit_annotations: &[],
            verdict: Some(("FAIL".into(), fail_at(live))),
            request_rate: Some(50.0),
        }
    }
    let mut history = History::from_deploys(deploys_of(&observe(&r, &sets, at(10))));
    let id = history.of(&key)[1].id.clone();
    assert_eq!(history.get(&id).unwrap().outcome(), Outcome::InProgress);
    assert_eq!(history.get(&id).unwrap().peak_weight, 50);
    r.aborted = true;
    r.phase = Phase::Aborted;
    r.actual_weight = 0;
    let o = observe(&r, &sets, at(20));
    for fact in deploys_of(&o) {
        history.merge(fact);
    }
    let d = history.get(&id).unwrap();
    assert_eq!(d.outcome(), Outcome::Failed(Failure::Aborted));
    assert_eq!((d.failed().unwrap().1, d.stopped()), (at(20), Some(at(20))));
    assert_eq!(d.peak_weight, 50);
    assert_eq!(
        d.traffic[0].step,
        Some(2),
        "the step it had reached, with its time"
    );
    assert_eq!(d.verdict(), Some("FAIL"));
    assert_eq!(
        d.verdicts(),
        [fail_at(at(10))],
        "the same verdict again is no transition"
    );
    // Seen at 50% from second 10, at 0% from second 20; nothing before was seen.
    assert_eq!(d.exposure().unwrap().share_seconds, 0.5 * 10.0);
    // Seen again: nothing changes.
    assert!(
        deploys_of(&o)
            .into_iter()
            .all(|f| history.merge(f).is_none())
    );
}

#[test]
fn an_action_marks_the_deploy_it_acted_on() {
    let history = history();
    let key = ObjectKey::new("eu", "shop", "checkout");
    let fact = action_fact(
        &history,
        &key,
        RolloutAction::Undo { revision: None },
        "undo",
        "alice",
        t(3 * D + 9 * H + 60),
    )
    .unwrap();
    assert_eq!(fact.id.revision, 4);
    assert_eq!(
        fact.failed(),
        Some((Failure::Undone, t(3 * D + 9 * H + 60)))
    );
    assert_eq!(fact.actions()[0].user, "alice");
    let promote = action_fact(
        &history,
        &key,
        RolloutAction::Promote,
        "promote",
        "bob",
        t(H),
    );
    assert_eq!(promote.unwrap().failed(), None);
}

#[test]
fn the_exposure_of_a_failure_known_only_from_history_is_unknown_not_zero() {
    // Rolled back, as the cluster's revision-history says, with nothing seen of its traffic.
    let mut bad = deploy("cart", 1, D);
    bad.details_mut().failed = Some((Failure::RolledBack, t(D + H)));
    let f = figures_of(&[bad], week(), &Settings::default());
    assert_eq!(f.failed, 1);
    assert_eq!(f.exposure_unknown, 1);
    assert_eq!(
        f.exposure.big_bang_seconds, 0.0,
        "nothing counted as zero exposure"
    );
}

#[test]
fn history_bounds_a_deploys_end_by_the_next_revisions_start_and_no_more() {
    // Read from the cluster's history: revision 1 replaced by revision 2 two hours
    // after it started, rolled back to revision 3 (the old template) a day later; no
    // object says when 1 or 3 reached 100%.
    let mut one = deploy("cart", 1, 0);
    one.set_commit(Some(t(-H)));
    one.set_superseded(Some(t(2 * H)));
    let mut two = deploy("cart", 2, 2 * H);
    two.set_commit(Some(t(H)));
    two.set_superseded(Some(t(D)));
    two.details_mut().failed = Some((Failure::RolledBack, t(D)));
    let mut three = deploy("cart", 3, D);
    three.set_commit(Some(t(-H)));
    let f = figures_of(&[one, two, three.clone()], week(), &Settings::default());
    // Revision 1: at most 3 h from commit to 100%; revision 3 not known to have
    // shipped: no lead time, and no recovery yet (never a guess).
    assert_eq!(f.lead_time, Some(SignedDuration::from_hours(3)));
    assert_eq!((f.succeeded, f.lead_time_unknown), (1, 0));
    assert_eq!((f.recovery, f.unrecovered), (None, 1));
    // Replaced in turn: 3 was at 100% by then, which bounds the recovery.
    three.set_superseded(Some(t(D + 4 * H)));
    let four = deploy("cart", 4, D + 4 * H);
    let list = [
        deploy("cart", 1, 0),
        {
            let mut two = deploy("cart", 2, 2 * H);
            two.details_mut().failed = Some((Failure::RolledBack, t(D)));
            two
        },
        three,
        four,
    ];
    let f = figures_of(&list, week(), &Settings::default());
    assert_eq!(f.recovery, Some(SignedDuration::from_hours(4)));
}

//! The app's DORA part: the deploys seen (the ledger's, and what the watches show,
//! derived in pure code), the figures the strip and the views show, and the facts
//! sent to the ledger's writer as `Effect::Record`.

use jiff::{SignedDuration, Timestamp};

use super::State;
use crate::cluster::{Change, ClusterEvent, Kind};
use std::collections::HashMap;

use crate::dora::{
    self, Deploy, Figures, History, Observation, Settings, Trends, VerdictMark, Window,
};
use crate::metrics::RolloutMetricsReport;
use crate::model::{Name, ObjectKey, Outcome as VerdictOutcome, RolloutAction, Workload};

/// Where the ledger stands, as the strip says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerState {
    /// No ledger for this run (tests; `record`'s own state).
    Off,
    Opening,
    /// Open: where.
    Ready(String),
    /// Cannot be used: why, naming it. The figures still count what the
    /// watches show.
    Unavailable(String),
    /// Cannot be reached or written now: tried again after a while, what is seen
    /// meanwhile kept in memory.
    Retrying(Retry),
}

/// Why the ledger is tried again, when, and what waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub why: String,
    pub after: std::time::Duration,
    /// Deploys kept in memory to be written.
    pub kept: usize,
    /// Facts about further deploys, dropped: more than memory keeps.
    pub dropped: usize,
}

/// What the ledger's executor says.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerEvent {
    /// Opened at `at`, with the deploys it holds of the last two windows (indexed on
    /// the ledger's thread, so that the cockpit only merges in what it saw meanwhile).
    Opened {
        at: String,
        deploys: History,
    },
    Unavailable(String),
    WriteFailed(String),
    Retrying(Retry),
}

/// The DORA strip: the selected workload and the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    pub window: Window,
    pub fleet: Figures,
    pub trends: Trends,
    pub selected: Option<(ObjectKey, Figures)>,
}

/// A row of the DORA view.
#[derive(Debug, Clone, PartialEq)]
pub struct DoraRow {
    pub key: ObjectKey,
    /// The kind its newest deploy was of.
    pub kind: dora::WorkloadKind,
    pub figures: Figures,
    /// Successful deploys per week, the last `WEEKS` weeks, oldest first.
    pub weekly: Vec<u64>,
}

pub use crate::dora::Change as ChangeRow;

pub const WEEKS: usize = 8;
/// Rows the changes view keeps, newest first (`flightdeck changes` prints them all).
pub const CHANGES_KEPT: usize = 2_000;
/// Figures are computed again at most this often while deploys keep changing.
const REFRESH_MS: i64 = 2_000;

#[derive(Debug, Clone)]
pub struct DoraState {
    pub history: History,
    pub settings: Settings,
    pub commit_annotations: Vec<String>,
    /// What each Canary (its `lastAppliedSpec`) and Deployment (its revision) was
    /// last seen at: a watch event that changes it starts a deploy.
    seen: HashMap<ObjectKey, String>,
    pub ledger: LedgerState,
    /// The last ledger write that failed, if it has not worked since.
    pub write_error: Option<String>,
    pub window: Window,
    pub strip: Option<Strip>,
    pub rows: Vec<DoraRow>,
    pub changes: Vec<ChangeRow>,
    /// Which column the DORA view sorts by.
    pub sort: usize,
    dirty: bool,
    computed_at: Option<Timestamp>,
    computed_for: Option<ObjectKey>,
}

impl Default for DoraState {
    fn default() -> DoraState {
        DoraState {
            history: History::new(),
            settings: Settings::default(),
            commit_annotations: dora::COMMIT_TIME_ANNOTATIONS.map(str::to_string).to_vec(),
            seen: HashMap::new(),
            ledger: LedgerState::Off,
            write_error: None,
            window: Window::Month,
            strip: None,
            rows: Vec::new(),
            changes: Vec::new(),
            sort: 0,
            dirty: true,
            computed_at: None,
            computed_for: None,
        }
    }
}

/// The DORA view's columns, as it sorts by them.
pub const COLUMNS: [&str; 6] = [
    "workload",
    "deploys/day",
    "lead time",
    "change fail",
    "recovery",
    "rework",
];

/// Which rollouts a cluster event may have changed the deploys of.
pub(super) enum Touch {
    None,
    One(ObjectKey),
    /// A list: history, read from the objects' timestamps.
    Listed(String, Option<String>),
    /// Every Canary and Deployment, as the objects show them: the ledger's deploys
    /// just came in, and theirs are found from the deploys known.
    KnownFirst,
}

pub(super) fn touched(event: &ClusterEvent) -> Touch {
    let owner = |key: &ObjectKey, owner: &Option<Name>| {
        owner
            .as_ref()
            .map_or(Touch::None, |name| Touch::One(key.sibling(name.as_str())))
    };
    match event {
        ClusterEvent::Rollout(Change::Applied(r))
        | ClusterEvent::Canary(Change::Applied(r))
        | ClusterEvent::Deployment(Change::Applied(r)) => Touch::One(r.key.clone()),
        ClusterEvent::ReplicaSet(Change::Applied(rs))
        | ClusterEvent::DeploymentReplicaSet(Change::Applied(rs)) => owner(&rs.key, &rs.owner),
        ClusterEvent::Rollout(Change::Relisted {
            context, namespace, ..
        })
        | ClusterEvent::Canary(Change::Relisted {
            context, namespace, ..
        })
        | ClusterEvent::Deployment(Change::Relisted {
            context, namespace, ..
        })
        | ClusterEvent::ReplicaSet(Change::Relisted {
            context, namespace, ..
        })
        | ClusterEvent::DeploymentReplicaSet(Change::Relisted {
            context, namespace, ..
        }) => Touch::Listed(context.clone(), namespace.clone()),
        // A context's Canaries that cannot be listed: its Deployments' history is theirs.
        ClusterEvent::Down {
            context,
            kind: Kind::Canary,
            ..
        } => Touch::Listed(context.clone(), None),
        _ => Touch::None,
    }
}

/// Whether it is known which of the context's Deployments are a Canary's: its
/// Canaries are listed, or cannot be. Until then a Canary's target would read as a
/// plain Deployment with a revision history of its own.
fn canaries_settled(state: &State, context: &str) -> bool {
    state.contexts.iter().any(|(c, health)| {
        c == context
            && (health.listed.contains(&Kind::Canary)
                || health.down.iter().any(|(k, _)| *k == Kind::Canary))
    })
}

fn verdict_of(
    report: Option<&Result<RolloutMetricsReport, String>>,
    now: Timestamp,
) -> (Option<(String, VerdictMark)>, Option<f64>) {
    let Some(Ok(report)) = report else {
        return (None, None);
    };
    let outcome = match report.verdict.outcome {
        VerdictOutcome::Pass => "PASS",
        VerdictOutcome::Marginal => "MARGINAL",
        VerdictOutcome::Fail => "FAIL",
        _ => return (None, report.rps.map(|(stable, canary)| stable + canary)),
    };
    let text = report.verdict.to_string();
    let line = text.split(':').next().unwrap_or(&text).to_string();
    let mark = VerdictMark {
        at: now,
        outcome: outcome.to_string(),
        deciding: report.verdict.deciding.join(", "),
    };
    (
        Some((line, mark)),
        report.rps.map(|(stable, canary)| stable + canary),
    )
}

/// Derive the facts of the touched rollouts, merge them in; the ones that changed
/// anything go to the ledger.
pub(super) fn observe(state: &mut State, touch: Touch) -> Vec<Deploy> {
    let (keys, live): (Vec<ObjectKey>, Option<Timestamp>) = match touch {
        Touch::None => return Vec::new(),
        // A Canary's target Deployment changed: the Canary's deploy did.
        Touch::One(key) => match state.claims.get(&key) {
            Some(owner) => (vec![owner.clone()], Some(state.now)),
            None => (vec![key], Some(state.now)),
        },
        Touch::Listed(context, namespace) => (
            state
                .rollouts
                .keys()
                .filter(|k| {
                    k.context == context && namespace.as_ref().is_none_or(|n| *n == k.namespace)
                })
                .cloned()
                .collect(),
            None,
        ),
        Touch::KnownFirst => (
            state
                .rollouts
                .iter()
                .filter(|(_, r)| r.workload != Workload::ArgoRollout)
                .map(|(k, _)| k.clone())
                .collect(),
            None,
        ),
    };
    let mut changed = Vec::new();
    for key in keys {
        let Some(rollout) = state.rollouts.get(&key) else {
            continue;
        };
        let (verdict, request_rate) = verdict_of(state.metrics.get(&key), state.now);
        let target = rollout.flagger.as_ref().and_then(|f| {
            let at = ObjectKey::of(
                Workload::Deployment,
                &key.context,
                &key.namespace,
                f.target.as_str(),
            );
            state.deployments.get(&at).map(|d| &**d)
        });
        let o = Observation {
            rollout,
            replica_sets: state.replica_sets.get(&key).map_or(&[], Vec::as_slice),
            target,
            live,
            commit_annotations: &state.dora.commit_annotations,
            verdict,
            request_rate,
        };
        let known = state.dora.history.of(&key);
        let before = state.dora.seen.get(&key).map(String::as_str);
        let (facts, now_at) = match rollout.workload {
            Workload::ArgoRollout => (dora::deploys_of(&o), None),
            Workload::FlaggerCanary => (
                dora::canary_deploys(&o, known, before),
                rollout
                    .flagger
                    .as_ref()
                    .and_then(|f| f.last_applied.as_ref().map(Name::to_string)),
            ),
            Workload::Deployment => {
                // The revisions its ReplicaSets still keep (merged, so read again
                // whenever they change), first: the live revision's start is theirs.
                let history = if canaries_settled(state, &key.context) {
                    dora::deployment_history(&o)
                } else {
                    Vec::new()
                };
                let mut facts = dora::deployment_deploys(&o, known, &history, before);
                facts.extend(history);
                (facts, rollout.revision.map(|r| r.to_string()))
            }
        };
        if let Some(now_at) = now_at {
            state.dora.seen.insert(key, now_at);
        }
        merge(state, facts, &mut changed);
    }
    changed
}

/// Merge facts in; the deploys they changed, as they now stand, join `changed` (once
/// each: two facts about one deploy, from its ReplicaSets and from the workload, are
/// one deploy to record).
fn merge(state: &mut State, facts: Vec<Deploy>, changed: &mut Vec<Deploy>) {
    let from = changed.len();
    for fact in facts {
        if let Some(now) = state.dora.history.merge(fact) {
            match changed[from..].iter_mut().find(|d| d.id == now.id) {
                Some(earlier) => earlier.clone_from(now),
                None => changed.push(now.clone()),
            }
            state.dora.dirty = true;
        }
    }
}

/// An action went through: the deploy it acted on says who, and an abort or undo
/// is a failure detected now.
pub(super) fn on_action_sent(
    state: &mut State,
    key: &ObjectKey,
    action: RolloutAction,
) -> Vec<Deploy> {
    let user = state
        .access
        .get(&(key.context.clone(), key.namespace.clone()))
        .and_then(|a| match a {
            super::AccessState::Known { user, .. } => Some(user.clone()),
            super::AccessState::Checking => None,
        })
        .unwrap_or_else(|| "unknown user".to_string());
    let label = action.to_string();
    let Some(fact) = dora::action_fact(&state.dora.history, key, action, &label, &user, state.now)
    else {
        return Vec::new();
    };
    match state.dora.history.merge(fact) {
        Some(now) => {
            let now = now.clone();
            state.dora.dirty = true;
            vec![now]
        }
        None => Vec::new(),
    }
}

/// What the ledger's executor said; returns the facts to record (a Canary's or a
/// Deployment's deploy the ledger knew, which the objects show finished meanwhile).
pub(super) fn on_ledger(state: &mut State, event: LedgerEvent) -> Vec<Deploy> {
    match event {
        LedgerEvent::Opened { at, deploys } => {
            // What the watches showed meanwhile (few) into what the ledger holds (many).
            let seen = std::mem::replace(&mut state.dora.history, deploys);
            state.dora.history.absorb(seen);
            state.dora.ledger = LedgerState::Ready(at);
            state.dora.write_error = None;
            invalidate(state);
            return observe(state, Touch::KnownFirst);
        }
        LedgerEvent::Unavailable(why) => state.dora.ledger = LedgerState::Unavailable(why),
        LedgerEvent::WriteFailed(why) => state.dora.write_error = Some(why),
        LedgerEvent::Retrying(retry) => state.dora.ledger = LedgerState::Retrying(retry),
    }
    Vec::new()
}

/// Compute what the strip and the open view show, when the deploys or the
/// selection changed (at most every two seconds while deploys keep changing).
pub(super) fn refresh(state: &mut State) {
    let selection_moved = state.dora.computed_for != state.selected;
    let due = state
        .dora
        .computed_at
        .is_none_or(|at| state.now.as_millisecond() - at.as_millisecond() >= REFRESH_MS);
    if state.dora.dirty && due {
        refresh_all(state);
    } else if selection_moved {
        // Only the selected workload's line: the fleet's has not changed.
        let d = &mut state.dora;
        let period = d.window.ending(state.now);
        let selected = state.selected.as_ref().map(|key| {
            (
                key.clone(),
                dora::figures_of(d.history.of(key), period, &d.settings),
            )
        });
        if let Some(strip) = &mut d.strip {
            strip.selected = selected;
        }
        d.computed_for = state.selected.clone();
    }
}

fn refresh_all(state: &mut State) {
    let d = &mut state.dora;
    let period = d.window.ending(state.now);
    let fleet = dora::fleet(&d.history, period, &d.settings);
    let before = dora::fleet(&d.history, period.previous(), &d.settings);
    let selected = state.selected.as_ref().map(|key| {
        (
            key.clone(),
            dora::figures_of(d.history.of(key), period, &d.settings),
        )
    });
    d.strip = Some(Strip {
        window: d.window,
        trends: dora::trends(&fleet, &before),
        fleet,
        selected,
    });
    if matches!(state.mode, super::Mode::Dora(_)) {
        rows(state);
    }
    if matches!(state.mode, super::Mode::Changes(_)) {
        changes(state);
    }
    let d = &mut state.dora;
    d.dirty = false;
    d.computed_at = Some(state.now);
    d.computed_for = state.selected.clone();
}

/// Make the next `refresh` compute everything (a view opened, the window changed).
pub(super) fn invalidate(state: &mut State) {
    state.dora.dirty = true;
    state.dora.computed_at = None;
}

fn order_key(f: &Figures, column: usize) -> (bool, i64) {
    // Unknown figures sort last; the worst first in every column.
    let ms = |d: Option<SignedDuration>| d.map(|d| d.as_millis() as i64);
    let per_mille = |r: Option<f64>| r.map(|r| (r * 1000.0) as i64);
    let value = match column {
        1 => Some(-(f.per_day * 1000.0) as i64),
        2 => ms(f.lead_time).map(|v| -v),
        3 => per_mille(f.change_fail_rate).map(|v| -v),
        4 => ms(f.recovery).map(|v| -v),
        5 => per_mille(f.rework_rate).map(|v| -v),
        _ => Some(0),
    };
    (value.is_none(), value.unwrap_or(0))
}

fn rows(state: &mut State) {
    let d = &state.dora;
    let period = d.window.ending(state.now);
    let mut rows: Vec<DoraRow> = d
        .history
        .workloads()
        .map(|(key, list)| DoraRow {
            key,
            kind: list.last().map(|d| d.id.kind).unwrap_or_default(),
            figures: dora::figures_of(list, period, &d.settings),
            weekly: dora::weekly(list, WEEKS, state.now, &d.settings),
        })
        .collect();
    let column = d.sort;
    rows.sort_by(|a, b| {
        order_key(&a.figures, column)
            .cmp(&order_key(&b.figures, column))
            .then_with(|| a.key.cmp(&b.key))
    });
    state.dora.rows = rows;
}

fn changes(state: &mut State) {
    let from = state.dora.window.ending(state.now).from;
    state.dora.changes = dora::changes(&state.dora.history, from, CHANGES_KEPT);
}

/// Where the DORA or changes view stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryView {
    pub cursor: usize,
}

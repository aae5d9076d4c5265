//! `flightdeck record`: no terminal; watches the clusters and keeps the ledger current
//! until stopped (SIGTERM, SIGINT). The same pure `app::update` as the cockpit derives
//! the deploys; the same writer merges them, so a restart loses nothing and counts
//! nothing twice. A ledger that cannot be reached (a PostgreSQL down) is tried again
//! with backoff, and everything seen meanwhile is written once it is back.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::app::{self, Effect, Event, LedgerEvent, State};
use crate::audit::{Audit, EntryState};
use crate::cluster::{self, ClusterEvent, Scope};
use crate::config::{DoraSettings, LedgerSettings};
use crate::ledger::{self, Location};
use crate::metrics::Backends;
use crate::model::RolloutAction;

/// How often the audit trail is read for actions taken by other flightdecks.
const AUDIT_EVERY: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// What `record` says: in its log and on stderr (its log under systemd or in a pod).
fn say(text: &str) {
    tracing::info!("record: {text}");
    eprintln!("flightdeck record: {text}");
}

/// The actions of the audit trail since `since` that went through, as the app's events.
fn audited_actions(
    since: Timestamp,
) -> Vec<(
    crate::model::ObjectKey,
    RolloutAction,
    String,
    String,
    Timestamp,
)> {
    let Ok(path) = crate::audit::default_path() else {
        return Vec::new();
    };
    let Ok(audit) = Audit::open_to_read(&path) else {
        return Vec::new();
    };
    let entries = audit.list(since).unwrap_or_default();
    entries
        .into_iter()
        .filter(|(_, e)| matches!(e.outcome, EntryState::Done(_)))
        .map(|(_, e)| {
            let action = if e.action.starts_with("abort") {
                RolloutAction::Abort
            } else if e.action.starts_with("undo") {
                RolloutAction::Undo { revision: None }
            } else {
                RolloutAction::Promote
            };
            let key = crate::model::ObjectKey::new(&e.context, &e.namespace, &e.name);
            (key, action, e.action, e.user, e.time)
        })
        .collect()
}

/// `metrics`: the backends of the config, so that deploys keep their verdicts and the
/// workloads' request rates (for the requests a failed version served).
pub async fn record(
    scope: &Scope,
    ledger_settings: &LedgerSettings,
    dora: &DoraSettings,
    metrics: Option<Backends>,
) -> Result<(), String> {
    let location = Location::from_settings(
        ledger_settings.path.as_deref(),
        ledger_settings.url.as_deref(),
        ledger_settings.password_env.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let connection = cluster::connect(scope).await.map_err(|e| e.to_string())?;
    let (tx, mut changes) = mpsc::channel::<ClusterEvent>(4096);
    let namespace = scope.namespace.clone();
    let _watches = connection.watch(connection.selected(), namespace.as_deref(), tx);
    let mut state = State::new(
        connection.selected().to_vec(),
        connection.known().to_vec(),
        namespace,
        app::Keymap::default_keys(),
        Timestamp::now(),
    );
    state.dora.settings = dora.figures;
    state.metrics_sources = metrics.as_ref().map(Backends::names).unwrap_or_default();
    let (metrics_tx, mut readings) = mpsc::channel(64);
    let pollers: Option<(Backends, Vec<crate::metrics::Poller>)> = metrics.map(|backends| {
        let pollers = backends
            .all()
            .iter()
            .map(|b| {
                crate::metrics::spawn_poller(b.source.clone(), b.poll_every, metrics_tx.clone())
            })
            .collect();
        (backends, pollers)
    });
    state.dora.commit_annotations = dora.commit_annotations.clone();
    say(&format!(
        "watching {} into the ledger at {}",
        connection.selected().join(", "),
        location.describe()
    ));

    let (ledger_tx, mut ledger_events) = mpsc::unbounded_channel::<LedgerEvent>();
    let open = |since| {
        let ledger_tx = ledger_tx.clone();
        ledger::Writer::spawn(location.clone(), since, move |e| {
            let _ = ledger_tx.send(e);
        })
    };
    // Nothing is read back: only written (`since` in the future loads nothing).
    let never = Timestamp::MAX;
    let mut writer = Some(open(never));
    let mut backoff = Duration::from_secs(1);
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut audit_clock = tokio::time::interval(AUDIT_EVERY);
    let mut audit_since = Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 90))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    loop {
        let event = tokio::select! {
            Some(change) = changes.recv() => Event::Cluster(change),
            Some(reading) = readings.recv() => Event::Metrics(reading),
            Some(answer) = ledger_events.recv() => {
                match &answer {
                    LedgerEvent::Opened { at, .. } => {
                        say(&format!("ledger at {at} open"));
                        backoff = Duration::from_secs(1);
                        // Whatever was seen while it was away goes in now.
                        if let Some(w) = &writer {
                            let all: Vec<_> = state
                                .dora
                                .history
                                .workloads()
                                .flat_map(|(_, list)| list.iter().cloned())
                                .collect();
                            w.record(all);
                        }
                    }
                    // The writer tries an unreachable ledger again itself.
                    LedgerEvent::Retrying(retry) => {
                        say(&format!("{}; trying again in {}s", retry.why, retry.after.as_secs()));
                    }
                    LedgerEvent::WriteFailed(why) => say(why),
                    LedgerEvent::Unavailable(why) => {
                        say(&format!("{why}; trying again in {}s", backoff.as_secs()));
                        writer = None;
                        retry_at = Some(tokio::time::Instant::now() + backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                    }
                }
                Event::Ledger(answer)
            }
            _ = clock.tick() => {
                if retry_at.is_some_and(|at| at <= tokio::time::Instant::now()) {
                    retry_at = None;
                    writer = Some(open(never));
                }
                Event::Tick(Timestamp::now())
            }
            _ = audit_clock.tick() => {
                let now = Timestamp::now();
                for (key, action, label, user, at) in audited_actions(audit_since) {
                    if let Some(fact) = crate::dora::action_fact(&state.dora.history, &key, action, &label, &user, at)
                        && let Some(deploy) = state.dora.history.merge(fact)
                        && let Some(w) = &writer
                    {
                        w.record(vec![deploy.clone()]);
                    }
                }
                audit_since = now;
                continue;
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        };
        let mut effects = app::update(&mut state, event).effects;
        effects.extend(app::settle(&mut state));
        for effect in effects {
            match effect {
                Effect::Record(facts) => {
                    if let Some(w) = &writer {
                        w.record(facts);
                    }
                }
                Effect::PollMetrics(targets) => {
                    if let Some((backends, pollers)) = &pollers {
                        for (poller, targets) in pollers.iter().zip(backends.split(targets)) {
                            poller.set_targets(targets);
                        }
                    }
                }
                // No terminal, no actions: what else the app asks is not for a recorder.
                _ => {}
            }
        }
    }
    say("stopping: writing what is left");
    drop(writer);
    Ok(())
}

//! `update`: the one place where events change the state.

use crossterm::event::KeyEventKind;

use super::cluster_events::on_cluster;
use super::keys::on_key;
use super::view::{self, rebuild};
use super::{Effect, Event, Mode, State};
use super::{act, dora, offer};
use crate::metrics::Target;
use crate::model::ObjectKey;

/// What an event asks of the runner: draw again, and the effects to carry out.
#[derive(Debug, Default, PartialEq)]
pub struct Reaction {
    pub redraw: bool,
    pub effects: Vec<Effect>,
}

impl Reaction {
    pub(super) fn redraw() -> Reaction {
        Reaction {
            redraw: true,
            effects: Vec::new(),
        }
    }

    pub(super) fn effect(effect: Effect) -> Reaction {
        Reaction {
            redraw: true,
            effects: vec![effect],
        }
    }
}

/// Send the facts that changed anything to the ledger.
fn record(facts: Vec<crate::dora::Deploy>) -> Reaction {
    if facts.is_empty() {
        Reaction::redraw()
    } else {
        Reaction::effect(Effect::Record(facts))
    }
}

/// How long a message stays in the footer (until a key, at most this).
const FLASH_SECONDS: i64 = 5;
pub fn update(state: &mut State, event: Event) -> Reaction {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            let mut effects = settle(state);
            let mut outcome = on_key(state, key);
            effects.append(&mut outcome.effects);
            effects.extend(settle(state));
            outcome.effects = effects;
            outcome
        }
        Event::Key(_) => Reaction::default(),
        Event::Resize { width, height } => {
            state.size = (width, height);
            keep_cursor_visible(state);
            Reaction::redraw()
        }
        Event::Tick(now) => {
            state.now = now;
            // A message gives the key hints back after a few seconds.
            let expired = state
                .flash
                .as_ref()
                .is_some_and(|(_, at)| now.as_second() - at.as_second() >= FLASH_SECONDS);
            if expired {
                state.flash = None;
            }
            // Draw only when an age or countdown on screen reads differently.
            Reaction {
                redraw: expired || state.viewport.next_change.is_some_and(|at| at <= now),
                effects: Vec::new(),
            }
        }
        Event::Drawn(viewport) => {
            state.viewport = viewport;
            let before = (state.offset, state.detail_scroll, state.mode.clone());
            state.detail_scroll = state.detail_scroll.min(viewport.detail_scroll_max());
            let max = viewport.overlay_scroll_max();
            match &mut state.mode {
                Mode::Help(scroll) | Mode::Messages(scroll) => *scroll = (*scroll).min(max),
                _ => {}
            }
            keep_cursor_visible(state);
            // A smaller pane than the last frame assumed: draw again.
            Reaction {
                redraw: (state.offset, state.detail_scroll, state.mode.clone()) != before,
                effects: Vec::new(),
            }
        }
        Event::Cluster(event) => {
            let touch = dora::touched(&event);
            on_cluster(state, event);
            record(dora::observe(state, touch))
        }
        Event::Ledger(event) => {
            let facts = dora::on_ledger(state, event);
            record(facts)
        }
        Event::Terminate => Reaction::effect(Effect::Quit),
        Event::ActionSent {
            key,
            action,
            result,
        } => {
            let facts = match result {
                Ok(_) => dora::on_action_sent(state, &key, action),
                Err(_) => Vec::new(),
            };
            let mut reaction = act::on_sent(state, key, action, result);
            reaction.effects.extend(record(facts).effects);
            reaction
        }
        Event::Metrics(update) => {
            if state.metrics_targets.iter().any(|t| t.key == update.key) {
                let rank = |s: &State| {
                    s.rollouts
                        .get(&update.key)
                        .map(|r| view::urgency_rank(r, &s.metrics))
                };
                let before = rank(state);
                state.metrics.insert(update.key.clone(), update.report);
                // A verdict that turns FAIL moves its rollout up the fleet.
                if rank(state) != before {
                    state.reorder.moved(update.key.clone());
                }
                // A new verdict is a mark on the deploy it judges.
                return record(dora::observe(state, dora::Touch::One(update.key)));
            }
            Reaction::redraw()
        }
        Event::Access {
            context,
            namespace,
            user,
            result,
        } => {
            act::on_access(state, context, namespace, user, result);
            Reaction::redraw()
        }
    }
}

/// Bring derived state (rows, counts, cursor, scroll) up to date after a
/// batch of events; the runner calls it before drawing. Returns what the
/// new selection asks for (an RBAC check).
pub fn settle(state: &mut State) -> Vec<Effect> {
    // First: a canary no longer followed loses its verdict, and its row moves.
    let mut effects: Vec<Effect> = metrics_effect(state).into_iter().collect();
    if state.view_dirty || state.reorder.is_needed() {
        rebuild(state);
        keep_cursor_visible(state);
    }
    act::refresh_confirm(state);
    offer::refresh(state);
    dora::refresh(state);
    effects.extend(act::access_effects(state));
    effects
}

/// Follow the canaries in progress when they change: every canary whose
/// newest version is not yet stable.
fn metrics_effect(state: &mut State) -> Option<Effect> {
    if state.metrics_sources.is_empty() || !state.targets_dirty {
        return None;
    }
    state.targets_dirty = false;
    let mut targets: Vec<Target> = state
        .rollouts
        .values()
        .filter_map(|r| Target::of(r, state.replica_sets_of(&r.key)))
        .filter(|t| state.metrics_sources.of(&t.key.context).is_some())
        .collect();
    targets.sort_by(|a, b| a.key.cmp(&b.key));
    if targets == state.metrics_targets {
        return None;
    }
    let gone: Vec<ObjectKey> = state
        .metrics
        .keys()
        .filter(|k| !targets.iter().any(|t| t.key == **k))
        .cloned()
        .collect();
    for key in gone {
        state.metrics.remove(&key);
        state.reorder.moved(key);
    }
    state.metrics_targets = targets.clone();
    Some(Effect::PollMetrics(targets))
}

pub(super) fn keep_cursor_visible(state: &mut State) {
    let rows = state.viewport.fleet_rows.max(1);
    let last_start = state.view.len().saturating_sub(rows);
    if state.cursor < state.offset {
        state.offset = state.cursor;
    } else if state.cursor >= state.offset + rows {
        state.offset = state.cursor + 1 - rows;
    }
    state.offset = state.offset.min(last_start);
}

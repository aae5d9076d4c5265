//! `update`: the one place where events change the state.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::command::{self, Command};
use super::keymap::KeyMode;
use super::view::{self, rebuild, select};
use super::{Action, Effect, Event, Flash, Focus, Mode, State};
use super::{act, offer};
use crate::cluster::{self, Change, ClusterEvent, Kind};
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

    fn effect(effect: Effect) -> Reaction {
        Reaction {
            redraw: true,
            effects: vec![effect],
        }
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
            on_cluster(state, event);
            Reaction::redraw()
        }
        Event::Terminate => Reaction::effect(Effect::Quit),
        Event::ActionSent {
            key,
            action,
            result,
        } => act::on_sent(state, key, action, result),
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
                    state.reorder.moved(update.key);
                }
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
    effects.extend(act::access_effects(state));
    effects
}

/// Follow the canaries in progress when they change: every canary whose
/// newest version is not yet stable.
fn metrics_effect(state: &mut State) -> Option<Effect> {
    if state.metrics_source.is_none() || !state.targets_dirty {
        return None;
    }
    state.targets_dirty = false;
    let mut targets: Vec<Target> = state
        .rollouts
        .values()
        .filter_map(|r| Target::of(r, state.replica_sets_of(&r.key)))
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

fn on_key(state: &mut State, key: KeyEvent) -> Reaction {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl_c {
        return Reaction::effect(Effect::Quit);
    }
    state.flash = None;
    match state.mode.clone() {
        Mode::Help(scroll) => on_overlay_key(state, key, scroll, Mode::Help),
        Mode::Messages(scroll) => on_overlay_key(state, key, scroll, Mode::Messages),
        Mode::Filter => on_filter_key(state, key),
        Mode::Confirm(confirm) => act::on_confirm_key(state, key, confirm),
        Mode::Undo(picker) => act::on_undo_key(state, key, picker),
        Mode::Command(line) => on_command_key(state, key, line),
        Mode::Normal => match state.keymap.action(KeyMode::Normal, &key) {
            Some(action) => on_action(state, action),
            // A kept filter: the filter's own cancel key clears it.
            None if state.keymap.action(KeyMode::Filter, &key) == Some(Action::Cancel)
                && !state.filter.is_empty() =>
            {
                set_filter(state, String::new());
                Reaction::redraw()
            }
            None => Reaction::default(),
        },
    }
}

fn on_action(state: &mut State, action: Action) -> Reaction {
    let page = state.viewport.fleet_rows.max(1);
    let detail = state.focus == Focus::Rollout;
    match action {
        Action::Down if detail => {
            let max = state.viewport.detail_scroll_max();
            state.detail_scroll = state.detail_scroll.saturating_add(1).min(max);
        }
        Action::Up if detail => state.detail_scroll = state.detail_scroll.saturating_sub(1),
        Action::Top if detail => state.detail_scroll = 0,
        Action::Bottom if detail => state.detail_scroll = state.viewport.detail_scroll_max(),
        Action::PageDown if detail => {
            let rows = u16::try_from(state.viewport.detail_rows.max(1)).unwrap_or(u16::MAX);
            let max = state.viewport.detail_scroll_max();
            state.detail_scroll = state.detail_scroll.saturating_add(rows).min(max);
        }
        Action::PageUp if detail => {
            let rows = u16::try_from(state.viewport.detail_rows.max(1)).unwrap_or(u16::MAX);
            state.detail_scroll = state.detail_scroll.saturating_sub(rows);
        }
        Action::Down => move_cursor(state, state.cursor.saturating_add(1)),
        Action::Up => move_cursor(state, state.cursor.saturating_sub(1)),
        Action::Top => move_cursor(state, 0),
        Action::Bottom => move_cursor(state, usize::MAX),
        Action::PageDown => move_cursor(state, state.cursor.saturating_add(page)),
        Action::PageUp => move_cursor(state, state.cursor.saturating_sub(page)),
        Action::Filter => state.mode = Mode::Filter,
        Action::Command => state.mode = Mode::Command(String::new()),
        Action::Focus => {
            state.focus = match state.focus {
                Focus::Fleet => Focus::Rollout,
                Focus::Rollout => Focus::Fleet,
            }
        }
        Action::Help => state.mode = Mode::Help(0),
        Action::Quit => return Reaction::effect(Effect::Quit),
        Action::Suspend => return Reaction::effect(Effect::Suspend),
        Action::Promote
        | Action::PromoteFull
        | Action::PauseResume
        | Action::Abort
        | Action::Retry
        | Action::Undo
        | Action::Restart => return act::on_action_key(state, action),
        // The other modes' actions: the normal keymap binds none of them.
        Action::Keep
        | Action::Cancel
        | Action::DeleteChar
        | Action::Run
        | Action::Yes
        | Action::No
        | Action::Choose
        | Action::Close => return Reaction::default(),
    }
    Reaction::redraw()
}

/// Help and messages: the keys of `[help]` scroll (within what the frame
/// showed), any other key closes.
fn on_overlay_key(
    state: &mut State,
    key: KeyEvent,
    scroll: u16,
    mode: fn(u16) -> Mode,
) -> Reaction {
    let max = state.viewport.overlay_scroll_max();
    let page = u16::try_from(state.viewport.overlay_rows.max(1)).unwrap_or(u16::MAX);
    let scroll = match state.keymap.action(KeyMode::Help, &key) {
        Some(Action::Down) => scroll.saturating_add(1),
        Some(Action::Up) => scroll.saturating_sub(1),
        Some(Action::PageDown) => scroll.saturating_add(page),
        Some(Action::PageUp) => scroll.saturating_sub(page),
        Some(Action::Top) => 0,
        Some(Action::Bottom) => max,
        _ => {
            state.mode = Mode::Normal;
            return Reaction::redraw();
        }
    };
    state.mode = mode(scroll.min(max));
    Reaction::redraw()
}

/// A character typed as text (a filter, a command, a name), not a key.
pub(super) fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

fn on_filter_key(state: &mut State, key: KeyEvent) -> Reaction {
    match state.keymap.action(KeyMode::Filter, &key) {
        Some(Action::Keep) => state.mode = Mode::Normal,
        Some(Action::Cancel) => {
            state.mode = Mode::Normal;
            set_filter(state, String::new());
        }
        Some(Action::DeleteChar) => {
            let mut filter = state.filter.clone();
            filter.pop();
            set_filter(state, filter);
        }
        Some(Action::Down) => move_cursor(state, state.cursor.saturating_add(1)),
        Some(Action::Up) => move_cursor(state, state.cursor.saturating_sub(1)),
        _ => match typed_char(&key) {
            Some(c) => {
                let filter = format!("{}{c}", state.filter);
                set_filter(state, filter);
            }
            None => return Reaction::default(),
        },
    }
    Reaction::redraw()
}

fn on_command_key(state: &mut State, key: KeyEvent, mut line: String) -> Reaction {
    match state.keymap.action(KeyMode::Command, &key) {
        Some(Action::Cancel) => state.mode = Mode::Normal,
        Some(Action::DeleteChar) if line.is_empty() => state.mode = Mode::Normal,
        Some(Action::DeleteChar) => {
            line.pop();
            state.mode = Mode::Command(line);
        }
        Some(Action::Run) => {
            state.mode = Mode::Normal;
            return run_command(state, &line);
        }
        _ => match typed_char(&key) {
            Some(c) => {
                line.push(c);
                state.mode = Mode::Command(line);
            }
            None => return Reaction::default(),
        },
    }
    Reaction::redraw()
}

fn run_command(state: &mut State, line: &str) -> Reaction {
    let command = match command::parse(line) {
        Ok(command) => command,
        Err(error) => {
            state.say(Flash::Error(error));
            return Reaction::redraw();
        }
    };
    match command {
        Command::Quit => Reaction::effect(Effect::Quit),
        Command::Messages => {
            // Newest at the bottom: open scrolled to the end.
            state.mode = Mode::Messages(u16::MAX);
            Reaction::redraw()
        }
        Command::Context(None) => {
            state.context_scope = None;
            state.view_dirty = true;
            Reaction::redraw()
        }
        Command::Context(Some(name)) => {
            if !state.known_contexts.contains(&name) && state.health(&name).is_none() {
                state.say(Flash::Error(format!(
                    "no context {name:?} in the kubeconfig; known: {}",
                    state.known_contexts.join(", ")
                )));
                return Reaction::redraw();
            }
            state.context_scope = Some(name.clone());
            state.view_dirty = true;
            if state.health(&name).is_some() {
                return Reaction::redraw();
            }
            // Not watched yet: watch it too.
            state.contexts.push((name, Default::default()));
            Reaction::effect(watch_effect(state))
        }
        Command::Namespace(namespace) => {
            state.namespace_scope = namespace.clone();
            state.view_dirty = true;
            let covered = state.watched_namespace.is_none() || state.watched_namespace == namespace;
            if covered {
                return Reaction::redraw();
            }
            // The watches cover another namespace only: widen or move them.
            state.watched_namespace = namespace;
            Reaction::effect(watch_effect(state))
        }
    }
}

fn watch_effect(state: &State) -> Effect {
    Effect::Watch {
        contexts: state.contexts.iter().map(|(c, _)| c.clone()).collect(),
        namespace: state.watched_namespace.clone(),
    }
}

fn set_filter(state: &mut State, filter: String) {
    state.filter = filter;
    state.view_dirty = true;
    rebuild(state);
    keep_cursor_visible(state);
}

fn move_cursor(state: &mut State, index: usize) {
    state.cursor_moved = true;
    select(state, index);
    keep_cursor_visible(state);
}

fn keep_cursor_visible(state: &mut State) {
    let rows = state.viewport.fleet_rows.max(1);
    let last_start = state.view.len().saturating_sub(rows);
    if state.cursor < state.offset {
        state.offset = state.cursor;
    } else if state.cursor >= state.offset + rows {
        state.offset = state.cursor + 1 - rows;
    }
    state.offset = state.offset.min(last_start);
}

fn on_cluster(state: &mut State, event: ClusterEvent) {
    match event {
        ClusterEvent::Live { context, kind } => {
            let health = health_mut(state, &context);
            health.down.retain(|(k, _)| *k != kind);
            if !health.listed.contains(&kind) {
                health.listed.push(kind);
            }
            if health.error().is_none() {
                health.stale_since = None;
            }
        }
        ClusterEvent::Down {
            context,
            kind,
            error,
        } => {
            let now = state.now;
            let health = health_mut(state, &context);
            match health.down.iter_mut().find(|(k, _)| *k == kind) {
                Some(slot) => slot.1 = error,
                None => health.down.push((kind, error)),
            }
            if kind == Kind::Rollout {
                health.stale_since.get_or_insert(now);
            }
        }
        ClusterEvent::Insecure { context } => health_mut(state, &context).insecure = true,
        ClusterEvent::Scoped {
            context,
            namespaces,
            note,
        } => {
            let health = health_mut(state, &context);
            if namespaces.is_empty() {
                // Nothing it may read: the context is down, and says why.
                health.down.retain(|(k, _)| *k != Kind::Rollout);
                health.down.push((Kind::Rollout, note));
            } else {
                health.scoped = Some(note);
            }
        }
        ClusterEvent::Unreadable { key, kind, error } => {
            state.say(Flash::Error(error.clone()));
            state.unreadable.insert(key, (kind, error));
        }
        ClusterEvent::Rollout(change) => {
            match change {
                Change::Applied(rollout) => {
                    let key = rollout.key.clone();
                    let (urgency, phase) =
                        (view::urgency_rank(&rollout, &state.metrics), rollout.phase);
                    state.unreadable.remove(&key);
                    let before = state.rollouts.insert(key.clone(), rollout);
                    refresh_actual_weight(state, &key);
                    act::observe(state, &key);
                    // Most changes move no row: the order is kept unless the
                    // rollout is new or its urgency changed.
                    match before {
                        Some(b) if view::urgency_rank(&b, &state.metrics) == urgency => {
                            state.view_dirty |= b.phase != phase;
                        }
                        _ => state.reorder.moved(key),
                    }
                }
                Change::Deleted(key) => {
                    state.unreadable.remove(&key);
                    state.rollouts.remove(&key);
                    state.reorder.moved(key);
                }
                Change::Relisted {
                    context,
                    namespace,
                    items,
                } => {
                    let listed = |k: &ObjectKey| in_list(k, &context, namespace.as_deref());
                    state.rollouts.retain(|k, _| !listed(k));
                    state
                        .unreadable
                        .retain(|k, (kind, _)| !listed(k) || *kind != Kind::Rollout);
                    let keys: Vec<ObjectKey> = items.iter().map(|r| r.key.clone()).collect();
                    state
                        .rollouts
                        .extend(items.into_iter().map(|r| (r.key.clone(), Box::new(r))));
                    keys.iter().for_each(|k| refresh_actual_weight(state, k));
                    let pending: Vec<ObjectKey> = state.actions.keys().cloned().collect();
                    pending.iter().for_each(|k| act::observe(state, k));
                    state.reorder.all();
                }
            }
            state.targets_dirty = true;
        }
        ClusterEvent::ReplicaSet(change) => {
            let touched: Vec<ObjectKey> = match &change {
                Change::Applied(rs) => owner_key(&rs.key, &rs.owner).into_iter().collect(),
                Change::Deleted(_) => Vec::new(),
                Change::Relisted {
                    context, namespace, ..
                } => state
                    .rollouts
                    .keys()
                    .filter(|k| in_list(k, context, namespace.as_deref()))
                    .cloned()
                    .collect(),
            };
            apply_owned(
                &mut state.replica_sets,
                change,
                |rs| owner_key(&rs.key, &rs.owner),
                |rs| &rs.key,
            );
            touched.iter().for_each(|k| refresh_actual_weight(state, k));
            // The rows depend on rollouts alone: no rebuild.
            state.targets_dirty = true;
        }
        ClusterEvent::AnalysisRun(change) => apply_owned(
            &mut state.analysis_runs,
            change,
            |run| owner_key(&run.key, &run.owner),
            |run| &run.key,
        ),
        ClusterEvent::Experiment(change) => apply_owned(
            &mut state.experiments,
            change,
            |e| owner_key(&e.key, &e.owner),
            |e| &e.key,
        ),
    }
}

/// Without traffic routing, a canary's real share of traffic follows its
/// available pods, so it changes with the ReplicaSets as well.
fn refresh_actual_weight(state: &mut State, key: &ObjectKey) {
    let sets = state.replica_sets.get(key).map_or(&[][..], Vec::as_slice);
    if let Some(rollout) = state.rollouts.get_mut(key) {
        rollout.actual_weight = cluster::actual_weight(rollout, sets);
    }
}

fn health_mut<'a>(state: &'a mut State, context: &str) -> &'a mut super::ContextHealth {
    let at = match state.contexts.iter().position(|(c, _)| c == context) {
        Some(at) => at,
        None => {
            state
                .contexts
                .push((context.to_string(), Default::default()));
            state.contexts.len() - 1
        }
    };
    &mut state.contexts[at].1
}

/// Whether `key` is among what a list of `context` (in `namespace`, or all)
/// covers.
fn in_list(key: &ObjectKey, context: &str, namespace: Option<&str>) -> bool {
    key.context == context && namespace.is_none_or(|ns| key.namespace == ns)
}

fn owner_key(key: &ObjectKey, owner: &Option<String>) -> Option<ObjectKey> {
    owner
        .as_ref()
        .map(|name| ObjectKey::new(&key.context, &key.namespace, name))
}

/// Keep objects grouped under the Rollout that owns them; unowned ones are
/// not shown and not kept.
fn apply_owned<T>(
    groups: &mut std::collections::HashMap<ObjectKey, Vec<T>>,
    change: Change<T>,
    owner: impl Fn(&T) -> Option<ObjectKey>,
    key: impl Fn(&T) -> &ObjectKey,
) {
    match change {
        Change::Applied(item) => {
            let Some(owner) = owner(&item) else { return };
            let group = groups.entry(owner).or_default();
            match group.iter_mut().find(|x| key(x) == key(&item)) {
                Some(slot) => *slot = *item,
                None => group.push(*item),
            }
        }
        Change::Deleted(gone) => {
            let owner = groups
                .iter()
                .find(|(o, items)| {
                    o.context == gone.context && items.iter().any(|x| *key(x) == gone)
                })
                .map(|(o, _)| o.clone());
            if let Some(owner) = owner
                && let Some(group) = groups.get_mut(&owner)
            {
                group.retain(|x| *key(x) != gone);
                if group.is_empty() {
                    groups.remove(&owner);
                }
            }
        }
        Change::Relisted {
            context,
            namespace,
            items,
        } => {
            groups.retain(|o, _| !in_list(o, &context, namespace.as_deref()));
            for item in items {
                if let Some(o) = owner(&item) {
                    groups.entry(o).or_default().push(item);
                }
            }
        }
    }
}

//! Keys: what each key does in each mode (the keymap names the action), and the
//! commands of the `:` line.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::command::{self, Command};
use super::keymap::KeyMode;
use super::update::{Reaction, keep_cursor_visible};
use super::view::{rebuild, select};
use super::{Action, Effect, Flash, Focus, Mode, State};
use super::{act, history_keys};

pub(super) fn on_key(state: &mut State, key: KeyEvent) -> Reaction {
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
        Mode::Dora(view) => history_keys::on_key(state, key, view, false),
        Mode::Changes(view) => history_keys::on_key(state, key, view, true),
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
        Action::Dora => history_keys::open(state, false),
        Action::Changes => history_keys::open(state, true),
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
        | Action::Sort
        | Action::Window
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
        Command::Dora => {
            history_keys::open(state, false);
            Reaction::redraw()
        }
        Command::Changes => {
            history_keys::open(state, true);
            Reaction::redraw()
        }
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
        Command::Kind(kind) => {
            state.kind_scope = kind;
            state.view_dirty = true;
            Reaction::redraw()
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

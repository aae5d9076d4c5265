//! Keys in the DORA and changes views: move, sort, change the window, go to a rollout.

use crossterm::event::KeyEvent;

use super::dora::{self, HistoryView};
use super::keymap::KeyMode;
use super::update::{Reaction, keep_cursor_visible};
use super::view::{rebuild, select};
use super::{Action, Flash, Focus, Mode, State};
use crate::model::ObjectKey;

/// Open the DORA (`changes: false`) or the changes view.
pub(super) fn open(state: &mut State, changes: bool) {
    state.mode = if changes {
        Mode::Changes(HistoryView::default())
    } else {
        Mode::Dora(HistoryView::default())
    };
    dora::invalidate(state);
}

pub(super) fn on_key(
    state: &mut State,
    key: KeyEvent,
    view: HistoryView,
    changes: bool,
) -> Reaction {
    let rows = if changes {
        state.dora.changes.len()
    } else {
        state.dora.rows.len()
    };
    let last = rows.saturating_sub(1);
    let page = state.viewport.overlay_rows.max(1);
    let mut cursor = view.cursor;
    match state.keymap.action(KeyMode::History, &key) {
        Some(Action::Down) => cursor = cursor.saturating_add(1),
        Some(Action::Up) => cursor = cursor.saturating_sub(1),
        Some(Action::PageDown) => cursor = cursor.saturating_add(page),
        Some(Action::PageUp) => cursor = cursor.saturating_sub(page),
        Some(Action::Top) => cursor = 0,
        Some(Action::Bottom) => cursor = last,
        Some(Action::Sort) if !changes => {
            state.dora.sort = (state.dora.sort + 1) % dora::COLUMNS.len();
            dora::invalidate(state);
        }
        Some(Action::Window) => {
            state.dora.window = state.dora.window.next();
            dora::invalidate(state);
        }
        Some(Action::Choose) => {
            let key = if changes {
                state.dora.changes.get(cursor).map(|r| r.key.clone())
            } else {
                state.dora.rows.get(cursor).map(|r| r.key.clone())
            };
            if let Some(key) = key {
                go_to(state, &key);
            }
            return Reaction::redraw();
        }
        Some(Action::Close) => {
            state.mode = Mode::Normal;
            return Reaction::redraw();
        }
        _ => return Reaction::default(),
    }
    let view = HistoryView {
        cursor: cursor.min(last),
    };
    state.mode = if changes {
        Mode::Changes(view)
    } else {
        Mode::Dora(view)
    };
    Reaction::redraw()
}

/// Back to the fleet with the cursor on `key`'s rollout (the scope and filter are
/// lifted if they hide it).
fn go_to(state: &mut State, key: &ObjectKey) {
    state.mode = Mode::Normal;
    if !state.rollouts.contains_key(key) {
        state.say(Flash::Error(format!(
            "{key} is not watched now (deleted, or in a context not watched)"
        )));
        return;
    }
    if !state.view.iter().any(|k| k == key) {
        state.filter.clear();
        state.context_scope = None;
        state.namespace_scope = None;
        state.view_dirty = true;
        rebuild(state);
    }
    let found = state.view.iter().position(|k| k == key);
    if let Some(row) = found {
        state.cursor_moved = true;
        select(state, row);
        keep_cursor_visible(state);
        state.focus = Focus::Rollout;
    }
}

//! Helpers for tests that drive `update` as a person would: a state of a
//! given size, keys pressed, text typed, a rollout selected.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{Event, Keymap, Reaction, State, update};
use crate::model::testing::at;

/// A state watching `watched` among the `known` contexts, on a
/// `width`x`height` screen, at the test epoch.
pub fn state_of(watched: &[&str], known: &[&str], width: u16, height: u16) -> State {
    let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    let mut state = State::new(
        names(watched),
        names(known),
        None,
        Keymap::default_keys(),
        at(0),
    );
    update(&mut state, Event::Resize { width, height });
    state
}

pub fn press(state: &mut State, code: KeyCode) -> Reaction {
    update(state, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn typed(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

/// Move the cursor down (`j`) to the row of the rollout called `name`.
pub fn select(state: &mut State, name: &str) {
    let row = state
        .view
        .iter()
        .position(|k| k.name == name)
        .unwrap_or_else(|| panic!("no row for {name}"));
    for _ in 0..row {
        press(state, KeyCode::Char('j'));
    }
    assert_eq!(state.selected.as_ref().map(|k| k.name.as_str()), Some(name));
}

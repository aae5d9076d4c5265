//! Render: one full 200x60 frame into a `TestBackend`, the cursor moving
//! down the fleet a row per frame (so the selection, the rollout pane and
//! the scroll change as when a person reads down the list).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use flightdeck::app::{self, Event, State};
use flightdeck::ui::{self, Theme};

const WARM_UP: usize = 50;

/// The time of each of `frames` frames.
pub fn frames(state: &mut State, frames: usize) -> Vec<Duration> {
    let theme = Theme::builtin("default").expect("the default theme is built in");
    let (width, height) = state.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test backend");
    let mut times = Vec::with_capacity(frames);
    for i in 0..WARM_UP + frames {
        let key = if state.cursor + 1 >= state.view.len() {
            KeyCode::Char('g')
        } else {
            KeyCode::Char('j')
        };
        app::update(state, Event::Key(KeyEvent::new(key, KeyModifiers::NONE)));
        app::settle(state);
        // The whole screen is written, not only what changed.
        terminal.clear().expect("a test backend clears");
        let started = Instant::now();
        terminal
            .draw(|frame| {
                ui::draw(frame, state, &theme);
            })
            .expect("a test backend draws");
        if i >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    times
}

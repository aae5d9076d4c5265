//! Drawing only: every function here takes `&State` and never changes it.

mod cells;
mod confirm;
mod fleet;
mod footer;
mod format;
mod header;
mod help;
pub mod layout;
mod metrics;
mod rollout;
#[cfg(test)]
mod tests;
mod theme;
mod undo;

use std::hash::{DefaultHasher, Hash, Hasher};

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub use theme::Theme;

use crate::app::{Mode, State};
use crate::model::Phase;

pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    let Some(areas) = layout::areas(area) else {
        let text = format!(
            "terminal too small: {}x{}, flightdeck needs {}x{}",
            area.width,
            area.height,
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        );
        frame.render_widget(
            Paragraph::new(Line::raw(text)).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    };
    header::draw(frame, areas.header, state, theme);
    fleet::draw(frame, areas.fleet, state, theme);
    rollout::draw(frame, areas.rollout, state, theme);
    if let Some(area) = areas.metrics {
        metrics::draw(frame, area, state, theme);
    }
    footer::draw(frame, areas.footer, state, theme);
    match &state.mode {
        Mode::Help => help::draw(frame, area, state, theme),
        Mode::Confirm(confirm) => confirm::draw(frame, area, state, confirm, theme),
        Mode::Undo(picker) => undo::draw(frame, area, state, picker, theme),
        _ => {}
    }
}

/// A fingerprint of everything on screen that moves with the clock (ages,
/// stale times, countdowns): a clock tick redraws only when it changes.
pub fn clock_face(state: &State) -> u64 {
    let mut hasher = DefaultHasher::new();
    header::clock_texts(state)
        .chain(fleet::clock_texts(state))
        .chain(rollout::clock_texts(state))
        .for_each(|text| text.hash(&mut hasher));
    hasher.finish()
}

/// One glyph per phase, so state reads without colour.
pub fn phase_icon(phase: Phase) -> &'static str {
    match phase {
        Phase::Healthy => "✔",
        Phase::Progressing => "◌",
        Phase::Paused => "‖",
        Phase::Degraded => "✖",
        Phase::Aborted => "⊘",
    }
}

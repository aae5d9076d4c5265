//! Drawing only: every function here takes `&State` and never changes it.

mod cells;
mod changes;
mod confirm;
mod console;
mod dora_strip;
mod dora_view;
mod fleet;
mod footer;
mod format;
mod header;
mod help;
mod layout;
mod messages;
mod metrics;
mod overlay;
mod rollout;
#[cfg(test)]
mod tests;
mod theme;
mod undo;

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub use theme::Theme;

use crate::app::{Mode, State, Viewport};
use crate::model::Phase;

/// Draws the whole screen from `state`, and says what it showed.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) -> Viewport {
    let area = frame.area();
    let dora = dora_strip::wanted(state);
    let Some(areas) = layout::areas_with_dora(area, metrics::lines_wanted(state), dora) else {
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
        return Viewport::default();
    };
    header::draw(frame, areas.header, state, theme);
    let fleet_rows = fleet::draw(frame, areas.fleet, state, theme);
    let (detail_lines, detail_rows) = rollout::draw(frame, areas.rollout, state, theme);
    if let Some(area) = areas.metrics {
        metrics::draw(frame, area, state, theme);
    }
    if let Some(area) = areas.dora {
        dora_strip::draw(frame, area, state, theme);
    }
    footer::draw(frame, areas.footer, state, theme);
    let (overlay_lines, overlay_rows) = match &state.mode {
        Mode::Help(scroll) => help::draw(frame, area, state, theme, *scroll),
        Mode::Messages(scroll) => messages::draw(frame, area, state, theme, *scroll),
        Mode::Confirm(confirm) => {
            confirm::draw(frame, area, state, confirm, theme);
            (0, 0)
        }
        Mode::Undo(picker) => {
            undo::draw(frame, area, state, picker, theme);
            (0, 0)
        }
        Mode::Dora(view) => dora_view::draw(frame, area, state, theme, view),
        Mode::Changes(view) => changes::draw(frame, area, state, theme, view),
        _ => (0, 0),
    };
    if theme.console_font {
        console::substitute(frame.buffer_mut());
    }
    let next_change = [
        header::next_change(state),
        fleet::next_change(state, fleet_rows),
        rollout::next_change(state),
    ]
    .into_iter()
    .flatten()
    .min();
    Viewport {
        fleet_rows,
        detail_lines,
        detail_rows,
        next_change,
        overlay_lines,
        overlay_rows,
    }
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

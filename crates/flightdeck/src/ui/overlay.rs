//! A scrolling overlay (help, messages): a bordered box in the middle of
//! the screen, with where it is scrolled to and how to close it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Theme;
use crate::app::{Action, KeyMode, Keymap};

/// The overlay's width, borders included: it fits an 80-column terminal.
const WIDTH: u16 = 72;

/// Draws `lines` from line `scroll` on; returns how many lines there are
/// and how many show.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    scroll: u16,
    keymap: &Keymap,
    theme: &Theme,
) -> (usize, usize) {
    let total = lines.len();
    // Borders and the hint line take three rows.
    let popup = super::layout::modal(area, WIDTH, total + 1);
    let rows = usize::from(popup.height.saturating_sub(3));
    let scroll = usize::from(scroll).min(total.saturating_sub(rows));
    let mut shown: Vec<Line> = lines.into_iter().skip(scroll).take(rows).collect();
    let hint = if total > rows {
        let keys = |action| keymap.hint(KeyMode::Help, action);
        format!(
            "lines {}–{} of {total} · {} {} {} {} scroll · any other key closes",
            scroll + 1,
            (scroll + rows).min(total),
            keys(Action::Down),
            keys(Action::Up),
            keys(Action::PageDown),
            keys(Action::PageUp),
        )
    } else {
        "any key closes".to_string()
    };
    shown.push(Line::styled(hint, theme.muted()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(shown).block(
            Block::bordered()
                .title(title.to_string())
                .border_style(theme.border(true)),
        ),
        popup,
    );
    (total, rows)
}

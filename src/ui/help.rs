//! The help overlay, generated from the active keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Theme;
use crate::app::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut lines = vec![Line::styled(
        "keys",
        theme.muted().add_modifier(Modifier::BOLD),
    )];
    for (action, keys) in state.keymap.bindings() {
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<16}", keys.join(" ")),
                Style::new().fg(theme.accent),
            ),
            Span::raw(action.description()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "while filtering or typing a command",
        theme.muted().add_modifier(Modifier::BOLD),
    ));
    for (key, what) in [
        ("enter", "keep the filter / run the command"),
        ("esc", "clear / cancel"),
        ("ctrl-c", "quit, always"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("  {key:<16}"), Style::new().fg(theme.accent)),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("any key closes this help", theme.muted()));
    let popup = super::layout::modal(area, 62, lines.len());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" help ")
                .border_style(theme.border(true)),
        ),
        popup,
    );
}

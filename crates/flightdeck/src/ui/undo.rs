//! The revision picker for undo: each revision's image, age, and whether it
//! is the stable one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Theme;
use super::format::{age_at, fit_left};
use crate::app::{Action, KeyMode, State, UndoPicker};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, picker: &UndoPicker, theme: &Theme) {
    let width = 70.min(area.width);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            "undo ",
            Style::new().fg(theme.accent).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            picker.key.name.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(" · {} · {}", picker.key.namespace, picker.key.context),
            theme.muted(),
        ),
    ])];
    lines.push(Line::styled("roll back to revision:", theme.muted()));
    for (i, choice) in picker.choices.iter().enumerate() {
        let image = fit_left(&choice.image, width as usize - 24);
        let line = Line::from(vec![
            Span::raw(format!(" r{:<4} ", choice.revision)),
            Span::raw(format!("{image:<w$} ", w = width as usize - 24)),
            Span::styled(
                format!("{:>4} ", age_at(state.now, choice.created)),
                theme.muted(),
            ),
            Span::styled(
                if choice.stable { "stable" } else { "" },
                Style::new().fg(theme.stable),
            ),
        ]);
        lines.push(if i == picker.cursor {
            line.style(theme.selected())
        } else {
            line
        });
    }
    let hint = |action| state.keymap.hint(KeyMode::Undo, action);
    lines.push(Line::styled(
        format!(
            "{}{} choose · {} continue · {} cancel",
            hint(Action::Up),
            hint(Action::Down),
            hint(Action::Choose),
            hint(Action::Cancel)
        ),
        theme.muted(),
    ));
    let popup = super::layout::modal(area, width, lines.len());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" undo ")
                .border_style(theme.border(true)),
        ),
        popup,
    );
}

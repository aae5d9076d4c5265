//! The bottom line: the prompt while typing, a message, or the keys that
//! apply now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::Theme;
use crate::app::{Action, Flash, Focus, Mode, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = match &state.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("/", Style::new().fg(theme.accent)),
            Span::raw(state.filter.clone()),
            Span::styled("▏", Style::new().fg(theme.accent)),
            Span::styled("   enter keep · esc clear · ↑↓ move", theme.muted()),
        ]),
        Mode::Command(line) => Line::from(vec![
            Span::styled(":", Style::new().fg(theme.accent)),
            Span::raw(line.clone()),
            Span::styled("▏", Style::new().fg(theme.accent)),
            Span::styled("   ctx NAME · ns NAME · q · esc cancel", theme.muted()),
        ]),
        _ => match &state.flash {
            Some(Flash::Error(text)) => {
                Line::styled(format!(" {text}"), Style::new().fg(theme.error))
            }
            Some(Flash::Info(text)) => {
                Line::styled(format!(" {text}"), Style::new().fg(theme.accent))
            }
            None => keys(state, theme),
        },
    };
    frame.render_widget(line, area);
}

fn keys(state: &State, theme: &Theme) -> Line<'static> {
    let moving = if state.focus == Focus::Rollout {
        "scroll"
    } else {
        "move"
    };
    let mut hints: Vec<(String, &str)> = vec![
        (pair(state, Action::Down, Action::Up), moving),
        (first(state, Action::Filter), "filter"),
        (first(state, Action::Command), "command"),
        (first(state, Action::Focus), "pane"),
        (first(state, Action::Help), "help"),
        (first(state, Action::Quit), "quit"),
    ];
    if !state.filter.is_empty() {
        hints.insert(1, ("esc".into(), "clear filter"));
    }
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in hints.into_iter().filter(|(k, _)| !k.is_empty()) {
        spans.push(Span::styled(
            key,
            Style::new().fg(theme.accent).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {what}  "), theme.muted()));
    }
    Line::from(spans)
}

fn first(state: &State, action: Action) -> String {
    state
        .keymap
        .keys(action)
        .first()
        .map(|k| k.to_string())
        .unwrap_or_default()
}

fn pair(state: &State, a: Action, b: Action) -> String {
    format!("{}/{}", first(state, a), first(state, b))
}

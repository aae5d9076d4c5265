//! The bottom line: the prompt while typing, a message, or the keys that
//! apply now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::Theme;
use crate::app::{self, Action, Flash, Focus, Mode, State};
use crate::model::RolloutAction;

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
            None => keys(state, theme, area.width as usize),
        },
    };
    frame.render_widget(line, area);
}

/// The action keys for the selected rollout: those that apply now in the
/// accent colour, the others dimmed (pressing one says why not).
fn action_spans(state: &State, theme: &Theme) -> Vec<Span<'static>> {
    let Some(rollout) = state.selected_rollout() else {
        return Vec::new();
    };
    if state.policy.readonly(&rollout.key.context) {
        return vec![Span::styled("read-only  ", Style::new().fg(theme.warning))];
    }
    let mut spans = Vec::new();
    for action in [
        Action::Promote,
        Action::PromoteFull,
        Action::PauseResume,
        Action::Abort,
        Action::Retry,
        Action::Undo,
        Action::Restart,
    ] {
        let (Some(key), Some(rollout_action)) = (
            state.keymap.keys(action).first(),
            app::rollout_action(action, rollout),
        ) else {
            continue;
        };
        let label = match rollout_action {
            RolloutAction::PromoteFull => "full",
            other => other.verb(),
        };
        if app::check(state, rollout, rollout_action).is_ok() {
            spans.push(Span::styled(
                key.to_string(),
                Style::new().fg(theme.accent).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(
                format!(" {label}  "),
                Style::new().fg(theme.text),
            ));
        } else {
            spans.push(Span::styled(
                format!("{key}  "),
                theme.muted().add_modifier(Modifier::DIM),
            ));
        }
    }
    spans
}

fn keys(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let moving = if state.focus == Focus::Rollout {
        "scroll"
    } else {
        "move"
    };
    let actions = action_spans(state, theme);
    // With action keys on show, only the keys one cannot guess stay.
    let mut hints: Vec<(String, &str)> = if actions.is_empty() {
        vec![
            (pair(state, Action::Down, Action::Up), moving),
            (first(state, Action::Filter), "filter"),
            (first(state, Action::Command), "command"),
            (first(state, Action::Focus), "pane"),
            (first(state, Action::Help), "help"),
            (first(state, Action::Quit), "quit"),
        ]
    } else {
        vec![
            (first(state, Action::Filter), "filter"),
            (first(state, Action::Help), "help"),
            (first(state, Action::Quit), "quit"),
        ]
    };
    if !state.filter.is_empty() {
        hints.insert(1, ("esc".into(), "clear filter"));
    }
    hints.retain(|(k, _)| !k.is_empty());
    let used = |hints: &[(String, &str)]| {
        let actions: usize = actions.iter().map(|s| s.width()).sum();
        1 + actions
            + hints
                .iter()
                .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
                .sum::<usize>()
    };
    // Too wide: the hints go from the left, help last of all.
    while used(&hints) > width && hints.len() > 1 {
        hints.remove(0);
    }
    let mut spans = vec![Span::raw(" ")];
    spans.extend(actions);
    for (key, what) in hints {
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

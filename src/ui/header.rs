//! The top line: contexts and their health, scope, counts per phase.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::format::age_at;
use super::{Theme, phase_icon};
use crate::app::{ContextHealth, State};
use crate::model::Phase;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let sep = || Span::styled(" · ", theme.muted());
    let mut spans = vec![Span::styled(
        " flightdeck",
        Style::new().fg(theme.title).add_modifier(Modifier::BOLD),
    )];
    spans.push(sep());
    let shown = state
        .contexts
        .iter()
        .filter(|(c, _)| state.context_scope.as_ref().is_none_or(|s| s == c));
    for (i, (context, health)) in shown.enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        spans.extend(context_spans(state, context, health, theme));
    }
    spans.push(sep());
    let total: usize = state.phase_counts.iter().sum();
    spans.push(Span::raw(format!("{total} rollouts")));
    for (phase, count) in Phase::ALL.iter().zip(state.phase_counts) {
        if count > 0 {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(
                format!("{}{count}", phase_icon(*phase)),
                theme.phase(*phase),
            ));
        }
    }
    if !state.unreadable.is_empty() {
        spans.push(Span::styled(
            format!(" ⚠ {} unreadable", state.unreadable.len()),
            Style::new().fg(theme.warning),
        ));
    }
    spans.push(sep());
    let namespace = state
        .namespace_scope
        .as_ref()
        .or(state.watched_namespace.as_ref());
    spans.push(Span::raw(match namespace {
        Some(ns) => format!("ns {ns}"),
        None => "all namespaces".to_string(),
    }));
    frame.render_widget(Line::from(spans), area);
}

/// "● prod-eu" when live, "◌ prod-eu" while connecting, and the error with
/// the data's age when a watch is down.
fn context_spans(
    state: &State,
    context: &str,
    health: &ContextHealth,
    theme: &Theme,
) -> Vec<Span<'static>> {
    if let Some(error) = health.error() {
        let stale = age_at(state.now, health.stale_since);
        let style = Style::new().fg(theme.error);
        return vec![
            Span::styled(format!("✖ {context}"), style.add_modifier(Modifier::BOLD)),
            Span::styled(format!(" stale {stale}: {error}"), style),
        ];
    }
    let (icon, color) = if health.is_live() {
        ("●", theme.healthy)
    } else {
        ("◌", theme.warning)
    };
    vec![
        Span::styled(format!("{icon} "), Style::new().fg(color)),
        Span::raw(context.to_string()),
    ]
}

/// The texts of this pane that move with the clock.
pub fn clock_texts(state: &State) -> impl Iterator<Item = String> + '_ {
    state
        .contexts
        .iter()
        .filter(|(_, h)| h.error().is_some())
        .map(|(_, h)| age_at(state.now, h.stale_since))
}

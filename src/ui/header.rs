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
    for (i, (context, health)) in state.contexts.iter().enumerate() {
        if state.context_scope.as_ref().is_some_and(|c| c != context) {
            continue;
        }
        if i > 0 && state.context_scope.is_none() {
            spans.push(Span::styled(", ", theme.muted()));
        }
        spans.push(Span::raw(context.clone()));
        spans.push(Span::raw(" "));
        spans.push(health_span(state, health, theme));
    }
    spans.push(sep());
    spans.push(Span::raw(match &state.namespace_scope {
        Some(ns) => format!("ns {ns}"),
        None => match &state.watched_namespace {
            Some(ns) => format!("ns {ns}"),
            None => "all namespaces".to_string(),
        },
    }));
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
    frame.render_widget(Line::from(spans), area);
}

fn health_span(state: &State, health: &ContextHealth, theme: &Theme) -> Span<'static> {
    if let Some(error) = health.error() {
        let stale = age_at(state.now, health.stale_since);
        return Span::styled(
            format!("✖ stale {stale}: {error}"),
            Style::new().fg(theme.error),
        );
    }
    if health.is_live() {
        Span::styled("● live", Style::new().fg(theme.healthy))
    } else {
        Span::styled("◌ connecting", Style::new().fg(theme.warning))
    }
}

/// The texts of this pane that move with the clock.
pub fn clock_texts(state: &State) -> impl Iterator<Item = String> + '_ {
    state
        .contexts
        .iter()
        .filter(|(_, h)| h.error().is_some())
        .map(|(_, h)| age_at(state.now, h.stale_since))
}

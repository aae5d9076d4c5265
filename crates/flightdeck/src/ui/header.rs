//! The top line: contexts and their health, scope, counts per phase.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::format::age_at;
use super::{Theme, phase_icon};
use crate::app::{ContextHealth, State};
use jiff::Timestamp;

use crate::model::{Phase, age_changes_at};

/// How much of the line is spelled out, from all of it down to what fits
/// 80 columns with many contexts; each level keeps the cuts of the ones
/// before it. The counts and any context that is down must stay in view.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Detail {
    Full,
    /// "all ns" for "all namespaces".
    ScopeShort,
    /// Contexts that are up are counted, not named.
    UpCounted,
    /// Contexts that are down lose their error text (keep name and age).
    ErrorsCut,
}

const DETAILS: [Detail; 4] = [
    Detail::Full,
    Detail::ScopeShort,
    Detail::UpCounted,
    Detail::ErrorsCut,
];

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // The first level that fits; the last (cut by the edge) when none does.
    let mut lines = DETAILS.iter().map(|detail| line(state, theme, *detail));
    let mut chosen = lines.next().expect("there are levels");
    while chosen.width() > usize::from(area.width)
        && let Some(shorter) = lines.next()
    {
        chosen = shorter;
    }
    frame.render_widget(chosen, area);
}

fn line(state: &State, theme: &Theme, detail: Detail) -> Line<'static> {
    let sep = || Span::styled(" · ", theme.muted());
    let mut spans = vec![Span::styled(
        " flightdeck",
        Style::new().fg(theme.title).add_modifier(Modifier::BOLD),
    )];
    spans.push(sep());
    let shown: Vec<_> = state
        .contexts
        .iter()
        .filter(|(c, _)| state.context_scope.as_ref().is_none_or(|s| s == c))
        .collect();
    let count_up = detail >= Detail::UpCounted && shown.len() > 1;
    let contexts_start = spans.len();
    if count_up {
        spans.extend(up_counts(&shown, theme));
    }
    for (context, health) in shown {
        if count_up && health.error().is_none() {
            continue;
        }
        if spans.len() > contexts_start {
            spans.push(Span::raw(" "));
        }
        spans.extend(context_spans(state, context, health, theme, detail));
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
    spans.push(Span::raw(match (namespace, detail) {
        (Some(ns), _) => format!("ns {ns}"),
        (None, d) if d >= Detail::ScopeShort => "all ns".to_string(),
        (None, _) => "all namespaces".to_string(),
    }));
    if let Some(kind) = state.kind_scope {
        spans.push(sep());
        spans.push(Span::raw(format!("kind {}", kind.name())));
    }

    Line::from(spans)
}

/// "●9 live ◌1 connecting": how many contexts are up, by whether they have
/// listed their rollouts yet.
fn up_counts(contexts: &[&(String, ContextHealth)], theme: &Theme) -> Vec<Span<'static>> {
    let up = contexts.iter().filter(|(_, h)| h.error().is_none());
    let live = up.clone().filter(|(_, h)| h.is_live()).count();
    let connecting = up.count() - live;
    let mut spans = vec![Span::styled(
        format!("●{live} live"),
        Style::new().fg(theme.healthy),
    )];
    if connecting > 0 {
        spans.push(Span::styled(
            format!(" ◌{connecting} connecting"),
            Style::new().fg(theme.warning),
        ));
    }
    spans
}

/// "● prod-eu" when live, "◌ prod-eu" while connecting, and the error with
/// the data's age when a watch is down (the age alone when space is short).
fn context_spans(
    state: &State,
    context: &str,
    health: &ContextHealth,
    theme: &Theme,
    detail: Detail,
) -> Vec<Span<'static>> {
    if let Some(error) = health.error() {
        let style = Style::new().fg(theme.error);
        // Data shown as last seen is stale; a context never listed has none.
        let stale = if health.listed.is_empty() {
            String::new()
        } else {
            format!(" stale {}", age_at(state.now, health.stale_since))
        };
        let why = if detail >= Detail::ErrorsCut {
            stale
        } else if stale.is_empty() {
            format!(": {error}")
        } else {
            format!("{stale}: {error}")
        };
        return vec![
            Span::styled(format!("✖ {context}"), style.add_modifier(Modifier::BOLD)),
            Span::styled(why, style),
        ];
    }
    let (icon, color) = if health.is_live() {
        ("●", theme.healthy)
    } else {
        ("◌", theme.warning)
    };
    let mut spans = vec![
        Span::styled(format!("{icon} "), Style::new().fg(color)),
        Span::raw(context.to_string()),
    ];
    if health.insecure {
        spans.push(Span::styled(
            " ⚠ TLS not verified",
            Style::new().fg(theme.warning),
        ));
    }
    spans
}

/// When the next text of this line that moves with the clock (how long a
/// context has been down) changes.
pub fn next_change(state: &State) -> Option<Timestamp> {
    state
        .contexts
        .iter()
        .filter(|(_, h)| h.error().is_some())
        .filter_map(|(_, h)| h.stale_since)
        .map(|since| age_changes_at(since, state.now))
        .min()
}

//! The fleet pane: one row per rollout, most urgent first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::format::age_at;
use super::{Theme, phase_icon};
use crate::app::{ActionState, Focus, State};
use crate::model::verdict::Outcome;
use crate::model::{Rollout, Strategy};

#[derive(Clone, Copy, PartialEq)]
enum Column {
    Name,
    Namespace,
    Context,
    Strategy,
    Phase,
    Step,
    Weight,
    Verdict,
    Age,
}

/// Columns with their width; listed in the order they are dropped when the
/// pane is narrow (last dropped first).
const COLUMNS: [(Column, &str, u16); 9] = [
    (Column::Name, "NAME", 14),
    (Column::Step, "STEP", 5),
    (Column::Weight, "WT", 4),
    (Column::Verdict, "VERDICT", 7),
    (Column::Context, "CONTEXT", 11),
    (Column::Age, "AGE", 4),
    (Column::Phase, "PHASE", 11),
    (Column::Namespace, "NAMESPACE", 10),
    (Column::Strategy, "STRATEGY", 10),
];

fn fitting_columns(width: u16) -> Vec<(Column, &'static str, u16)> {
    // The icon column and one space between columns.
    let mut used = 2;
    let mut out = Vec::new();
    for (column, title, min) in COLUMNS {
        if used + min + 1 > width {
            break;
        }
        used += min + 1;
        out.push((column, title, min));
    }
    // Show them in reading order.
    let order = [
        Column::Name,
        Column::Namespace,
        Column::Context,
        Column::Strategy,
        Column::Phase,
        Column::Step,
        Column::Weight,
        Column::Verdict,
        Column::Age,
    ];
    out.sort_by_key(|(c, ..)| order.iter().position(|o| o == c));
    out
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = if state.filter.is_empty() {
        format!(" FLEET {} ", state.view.len())
    } else {
        format!(" FLEET {} matching /{} ", state.view.len(), state.filter)
    };
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(state.focus == Focus::Fleet));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.view.is_empty() {
        frame.render_widget(
            Paragraph::new(empty_text(state)).style(theme.muted()),
            inner,
        );
        return;
    }
    let columns = fitting_columns(inner.width);
    let rows_on_screen = inner.height.saturating_sub(1) as usize;
    let rows = state
        .view
        .iter()
        .enumerate()
        .skip(state.offset)
        .take(rows_on_screen)
        .filter_map(|(i, key)| Some((i, state.rollouts.get(key)?)))
        .map(|(i, rollout)| {
            let row = row(rollout, &columns, state, theme);
            if i == state.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(columns.iter().map(|(c, _, w)| match c {
        Column::Name => Constraint::Min(*w),
        _ => Constraint::Length(*w),
    }));
    let header = Row::new(std::iter::once("").chain(columns.iter().map(|(_, t, _)| *t)))
        .style(theme.muted().add_modifier(Modifier::BOLD));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}

fn row<'a>(
    rollout: &'a Rollout,
    columns: &[(Column, &str, u16)],
    state: &State,
    theme: &Theme,
) -> Row<'a> {
    let phase_style = theme.phase(rollout.phase);
    let mut cells = vec![Line::styled(phase_icon(rollout.phase), phase_style)];
    for (column, ..) in columns {
        cells.push(match column {
            Column::Name => name_cell(rollout, state, theme),
            Column::Namespace => Line::raw(rollout.key.namespace.as_str()),
            Column::Context => Line::raw(rollout.key.context.as_str()),
            Column::Strategy => Line::raw(rollout.strategy.label()),
            Column::Phase => Line::styled(rollout.phase.label(), phase_style),
            Column::Step => Line::raw(rollout.step_label().unwrap_or_default()),
            Column::Weight => weight_cell(rollout, theme),
            Column::Verdict => verdict_cell(rollout, state, theme),
            Column::Age => Line::styled(age_at(state.now, rollout.since), theme.muted()),
        });
    }
    Row::new(cells)
}

/// The name, and the action in flight on it (or the one that failed).
fn name_cell<'a>(rollout: &'a Rollout, state: &State, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(rollout.key.name.as_str())];
    match state.actions.get(&rollout.key) {
        Some(ActionState::Pending { action, .. }) => spans.push(Span::styled(
            format!(" ⟳ {}", action.verb()),
            Style::new().fg(theme.accent).add_modifier(Modifier::BOLD),
        )),
        Some(ActionState::Failed { action, .. }) => spans.push(Span::styled(
            format!(" ✖ {} failed", action.verb()),
            Style::new().fg(theme.error),
        )),
        None => {}
    }
    Line::from(spans)
}

/// The canary verdict in a word: PASS, MARG, FAIL, or WAIT while data is
/// short; `?` when the metrics backend is down.
fn verdict_cell(rollout: &Rollout, state: &State, theme: &Theme) -> Line<'static> {
    match state.metrics.get(&rollout.key) {
        None => Line::raw(""),
        Some(Err(_)) => Line::styled("?", Style::new().fg(theme.warning)),
        Some(Ok(report)) => {
            let (word, style) = match report.verdict.outcome {
                Outcome::Pass => ("PASS", Style::new().fg(theme.healthy)),
                Outcome::Marginal => ("MARG", Style::new().fg(theme.warning)),
                Outcome::Fail => (
                    "FAIL",
                    Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
                ),
                Outcome::InsufficientData { .. } => ("WAIT", theme.muted()),
            };
            Line::styled(word, style)
        }
    }
}

fn weight_cell(rollout: &Rollout, theme: &Theme) -> Line<'static> {
    match rollout.strategy {
        Strategy::Canary { .. } if rollout.actual_weight > 0 && rollout.actual_weight < 100 => {
            Line::styled(
                format!("{}%", rollout.actual_weight),
                Style::new().fg(theme.canary),
            )
        }
        _ => Line::raw(""),
    }
}

fn empty_text(state: &State) -> String {
    if !state.filter.is_empty() {
        return format!(
            "No rollout matches /{} (esc clears the filter)",
            state.filter
        );
    }
    if state.contexts.iter().all(|(_, h)| h.listed.is_empty()) {
        let names: Vec<&str> = state.contexts.iter().map(|(c, _)| c.as_str()).collect();
        return format!("Connecting to {}…", names.join(", "));
    }
    "No rollouts in scope.".to_string()
}

/// The texts of this pane that move with the clock: the visible ages.
pub fn clock_texts(state: &State) -> impl Iterator<Item = String> + '_ {
    let rows = super::layout::fleet_rows(state.size);
    state
        .view
        .iter()
        .skip(state.offset)
        .take(rows)
        .filter_map(|k| state.rollouts.get(k))
        .map(|r| age_at(state.now, r.since))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_panes_drop_the_least_useful_columns_first() {
        let names = |w| {
            fitting_columns(w)
                .iter()
                .map(|(_, t, _)| *t)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(78),
            [
                "NAME",
                "NAMESPACE",
                "CONTEXT",
                "PHASE",
                "STEP",
                "WT",
                "VERDICT",
                "AGE"
            ]
        );
        assert_eq!(
            names(55),
            ["NAME", "CONTEXT", "STEP", "WT", "VERDICT", "AGE"]
        );
        assert_eq!(names(30), ["NAME", "STEP", "WT"]);
    }
}

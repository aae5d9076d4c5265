//! The fleet pane: one row per rollout, most urgent first.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Paragraph};

use super::cells;
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
    // Written cell by cell rather than through `Table`: this pane is most
    // of every frame, and a `Table` builds and lays out a `Row` of `Line`s
    // per rollout each time.
    let buf = frame.buffer_mut();
    let columns = placed_columns(inner);
    buf.set_style(
        Rect::new(inner.x, inner.y, inner.width, 1),
        theme.muted().add_modifier(Modifier::BOLD),
    );
    for (_, title, x, width) in &columns {
        cells::put(buf, (*x, inner.y), title, *width as usize, Style::new());
    }
    let rows = state
        .view
        .iter()
        .enumerate()
        .skip(state.offset)
        .take(inner.height.saturating_sub(1) as usize)
        .filter_map(|(i, key)| Some((i, state.rollouts.get(key)?)));
    for (y, (i, rollout)) in (inner.y + 1..).zip(rows) {
        if i == state.cursor {
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), theme.selected());
        }
        cells::put(
            buf,
            (inner.x, y),
            phase_icon(rollout.phase),
            1,
            theme.phase(rollout.phase),
        );
        for &(column, _, x, width) in &columns {
            let width = usize::from(width);
            let Some((text, style)) = cell(column, rollout, state, theme) else {
                continue;
            };
            let end = cells::put(buf, (x, y), &text, width, style);
            if column == Column::Name {
                let room = width.saturating_sub(usize::from(end - x));
                action_mark(buf, (end, y), room, rollout, state, theme);
            }
        }
    }
}

/// What a column shows for a rollout, if anything.
fn cell<'a>(
    column: Column,
    rollout: &'a Rollout,
    state: &State,
    theme: &Theme,
) -> Option<(Cow<'a, str>, Style)> {
    let plain = |text: &'a str| Some((Cow::Borrowed(text), Style::new()));
    match column {
        Column::Name => plain(&rollout.key.name),
        Column::Namespace => plain(&rollout.key.namespace),
        Column::Context => plain(&rollout.key.context),
        Column::Strategy => plain(rollout.strategy.label()),
        Column::Phase => Some((rollout.phase.label().into(), theme.phase(rollout.phase))),
        Column::Step => Some((rollout.step_label()?.into(), Style::new())),
        Column::Weight => Some((
            format!("{}%", shown_weight(rollout)?).into(),
            Style::new().fg(theme.canary),
        )),
        Column::Verdict => verdict_cell(rollout, state, theme).map(|(w, s)| (w.into(), s)),
        Column::Age => Some((age_at(state.now, rollout.since).into(), theme.muted())),
    }
}

/// The columns that fit in `inner`, each with its left edge and width: the
/// phase icon first, one space between columns, and the name taking what
/// the others leave.
fn placed_columns(inner: Rect) -> Vec<(Column, &'static str, u16, u16)> {
    let columns = fitting_columns(inner.width);
    let fixed: u16 = columns
        .iter()
        .filter(|(c, ..)| *c != Column::Name)
        .map(|(_, _, w)| w + 1)
        .sum();
    let name_width = inner.width.saturating_sub(2 + fixed);
    let mut x = inner.x + 2;
    columns
        .into_iter()
        .map(|(column, title, width)| {
            let width = if column == Column::Name {
                name_width
            } else {
                width
            };
            let placed = (column, title, x, width);
            x += width + 1;
            placed
        })
        .collect()
}

/// After the name: the action in flight on the rollout, or the one that
/// failed.
fn action_mark(
    buf: &mut Buffer,
    at: (u16, u16),
    room: usize,
    rollout: &Rollout,
    state: &State,
    theme: &Theme,
) {
    let (mark, style) = match state.actions.get(&rollout.key) {
        Some(ActionState::Pending { action, .. }) => (
            format!(" ⟳ {}", action.verb()),
            Style::new().fg(theme.accent).add_modifier(Modifier::BOLD),
        ),
        Some(ActionState::Failed { action, .. }) => (
            format!(" ✖ {} failed", action.verb()),
            Style::new().fg(theme.error),
        ),
        None => return,
    };
    cells::put(buf, at, &mark, room, style);
}

/// The canary verdict in a word: PASS, MARG, FAIL, or WAIT while data is
/// short; `?` when the metrics backend is down or its queries fail.
fn verdict_cell(rollout: &Rollout, state: &State, theme: &Theme) -> Option<(&'static str, Style)> {
    Some(match state.metrics.get(&rollout.key)? {
        Err(_) => ("?", Style::new().fg(theme.warning)),
        Ok(report) => match report.verdict.outcome {
            Outcome::Pass => ("PASS", Style::new().fg(theme.healthy)),
            Outcome::Marginal => ("MARG", Style::new().fg(theme.warning)),
            Outcome::Fail => (
                "FAIL",
                Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
            ),
            Outcome::InsufficientData { .. } => ("WAIT", theme.muted()),
            Outcome::NoData => ("?", Style::new().fg(theme.warning)),
        },
    })
}

/// A canary's weight while it is between none and all of the traffic.
fn shown_weight(rollout: &Rollout) -> Option<u32> {
    match rollout.strategy {
        Strategy::Canary { .. } if rollout.actual_weight > 0 && rollout.actual_weight < 100 => {
            Some(rollout.actual_weight)
        }
        _ => None,
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

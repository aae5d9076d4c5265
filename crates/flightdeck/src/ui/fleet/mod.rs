//! The fleet pane: one row per rollout, most urgent first.

use std::borrow::Cow;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Paragraph};

use super::cells;
use super::format::{fit, fit_middle, minute_age_at};
use super::{Theme, phase_icon};
use crate::app::{ActionState, Focus, State};
use crate::model::Outcome;
use crate::model::{Rollout, Strategy, minute_age_changes_at};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Column {
    /// The kind of workload, one letter (the help has the legend); shown when the
    /// fleet holds more than one kind.
    Kind,
    Name,
    Namespace,
    Context,
    Strategy,
    Phase,
    Step,
    Weight,
    Verdict,
    /// How long the rollout has been in its current step or state.
    InStep,
    /// The object's age.
    Age,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Kind => "K",
            Column::Name => "NAME",
            Column::Namespace => "NAMESPACE",
            Column::Context => "CONTEXT",
            Column::Strategy => "STRATEGY",
            Column::Phase => "PHASE",
            Column::Step => "STEP",
            Column::Weight => "WT",
            Column::Verdict => "VERDICT",
            Column::InStep => "IN STEP",
            Column::Age => "AGE",
        }
    }
}

/// Reading order, left to right.
const ORDER: [Column; 11] = [
    Column::Kind,
    Column::Name,
    Column::Namespace,
    Column::Context,
    Column::Strategy,
    Column::Phase,
    Column::Step,
    Column::Weight,
    Column::Verdict,
    Column::InStep,
    Column::Age,
];

/// What the columns are fitted to: the data's widths, and whether the
/// context and namespace are needed to tell rows apart.
#[derive(Debug, Clone, Copy)]
struct Fit {
    width: u16,
    name: usize,
    namespace: usize,
    context: usize,
    /// More than one context is shown.
    contexts: bool,
    /// A name is used in two namespaces: the namespace tells them apart.
    names_repeat: bool,
    /// More than one kind of workload is shown.
    kinds: bool,
}

/// The columns that fit, each with its left edge (from the pane's inner
/// left) and width. The core columns come at their smallest (name, step,
/// weight, verdict, time in step, and the context and namespace where they
/// tell rows apart); the others join by importance while the name, context
/// and namespace keep room for their data; what is left widens the
/// context, the name and the namespace up to their data, then the name.
/// Longer names, contexts and namespaces are shortened from the middle, so
/// that `sim-prod-eu-readonly` and EKS ARNs stay distinguishable.
fn fit_columns(fit: Fit) -> Vec<(Column, u16, u16)> {
    let data = |n: usize, min: u16, title: &str| {
        let n = u16::try_from(n).unwrap_or(u16::MAX);
        (min.min(n.max(4)), n.max(title.len() as u16))
    };
    // (smallest, as wide as the data)
    let wanted = |column: Column| -> (u16, u16) {
        match column {
            Column::Kind => (1, 1),
            Column::Name => data(fit.name, 10, "NAME"),
            Column::Namespace => data(fit.namespace, 6, "NAMESPACE"),
            Column::Context => data(fit.context, 8, "CONTEXT"),
            Column::Strategy => (10, 10),
            Column::Phase => (11, 11),
            Column::Step => (5, 5),
            Column::Weight => (4, 4),
            Column::Verdict => (7, 7),
            Column::InStep => (7, 7),
            Column::Age => (5, 5),
        }
    };
    // Room the name, context and namespace want, up to a comfortable width.
    let comfort = |columns: &[(Column, u16)]| -> u16 {
        columns
            .iter()
            .filter(|(c, _)| matches!(c, Column::Name | Column::Context | Column::Namespace))
            .map(|(c, width)| wanted(*c).1.min(20).saturating_sub(*width))
            .sum()
    };
    let mut core = vec![Column::Name, Column::Step, Column::Weight, Column::Verdict];
    if fit.kinds {
        core.insert(0, Column::Kind);
    }
    if fit.contexts {
        core.push(Column::Context);
    }
    if fit.names_repeat {
        core.push(Column::Namespace);
    }
    core.push(Column::InStep);
    let mut others = vec![Column::Phase];
    if !fit.names_repeat {
        others.push(Column::Namespace);
    }
    others.extend([Column::Age, Column::Strategy]);
    // The phase icon and a space take two cells; each column one more after it.
    let mut used: u16 = 2;
    let mut chosen: Vec<(Column, u16)> = Vec::new();
    for column in core {
        let (min, _) = wanted(column);
        if used + min + 1 > fit.width {
            break;
        }
        used += min + 1;
        chosen.push((column, min));
    }
    for column in others {
        let (min, most) = wanted(column);
        let width = if column == Column::Namespace {
            most.min(20)
        } else {
            min
        };
        if used + width + 1 + comfort(&chosen) > fit.width {
            break;
        }
        used += width + 1;
        chosen.push((column, width));
    }
    let mut room = fit.width.saturating_sub(used);
    // To a comfortable width first (the context first: it says where an
    // action goes), then to the data's.
    for cap in [20, u16::MAX] {
        for widened in [Column::Context, Column::Name, Column::Namespace] {
            if let Some((_, width)) = chosen.iter_mut().find(|(c, _)| *c == widened) {
                let more = wanted(widened).1.min(cap).saturating_sub(*width).min(room);
                *width += more;
                room -= more;
            }
        }
    }
    if let Some((_, width)) = chosen.iter_mut().find(|(c, _)| *c == Column::Name) {
        *width += room;
    }
    chosen.sort_by_key(|(c, _)| ORDER.iter().position(|o| o == c));
    let mut x = 2;
    chosen
        .into_iter()
        .map(|(column, width)| {
            let placed = (column, x, width);
            x += width + 1;
            placed
        })
        .collect()
}

/// What the fleet cannot show or do, a line each: contexts that never
/// listed and why (`true`: an error), contexts watched only in some
/// namespaces and why, an audit trail that cannot be written.
fn never_connected(state: &State) -> Vec<(String, bool)> {
    let in_scope = |c: &String| state.context_scope.as_ref().is_none_or(|s| s == c);
    let mut lines: Vec<(String, bool)> = state
        .contexts
        .iter()
        .filter(|(c, h)| h.listed.is_empty() && in_scope(c))
        .filter_map(|(c, h)| Some((format!("✖ {c}: {}", h.error()?), true)))
        .collect();
    lines.extend(
        state
            .contexts
            .iter()
            .filter(|(c, _)| in_scope(c))
            .filter_map(|(c, h)| Some((format!("⚠ {c}: {}", h.scoped.as_ref()?), false))),
    );
    if let Some(problem) = &state.audit_unwritable {
        lines.push((
            format!("✖ no action will be sent: the audit trail cannot be written: {problem}"),
            true,
        ));
    }
    lines
}

/// Draws the pane; returns how many rollout rows fit in it.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) -> usize {
    let down = never_connected(state);
    let block_inner = Block::bordered().inner(area);
    let rows = usize::from(block_inner.height.saturating_sub(1)).saturating_sub(down.len());
    let block = Block::bordered()
        .title(title(state, rows))
        .border_style(theme.border(state.focus == Focus::Fleet));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let buf = frame.buffer_mut();
    let first = inner.y + inner.height.saturating_sub(down.len() as u16);
    for (y, (line, error)) in (first..).zip(&down) {
        let color = if *error { theme.error } else { theme.warning };
        cells::put(
            buf,
            (inner.x, y),
            &fit(line, usize::from(inner.width)),
            usize::from(inner.width),
            Style::new().fg(color),
        );
    }
    if state.view.is_empty() {
        let text = empty_text(state);
        let room = Rect {
            height: inner.height.saturating_sub(down.len() as u16),
            ..inner
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.muted())
                .wrap(ratatui::widgets::Wrap { trim: true }),
            room,
        );
        return rows;
    }
    // Written cell by cell rather than through `Table`: this pane is most
    // of every frame, and a `Table` builds and lays out a `Row` of `Line`s
    // per rollout each time.
    let widths = state.view.widths();
    let shown_contexts: Vec<&str> = state
        .contexts
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| state.context_scope.as_deref().is_none_or(|s| s == *c))
        .collect();
    let columns = fit_columns(Fit {
        width: inner.width,
        name: widths.name,
        namespace: widths.namespace,
        context: shown_contexts
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0),
        contexts: shown_contexts.len() > 1,
        names_repeat: widths.names_repeat,
        kinds: widths.kinds,
    });
    buf.set_style(
        Rect::new(inner.x, inner.y, inner.width, 1),
        theme.muted().add_modifier(Modifier::BOLD),
    );
    for &(column, x, width) in &columns {
        let title = column.title();
        cells::put(
            buf,
            (inner.x + x, inner.y),
            title,
            width.into(),
            Style::new(),
        );
    }
    let shown = state
        .view
        .iter()
        .enumerate()
        .skip(state.offset)
        .take(rows)
        .filter_map(|(i, key)| Some((i, state.rollouts.get(key)?)));
    for (y, (i, rollout)) in (inner.y + 1..).zip(shown) {
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
        for &(column, x, width) in &columns {
            let (x, width) = (inner.x + x, usize::from(width));
            let Some((text, style)) = cell(column, rollout, state, theme) else {
                continue;
            };
            let cut = matches!(column, Column::Name | Column::Namespace | Column::Context)
                && text.len() > width
                && text.chars().count() > width;
            let text = if cut {
                Cow::Owned(fit_middle(&text, width))
            } else {
                text
            };
            let end = cells::put(buf, (x, y), &text, width, style);
            if column == Column::Name {
                let room = width.saturating_sub(usize::from(end - x));
                action_mark(buf, (end, y), room, rollout, state, theme);
            }
        }
    }
    rows
}

/// " FLEET 120 · 41–80 " when the rows do not all fit; the filter if any.
fn title(state: &State, rows: usize) -> String {
    let total = state.view.len();
    let mut title = format!(" FLEET {total}");
    if !state.filter.is_empty() {
        title += &format!(" matching /{}", state.filter);
    }
    if total > rows && rows > 0 {
        let first = state.offset + 1;
        let last = (state.offset + rows).min(total);
        title += &format!(" · {first}–{last}");
    }
    title + " "
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
        Column::Kind => Some((
            rollout.workload.letter().into(),
            theme.muted().add_modifier(Modifier::BOLD),
        )),
        Column::Name => plain(&rollout.key.name),
        Column::Namespace => plain(&rollout.key.namespace),
        Column::Context => plain(&rollout.key.context),
        Column::Strategy => plain(match (&rollout.flagger, &rollout.deployment) {
            (Some(f), _) => f.strategy.label(),
            (_, Some(_)) => "rolling",
            _ => rollout.strategy.label(),
        }),
        Column::Phase => Some((
            super::format::fleet_phase(rollout).into(),
            theme.phase(rollout.phase),
        )),
        Column::Step => Some((rollout.step_label()?.into(), Style::new())),
        Column::Weight => Some((
            format!("{}%", shown_weight(rollout)?).into(),
            Style::new().fg(theme.canary),
        )),
        Column::Verdict => verdict_cell(rollout, state, theme).map(|(w, s)| (w.into(), s)),
        Column::InStep => Some((
            minute_age_at(state.now, rollout.since.get()).into(),
            theme.muted(),
        )),
        Column::Age => Some((
            minute_age_at(state.now, rollout.created.get()).into(),
            theme.muted(),
        )),
    }
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
    let waiting: Vec<&str> = state
        .contexts
        .iter()
        .filter(|(_, h)| h.listed.is_empty() && h.error().is_none())
        .map(|(c, _)| c.as_str())
        .collect();
    if !waiting.is_empty() {
        return format!("Connecting to {}…", waiting.join(", "));
    }
    "No rollouts in scope.".to_string()
}

/// When the next text of this pane that moves with the clock (the ages of
/// the `rows` rows on screen) changes.
pub fn next_change(state: &State, rows: usize) -> Option<Timestamp> {
    state
        .view
        .iter()
        .skip(state.offset)
        .take(rows)
        .filter_map(|k| state.rollouts.get(k))
        .flat_map(|r| [r.since.get(), r.created.get()])
        .flatten()
        .map(|since| minute_age_changes_at(since, state.now))
        .min()
}

#[cfg(test)]
mod tests;

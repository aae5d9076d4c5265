//! The changes view (`:changes`): every deploy and action across the contexts, newest
//! first: when, what kind of workload and which, what (old → new image), who, the
//! outcome so far, the verdicts it had and, for
//! a failed deploy, the traffic it took.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Theme;
use super::dora_strip::{exposure, short_images};
use super::dora_view::{body, hint};
use super::format::{fit, fit_left};
use crate::app::{HistoryView, State};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    view: &HistoryView,
) -> (usize, usize) {
    let area = body(area);
    let d = &state.dora;
    let title = format!(
        " changes · last {} · {} ",
        d.window.label(),
        d.changes.len()
    );
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(true));
    let inner = block.inner(area);
    let rows = usize::from(inner.height.saturating_sub(2));
    let width = usize::from(inner.width);
    // WHEN 11, K 1, WORKLOAD, WHAT, WHO 10, OUTCOME 11, VERDICT 14, EXPOSURE 28, a
    // space each.
    let workload = 20.min(width / 5);
    let what = width
        .saturating_sub(12 + 2 + workload + 1 + 1 + 11 + 12 + 15 + 28)
        .clamp(10, 60);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let cell =
        |text: &str, w: usize, style: Style| Span::styled(format!("{:<w$} ", fit(text, w)), style);
    let mut lines = vec![Line::from(vec![
        cell("WHEN", 11, bold),
        cell("K", 1, bold),
        cell("WORKLOAD", workload, bold),
        cell("WHAT", what, bold),
        cell("WHO", 10, bold),
        cell("OUTCOME", 11, bold),
        cell("VERDICT", 14, bold),
        Span::styled("EXPOSURE", bold),
    ])];
    if d.changes.is_empty() {
        lines.push(Line::styled("no change in this window", theme.muted()));
    }
    let offset = view.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, row) in d.changes.iter().enumerate().skip(offset).take(rows) {
        let outcome_style = match row.outcome.as_str() {
            "aborted" | "rolled back" | "undone" => Style::new().fg(theme.error),
            "succeeded" => Style::new().fg(theme.healthy),
            "in progress" => Style::new().fg(theme.progressing),
            _ => theme.muted(),
        };
        let when = row.at.strftime("%m-%d %H:%M").to_string();
        let name = format!("{}/{}", row.key.namespace, row.key.name);
        let mut line = Line::from(vec![
            cell(&when, 11, theme.muted()),
            cell(row.kind.letter(), 1, theme.muted()),
            cell(&name, workload, Style::new()),
            Span::styled(
                format!("{:<what$} ", fit_left(&short_images(&row.what), what)),
                if row.action {
                    Style::new().fg(theme.accent)
                } else {
                    Style::new()
                },
            ),
            cell(&row.who, 10, Style::new()),
            cell(&row.outcome, 11, outcome_style),
            cell(
                &row.verdict_trail(true).replace(" score ", " "),
                14,
                Style::new(),
            ),
            Span::raw(row.exposure.as_ref().map(exposure).unwrap_or_default()),
        ]);
        if i == view.cursor {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    let footer = Rect {
        y: inner.y + inner.height.saturating_sub(1),
        height: 1,
        ..inner
    };
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
    frame.render_widget(Line::styled(hint(state, false), theme.muted()), footer);
    (d.changes.len(), rows)
}

//! The DORA view (`:dora`): a table of each workload's figures with their bands and
//! week-by-week sparklines, sorted by a column.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Theme;
use super::dora_strip::{band_style, duration, per_day, rate};
use super::format::fit;
use crate::app::{Action, DORA_COLUMNS, HistoryView, KeyMode, State};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `▁▃█▂`: each week's count against the highest.
pub fn sparkline(counts: &[u64]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&c| match (c, max) {
            (0, _) => ' ',
            (_, 0) => BARS[0],
            (c, max) => BARS[((c * 7).div_ceil(max) as usize).min(7)],
        })
        .collect()
}

/// The body of the screen, below the header and above the footer.
pub fn body(area: Rect) -> Rect {
    Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(2),
        ..area
    }
}

pub fn hint(state: &State, sort: bool) -> String {
    let k = |a| state.keymap.hint(KeyMode::History, a);
    let mut parts = vec![
        format!("{}{} move", k(Action::Up), k(Action::Down)),
        format!("{} window", k(Action::Window)),
    ];
    if sort {
        parts.push(format!("{} sort", k(Action::Sort)));
    }
    parts.push(format!("{} go to the rollout", k(Action::Choose)));
    parts.push(format!("{} back", k(Action::Close)));
    parts.join(" · ")
}

/// Draws the view; returns how many rows there are and how many show.
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
        " DORA · {} · {} workloads · sorted by {} ",
        d.window.label(),
        d.rows.len(),
        DORA_COLUMNS[d.sort]
    );
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(true));
    let inner = block.inner(area);
    let rows = usize::from(inner.height.saturating_sub(2));
    let width = usize::from(inner.width);
    let name_width = width.saturating_sub(68).clamp(12, 48);
    let head = |i: usize, text: &str, w: usize| {
        let marked = if d.sort == i {
            format!("{text}▼")
        } else {
            text.to_string()
        };
        Span::styled(
            format!("{:<w$} ", fit(&marked, w)),
            Style::new().add_modifier(Modifier::BOLD),
        )
    };
    let mut lines = vec![Line::from(vec![
        Span::styled("K ", Style::new().add_modifier(Modifier::BOLD)),
        head(0, "WORKLOAD", name_width),
        head(1, "DEPLOYS/DAY", 11),
        head(2, "LEAD TIME", 9),
        head(3, "CHANGE FAIL", 11),
        head(4, "RECOVERY", 8),
        head(5, "REWORK", 6),
        Span::styled("WEEKS", Style::new().add_modifier(Modifier::BOLD)),
    ])];
    if d.rows.is_empty() {
        lines.push(Line::styled("no deploys seen yet", theme.muted()));
    }
    let offset = view.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, row) in d.rows.iter().enumerate().skip(offset).take(rows) {
        let f = &row.figures;
        let cell = |text: String, w: usize, style: Style| {
            Span::styled(format!("{:<w$} ", fit(&text, w)), style)
        };
        let name = format!("{}/{}/{}", row.key.context, row.key.namespace, row.key.name);
        let fails = format!("{} {}/{}", rate(f.change_fail_rate), f.failed, f.deploys);
        let mut line = Line::from(vec![
            cell(row.kind.letter().to_string(), 1, theme.muted()),
            cell(name, name_width, Style::new()),
            cell(per_day(f), 11, band_style(f.frequency_band(), theme)),
            cell(
                duration(f.lead_time),
                9,
                band_style(f.lead_time_band(), theme),
            ),
            cell(fails, 11, band_style(f.change_fail_band(), theme)),
            cell(
                duration(f.recovery),
                8,
                band_style(f.recovery_band(), theme),
            ),
            cell(rate(f.rework_rate), 6, Style::new()),
            Span::styled(sparkline(&row.weekly), Style::new().fg(theme.accent)),
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
    frame.render_widget(Line::styled(hint(state, true), theme.muted()), footer);
    (d.rows.len(), rows)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sparklines_scale_to_the_busiest_week() {
        assert_eq!(super::sparkline(&[0, 1, 4, 8]), " ▂▅█");
        assert_eq!(super::sparkline(&[0, 0]), "  ");
    }
}

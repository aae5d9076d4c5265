//! The confirm dialog: what the action does to live traffic, before → after,
//! with the context and namespace in plain sight.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::Theme;
use crate::app::{Confirm, State};
use crate::model::{BlastRadius, Strategy, TrafficBasis};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, confirm: &Confirm, theme: &Theme) {
    let key = &confirm.key;
    let strategy = state.rollouts.get(key).map(|r| r.strategy);
    let (old, new) = match strategy {
        Some(Strategy::BlueGreen) => ("active", "preview"),
        _ => ("stable", "canary"),
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let danger = confirm.action.needs_typed_confirmation();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", confirm.action),
                bold.fg(if danger { theme.error } else { theme.accent }),
            ),
            Span::styled(key.name.clone(), bold),
            Span::raw("?"),
        ]),
        Line::from(vec![
            Span::styled("context ", theme.muted()),
            Span::styled(key.context.clone(), bold),
            Span::styled("  namespace ", theme.muted()),
            Span::styled(key.namespace.clone(), bold),
        ]),
        Line::raw(""),
        Line::styled("traffic        now  →  after", theme.muted()),
    ];
    let r = &confirm.radius;
    let share = |label: &str, before: u32, after: u32, color| {
        Line::from(vec![
            Span::styled(format!("{label:<10}"), Style::new().fg(color)),
            Span::raw(format!("{before:>7}%  →  {after:>3}%")),
        ])
    };
    lines.push(share(
        old,
        100 - r.new_before,
        100 - r.new_after,
        theme.stable,
    ));
    lines.push(share(new, r.new_before, r.new_after, theme.canary));
    lines.extend(moves(r, theme));
    lines.push(Line::from(vec![
        Span::styled("pods      ", theme.muted()),
        Span::raw(pods(r)),
    ]));
    if let Some(note) = r.note {
        lines.push(Line::styled(note, theme.muted()));
    }
    lines.push(Line::raw(""));
    match &confirm.typed {
        Some(typed) => {
            lines.push(Line::from(vec![Span::styled(
                "production: type the rollout's name to confirm: ",
                Style::new().fg(theme.warning),
            )]));
            lines.push(Line::from(vec![
                Span::styled(format!("> {typed}"), bold),
                Span::styled("▏", Style::new().fg(theme.accent)),
            ]));
            lines.push(Line::styled("enter confirm · esc cancel", theme.muted()));
        }
        None => lines.push(Line::from(vec![
            Span::styled("enter", bold.fg(theme.accent)),
            Span::styled("/", theme.muted()),
            Span::styled("y", bold.fg(theme.accent)),
            Span::styled(" confirm · ", theme.muted()),
            Span::styled("esc", bold.fg(theme.accent)),
            Span::styled("/", theme.muted()),
            Span::styled("n", bold.fg(theme.accent)),
            Span::styled(" cancel", theme.muted()),
        ])),
    }
    let popup = super::layout::modal(area, 64, lines.len());
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" blast radius ")
        .border_style(Style::new().fg(if danger { theme.error } else { theme.accent }));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
}

/// "20% of traffic changes version", then the rate it carries:
/// "about 248 req/s (measured)", or why it is unknown.
fn moves(r: &BlastRadius, theme: &Theme) -> [Line<'static>; 2] {
    let rate = match (r.basis, r.moved_rps) {
        (TrafficBasis::Measured { .. }, Some(rps)) => {
            Span::raw(format!("about {} req/s (measured)", thousands(rps)))
        }
        _ => Span::styled("unknown: no metrics, shares from replicas", theme.muted()),
    };
    [
        Line::from(vec![
            Span::styled("moves     ", theme.muted()),
            Span::raw(format!("{}% of traffic changes version", r.moved_percent)),
        ]),
        Line::from(vec![Span::styled("rate      ", theme.muted()), rate]),
    ]
}

fn pods(r: &BlastRadius) -> String {
    match (r.pods_started, r.pods_stopped) {
        (0, 0) => "none started or stopped".into(),
        (started, 0) => format!("{started} started"),
        (0, stopped) => format!("{stopped} stopped"),
        (started, stopped) => format!("{started} started, {stopped} stopped"),
    }
}

/// 1240.4 → "1,240".
pub fn thousands(value: f64) -> String {
    let whole = value.round().max(0.0) as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(1240.4), "1,240");
        assert_eq!(super::thousands(999.0), "999");
        assert_eq!(super::thousands(1_234_567.0), "1,234,567");
    }
}

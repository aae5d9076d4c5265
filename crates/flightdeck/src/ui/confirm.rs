//! The confirm dialog: what the action does to live traffic, version by
//! version, before → after, with the context and namespace in plain sight,
//! the verdict, and anything that makes the action unusual now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::Theme;
use super::format::{fit_left, thousands};
use crossterm::event::KeyCode;

use crate::app::{Action, Confirm, KeyMode, State};
use crate::model::{BlastRadius, Role, RolloutAction, TrafficBasis, VersionChange};

/// The dialog's width, borders included: it fits an 80-column terminal.
const WIDTH: u16 = 66;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, confirm: &Confirm, theme: &Theme) {
    let key = &confirm.key;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let danger = confirm.action.needs_typed_confirmation();
    let mut title = vec![
        Span::styled(
            format!("{} ", confirm.action),
            bold.fg(if danger { theme.error } else { theme.accent }),
        ),
        Span::styled(key.name.clone(), bold),
    ];
    if let Some(image) = undo_image(confirm) {
        title.push(Span::styled(format!(" ({image})"), theme.muted()));
    }
    title.push(Span::raw("?"));
    let mut lines = vec![
        Line::from(title),
        Line::from(vec![
            Span::styled("context ", theme.muted()),
            Span::styled(key.context.clone(), bold),
            Span::styled("  namespace ", theme.muted()),
            Span::styled(key.namespace.clone(), bold),
        ]),
        Line::raw(""),
    ];
    let r = &confirm.radius;
    if !r.versions.is_empty() {
        lines.push(Line::styled(
            format!("{:<34}{:<14}pods", "version", "traffic"),
            theme.muted(),
        ));
        lines.extend(r.versions.iter().map(|v| version_line(v, theme)));
    }
    lines.extend(moves(r, theme));
    lines.push(Line::from(vec![
        Span::styled("pods    ", theme.muted()),
        Span::raw(pods(r)),
    ]));
    if let Some(rolling) = r.rolling {
        lines.push(Line::styled(rolling.words(), theme.muted()));
    }
    if let Some(note) = r.note {
        lines.push(Line::styled(note, theme.muted()));
    }
    match state.metrics.get(key) {
        Some(Ok(report)) => lines.push(super::metrics::verdict_line(&report.verdict, theme)),
        Some(Err(down)) => lines.push(Line::styled(
            format!("verdict  none: metrics backend down: {down}"),
            Style::new().fg(theme.warning),
        )),
        None => {}
    }
    for warning in &confirm.warnings {
        lines.push(Line::styled(
            format!("⚠ {warning}"),
            Style::new().fg(theme.warning).add_modifier(Modifier::BOLD),
        ));
    }
    if let Err(reason) = &confirm.allowed {
        lines.push(Line::styled(
            format!("✗ no longer applies: {reason}; confirming sends nothing"),
            Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
        ));
    }
    lines.push(Line::raw(""));
    match &confirm.typed {
        Some(typed) => {
            lines.push(Line::styled(
                "production: type the rollout's name to confirm:",
                Style::new().fg(theme.warning),
            ));
            lines.push(Line::from(vec![
                Span::styled(format!("> {typed}"), bold),
                Span::styled("▏", Style::new().fg(theme.accent)),
            ]));
            // Characters are the name: only the keys that are not act.
            let named = |action| {
                let keys: Vec<String> = state
                    .keymap
                    .keys(KeyMode::Confirm, action)
                    .iter()
                    .filter(|k| !matches!(k.code, KeyCode::Char(_)))
                    .map(ToString::to_string)
                    .collect();
                keys.join("/")
            };
            lines.push(Line::styled(
                format!(
                    "{} confirm · {} cancel",
                    named(Action::Yes),
                    named(Action::No)
                ),
                theme.muted(),
            ));
        }
        None => lines.push(Line::from(vec![
            Span::styled(
                state.keymap.hint(KeyMode::Confirm, Action::Yes),
                bold.fg(theme.accent),
            ),
            Span::styled(" confirm · ", theme.muted()),
            Span::styled(
                state.keymap.hint(KeyMode::Confirm, Action::No),
                bold.fg(theme.accent),
            ),
            Span::styled(" cancel", theme.muted()),
        ])),
    }
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = text.line_count(WIDTH.saturating_sub(2).min(area.width.saturating_sub(2)));
    let popup = super::layout::modal(area, WIDTH, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" blast radius ")
        .border_style(Style::new().fg(if danger { theme.error } else { theme.accent }));
    frame.render_widget(text.block(block), popup);
}

/// The image an undo goes back to, as a person checks it before confirming.
fn undo_image(confirm: &Confirm) -> Option<String> {
    let RolloutAction::Undo {
        revision: Some(revision),
    } = confirm.action
    else {
        return None;
    };
    let version = confirm
        .radius
        .versions
        .iter()
        .find(|v| v.revision == Some(revision))?;
    version.image.as_deref().map(|i| fit_left(i, 30))
}

/// `stable  r2  …/checkout:v2.4.0   80% → 100%   8 → 10`.
fn version_line(v: &VersionChange, theme: &Theme) -> Line<'static> {
    let color = match v.role {
        Role::Stable | Role::Active => theme.stable,
        Role::Canary | Role::Preview => theme.canary,
        Role::Old => theme.accent,
    };
    let role = match v.role {
        Role::Old => "undo to",
        role => role.label(),
    };
    let revision = v.revision.map_or("r?".into(), |r| format!("r{r}"));
    let image = fit_left(v.image.as_deref().unwrap_or(""), 20);
    let mut pods = format!("{} → {}", v.pods_before, v.pods_after);
    if let Some(delay) = v.scale_down_after {
        pods += &format!(" in {delay}s");
    }
    Line::from(vec![
        Span::styled(format!("{role:<8}"), Style::new().fg(color)),
        Span::styled(format!("{revision:<4} "), theme.muted()),
        Span::raw(format!("{image:<20} ")),
        Span::raw(format!(
            "{:>3}% → {:>3}%   {pods}",
            v.share_before, v.share_after
        )),
    ])
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
            Span::styled("moves   ", theme.muted()),
            Span::raw(format!("{}% of traffic changes version", r.moved_percent)),
        ]),
        Line::from(vec![Span::styled("rate    ", theme.muted()), rate]),
    ]
}

/// "4 started, 4 stopped", with the delayed scale-downs said as such.
fn pods(r: &BlastRadius) -> String {
    let text = match (r.pods_started(), r.pods_stopped()) {
        (0, 0) => "none started or stopped".into(),
        (started, 0) => format!("{started} started"),
        (0, stopped) => format!("{stopped} stopped"),
        (started, stopped) => format!("{started} started, {stopped} stopped"),
    };
    let delayed: u32 = r
        .versions
        .iter()
        .filter(|v| v.scale_down_after.is_some())
        .map(|v| v.pods_before.saturating_sub(v.pods_after))
        .sum();
    match r.versions.iter().filter_map(|v| v.scale_down_after).max() {
        Some(delay) => format!("{text} ({delayed} of them after {delay}s)"),
        None => text,
    }
}

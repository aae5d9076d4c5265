//! The help overlay, generated from the active keymap, with a legend of the
//! marks the panes use; it scrolls when the terminal is short.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{Theme, overlay, phase_icon};
use crate::app::{KeyMode, State};
use crate::model::{Phase, Workload};

/// Draws the overlay scrolled `scroll` lines; returns its lines and how
/// many show.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    scroll: u16,
) -> (usize, usize) {
    let heading =
        |text: &'static str| Line::styled(text, theme.muted().add_modifier(Modifier::BOLD));
    let entry = |key: String, what: String| {
        Line::from(vec![
            Span::styled(format!("  {key:<16}"), Style::new().fg(theme.accent)),
            Span::raw(what),
        ])
    };
    let mut lines = Vec::new();
    for mode in KeyMode::ALL {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(heading(mode.title()));
        for (action, keys) in state.keymap.bindings(mode) {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            lines.push(entry(keys.join(" "), action.description(mode).to_string()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(entry("ctrl-c".into(), "quit, always".into()));
    lines.push(Line::raw(""));
    lines.push(heading("commands"));
    for (command, what) in [
        (":ctx NAME", "one context (:ctx alone: all)"),
        (":ns NAME", "one namespace (:ns alone: all)"),
        (
            ":kind NAME",
            "one kind: rollout, canary, deployment (alone: all)",
        ),
        (":messages", "every message of this session"),
        (":q", "quit"),
    ] {
        lines.push(entry(command.into(), what.into()));
    }
    lines.push(Line::raw(""));
    lines.push(heading("phases"));
    for phase in Phase::ALL {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<16}", phase_icon(phase)), theme.phase(phase)),
            Span::raw(phase.label()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(heading("kinds (column K)"));
    for kind in Workload::ALL {
        lines.push(entry(kind.letter().into(), kind.legend().into()));
    }
    lines.push(Line::raw(""));
    lines.push(heading("verdicts (canary against stable)"));
    for (word, what) in [
        ("PASS", "no metric is worse beyond its allowed change"),
        ("MARG", "marginal: the score is between the thresholds"),
        ("FAIL", "a critical metric, or the score, fails"),
        ("WAIT", "insufficient data: n/needed requests or samples"),
        ("?", "the metrics backend is down or answered garbage"),
        ("score n/100", "Kayenta's weighted score of the metrics"),
        ("▲ ▼", "the canary is worse: higher / lower than stable"),
        ("⟳ ✖", "an action in flight / an action that failed"),
    ] {
        lines.push(entry(word.into(), what.into()));
    }
    overlay::draw(frame, area, " help ", lines, scroll, &state.keymap, theme)
}

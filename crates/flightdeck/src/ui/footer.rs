//! The bottom line: the prompt while typing, a message, or the keys: the
//! selected rollout's actions (dimmed where they do not apply now) and hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::Theme;
use crate::app::{Action, Flash, Focus, KeyMode, Mode, State};
use crate::model::RolloutAction;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = match &state.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("/", Style::new().fg(theme.accent)),
            Span::raw(state.filter.clone()),
            Span::styled("▏", Style::new().fg(theme.accent)),
            Span::styled(
                format!(
                    "   {} keep · {} clear · {}{} move",
                    state.keymap.hint(KeyMode::Filter, Action::Keep),
                    state.keymap.hint(KeyMode::Filter, Action::Cancel),
                    state.keymap.hint(KeyMode::Filter, Action::Up),
                    state.keymap.hint(KeyMode::Filter, Action::Down),
                ),
                theme.muted(),
            ),
        ]),
        Mode::Command(line) => Line::from(vec![
            Span::styled(":", Style::new().fg(theme.accent)),
            Span::raw(line.clone()),
            Span::styled("▏", Style::new().fg(theme.accent)),
            Span::styled(
                format!(
                    "   ctx NAME · ns NAME · messages · q · {} cancel",
                    state.keymap.hint(KeyMode::Command, Action::Cancel)
                ),
                theme.muted(),
            ),
        ]),
        _ => match state.flash() {
            Some(message) => {
                let color = match message {
                    Flash::Error(_) => theme.error,
                    Flash::Info(_) => theme.accent,
                };
                Line::styled(
                    message_line(message.text(), usize::from(area.width)),
                    Style::new().fg(color),
                )
            }
            None => keys(state, theme, area.width as usize),
        },
    };
    frame.render_widget(line, area);
}

/// A message that fits the footer, or its start and where to read it all.
fn message_line(text: &str, width: usize) -> String {
    let line = format!(" {text}");
    if line.chars().count() <= width {
        return line;
    }
    const MORE: &str = "… (:messages)";
    let keep = width.saturating_sub(MORE.chars().count());
    line.chars().take(keep).collect::<String>() + MORE
}

/// One entry of the key line: a key and what it does.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: String,
    what: &'static str,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// An action on the selected rollout that applies now.
    Applies,
    /// An action that does not apply now: dimmed, and the first to go when
    /// the line is too narrow (pressing it says why not).
    DoesNotApply,
    /// The selected rollout's context is read-only: said instead of actions.
    ReadOnly,
    /// A key that moves about or opens something.
    Hint,
}

impl Entry {
    fn new(key: String, what: &'static str, kind: Kind) -> Entry {
        Entry { key, what, kind }
    }

    fn width(&self) -> usize {
        Span::raw(self.key.as_str()).width() + Span::raw(self.what).width() + 3
    }
}

/// The action keys for the selected rollout, in a fixed order so a key is
/// always found in the same place.
fn actions(state: &State) -> Vec<Entry> {
    let Some(rollout) = state.selected_rollout() else {
        return Vec::new();
    };
    if state.policy.readonly(&rollout.key.context) {
        return vec![Entry::new("read-only".into(), "", Kind::ReadOnly)];
    }
    state
        .offers
        .iter()
        .filter_map(|offer| {
            let key = state.keymap.keys(KeyMode::Normal, offer.action).first()?;
            let what = match offer.rollout_action {
                RolloutAction::PromoteFull => "full",
                other => other.verb(),
            };
            let kind = match offer.allowed {
                Ok(()) => Kind::Applies,
                Err(_) => Kind::DoesNotApply,
            };
            Some(Entry::new(key.to_string(), what, kind))
        })
        .collect()
}

/// The hints beside the actions; help comes last, as it is the last to go.
fn hints(state: &State, with_actions: bool) -> Vec<Entry> {
    let moving = if state.focus == Focus::Rollout {
        "scroll"
    } else {
        "move"
    };
    // With action keys on show, only the keys one cannot guess stay.
    let mut hints = if with_actions {
        vec![
            (first(state, Action::Filter), "filter"),
            (first(state, Action::Quit), "quit"),
            (first(state, Action::Help), "help"),
        ]
    } else {
        vec![
            (pair(state, Action::Down, Action::Up), moving),
            (first(state, Action::Filter), "filter"),
            (first(state, Action::Command), "command"),
            (first(state, Action::Focus), "pane"),
            (first(state, Action::Quit), "quit"),
            (first(state, Action::Help), "help"),
        ]
    };
    if !state.filter.is_empty() {
        let clear = state.keymap.hint(KeyMode::Filter, Action::Cancel);
        hints.insert(1, (clear, "clear filter"));
    }
    hints
        .into_iter()
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, what)| Entry::new(key, what, Kind::Hint))
        .collect()
}

/// What fits in `width` (after a leading space): first the actions that do
/// not apply go, all together, so the keys left are the ones to press;
/// then hints from the left, help last of all.
fn fit(mut entries: Vec<Entry>, width: usize) -> Vec<Entry> {
    let used = |entries: &[Entry]| 1 + entries.iter().map(Entry::width).sum::<usize>();
    if used(&entries) > width {
        entries.retain(|e| e.kind != Kind::DoesNotApply);
    }
    // The first hint, while another is left after it.
    let first_of_many_hints = |entries: &[Entry]| {
        let mut hints = (0..entries.len()).filter(|&i| entries[i].kind == Kind::Hint);
        let first = hints.next();
        hints.next().and(first)
    };
    while used(&entries) > width
        && let Some(i) = first_of_many_hints(&entries)
    {
        entries.remove(i);
    }
    entries
}

fn keys(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let mut entries = actions(state);
    entries.extend(hints(state, !entries.is_empty()));
    let key_style = Style::new().fg(theme.accent).add_modifier(Modifier::BOLD);
    let mut spans = vec![Span::raw(" ")];
    for Entry { key, what, kind } in fit(entries, width) {
        let (key_style, what_style) = match kind {
            Kind::Applies => (key_style, Style::new().fg(theme.text)),
            Kind::DoesNotApply => {
                let dim = theme.muted().add_modifier(Modifier::DIM);
                (dim, dim)
            }
            Kind::ReadOnly => (Style::new().fg(theme.warning), Style::new()),
            Kind::Hint => (key_style, theme.muted()),
        };
        spans.push(Span::styled(key, key_style));
        spans.push(Span::styled(format!(" {what}  "), what_style));
    }
    Line::from(spans)
}

fn first(state: &State, action: Action) -> String {
    state
        .keymap
        .keys(KeyMode::Normal, action)
        .first()
        .map(|k| k.to_string())
        .unwrap_or_default()
}

fn pair(state: &State, a: Action, b: Action) -> String {
    format!("{}/{}", first(state, a), first(state, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, what: &'static str, kind: Kind) -> Entry {
        Entry::new(key.into(), what, kind)
    }

    fn line() -> Vec<Entry> {
        vec![
            entry("p", "promote", Kind::DoesNotApply),
            entry("␣", "pause", Kind::Applies),
            entry("a", "abort", Kind::DoesNotApply),
            entry("u", "undo", Kind::Applies),
            entry("/", "filter", Kind::Hint),
            entry("q", "quit", Kind::Hint),
            entry("?", "help", Kind::Hint),
        ]
    }

    fn shown(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn a_wide_line_keeps_every_key() {
        // " p promote  ␣ pause  a abort  u undo  / filter  q quit  ? help  "
        assert_eq!(1 + line().iter().map(Entry::width).sum::<usize>(), 64);
        assert_eq!(fit(line(), 64), line());
    }

    #[test]
    fn keys_that_do_not_apply_go_first_and_together() {
        assert_eq!(shown(&fit(line(), 63)), ["␣", "u", "/", "q", "?"]);
        assert_eq!(shown(&fit(line(), 44)), ["␣", "u", "/", "q", "?"]);
    }

    #[test]
    fn then_hints_go_from_the_left_and_help_stays() {
        assert_eq!(shown(&fit(line(), 43)), ["␣", "u", "q", "?"]);
        assert_eq!(shown(&fit(line(), 10)), ["␣", "u", "?"]);
    }
}

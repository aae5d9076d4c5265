//! `:messages`: every message of this session, oldest first, in full, with
//! the log file named for what is not here.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Theme, overlay};
use crate::app::{Flash, State};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    scroll: u16,
) -> (usize, usize) {
    let width = usize::from(area.width.min(72).saturating_sub(2));
    let mut lines = Vec::new();
    if state.messages.is_empty() {
        lines.push(Line::styled("no messages yet", theme.muted()));
    }
    for (at, message) in &state.messages {
        let style = match message {
            Flash::Error(_) => Style::new().fg(theme.error),
            Flash::Info(_) => Style::new(),
        };
        let time = at.strftime("%H:%M:%S").to_string();
        // Wrapped here, so that each row is a line to scroll by.
        let mut first = true;
        for chunk in wrap(message.text(), width.saturating_sub(10)) {
            let lead = if first { time.clone() } else { String::new() };
            first = false;
            lines.push(Line::from(vec![
                Span::styled(format!("{lead:<10}"), theme.muted()),
                Span::styled(chunk, style),
            ]));
        }
    }
    if let Some(log) = &state.log_path {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("more in the log: {log}"),
            theme.muted(),
        ));
    }
    overlay::draw(
        frame,
        area,
        " messages ",
        lines,
        scroll,
        &state.keymap,
        theme,
    )
}

/// `text` in lines of at most `width` characters, broken at spaces where
/// it can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            let rest = word.chars().skip(width).collect();
            out.push(word.chars().take(width).collect());
            word = rest;
        }
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_messages_wrap_at_spaces_and_long_words_are_cut() {
        assert_eq!(wrap("abort checkout: done", 40), ["abort checkout: done"]);
        assert_eq!(
            wrap(
                "RBAC: user dev cannot patch rollouts/status in namespace shop",
                24
            ),
            [
                "RBAC: user dev cannot",
                "patch rollouts/status in",
                "namespace shop"
            ]
        );
        assert_eq!(wrap("aaaaaaaaaaaa b", 8), ["aaaaaaaa", "aaaa b"]);
        assert_eq!(wrap("", 8), [""]);
    }
}

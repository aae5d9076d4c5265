//! Text written straight into the buffer, for the panes drawn every frame.
//!
//! Kubernetes names, phases and numbers are printable ASCII: one byte, one
//! cell. Such text skips the grapheme segmentation `Buffer::set_stringn`
//! does for every string; anything else goes through it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Writes `text` at (`x`, `y`) in at most `width` cells (and never past the
/// buffer's right edge); returns the column after the last cell written.
pub fn put(buf: &mut Buffer, (x, y): (u16, u16), text: &str, width: usize, style: Style) -> u16 {
    let area = buf.area;
    if !text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return buf.set_stringn(x, y, text, width, style).0;
    }
    if y < area.top() || y >= area.bottom() || x < area.left() {
        return x;
    }
    let room = usize::from(area.right().saturating_sub(x));
    let count = text.len().min(width).min(room);
    let start = buf.index_of(x, y);
    let mut utf8 = [0; 4];
    for (cell, byte) in buf.content[start..start + count]
        .iter_mut()
        .zip(text.bytes())
    {
        cell.set_symbol(char::from(byte).encode_utf8(&mut utf8))
            .set_style(style);
    }
    x + count as u16
}

/// `lines` into `area` from wrapped row `scroll` on, as a `Paragraph` with
/// `Wrap { trim: false }` draws them. Only lines wider than the area go
/// through `Paragraph` (which segments and wraps every line it holds); the
/// others are written a span at a time.
pub fn lines(buf: &mut Buffer, area: Rect, lines: &[Line], scroll: u16) {
    let mut skip = scroll;
    let mut y = area.y;
    for line in lines {
        if y >= area.bottom() {
            break;
        }
        if line.width() <= usize::from(area.width) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let mut x = area.x;
            for span in &line.spans {
                let room = usize::from(area.right() - x);
                x = put(
                    buf,
                    (x, y),
                    &span.content,
                    room,
                    line.style.patch(span.style),
                );
            }
            y += 1;
            continue;
        }
        let wrapped = Paragraph::new(line.clone()).wrap(Wrap { trim: false });
        let rows = u16::try_from(wrapped.line_count(area.width)).unwrap_or(u16::MAX);
        if skip >= rows {
            skip -= rows;
            continue;
        }
        let shown = Rect {
            y,
            height: (rows - skip).min(area.bottom() - y),
            ..area
        };
        wrapped.scroll((skip, 0)).render(shown, buf);
        y += shown.height;
        skip = 0;
    }
}

/// How many rows `lines` take in an area `width` wide, wrapped as
/// [`lines`] wraps them.
pub fn height(lines: &[Line], width: u16) -> usize {
    lines
        .iter()
        .map(|line| {
            if line.width() <= usize::from(width) {
                1
            } else {
                Paragraph::new(line.clone())
                    .wrap(Wrap { trim: false })
                    .line_count(width)
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    use super::*;

    /// Whatever the path, the cells are those `set_stringn` writes.
    #[test]
    fn writes_what_set_stringn_writes() {
        let style = Style::new().fg(Color::Red);
        for (text, x, width) in [
            ("checkout", 2, 20),
            ("checkout-with-a-long-name", 2, 6),
            ("near the edge", 7, 20),
            ("", 0, 5),
            ("ünïcode ⟳ promote", 1, 9),
            ("wide 日本", 0, 7),
            ("tab\there", 0, 10),
        ] {
            let area = Rect::new(0, 0, 12, 1);
            let mut ours = Buffer::empty(area);
            let mut theirs = Buffer::empty(area);
            let end = put(&mut ours, (x, 0), text, width, style);
            let (their_end, _) = theirs.set_stringn(x, 0, text, width, style);
            assert_eq!(ours, theirs, "{text:?} at {x} in {width}");
            assert_eq!(end, their_end, "{text:?} at {x} in {width}");
        }
    }

    /// Short and long lines, styled, from every scroll position: the cells
    /// are those a wrapping `Paragraph` draws.
    #[test]
    fn lines_are_drawn_as_a_wrapping_paragraph_draws_them() {
        use ratatui::text::Span;
        let text = vec![
            Line::from(vec![
                Span::styled("message  ", Style::new().fg(Color::Gray)),
                Span::raw("RolloutAborted: Rollout aborted update to revision 5 after analysis"),
            ]),
            Line::raw(""),
            Line::styled("steps ✔20% · ▶pause", Style::new().fg(Color::Green)),
            Line::raw("a-single-word-far-too-long-for-the-area-it-is-given-to-fit-in"),
            Line::raw("last"),
        ];
        let area = Rect::new(1, 1, 20, 8);
        for scroll in 0..12 {
            let mut ours = Buffer::empty(Rect::new(0, 0, 22, 10));
            let mut theirs = ours.clone();
            lines(&mut ours, area, &text, scroll);
            Paragraph::new(text.clone())
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0))
                .render(area, &mut theirs);
            assert_eq!(ours, theirs, "scrolled {scroll}");
        }
        let paragraph = Paragraph::new(text.clone()).wrap(Wrap { trim: false });
        assert_eq!(height(&text, 20), paragraph.line_count(20));
    }
}

//! Glyphs for a console font. The Linux console (`TERM=linux`) draws from
//! a font of a few hundred glyphs: box drawing, blocks, arrows and Latin-1
//! are there; check marks, dotted circles, sparkline steps and most
//! symbols are not, and show as blanks or diamonds. A frame drawn for such
//! a terminal has those cells replaced by glyphs it has.

use ratatui::buffer::Buffer;

/// The console's stand-in for `glyph`, if it needs one.
fn stand_in(glyph: &str) -> Option<&'static str> {
    Some(match glyph {
        "✔" => "+",
        "◌" => "~",
        "‖" => "|",
        "✖" => "x",
        "⊘" => "!",
        "●" => "*",
        "▶" => ">",
        "▲" => "^",
        "▼" => "v",
        "⟳" => "*",
        "⚠" => "!",
        "␣" => "_",
        "▏" => "_",
        "…" => "~",
        "▁" => "_",
        "▂" | "▃" => ".",
        "▄" | "▅" => "-",
        "▆" | "▇" => "=",
        _ => return None,
    })
}

/// Replace, in every cell of `buf`, what a console font lacks.
pub fn substitute(buf: &mut Buffer) {
    for cell in &mut buf.content {
        let symbol = cell.symbol();
        if !symbol.is_ascii()
            && let Some(glyph) = stand_in(symbol)
        {
            cell.set_symbol(glyph);
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;

    use super::*;

    #[test]
    fn what_the_console_lacks_is_replaced_and_the_rest_kept() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 1));
        buf.set_string(0, 0, "✔ ok ▁▅█ ─│ → · é", ratatui::style::Style::new());
        substitute(&mut buf);
        let line: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert_eq!(line.trim_end(), "+ ok _-█ ─│ → · é");
    }
}

//! A writer that speaks to a 16-colour terminal in its own codes.
//!
//! crossterm writes every colour, the 16 named ones too, as `38;5;N`
//! (`48;5;N` for backgrounds). A 16-colour console (`TERM=linux`, old
//! terminals, some serial consoles) may not know those; it knows 30–37 and
//! 90–97 (40–47 and 100–107). This writer rewrites the codes of the 16
//! colours in every SGR sequence that passes, whatever the pieces it comes
//! in, and leaves everything else as it is.

use std::io::{self, Write};

/// Wraps `inner`; `rewrite = false` passes every byte through.
pub struct Sgr16<W: Write> {
    inner: W,
    rewrite: bool,
    /// An escape sequence begun but not yet ended.
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> Sgr16<W> {
    pub fn new(inner: W, rewrite: bool) -> Self {
        Sgr16 {
            inner,
            rewrite,
            pending: Vec::new(),
            out: Vec::new(),
        }
    }

    fn take(&mut self, byte: u8) {
        if self.pending.is_empty() {
            if byte == 0x1b {
                self.pending.push(byte);
            } else {
                self.out.push(byte);
            }
            return;
        }
        self.pending.push(byte);
        let sequence = &self.pending;
        let control = sequence.len() >= 2 && sequence[1] == b'[';
        // ESC followed by anything but `[`, or a CSI ended by its final byte.
        let ended = !control || (sequence.len() > 2 && (0x40..=0x7e).contains(&byte));
        if !ended {
            return;
        }
        let sequence = std::mem::take(&mut self.pending);
        if control && byte == b'm' {
            self.out.extend(sgr(&sequence[2..sequence.len() - 1]));
        } else {
            self.out.extend(sequence);
        }
    }
}

/// An SGR sequence's parameters with `38;5;N` / `48;5;N` (N < 16) in the
/// 16-colour codes, as a whole sequence.
fn sgr(params: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(params);
    let parts: Vec<&str> = text.split(';').collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let extended = matches!(parts[i], "38" | "48") && parts.get(i + 1) == Some(&"5");
        let index = parts.get(i + 2).and_then(|n| n.parse::<u8>().ok());
        match (extended, index) {
            (true, Some(n)) if n < 16 => {
                let base = if parts[i] == "38" { 30 } else { 40 };
                out.push(if n < 8 {
                    (base + u16::from(n)).to_string()
                } else {
                    (base + 60 + u16::from(n) - 8).to_string()
                });
                i += 3;
            }
            _ => {
                out.push(parts[i].to_string());
                i += 1;
            }
        }
    }
    format!("\x1b[{}m", out.join(";")).into_bytes()
}

impl<W: Write> Write for Sgr16<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.rewrite {
            return self.inner.write(buf);
        }
        for &byte in buf {
            self.take(byte);
        }
        if !self.out.is_empty() {
            self.inner.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(pieces: &[&str]) -> String {
        let mut writer = Sgr16::new(Vec::new(), true);
        for piece in pieces {
            writer.write_all(piece.as_bytes()).unwrap();
        }
        String::from_utf8(writer.inner).unwrap()
    }

    #[test]
    fn the_sixteen_colours_get_their_own_codes() {
        assert_eq!(through(&["\x1b[38;5;1mred"]), "\x1b[31mred");
        assert_eq!(through(&["\x1b[38;5;9m"]), "\x1b[91m");
        assert_eq!(through(&["\x1b[48;5;0m"]), "\x1b[40m");
        assert_eq!(through(&["\x1b[48;5;15m"]), "\x1b[107m");
        // Several in one sequence, with other attributes.
        assert_eq!(through(&["\x1b[1;38;5;2;48;5;8m"]), "\x1b[1;32;100m");
    }

    #[test]
    fn sequences_split_across_writes_are_rewritten_too() {
        // As crossterm writes them: "\x1b[", "38;", "5;9", "m".
        assert_eq!(through(&["ab\x1b[", "38;", "5;9", "mcd"]), "ab\x1b[91mcd");
        assert_eq!(through(&["\x1b", "[", "38;5;3m"]), "\x1b[33m");
    }

    #[test]
    fn everything_else_passes_as_it_is() {
        for text in [
            "\x1b[38;5;200mpink",
            "\x1b[38;2;10;20;30m",
            "\x1b[2J\x1b[1;1H",
            "\x1b[?2026h",
            "\x1b[0m",
            "plain ✔ text",
            "\x1b7\x1b8",
        ] {
            assert_eq!(through(&[text]), text, "{text:?}");
        }
        let mut passthrough = Sgr16::new(Vec::new(), false);
        passthrough.write_all(b"\x1b[38;5;1m").unwrap();
        assert_eq!(passthrough.inner, b"\x1b[38;5;1m");
    }
}

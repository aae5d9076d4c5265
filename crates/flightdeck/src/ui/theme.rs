//! Colours, from `themes/*.toml`. Applied in `ui` and nowhere else.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use termprofile::TermProfile;

use crate::model::Phase;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub healthy: Color,
    pub progressing: Color,
    pub paused: Color,
    pub degraded: Color,
    pub aborted: Color,
    pub stable: Color,
    pub canary: Color,
    pub text: Color,
    pub muted: Color,
    pub accent: Color,
    pub border: Color,
    pub title: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub warning: Color,
    pub error: Color,
    pub bar_empty: Color,
    /// The selection shows as reverse video: with no colours (the `mono`
    /// theme), and with 16, where a dark grey background comes out black.
    pub reverse_selection: bool,
    /// The terminal's font is a console's (`TERM=linux`): glyphs it lacks
    /// are drawn as ones it has (see `console`).
    pub console_font: bool,
}

/// A colour as a theme file gives it: a name, `"#rrggbb"`, or a 256-colour
/// index (`208` or `"208"`).
fn colour(value: &toml::Value) -> Result<Color, String> {
    match value {
        toml::Value::Integer(n) => u8::try_from(*n)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {n} is not 0-255")),
        toml::Value::String(text) => match text.parse::<u8>() {
            Ok(index) => Ok(Color::Indexed(index)),
            Err(_) => Color::from_str(text).map_err(|_| format!("unknown colour {text:?}")),
        },
        other => Err(format!(
            "expected a colour name, \"#rrggbb\" or an index, found {}",
            other.type_str()
        )),
    }
}

/// "line 4" of the byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

impl Theme {
    /// Parse a theme file over `base`: the colours it names replace the
    /// base's, the others stay. Errors carry the line and field.
    pub fn parse_over(text: &str, base: &Theme) -> Result<Theme, String> {
        let file: std::collections::BTreeMap<String, toml::Spanned<toml::Value>> =
            toml::from_str(text).map_err(|e| e.to_string())?;
        let mut theme = base.clone();
        for (name, value) in file {
            let line = line_of(text, value.span().start);
            let slot = theme
                .colours_mut()
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, c)| c)
                .ok_or_else(|| {
                    format!(
                        "line {line}: {name}: unknown field; known: {}",
                        Theme::FIELDS.join(", ")
                    )
                })?;
            *slot = colour(value.get_ref()).map_err(|e| format!("line {line}: {name}: {e}"))?;
        }
        Ok(theme)
    }

    /// Parse a whole theme file (every colour named); errors carry the
    /// line and field.
    pub fn parse(text: &str) -> Result<Theme, String> {
        let blank = Theme {
            healthy: Color::Reset,
            progressing: Color::Reset,
            paused: Color::Reset,
            degraded: Color::Reset,
            aborted: Color::Reset,
            stable: Color::Reset,
            canary: Color::Reset,
            text: Color::Reset,
            muted: Color::Reset,
            accent: Color::Reset,
            border: Color::Reset,
            title: Color::Reset,
            selection_fg: Color::Reset,
            selection_bg: Color::Reset,
            warning: Color::Reset,
            error: Color::Reset,
            bar_empty: Color::Reset,
            reverse_selection: false,
            console_font: false,
        };
        let theme = Theme::parse_over(text, &blank)?;
        let file: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        match Theme::FIELDS.iter().find(|f| !file.contains_key(**f)) {
            Some(missing) => Err(format!("missing field {missing}")),
            None => Ok(theme),
        }
    }

    const FIELDS: [&'static str; 17] = [
        "healthy",
        "progressing",
        "paused",
        "degraded",
        "aborted",
        "stable",
        "canary",
        "text",
        "muted",
        "accent",
        "border",
        "title",
        "selection_fg",
        "selection_bg",
        "warning",
        "error",
        "bar_empty",
    ];

    /// An embedded theme by name (`default`, `mono`).
    pub fn builtin(name: &str) -> Option<Theme> {
        let text = match name {
            "default" => include_str!("../../themes/default.toml"),
            "mono" => include_str!("../../themes/mono.toml"),
            _ => return None,
        };
        let mut theme = Theme::parse(text).expect("embedded themes are valid");
        theme.reverse_selection = name == "mono";
        Some(theme)
    }

    /// The theme as a terminal of `profile` can show it: every colour
    /// brought down to the nearest the terminal has (a 256-colour index on a
    /// 16-colour console, `#rrggbb` on a 256-colour one), none at all
    /// without colour support; the selection in reverse video below 256.
    pub fn adapted_to(mut self, profile: TermProfile) -> Theme {
        for (_, colour) in self.colours_mut() {
            *colour = profile.adapt_color(*colour).unwrap_or(Color::Reset);
        }
        self.reverse_selection |= profile < TermProfile::Ansi256;
        self
    }

    fn colours_mut(&mut self) -> [(&'static str, &mut Color); 17] {
        [
            ("healthy", &mut self.healthy),
            ("progressing", &mut self.progressing),
            ("paused", &mut self.paused),
            ("degraded", &mut self.degraded),
            ("aborted", &mut self.aborted),
            ("stable", &mut self.stable),
            ("canary", &mut self.canary),
            ("text", &mut self.text),
            ("muted", &mut self.muted),
            ("accent", &mut self.accent),
            ("border", &mut self.border),
            ("title", &mut self.title),
            ("selection_fg", &mut self.selection_fg),
            ("selection_bg", &mut self.selection_bg),
            ("warning", &mut self.warning),
            ("error", &mut self.error),
            ("bar_empty", &mut self.bar_empty),
        ]
    }

    pub fn phase(&self, phase: Phase) -> Style {
        let color = match phase {
            Phase::Healthy => self.healthy,
            Phase::Progressing => self.progressing,
            Phase::Paused => self.paused,
            Phase::Degraded => self.degraded,
            Phase::Aborted => self.aborted,
        };
        let style = Style::new().fg(color);
        match phase {
            Phase::Degraded | Phase::Aborted => style.add_modifier(Modifier::BOLD),
            _ => style,
        }
    }

    pub fn selected(&self) -> Style {
        if self.reverse_selection {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
                .fg(self.selection_fg)
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        }
    }

    pub fn muted(&self) -> Style {
        Style::new().fg(self.muted)
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::new().fg(self.accent)
        } else {
            Style::new().fg(self.border)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_load() {
        let theme = Theme::builtin("default").unwrap();
        assert_eq!(theme.canary, Color::Indexed(208));
        assert_eq!(theme.healthy, Color::Green);
        assert!(Theme::builtin("mono").unwrap().reverse_selection);
        assert!(Theme::builtin("nope").is_none());
    }

    #[test]
    fn colours_come_down_to_what_the_terminal_has() {
        let default = Theme::builtin("default").unwrap();
        let mut ansi16 = default.clone().adapted_to(TermProfile::Ansi16);
        assert!(
            ansi16
                .colours_mut()
                .iter()
                .all(|(_, c)| !matches!(**c, Color::Indexed(_) | Color::Rgb(..))),
            "{ansi16:?}"
        );
        assert_eq!(ansi16.healthy, Color::Green, "named colours stay");
        assert_ne!(ansi16.canary, ansi16.stable, "versions stay apart");
        assert!(ansi16.selected().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(default.clone().adapted_to(TermProfile::Ansi256), default);
        assert_eq!(default.clone().adapted_to(TermProfile::TrueColor), default);
        let mut mono = default.clone().adapted_to(TermProfile::NoColor);
        assert!(mono.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(mono.colours_mut().iter().all(|(_, c)| **c == Color::Reset));

        let text = include_str!("../../themes/default.toml").replace("\"208\"", "\"#ff8700\"");
        let rgb = Theme::parse(&text).unwrap();
        assert_eq!(rgb.canary, Color::Rgb(0xff, 0x87, 0));
        assert_eq!(
            rgb.adapted_to(TermProfile::Ansi256).canary,
            Color::Indexed(208)
        );
    }

    #[test]
    fn a_partial_theme_keeps_the_default_for_what_it_omits_and_takes_indexes() {
        let default = Theme::builtin("default").unwrap();
        let theme = Theme::parse_over("canary = 202\nstable = \"33\"\n", &default).unwrap();
        assert_eq!(theme.canary, Color::Indexed(202));
        assert_eq!(theme.stable, Color::Indexed(33));
        assert_eq!(theme.healthy, default.healthy);
        let err = Theme::parse_over("\ncanary = 300\n", &default).unwrap_err();
        assert_eq!(err, "line 2: canary: colour index 300 is not 0-255");
        let err = Theme::parse_over("canary = true\n", &default).unwrap_err();
        assert!(
            err.starts_with("line 1: canary: expected a colour name"),
            "{err}"
        );
        let err = Theme::parse_over("\n\ncanery = \"red\"\n", &default).unwrap_err();
        assert!(
            err.starts_with("line 3: canery: unknown field; known: healthy,"),
            "{err}"
        );
        assert!(
            Theme::parse("canary = \"red\"\n")
                .unwrap_err()
                .contains("missing field")
        );
    }

    #[test]
    fn a_bad_colour_names_line_and_field() {
        let text = include_str!("../../themes/default.toml").replace("\"208\"", "\"orangey\"");
        let err = Theme::parse(&text).unwrap_err();
        assert!(err.contains("unknown colour \"orangey\""), "{err}");
        assert!(err.contains("line "), "{err}");
    }
}

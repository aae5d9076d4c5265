//! Colours, from `themes/*.toml`. Applied in `ui` and nowhere else.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use termprofile::TermProfile;

use crate::model::Phase;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    #[serde(deserialize_with = "color")]
    pub healthy: Color,
    #[serde(deserialize_with = "color")]
    pub progressing: Color,
    #[serde(deserialize_with = "color")]
    pub paused: Color,
    #[serde(deserialize_with = "color")]
    pub degraded: Color,
    #[serde(deserialize_with = "color")]
    pub aborted: Color,
    #[serde(deserialize_with = "color")]
    pub stable: Color,
    #[serde(deserialize_with = "color")]
    pub canary: Color,
    #[serde(deserialize_with = "color")]
    pub text: Color,
    #[serde(deserialize_with = "color")]
    pub muted: Color,
    #[serde(deserialize_with = "color")]
    pub accent: Color,
    #[serde(deserialize_with = "color")]
    pub border: Color,
    #[serde(deserialize_with = "color")]
    pub title: Color,
    #[serde(deserialize_with = "color")]
    pub selection_fg: Color,
    #[serde(deserialize_with = "color")]
    pub selection_bg: Color,
    #[serde(deserialize_with = "color")]
    pub warning: Color,
    #[serde(deserialize_with = "color")]
    pub error: Color,
    #[serde(deserialize_with = "color")]
    pub bar_empty: Color,
    /// The selection shows as reverse video: with no colours (the `mono`
    /// theme), and with 16, where a dark grey background comes out black.
    #[serde(skip)]
    pub reverse_selection: bool,
}

/// `"208"` is a 256-colour index; anything else a colour name.
fn color<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Color, D::Error> {
    let text = String::deserialize(d)?;
    match text.parse::<u8>() {
        Ok(index) => Ok(Color::Indexed(index)),
        Err(_) => Color::from_str(&text)
            .map_err(|_| serde::de::Error::custom(format!("unknown colour {text:?}"))),
    }
}

impl Theme {
    /// Parse a theme file; errors carry the line and field.
    pub fn parse(text: &str) -> Result<Theme, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

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
        for colour in self.colours_mut() {
            *colour = profile.adapt_color(*colour).unwrap_or(Color::Reset);
        }
        self.reverse_selection |= profile < TermProfile::Ansi256;
        self
    }

    fn colours_mut(&mut self) -> [&mut Color; 17] {
        [
            &mut self.healthy,
            &mut self.progressing,
            &mut self.paused,
            &mut self.degraded,
            &mut self.aborted,
            &mut self.stable,
            &mut self.canary,
            &mut self.text,
            &mut self.muted,
            &mut self.accent,
            &mut self.border,
            &mut self.title,
            &mut self.selection_fg,
            &mut self.selection_bg,
            &mut self.warning,
            &mut self.error,
            &mut self.bar_empty,
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
                .all(|c| !matches!(**c, Color::Indexed(_) | Color::Rgb(..))),
            "{ansi16:?}"
        );
        assert_eq!(ansi16.healthy, Color::Green, "named colours stay");
        assert_ne!(ansi16.canary, ansi16.stable, "versions stay apart");
        assert!(ansi16.selected().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(default.clone().adapted_to(TermProfile::Ansi256), default);
        assert_eq!(default.clone().adapted_to(TermProfile::TrueColor), default);
        let mut mono = default.clone().adapted_to(TermProfile::NoColor);
        assert!(mono.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(mono.colours_mut().iter().all(|c| **c == Color::Reset));

        let text = include_str!("../../themes/default.toml").replace("\"208\"", "\"#ff8700\"");
        let rgb = Theme::parse(&text).unwrap();
        assert_eq!(rgb.canary, Color::Rgb(0xff, 0x87, 0));
        assert_eq!(
            rgb.adapted_to(TermProfile::Ansi256).canary,
            Color::Indexed(208)
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

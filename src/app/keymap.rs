//! Keys to actions: the active keymap, parsed from `keymaps/*.toml`.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// What a person can ask for with one key in the normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Filter,
    Command,
    Focus,
    Help,
    Quit,
    Suspend,
    Promote,
    PromoteFull,
    PauseResume,
    Abort,
    Retry,
    Undo,
    Restart,
}

impl Action {
    const ALL: [(Action, &'static str, &'static str); 19] = [
        (Action::Down, "down", "next rollout"),
        (Action::Up, "up", "previous rollout"),
        (Action::Top, "top", "first rollout"),
        (Action::Bottom, "bottom", "last rollout"),
        (Action::PageDown, "page-down", "a page down"),
        (Action::PageUp, "page-up", "a page up"),
        (
            Action::Filter,
            "filter",
            "filter by name, namespace or context",
        ),
        (
            Action::Command,
            "command",
            "command (:ctx NAME, :ns NAME, :q)",
        ),
        (Action::Focus, "focus", "switch pane"),
        (Action::Help, "help", "this help"),
        (Action::Quit, "quit", "quit"),
        (Action::Suspend, "suspend", "suspend (fg resumes)"),
        (Action::Promote, "promote", "promote to the next step"),
        (
            Action::PromoteFull,
            "promote-full",
            "promote fully, skipping the steps",
        ),
        (Action::PauseResume, "pause-resume", "pause, or resume"),
        (Action::Abort, "abort", "abort: all traffic back to stable"),
        (Action::Retry, "retry", "retry an aborted rollout"),
        (Action::Undo, "undo", "undo: roll back to a revision"),
        (Action::Restart, "restart", "restart the pods"),
    ];

    fn from_name(name: &str) -> Option<Action> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(a, ..)| *a)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, ..)| *a == self)
            .map_or("", |(_, n, _)| n)
    }

    pub fn description(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, ..)| *a == self)
            .map_or("", |(.., d)| d)
    }
}

/// A key as written in a keymap file: `j`, `G`, `ctrl-c`, `pagedown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        let (mut ctrl, mut alt, mut rest) = (false, false, text);
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            one if one.chars().count() == 1 => KeyCode::Char(one.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key {text:?}")),
        };
        Ok(Key { code, ctrl, alt })
    }

    /// The key a terminal event stands for. Shift is folded into the
    /// character (`G`), as terminals report it.
    pub fn from_event(event: &KeyEvent) -> Key {
        let code = match event.code {
            KeyCode::Char(c) if event.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            code => code,
        };
        Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("␣"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            other => write!(f, "{}", other.to_string().to_lowercase()),
        }
    }
}

/// The keymap of the normal mode: action → keys, in the file's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<(Action, Vec<Key>)>,
    by_key: HashMap<Key, Action>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    #[serde(default)]
    normal: toml::Table,
}

impl Keymap {
    /// The keymap shipped in `keymaps/default.toml`.
    pub fn default_keys() -> Keymap {
        Keymap::parse(include_str!("../../keymaps/default.toml"), None)
            .expect("the embedded keymaps/default.toml is valid")
    }

    /// Parse a keymap file; actions it names replace those of `base`.
    /// Errors name the line and the entry at fault.
    pub fn parse(text: &str, base: Option<&Keymap>) -> Result<Keymap, String> {
        let file: KeymapFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut bindings: Vec<(Action, Vec<Key>)> =
            base.map(|b| b.bindings.clone()).unwrap_or_default();
        for (name, keys) in &file.normal {
            let action = Action::from_name(name).ok_or_else(|| {
                format!(
                    "[normal] {name}: unknown action; known: {}",
                    Action::ALL.map(|(_, n, _)| n).join(", ")
                )
            })?;
            let keys = keys
                .as_array()
                .ok_or_else(|| format!("[normal] {name}: expected a list of keys"))?
                .iter()
                .map(|k| {
                    k.as_str()
                        .ok_or_else(|| format!("[normal] {name}: keys are strings"))
                        .and_then(|k| Key::parse(k).map_err(|e| format!("[normal] {name}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            match bindings.iter_mut().find(|(a, _)| *a == action) {
                Some(slot) => slot.1 = keys,
                None => bindings.push((action, keys)),
            }
        }
        let mut by_key = HashMap::new();
        for (action, keys) in &bindings {
            for key in keys {
                if let Some(other) = by_key.insert(*key, *action)
                    && other != *action
                {
                    return Err(format!(
                        "key {key} is bound to both {} and {}",
                        other.name(),
                        action.name()
                    ));
                }
            }
        }
        Ok(Keymap { bindings, by_key })
    }

    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        self.by_key.get(&Key::from_event(key)).copied()
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(&[], |(_, k)| k.as_slice())
    }

    pub fn bindings(&self) -> &[(Action, Vec<Key>)] {
        &self.bindings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn default_keys_resolve() {
        let map = Keymap::default_keys();
        assert_eq!(
            map.action(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('x'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn a_user_file_overrides_only_what_it_names() {
        let map =
            Keymap::parse("[normal]\ndown = [\"n\"]\n", Some(&Keymap::default_keys())).unwrap();
        assert_eq!(
            map.action(&press(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('k'), KeyModifiers::NONE)),
            Some(Action::Up)
        );
    }

    #[test]
    fn bad_files_name_what_is_wrong() {
        let err = Keymap::parse("[normal]\njump = [\"x\"]\n", None).unwrap_err();
        assert!(err.contains("jump: unknown action"), "{err}");
        let err = Keymap::parse("[normal]\ndown = [\"ctrl-\"]\n", None).unwrap_err();
        assert!(err.contains("down: unknown key \"ctrl-\""), "{err}");
        let err = Keymap::parse("[normal]\ndown = [\"j\"]\nup = [\"j\"]\n", None).unwrap_err();
        assert!(err.contains("bound to both down and up"), "{err}");
        let err = Keymap::parse("[normal]\ndown = \n", None).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}

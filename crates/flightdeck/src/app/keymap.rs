//! Keys to actions: the active keymap, parsed from `keymaps/*.toml`, with a
//! section per mode (normal, filter, command, confirm, undo, help).

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a person can ask for with one key.
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
    /// Filter: keep what is typed and go back to the fleet.
    Keep,
    /// Filter: clear it; command, confirm, undo: go back without doing anything.
    Cancel,
    /// Take back the last character typed.
    DeleteChar,
    /// Command: run what is typed.
    Run,
    /// Confirm: send the action (where typing the name is not asked for).
    Yes,
    /// Confirm: do not.
    No,
    /// Undo: go back to the revision under the cursor.
    Choose,
    /// Help and messages: close them (any key that is not a scroll does).
    Close,
    /// The DORA view: each workload's figures.
    Dora,
    /// The changes view: every deploy and action, newest first.
    Changes,
    /// DORA and changes: sort by the next column.
    Sort,
    /// DORA and changes: the next window (1d, 7d, 30d, 90d).
    Window,
}

/// The modes with keys of their own, and the keymap section of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMode {
    Normal,
    Filter,
    Command,
    Confirm,
    Undo,
    /// The help and messages overlays.
    Help,
    /// The DORA and changes views.
    History,
}

impl KeyMode {
    pub const ALL: [KeyMode; 7] = [
        KeyMode::Normal,
        KeyMode::Filter,
        KeyMode::Command,
        KeyMode::Confirm,
        KeyMode::Undo,
        KeyMode::Help,
        KeyMode::History,
    ];

    pub fn section(self) -> &'static str {
        match self {
            KeyMode::Normal => "normal",
            KeyMode::Filter => "filter",
            KeyMode::Command => "command",
            KeyMode::Confirm => "confirm",
            KeyMode::Undo => "undo",
            KeyMode::Help => "help",
            KeyMode::History => "history",
        }
    }

    /// What the help overlay calls the keys of this mode.
    pub fn title(self) -> &'static str {
        match self {
            KeyMode::Normal => "keys",
            KeyMode::Filter => "while filtering (/)",
            KeyMode::Command => "while typing a command (:)",
            KeyMode::Confirm => "in a confirm dialog",
            KeyMode::Undo => "choosing a revision to undo to",
            KeyMode::Help => "in help and :messages",
            KeyMode::History => "in the DORA and changes views",
        }
    }

    /// The actions a key may stand for in this mode.
    fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            KeyMode::Normal => &[
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
                Dora,
                Changes,
            ],
            KeyMode::Filter => &[Keep, Cancel, DeleteChar, Down, Up],
            KeyMode::Command => &[Run, Cancel, DeleteChar],
            KeyMode::Confirm => &[Yes, No, DeleteChar],
            KeyMode::Undo => &[Down, Up, Choose, Cancel],
            KeyMode::Help => &[Down, Up, PageDown, PageUp, Top, Bottom, Close],
            KeyMode::History => &[
                Down, Up, PageDown, PageUp, Top, Bottom, Sort, Window, Choose, Close,
            ],
        }
    }
}

impl Action {
    const ALL: [(Action, &'static str, &'static str); 31] = [
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
            "command (:ctx NAME, :ns NAME, :messages, :q)",
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
        (Action::Keep, "keep", "keep the filter"),
        (Action::Cancel, "cancel", "cancel (clear the filter)"),
        (Action::DeleteChar, "delete-char", "take back a character"),
        (Action::Run, "run", "run the command"),
        (Action::Yes, "yes", "confirm: send the action"),
        (Action::No, "no", "do not send it"),
        (Action::Choose, "choose", "undo to this revision"),
        (Action::Close, "close", "close (any other key too)"),
        (Action::Dora, "dora", "DORA figures per workload (:dora)"),
        (
            Action::Changes,
            "changes",
            "what changed: deploys and actions (:changes)",
        ),
        (Action::Sort, "sort", "sort by the next column"),
        (Action::Window, "window", "next window: 1d, 7d, 30d, 90d"),
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

    /// What it does, in the words of the mode it is pressed in.
    pub fn description(self, mode: KeyMode) -> &'static str {
        match (mode, self) {
            (KeyMode::Help, Action::Down) => "scroll down",
            (KeyMode::Help, Action::Up) => "scroll up",
            (KeyMode::Help, Action::Top) => "to the top",
            (KeyMode::Help, Action::Bottom) => "to the end",
            (KeyMode::Undo, Action::Down) => "next revision",
            (KeyMode::Undo, Action::Up) => "previous revision",
            (KeyMode::Filter, Action::Down) => "next matching rollout",
            (KeyMode::Filter, Action::Up) => "previous matching rollout",
            (KeyMode::Command | KeyMode::Undo, Action::Cancel) => "cancel",
            (KeyMode::History, Action::Down) => "next row",
            (KeyMode::History, Action::Up) => "previous row",
            (KeyMode::History, Action::Top) => "first row",
            (KeyMode::History, Action::Bottom) => "last row",
            (KeyMode::History, Action::Choose) => "go to the rollout",
            (KeyMode::History, Action::Close) => "back to the fleet",
            _ => Self::ALL
                .iter()
                .find(|(a, ..)| *a == self)
                .map_or("", |(.., d)| d),
        }
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

/// The keys of one mode: action → keys, in the file's order.
#[derive(Debug, Clone, PartialEq, Default)]
struct ModeKeys {
    bindings: Vec<(Action, Vec<Key>)>,
    by_key: HashMap<Key, Action>,
}

/// The keymap: a section per mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    modes: HashMap<KeyMode, ModeKeys>,
}

impl Keymap {
    /// The keymap shipped in `keymaps/default.toml`.
    pub fn default_keys() -> Keymap {
        Keymap::parse(include_str!("../../keymaps/default.toml"), None)
            .expect("the embedded keymaps/default.toml is valid")
    }

    /// Parse a keymap file; the actions it names replace those of `base`,
    /// mode by mode. Errors name the line and the entry at fault.
    pub fn parse(text: &str, base: Option<&Keymap>) -> Result<Keymap, String> {
        let file: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let sections: Vec<&str> = KeyMode::ALL.iter().map(|m| m.section()).collect();
        if let Some(unknown) = file.keys().find(|k| !sections.contains(&k.as_str())) {
            return Err(format!(
                "[{unknown}]: unknown section; known: {}",
                sections.join(", ")
            ));
        }
        let mut modes = HashMap::new();
        for mode in KeyMode::ALL {
            let section = mode.section();
            let mut bindings: Vec<(Action, Vec<Key>)> = base
                .and_then(|b| b.modes.get(&mode))
                .map(|m| m.bindings.clone())
                .unwrap_or_default();
            let entries = match file.get(section) {
                None => toml::Table::new(),
                Some(toml::Value::Table(table)) => table.clone(),
                Some(_) => return Err(format!("[{section}]: expected a table of action = [keys]")),
            };
            for (name, keys) in &entries {
                let action = Action::from_name(name)
                    .filter(|a| mode.actions().contains(a))
                    .ok_or_else(|| {
                        let known: Vec<&str> = mode.actions().iter().map(|a| a.name()).collect();
                        format!(
                            "[{section}] {name}: unknown action; known: {}",
                            known.join(", ")
                        )
                    })?;
                let keys = keys
                    .as_array()
                    .ok_or_else(|| format!("[{section}] {name}: expected a list of keys"))?
                    .iter()
                    .map(|k| {
                        k.as_str()
                            .ok_or_else(|| format!("[{section}] {name}: keys are strings"))
                            .and_then(|k| {
                                Key::parse(k).map_err(|e| format!("[{section}] {name}: {e}"))
                            })
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
                            "[{section}] key {key} is bound to both {} and {}",
                            other.name(),
                            action.name()
                        ));
                    }
                }
            }
            modes.insert(mode, ModeKeys { bindings, by_key });
        }
        Ok(Keymap { modes })
    }

    /// The action `key` stands for in `mode`, if any.
    pub fn action(&self, mode: KeyMode, key: &KeyEvent) -> Option<Action> {
        self.modes
            .get(&mode)?
            .by_key
            .get(&Key::from_event(key))
            .copied()
    }

    pub fn keys(&self, mode: KeyMode, action: Action) -> &[Key] {
        self.bindings(mode)
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(&[], |(_, k)| k.as_slice())
    }

    /// The keys of `action` in `mode` as a hint shows them: `enter/y`.
    pub fn hint(&self, mode: KeyMode, action: Action) -> String {
        let keys: Vec<String> = self.keys(mode, action).iter().map(Key::to_string).collect();
        keys.join("/")
    }

    pub fn bindings(&self, mode: KeyMode) -> &[(Action, Vec<Key>)] {
        self.modes.get(&mode).map_or(&[], |m| m.bindings.as_slice())
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
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('j'), KeyModifiers::NONE)
            ),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(KeyMode::Normal, &press(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('x'), KeyModifiers::NONE)
            ),
            None
        );
    }

    #[test]
    fn a_user_file_overrides_only_what_it_names() {
        let map =
            Keymap::parse("[normal]\ndown = [\"n\"]\n", Some(&Keymap::default_keys())).unwrap();
        assert_eq!(
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('n'), KeyModifiers::NONE)
            ),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('j'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            map.action(
                KeyMode::Normal,
                &press(KeyCode::Char('k'), KeyModifiers::NONE)
            ),
            Some(Action::Up)
        );
    }

    #[test]
    fn each_mode_has_its_own_keys_and_a_file_changes_them_mode_by_mode() {
        let default = Keymap::default_keys();
        let key = |c| press(KeyCode::Char(c), KeyModifiers::NONE);
        // `j` moves in the fleet and the undo picker; in a filter it is text.
        assert_eq!(
            default.action(KeyMode::Normal, &key('j')),
            Some(Action::Down)
        );
        assert_eq!(default.action(KeyMode::Undo, &key('j')), Some(Action::Down));
        assert_eq!(default.action(KeyMode::Filter, &key('j')), None);
        assert_eq!(
            default.action(KeyMode::Confirm, &key('y')),
            Some(Action::Yes)
        );
        let mine = Keymap::parse(
            "[confirm]\nyes = [\"enter\", \"o\"]\n[help]\nclose = [\"x\"]\n",
            Some(&default),
        )
        .unwrap();
        assert_eq!(mine.action(KeyMode::Confirm, &key('o')), Some(Action::Yes));
        assert_eq!(mine.action(KeyMode::Confirm, &key('y')), None);
        assert_eq!(mine.action(KeyMode::Confirm, &key('n')), Some(Action::No));
        assert_eq!(mine.action(KeyMode::Help, &key('x')), Some(Action::Close));
        assert_eq!(mine.action(KeyMode::Normal, &key('j')), Some(Action::Down));
        assert_eq!(mine.hint(KeyMode::Confirm, Action::Yes), "enter/o");
    }

    #[test]
    fn bad_files_name_what_is_wrong() {
        let err = Keymap::parse("[confirm]\npromote = [\"p\"]\n", None).unwrap_err();
        assert!(
            err.contains("[confirm] promote: unknown action; known: yes, no, delete-char"),
            "{err}"
        );
        let err = Keymap::parse("[picker]\ndown = [\"j\"]\n", None).unwrap_err();
        assert!(
            err.contains("[picker]: unknown section; known: normal, filter"),
            "{err}"
        );
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

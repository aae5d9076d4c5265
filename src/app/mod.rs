//! The app: `State`, the `Event`s that change it and the `Effect`s it asks
//! for. `update` is pure: no I/O, no clock; time arrives as `Event::Tick`.

mod command;
mod event;
mod keymap;
mod state;
#[cfg(test)]
mod tests;
mod update;
mod view;

pub use event::{Effect, Event};
pub use keymap::{Action, Key, Keymap};
pub use state::{ContextHealth, Flash, Focus, Mode, State};
pub use update::{Outcome, settle, update};
pub use view::matches_filter;

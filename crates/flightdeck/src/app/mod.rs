//! The app: `State`, the `Event`s that change it and the `Effect`s it asks
//! for. `update` is pure: no I/O, no clock; time arrives as `Event::Tick`.

mod act;
mod cluster_events;
mod command;
mod deployments;
mod dora;
mod event;
mod history_keys;
mod keymap;
mod keys;
mod listing;
mod offer;
mod state;
#[cfg(test)]
pub mod testing;
#[cfg(test)]
mod tests;
mod update;
mod view;

pub use dora::{
    CHANGES_KEPT, COLUMNS as DORA_COLUMNS, ChangeRow, DoraRow, DoraState, HistoryView, LedgerEvent,
    LedgerState, Retry, Strip, WEEKS,
};
pub use event::{Effect, Event};
pub use keymap::{Action, Key, KeyMode, Keymap};
pub use offer::Offer;
pub use state::{
    AccessState, ActionState, Confirm, ContextHealth, Flash, Focus, Mode, Policy, RevisionChoice,
    State, UndoPicker, Viewport,
};
pub use update::{Reaction, settle, update};
pub use view::{DataWidths, Rows, matches_filter};

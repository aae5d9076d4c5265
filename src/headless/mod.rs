//! Commands for scripts and CI: the same data and actions as the cockpit,
//! printed instead of drawn.

mod snapshot;
mod status;

pub use status::{OutputFormat, status};

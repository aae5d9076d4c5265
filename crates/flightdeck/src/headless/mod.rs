//! Commands for scripts and CI: the same data and actions as the cockpit,
//! printed instead of drawn.

mod act;
mod audit;
mod dora;
mod record;
mod snapshot;
mod status;
mod table;

pub use act::{ActRequest, act};
pub use audit::audit;
pub use dora::{DoraFormat, changes, dora};
pub use record::record;
pub use status::{OutputFormat, status};

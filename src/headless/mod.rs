//! Commands for scripts and CI: the same data and actions as the cockpit,
//! printed instead of drawn.

mod act;
mod audit;
mod snapshot;
mod status;
mod table;

pub use act::act;
pub use audit::audit;
pub use status::{OutputFormat, status};

/// Ends a headless command: exit status 0, or its reason on one line and 1.
pub fn finish(result: Result<(), String>) -> ! {
    match result {
        Ok(()) => std::process::exit(0),
        Err(reason) => {
            eprintln!("flightdeck: {reason}");
            std::process::exit(1)
        }
    }
}

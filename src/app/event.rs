//! Everything that happens to the app, and everything it asks the outside to do.

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use crate::cluster::ClusterEvent;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock: sent once a second.
    Tick(Timestamp),
    Cluster(ClusterEvent),
    /// SIGTERM, SIGHUP or SIGINT: leave now.
    Terminate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Watch these contexts (replacing the watched set) in this namespace
    /// (`None`: all namespaces).
    Watch {
        contexts: Vec<String>,
        namespace: Option<String>,
    },
}

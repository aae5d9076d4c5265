//! Everything that happens to the app, and everything it asks the outside to do.

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use super::Viewport;
use crate::cluster::{Access, ClusterEvent};
use crate::metrics::{MetricsUpdate, Target};
use crate::model::{ObjectKey, Rollout, RolloutAction};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock: sent once a second.
    Tick(Timestamp),
    /// A frame was drawn; what it showed.
    Drawn(Viewport),
    Cluster(ClusterEvent),
    /// SIGTERM, SIGHUP or SIGINT: leave now.
    Terminate,
    /// The API server answered an action: `Ok` with what was sent, `Err`
    /// with why it failed, in plain words.
    ActionSent {
        key: ObjectKey,
        action: RolloutAction,
        result: Result<String, String>,
    },
    /// A fresh metrics report for a canary.
    Metrics(MetricsUpdate),
    /// SelfSubjectAccessReviews answered for `user` (`Err`: could not ask).
    Access {
        context: String,
        namespace: String,
        user: String,
        result: Result<Access, String>,
    },
    /// The ledger opened (with its deploys), cannot be used, or failed a write.
    Ledger(super::LedgerEvent),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Ctrl-Z: give the terminal back and stop until `fg`.
    Suspend,
    /// Watch these contexts (replacing the watched set) in this namespace
    /// (`None`: all namespaces).
    Watch {
        contexts: Vec<String>,
        namespace: Option<String>,
    },
    /// Audit, then send the action's API calls; answer with `ActionSent`.
    Act {
        key: ObjectKey,
        action: RolloutAction,
        before: Box<Rollout>,
        /// What was typed to confirm, where the policy asks for the name.
        typed_name: Option<String>,
    },
    /// Follow these canaries' metrics (replacing the list); answers come as
    /// `Metrics` events.
    PollMetrics(Vec<Target>),
    /// Ask whether the user may patch rollouts here; answer with `Access`.
    CheckAccess {
        context: String,
        namespace: String,
    },
    /// Merge these deploys into the ledger (each as it now stands).
    Record(Vec<crate::dora::Deploy>),
}

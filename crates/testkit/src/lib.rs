//! What the integration tests share: the fixtures, a simulated fleet reached as kube-rs
//! and kubectl reach it, a demo canary as the cockpit finds it, a real terminal (tmux),
//! and test proxies.

mod canary;
mod fixtures;
mod fleet;
mod proxy;
mod tmux;

pub use canary::{judged, metric, target};
pub use fixtures::{fixture_objects, fixture_objects_and_unloadable, fixtures, repo};
pub use fleet::{client, get_json, kubectl, namespace, rollout, start};
pub use proxy::Proxy;
pub use tmux::Tmux;

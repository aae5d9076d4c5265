//! What the integration tests share: the fixtures, a simulated fleet reached as kube-rs
//! and kubectl reach it, a demo canary as the cockpit finds it, a real terminal (tmux),
//! test proxies, and a private PostgreSQL.

mod canary;
mod fixtures;
mod fleet;
mod postgres;
mod proxy;
mod tmux;

pub use canary::{judged, metric, target};
pub use fixtures::{fixture_objects, fixture_objects_and_unloadable, fixtures, repo};
pub use fleet::{client, get_json, kubectl, namespace, rollout, start};
pub use postgres::Postgres;
pub use proxy::Proxy;
pub use tmux::Tmux;

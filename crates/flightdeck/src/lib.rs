//! flightdeck: a terminal cockpit for progressive delivery.
//!
//! Data flows one way: sources → `app::Event` → `app::update` (pure) →
//! `app::Effect` → executors; `ui` draws from `&app::State` only.

pub mod app;
pub mod audit;
pub mod audited;
pub mod cluster;
pub mod cockpit;
pub mod config;
pub mod dora;
pub mod headless;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod paths;
pub mod term;
pub mod ui;

//! Simulated metrics vendors, one per simulated cluster, answering their real APIs from
//! the cluster's traffic model, so that `flightdeck demo --metrics datadog|newrelic` and
//! the tests run the product's real clients over HTTP.

mod buckets;
pub mod datadog;
pub mod newrelic;
mod server;

pub use server::{Answer, Served};

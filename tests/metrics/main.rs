//! Metrics: the `[metrics]` section, the judge's statistics, the Prometheus client on
//! recorded and real Prometheus answers, Datadog and New Relic through simulated vendors,
//! and the verdict on the simulator's traffic.

mod config;
mod e2e_prometheus;
mod judge;
mod prometheus;
mod sim_verdicts;
mod vendors;
mod verdict_harness;

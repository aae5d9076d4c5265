//! The simulated fleet as kube-rs, kubectl and Prometheus see it: the API server, the
//! controller's reactions, `/metrics`, and scale figures measured by hand.

mod api;
mod controller;
mod deployments;
mod metrics;
mod past;
mod scale;

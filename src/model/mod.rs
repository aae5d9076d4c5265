//! model
pub mod verdict;
pub use verdict::{Classification, Direction, Effect, MetricResult, Outcome, Verdict};

//! An AnalysisRun: the measurements behind an analysis step.

use jiff::Timestamp;

use super::{Name, ObjectKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisPhase {
    Pending,
    Running,
    Successful,
    Failed,
    Error,
    Inconclusive,
}

impl AnalysisPhase {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Pending" => Self::Pending,
            "Running" => Self::Running,
            "Successful" => Self::Successful,
            "Failed" => Self::Failed,
            "Error" => Self::Error,
            "Inconclusive" => Self::Inconclusive,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Successful => "Successful",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Inconclusive => "Inconclusive",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisMetric {
    pub name: String,
    pub phase: AnalysisPhase,
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub errors: u32,
    /// The latest measurements' values, oldest first, as the provider
    /// reported them (at most [`AnalysisMetric::VALUES_KEPT`]).
    pub values: Vec<String>,
}

impl AnalysisMetric {
    pub const VALUES_KEPT: usize = 10;

    pub fn last_value(&self) -> Option<&str> {
        self.values.last().map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRun {
    pub key: ObjectKey,
    /// The Rollout that owns it.
    pub owner: Option<Name>,
    /// The `rollouts-pod-template-hash` it measures, when labelled.
    pub hash: Option<Name>,
    pub phase: AnalysisPhase,
    pub message: String,
    pub metrics: Vec<AnalysisMetric>,
    pub started: Option<Timestamp>,
}

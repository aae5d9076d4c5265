//! An AnalysisRun: the measurements behind an analysis step.

use jiff::Timestamp;

use super::ObjectKey;

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
    /// The value of the latest measurement, as the provider reported it.
    pub last_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRun {
    pub key: ObjectKey,
    /// The Rollout that owns it.
    pub owner: Option<String>,
    /// The `rollouts-pod-template-hash` it measures, when labelled.
    pub hash: Option<String>,
    pub phase: AnalysisPhase,
    pub message: String,
    pub metrics: Vec<AnalysisMetric>,
    pub started: Option<Timestamp>,
}

//! What moves a workload: an Argo Rollout, a Flagger Canary or a plain Deployment, and
//! what a Flagger Canary's status says beyond the common view.

use super::{Name, Phase, TemplateTimes};

/// The kind of workload a fleet row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Workload {
    #[default]
    ArgoRollout,
    FlaggerCanary,
    Deployment,
}

impl Workload {
    pub const ALL: [Workload; 3] = [
        Workload::ArgoRollout,
        Workload::FlaggerCanary,
        Workload::Deployment,
    ];

    /// The name `:kind` takes and the help lists.
    pub fn name(self) -> &'static str {
        match self {
            Workload::ArgoRollout => "rollout",
            Workload::FlaggerCanary => "canary",
            Workload::Deployment => "deployment",
        }
    }

    /// One letter for the fleet's kind column (the help gives the legend).
    pub fn letter(self) -> &'static str {
        match self {
            Workload::ArgoRollout => "A",
            Workload::FlaggerCanary => "F",
            Workload::Deployment => "D",
        }
    }

    /// What the letter stands for.
    pub fn legend(self) -> &'static str {
        match self {
            Workload::ArgoRollout => "Argo Rollout",
            Workload::FlaggerCanary => "Flagger Canary",
            Workload::Deployment => "Deployment",
        }
    }

    /// `:kind NAME`: the names, their plurals, and the kind as Kubernetes spells it.
    pub fn parse(text: &str) -> Option<Workload> {
        let t = text.trim().to_ascii_lowercase();
        let t = match t.strip_suffix("ies") {
            Some(stem) => format!("{stem}y"),
            None => t.strip_suffix('s').unwrap_or(&t).to_string(),
        };
        let t = t.as_str();
        Workload::ALL.into_iter().find(|w| {
            w.name() == t
                || w.letter().eq_ignore_ascii_case(t)
                || match w {
                    Workload::ArgoRollout => matches!(t, "argo" | "ro"),
                    Workload::FlaggerCanary => t == "flagger",
                    Workload::Deployment => matches!(t, "deploy" | "deployment"),
                }
        })
    }
}

/// Flagger's `status.phase` (pkg/apis/flagger/v1beta1/status.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlaggerPhase {
    Initializing,
    Initialized,
    Waiting,
    Progressing,
    WaitingPromotion,
    Promoting,
    Finalising,
    Succeeded,
    Failed,
    Terminating,
    Terminated,
}

impl FlaggerPhase {
    pub const ALL: [FlaggerPhase; 11] = [
        FlaggerPhase::Initializing,
        FlaggerPhase::Initialized,
        FlaggerPhase::Waiting,
        FlaggerPhase::Progressing,
        FlaggerPhase::WaitingPromotion,
        FlaggerPhase::Promoting,
        FlaggerPhase::Finalising,
        FlaggerPhase::Succeeded,
        FlaggerPhase::Failed,
        FlaggerPhase::Terminating,
        FlaggerPhase::Terminated,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FlaggerPhase::Initializing => "Initializing",
            FlaggerPhase::Initialized => "Initialized",
            FlaggerPhase::Waiting => "Waiting",
            FlaggerPhase::Progressing => "Progressing",
            FlaggerPhase::WaitingPromotion => "WaitingPromotion",
            FlaggerPhase::Promoting => "Promoting",
            FlaggerPhase::Finalising => "Finalising",
            FlaggerPhase::Succeeded => "Succeeded",
            FlaggerPhase::Failed => "Failed",
            FlaggerPhase::Terminating => "Terminating",
            FlaggerPhase::Terminated => "Terminated",
        }
    }

    pub fn parse(text: &str) -> Option<FlaggerPhase> {
        FlaggerPhase::ALL.into_iter().find(|p| p.label() == text)
    }

    /// An analysis is under way (Flagger's `IsProgressing` plus the waits for a gate):
    /// the target Deployment's new spec is not yet the primary's.
    pub fn in_flight(self) -> bool {
        matches!(
            self,
            FlaggerPhase::Waiting
                | FlaggerPhase::Progressing
                | FlaggerPhase::WaitingPromotion
                | FlaggerPhase::Promoting
                | FlaggerPhase::Finalising
        )
    }

    /// The common phase: a failed analysis (rolled back, canary scaled to zero) is
    /// shown as Aborted, a wait for a gate as Paused, the rest as it reads.
    pub fn common(self, suspended: bool) -> Phase {
        if suspended && self.in_flight() {
            return Phase::Paused;
        }
        match self {
            FlaggerPhase::Failed => Phase::Aborted,
            FlaggerPhase::Waiting | FlaggerPhase::WaitingPromotion => Phase::Paused,
            FlaggerPhase::Initializing
            | FlaggerPhase::Progressing
            | FlaggerPhase::Promoting
            | FlaggerPhase::Finalising
            | FlaggerPhase::Terminating => Phase::Progressing,
            FlaggerPhase::Initialized | FlaggerPhase::Succeeded | FlaggerPhase::Terminated => {
                Phase::Healthy
            }
        }
    }
}

/// How a Flagger analysis moves traffic (Flagger's deployment strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlaggerStrategy {
    /// Weighted canary: `stepWeight` (or `stepWeights`) up to `maxWeight`.
    Canary,
    /// A/B testing: `iterations` with `match` rules; the matched users see the canary.
    AbTesting,
    /// Blue/green: `iterations` with the canary unseen, then all traffic at once.
    BlueGreen,
}

impl FlaggerStrategy {
    pub fn label(self) -> &'static str {
        match self {
            FlaggerStrategy::Canary => "canary",
            FlaggerStrategy::AbTesting => "A/B",
            FlaggerStrategy::BlueGreen => "blue/green",
        }
    }
}

/// A webhook gate of the Canary that flightdeck can open (the load tester's
/// `/gate/open` or `/rollback/open`), as the API server's service proxy reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The webhook's name and url, as the Canary has them.
    pub webhook: String,
    pub url: String,
}

/// What a Flagger Canary's spec and status say beyond the common view.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerCanary {
    pub phase: FlaggerPhase,
    pub strategy: FlaggerStrategy,
    /// `spec.targetRef.name`: the canary Deployment; its `-primary` is stable.
    pub target: String,
    /// `spec.suspend`.
    pub suspended: bool,
    /// `spec.skipAnalysis`.
    pub skip_analysis: bool,
    /// `status.canaryWeight`.
    pub canary_weight: u32,
    /// `status.iterations`.
    pub iterations: u32,
    /// `status.failedChecks`, failing at `analysis.threshold`.
    pub failed_checks: u32,
    pub threshold: Option<u32>,
    /// `analysis.interval` in seconds.
    pub interval: Option<u64>,
    pub step_weight: Option<u32>,
    pub step_weights: Vec<u32>,
    pub max_weight: Option<u32>,
    /// `analysis.iterations`.
    pub max_iterations: Option<u32>,
    /// The `match` rules of an A/B test, one line each (`header user-agent ~ .*Firefox.*`):
    /// the requests that go to the canary.
    pub matches: Vec<String>,
    /// `status.lastAppliedSpec` and `status.lastPromotedSpec`: hashes of the target's
    /// pod spec, the last one analysed and the last one promoted.
    pub last_applied: Option<Name>,
    pub last_promoted: Option<Name>,
    /// The `confirm-promotion` webhook, whose gate promote opens.
    pub promotion_gate: Option<Gate>,
    /// The `rollback` webhook, whose gate abort opens.
    pub rollback_gate: Option<Gate>,
    /// The `confirm-rollout` webhook: a Canary in `Waiting` waits on it.
    pub rollout_gate: Option<Gate>,
}

impl FlaggerCanary {
    /// "12/15" weighted checks' of an analysis, as `kubectl get canary` shows weight
    /// and the CRD's printer columns: the failed checks against the threshold.
    pub fn checks_label(&self) -> String {
        match self.threshold {
            Some(t) => format!("{}/{t} failed checks", self.failed_checks),
            None => format!("{} failed checks", self.failed_checks),
        }
    }
}

/// What a plain Deployment's spec and status say beyond the common view: its rolling
/// update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentDetail {
    /// `RollingUpdate` or `Recreate`.
    pub strategy: String,
    /// `maxSurge` and `maxUnavailable` as written (`25%`, `1`), Kubernetes' defaults when unset.
    pub max_surge: String,
    pub max_unavailable: String,
    /// The `Progressing` condition's reason is `ProgressDeadlineExceeded`.
    pub deadline_exceeded: bool,
    /// A restart asked (`kubectl.kubernetes.io/restartedAt` on the pod template).
    pub restarted_at: Option<String>,
    /// The Deployment is owned by something else (an ownerReference to a Canary or a
    /// Rollout): it shows under its owner, not as a row of its own.
    pub owned: bool,
    /// The pod template's annotations that read as a time (where a commit time is found).
    pub template_times: TemplateTimes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_parse_as_people_type_them() {
        assert_eq!(Workload::parse("canary"), Some(Workload::FlaggerCanary));
        assert_eq!(Workload::parse("Canaries"), Some(Workload::FlaggerCanary));
        assert_eq!(Workload::parse("flagger"), Some(Workload::FlaggerCanary));
        assert_eq!(Workload::parse("deploy"), Some(Workload::Deployment));
        assert_eq!(Workload::parse("deployments"), Some(Workload::Deployment));
        assert_eq!(Workload::parse("rollouts"), Some(Workload::ArgoRollout));
        assert_eq!(Workload::parse("A"), Some(Workload::ArgoRollout));
        assert_eq!(Workload::parse("pod"), None);
    }

    #[test]
    fn flagger_phases_read_as_the_common_phase() {
        use FlaggerPhase::*;
        assert_eq!(Failed.common(false), Phase::Aborted);
        assert_eq!(WaitingPromotion.common(false), Phase::Paused);
        assert_eq!(Progressing.common(false), Phase::Progressing);
        assert_eq!(Progressing.common(true), Phase::Paused);
        assert_eq!(Succeeded.common(true), Phase::Healthy);
        assert_eq!(FlaggerPhase::parse("Finalising"), Some(Finalising));
        assert_eq!(FlaggerPhase::parse("Finalizing"), None);
        assert!(Waiting.in_flight() && !Succeeded.in_flight() && !Failed.in_flight());
    }
}

//! A rollout: one progressively delivered workload and where it stands.

use std::fmt;

use jiff::Timestamp;

use std::sync::Arc;

use super::Step;
use super::optional_time::OptionalTime;
use super::text::{Images, Name, Text, interned};
use super::verdict::Outcome;
use super::workload::{DeploymentDetail, FlaggerCanary, Workload};

/// Where an object lives: its cluster context, namespace and name, and the kind of
/// workload it is or belongs to (a Rollout and a Canary may share a name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Interned: a fleet has a handful of contexts and namespaces.
    pub context: Text,
    pub namespace: Text,
    pub name: Name,
    pub kind: Workload,
}

impl ObjectKey {
    /// An Argo Rollout's key, or that of an object Argo's controller makes.
    pub fn new(context: &str, namespace: &str, name: impl Into<Name>) -> Self {
        Self::of(Workload::ArgoRollout, context, namespace, name)
    }

    pub fn of(kind: Workload, context: &str, namespace: &str, name: impl Into<Name>) -> Self {
        Self {
            context: interned(context),
            namespace: interned(namespace),
            name: name.into(),
            kind,
        }
    }

    /// Another object of the same kind beside this one.
    pub fn sibling(&self, name: impl Into<Name>) -> Self {
        Self::of(self.kind, &self.context, &self.namespace, name)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.context, self.namespace, self.name)
    }
}

/// The phase as Argo's `GetRolloutPhase` computes it, with an abort shown as
/// its own phase (Argo reports it as Degraded with `status.abort: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Healthy,
    Progressing,
    Paused,
    Degraded,
    Aborted,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Healthy => "Healthy",
            Phase::Progressing => "Progressing",
            Phase::Paused => "Paused",
            Phase::Degraded => "Degraded",
            Phase::Aborted => "Aborted",
        }
    }

    pub const ALL: [Phase; 5] = [
        Phase::Degraded,
        Phase::Aborted,
        Phase::Paused,
        Phase::Progressing,
        Phase::Healthy,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `traffic_routed`: a service mesh or ingress splits traffic, so the
    /// controller reports weights in `status.canary.weights`.
    Canary {
        traffic_routed: bool,
    },
    BlueGreen,
    /// A strategy flightdeck does not model (the object is still shown).
    Other,
}

impl Strategy {
    pub fn label(self) -> &'static str {
        match self {
            Strategy::Canary { .. } => "canary",
            Strategy::BlueGreen => "blue-green",
            Strategy::Other => "other",
        }
    }
}

/// Replica counts, as the controller reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replicas {
    pub desired: u32,
    pub current: u32,
    pub updated: u32,
    pub ready: u32,
    pub available: u32,
}

/// How the controller scales old and new versions, from the strategy's
/// spec: what the blast radius needs beyond the replica count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scaling {
    /// `scaleDownDelaySeconds`: how long an old version keeps its pods
    /// after a promotion (traffic-routed canaries and blue-green).
    pub scale_down_delay: Option<u32>,
    /// `abortScaleDownDelaySeconds`: the same for the new version after an abort.
    pub abort_scale_down_delay: Option<u32>,
    /// Blue-green `previewReplicaCount`.
    pub preview_replicas: Option<u32>,
    /// Canary `dynamicStableScale`: stable shrinks as the canary grows,
    /// even under traffic routing.
    pub dynamic_stable_scale: bool,
}

/// What only some rollouts have: blue-green's services, a ping-pong canary's, a
/// `workloadRef`, the strategy's delays. Boxed, and only when any is set: of a fleet
/// of canaries most have none, and each would cost every rollout 150 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrategyDetail {
    /// Blue-green `status.blueGreen.activeSelector`, `previewSelector`: the hashes
    /// the services select.
    pub active_selector: Option<Name>,
    pub preview_selector: Option<Name>,
    /// A ping-pong canary (`canary.pingPong`): which service, `ping` or
    /// `pong`, the stable version is behind (`status.canary.stablePingPong`).
    pub stable_ping_pong: Option<Name>,
    /// An Argo Rollout's `spec.workloadRef` Deployment, which shows under the Rollout.
    pub workload_ref: Option<Name>,
    pub scaling: Scaling,
}

const NO_DETAIL: StrategyDetail = StrategyDetail {
    active_selector: None,
    preview_selector: None,
    stable_ping_pong: None,
    workload_ref: None,
    scaling: Scaling {
        scale_down_delay: None,
        abort_scale_down_delay: None,
        preview_replicas: None,
        dynamic_stable_scale: false,
    },
};

impl StrategyDetail {
    /// Boxed when any of it is set.
    pub fn boxed(self) -> Option<Box<StrategyDetail>> {
        (self != NO_DETAIL).then(|| Box::new(self))
    }
}

/// One of `status.pauseConditions`: why the controller is holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseCondition {
    /// `CanaryPauseStep`, `BlueGreenPause`, `InconclusiveAnalysisRun`, ...
    pub reason: String,
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Interned, as are status and reason: a few words, held by every rollout.
    pub kind: Text,
    pub status: Text,
    pub reason: Text,
    pub message: Text,
    pub since: OptionalTime,
}

/// How soon a person should look at a rollout; lower sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    /// Degraded or aborted.
    Failing,
    /// Its canary's verdict is FAIL: live traffic is on a version that is hurting users.
    CanaryFailing,
    WaitingForPerson,
    Moving,
    Settled,
}

/// Where a rollout goes in the fleet: its urgency, then (within it) how
/// worrying its verdict is, MARGINAL before no verdict before PASS.
pub fn rank(rollout: &Rollout, verdict: Option<&Outcome>) -> (Urgency, u8) {
    let urgency = match (rollout.urgency(), verdict) {
        (Urgency::Failing, _) => Urgency::Failing,
        (_, Some(Outcome::Fail)) => Urgency::CanaryFailing,
        (urgency, _) => urgency,
    };
    let worry = match verdict {
        Some(Outcome::Fail) => 0,
        Some(Outcome::Marginal) => 1,
        // The metrics cannot be read: a person should look, before PASS.
        Some(Outcome::NoData) => 2,
        Some(Outcome::InsufficientData { .. }) => 3,
        None => 4,
        Some(Outcome::Pass) => 5,
    };
    (urgency, worry)
}

/// A rollout as flightdeck understands it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub key: ObjectKey,
    pub created: OptionalTime,
    pub generation: i64,
    pub observed_generation: i64,
    /// `rollout.argoproj.io/revision`.
    pub revision: Option<u64>,
    pub strategy: Strategy,
    pub phase: Phase,
    /// Shared with the rollouts that say the same.
    pub message: Text,
    /// `spec.paused`: paused by a person (or a script).
    pub paused_by_user: bool,
    pub pause_conditions: Vec<PauseCondition>,
    pub controller_pause: bool,
    pub aborted: bool,
    /// Shared with every rollout of the same plan.
    pub steps: Arc<[Step]>,
    /// `status.currentStepIndex`; equal to `steps.len()` when all are done.
    pub current_step: Option<usize>,
    /// The weight the steps ask for now (Argo's `GetCurrentSetWeight`).
    pub set_weight: u32,
    /// The share of traffic the canary really gets (Argo's `ActualWeight`).
    /// Without traffic routing Argo counts the canary ReplicaSet's available
    /// pods, so then this is 0 until [`actual_weight`](super::actual_weight) adds them in.
    pub actual_weight: u32,
    pub stable_hash: Option<Name>,
    pub current_hash: Option<Name>,
    /// Images of the pod template (the newest revision).
    pub images: Images,
    pub replicas: Replicas,
    /// What only some strategies have (`None` when none of it is set).
    pub detail: Option<Box<StrategyDetail>>,
    pub conditions: Vec<Condition>,
    /// When the current step (or state) began, as far as the status says.
    pub since: OptionalTime,
    /// What moves it: an Argo Rollout, a Flagger Canary, a Deployment.
    pub workload: Workload,
    /// A Flagger Canary's own status and analysis plan.
    pub flagger: Option<Box<FlaggerCanary>>,
    /// A plain Deployment's rolling update.
    pub deployment: Option<Box<DeploymentDetail>>,
}

impl Rollout {
    pub fn detail(&self) -> &StrategyDetail {
        self.detail.as_deref().unwrap_or(&NO_DETAIL)
    }

    pub fn detail_mut(&mut self) -> &mut StrategyDetail {
        self.detail.get_or_insert_with(Box::default)
    }

    /// The phase as its own controller names it: Flagger's phases for a Canary.
    pub fn phase_label(&self) -> &'static str {
        match &self.flagger {
            Some(f) if f.suspended && f.phase.in_flight() => "Suspended",
            Some(f) => f.phase.label(),
            None => self.phase.label(),
        }
    }

    /// A pause that only a person (or a script acting for one) ends: a
    /// `pause: {}` step, a blue-green awaiting promotion, or `spec.paused`.
    pub fn waiting_for_person(&self) -> bool {
        if self.phase != Phase::Paused {
            return false;
        }
        if self.paused_by_user || self.pause_conditions.is_empty() {
            return true;
        }
        !matches!(
            self.current_step.and_then(|i| self.steps.get(i)),
            Some(Step::Pause { seconds: Some(_) })
        )
    }

    /// An update is in flight: the newest version is not (yet) the stable
    /// one (Argo's `currentPodHash != stableRS`).
    pub fn update_in_flight(&self) -> bool {
        self.current_hash != self.stable_hash
    }

    /// A canary step is left to move past (Argo's `GetCurrentCanaryStep`).
    pub fn steps_left(&self) -> bool {
        matches!(self.strategy, Strategy::Canary { .. })
            && self.current_step.unwrap_or(0) < self.steps.len()
    }

    /// The new version's share of traffic now: none while the newest
    /// version is the stable one (a settled rollout has no canary, though
    /// its actual weight reads 100), else the actual weight.
    pub fn new_version_weight(&self) -> u32 {
        if self.current_hash.is_some() && self.current_hash == self.stable_hash {
            return 0;
        }
        match self.strategy {
            // A blue-green's new version has all the traffic once the active
            // service points at it, none before.
            Strategy::BlueGreen if self.detail().active_selector.is_some() => {
                if self.detail().active_selector == self.current_hash {
                    100
                } else {
                    0
                }
            }
            _ => self.actual_weight.min(100),
        }
    }

    pub fn urgency(&self) -> Urgency {
        match self.phase {
            Phase::Degraded | Phase::Aborted => Urgency::Failing,
            Phase::Paused if self.waiting_for_person() => Urgency::WaitingForPerson,
            Phase::Paused | Phase::Progressing => Urgency::Moving,
            Phase::Healthy => Urgency::Settled,
        }
    }

    /// When a timed pause ends, if the rollout is in one.
    pub fn pause_ends_at(&self) -> Option<Timestamp> {
        let Some(Step::Pause { seconds: Some(s) }) =
            self.current_step.and_then(|i| self.steps.get(i))
        else {
            return None;
        };
        let started = self
            .pause_conditions
            .iter()
            .find(|c| c.reason == "CanaryPauseStep")?
            .since?;
        // A pause too long for a time to hold never ends; `as i64` read
        // u64::MAX seconds as -1, a pause that ended before it began.
        let seconds = i64::try_from(*s).ok()?;
        started
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .ok()
    }

    /// "3/8" for a canary with steps; `None` when there are no steps.
    pub fn step_label(&self) -> Option<String> {
        if self.steps.is_empty() {
            return None;
        }
        let at = self.current_step.unwrap_or(0).min(self.steps.len());
        Some(format!("{at}/{}", self.steps.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{at, canary, rollout};

    #[test]
    fn a_failing_verdict_ranks_right_after_degraded_and_marginal_before_pass() {
        let degraded = canary("eu", "shop", "a", Phase::Degraded, 0);
        let waiting = canary("eu", "shop", "b", Phase::Paused, 1);
        let moving = canary("eu", "shop", "c", Phase::Progressing, 2);
        let settled = rollout("eu", "shop", "d", Phase::Healthy);
        assert_eq!(rank(&degraded, Some(&Outcome::Fail)).0, Urgency::Failing);
        assert_eq!(
            rank(&waiting, Some(&Outcome::Fail)).0,
            Urgency::CanaryFailing
        );
        assert_eq!(
            rank(&moving, Some(&Outcome::Fail)).0,
            Urgency::CanaryFailing
        );
        assert_eq!(
            rank(&waiting, Some(&Outcome::Pass)).0,
            Urgency::WaitingForPerson
        );
        assert!(rank(&moving, Some(&Outcome::Marginal)) < rank(&moving, None));
        assert!(rank(&moving, None) < rank(&moving, Some(&Outcome::Pass)));
        assert!(rank(&moving, Some(&Outcome::Pass)) < rank(&settled, None));
    }

    #[test]
    fn a_timed_pause_ends_after_it_began() {
        let mut r = canary("eu", "shop", "checkout", Phase::Paused, 3);
        assert_eq!(r.pause_ends_at(), Some(at(40)));
        // Caught by the fuzz target's check: a pause of u64::MAX seconds
        // (`duration: "18446744073709551615"`) ended a second before it began.
        let mut steps = r.steps.to_vec();
        steps[3] = Step::Pause {
            seconds: Some(u64::MAX),
        };
        r.steps = steps.into();
        assert_eq!(r.pause_ends_at(), None);
    }

    #[test]
    fn a_rollout_keeps_what_few_have_out_of_line() {
        // Held once per rollout of the fleet, boxed (480 bytes before the strategy's
        // rarer fields moved to `StrategyDetail` and its times were packed).
        let size = std::mem::size_of::<Rollout>();
        assert!(size <= 330, "{size} bytes");
        let plain = canary("eu", "shop", "a", Phase::Healthy, 0);
        assert!(plain.detail.is_none());
        let mut bg = plain.clone();
        bg.detail_mut().active_selector = Some("6d5f".into());
        assert_eq!(bg.detail().active_selector.as_deref(), Some("6d5f"));
        assert_eq!(StrategyDetail::default().boxed(), None);
    }
}

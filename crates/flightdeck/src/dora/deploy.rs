//! A deploy: one revision of one workload's pod template, from its start to its end,
//! as the ledger keeps it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::details::BoxedDetails;
pub use super::details::Details;
pub use super::marks::{ActionMark, TrafficMark, VerdictMark, Verdicts};
use crate::model::{Images, Name, ObjectKey, OptionalTime, Text, Workload, earliest, interned};

fn interned_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(interned(&text))
}

/// What identifies a deploy: where the workload is, and which pod template at which
/// revision (an undo brings an old template back under a new revision: a new deploy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeployId {
    /// Interned, as in the fleet's keys: a ledger holds a handful of each.
    #[serde(deserialize_with = "interned_text")]
    pub context: Text,
    #[serde(deserialize_with = "interned_text")]
    pub namespace: Text,
    /// Part of the identity: a Rollout and a Canary may share a namespace and a name.
    /// (Absent from the ledgers of schema 1, which held Rollouts only.)
    #[serde(default)]
    pub kind: WorkloadKind,
    /// Inline up to 24 bytes, as an object key's name.
    pub name: Name,
    /// `rollouts-pod-template-hash` of a Rollout, `pod-template-hash` of a
    /// Deployment, the `lastAppliedSpec` of a Canary.
    pub hash: Name,
    /// `rollout.argoproj.io/revision`, `deployment.kubernetes.io/revision` (of a
    /// Canary's target).
    pub revision: u64,
}

impl DeployId {
    pub fn workload(&self) -> ObjectKey {
        ObjectKey::of(
            self.kind.workload(),
            &self.context,
            &self.namespace,
            self.name.as_str(),
        )
    }

    pub fn same_workload(&self, key: &ObjectKey) -> bool {
        self.context == key.context
            && self.namespace == key.namespace
            && self.name == key.name
            && self.kind.workload() == key.kind
    }
}

/// What kind of workload was deployed (a byte, not a string: there are many deploys).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum WorkloadKind {
    /// An Argo Rollout.
    #[default]
    Rollout,
    /// A Flagger Canary (its target Deployment's revisions).
    Canary,
    /// A plain Deployment.
    Deployment,
}

impl WorkloadKind {
    /// As Kubernetes names the kind (and the ledger's `kind` column holds it).
    pub fn label(self) -> &'static str {
        match self {
            WorkloadKind::Rollout => "Rollout",
            WorkloadKind::Canary => "Canary",
            WorkloadKind::Deployment => "Deployment",
        }
    }

    /// The letter of the fleet's kind column.
    pub fn letter(self) -> &'static str {
        self.workload().letter()
    }

    /// The model's kind: what a workload's key carries.
    pub fn workload(self) -> Workload {
        match self {
            WorkloadKind::Rollout => Workload::ArgoRollout,
            WorkloadKind::Canary => Workload::FlaggerCanary,
            WorkloadKind::Deployment => Workload::Deployment,
        }
    }
}

/// How a deploy was found to have failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// `status.abort`: traffic sent back to the stable version.
    Aborted,
    /// An older template was brought back (the cluster's `revision-history`).
    RolledBack,
    /// Undone through flightdeck (the audit trail says who).
    Undone,
}

impl Failure {
    pub fn label(self) -> &'static str {
        match self {
            Failure::Aborted => "aborted",
            Failure::RolledBack => "rolled back",
            Failure::Undone => "undone",
        }
    }
}

/// How a deploy stands, as far as is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    InProgress,
    Succeeded,
    Failed(Failure),
    /// Replaced by a newer revision before it was seen at 100% (and not failed).
    Superseded,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::InProgress => "in progress",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed(failure) => failure.label(),
            Outcome::Superseded => "superseded",
        }
    }
}

/// One deploy. Every field merges (see [`Deploy::merge`]) so that facts from the
/// cluster's history, the watches and the audit trail, in any order and any number
/// of times, make the same record. Small, for the cockpit and the ledger hold a great
/// many: its times packed, its traffic exactly as long as it is, and what few deploys
/// have (see [`Details`]) boxed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "Owned")]
pub struct Deploy {
    pub id: DeployId,
    pub images: Images,
    pub started: Timestamp,
    /// When the change was committed (from the pod template's annotation).
    commit: OptionalTime,
    /// When it was seen running at 100% (the stable version), exactly.
    completed: OptionalTime,
    /// When a newer revision started (the latest it can have completed by).
    superseded: OptionalTime,
    /// The highest share of traffic it reached, percent.
    pub peak_weight: u32,
    /// Its share of traffic over time, as the watches saw it (oldest first).
    pub traffic: Box<[TrafficMark]>,
    details: BoxedDetails,
}

/// A deploy as the ledger stores it: every field at the top level, in this order.
#[derive(Serialize, Deserialize)]
#[serde(rename = "Deploy")]
struct Stored<Id, Images, Traffic, Verdict, Verdicts, Actions> {
    id: Id,
    images: Images,
    started: Timestamp,
    commit: Option<Timestamp>,
    completed: Option<Timestamp>,
    superseded: Option<Timestamp>,
    failed: Option<(Failure, Timestamp)>,
    stopped: Option<Timestamp>,
    peak_weight: u32,
    traffic: Traffic,
    request_rate: Option<f64>,
    verdict: Option<Verdict>,
    #[serde(default)]
    verdicts: Verdicts,
    actions: Actions,
}

/// What a ledger's body reads into.
type Owned = Stored<DeployId, Images, Box<[TrafficMark]>, Box<str>, Verdicts, Vec<ActionMark>>;

impl From<Owned> for Deploy {
    fn from(s: Owned) -> Deploy {
        let details = Details {
            failed: s.failed,
            stopped: s.stopped,
            request_rate: s.request_rate,
            verdict: s.verdict,
            verdicts: s.verdicts,
            actions: s.actions,
        };
        Deploy {
            id: s.id,
            images: s.images,
            started: s.started,
            commit: s.commit.into(),
            completed: s.completed.into(),
            superseded: s.superseded.into(),
            peak_weight: s.peak_weight,
            traffic: s.traffic,
            details: details.into(),
        }
    }
}

impl Serialize for Deploy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.details.get();
        Stored {
            id: &self.id,
            images: &self.images,
            started: self.started,
            commit: self.commit(),
            completed: self.completed(),
            superseded: self.superseded(),
            failed: d.failed,
            stopped: d.stopped,
            peak_weight: self.peak_weight,
            traffic: &self.traffic,
            request_rate: d.request_rate,
            verdict: d.verdict.as_deref(),
            verdicts: &d.verdicts,
            actions: &d.actions,
        }
        .serialize(s)
    }
}

/// Marks kept per deploy: a canary's steps, not every reading.
const TRAFFIC_MARKS: usize = 64;

impl Deploy {
    /// A deploy started at `started`, with nothing else known yet.
    pub fn new(id: DeployId, started: Timestamp) -> Deploy {
        Deploy {
            id,
            images: Images::default(),
            started,
            commit: OptionalTime::NONE,
            completed: OptionalTime::NONE,
            superseded: OptionalTime::NONE,
            peak_weight: 0,
            traffic: Box::default(),
            details: BoxedDetails::default(),
        }
    }

    pub fn commit(&self) -> Option<Timestamp> {
        self.commit.get()
    }

    pub fn set_commit(&mut self, at: Option<Timestamp>) {
        self.commit = at.into();
    }

    pub fn completed(&self) -> Option<Timestamp> {
        self.completed.get()
    }

    pub fn set_completed(&mut self, at: Option<Timestamp>) {
        self.completed = at.into();
    }

    pub fn superseded(&self) -> Option<Timestamp> {
        self.superseded.get()
    }

    pub fn set_superseded(&mut self, at: Option<Timestamp>) {
        self.superseded = at.into();
    }

    pub fn failed(&self) -> Option<(Failure, Timestamp)> {
        self.details.get().failed
    }

    pub fn stopped(&self) -> Option<Timestamp> {
        self.details.get().stopped
    }

    pub fn request_rate(&self) -> Option<f64> {
        self.details.get().request_rate
    }

    pub fn verdict(&self) -> Option<&str> {
        self.details.get().verdict.as_deref()
    }

    pub fn verdicts(&self) -> &[VerdictMark] {
        self.details.get().verdicts.as_slice()
    }

    pub fn actions(&self) -> &[ActionMark] {
        &self.details.get().actions
    }

    /// Its failure, stop, request rate, verdicts and actions, to set.
    pub fn details_mut(&mut self) -> &mut Details {
        self.details.get_mut()
    }

    /// The bytes its details take (none for most deploys).
    pub fn details_heap_bytes(&self) -> usize {
        self.details.heap_bytes()
    }

    /// Add a mark of its share of traffic (a fact's; merging puts the marks in order).
    pub fn mark_traffic(&mut self, mark: TrafficMark) {
        let mut traffic = std::mem::take(&mut self.traffic).into_vec();
        traffic.push(mark);
        self.traffic = traffic.into_boxed_slice();
    }

    pub fn outcome(&self) -> Outcome {
        match (
            self.failed(),
            self.completed.is_some(),
            self.superseded.is_some(),
        ) {
            (Some((failure, _)), _, _) => Outcome::Failed(failure),
            (None, true, _) => Outcome::Succeeded,
            (None, false, true) => Outcome::Superseded,
            (None, false, false) => Outcome::InProgress,
        }
    }

    /// It shipped: seen at 100%, or replaced by a newer revision without failing.
    pub fn succeeded(&self) -> bool {
        self.failed().is_none() && (self.completed.is_some() || self.superseded.is_some())
    }

    /// Fold `other` (a fact about the same deploy) in: earliest times, highest
    /// weight and request rate, union of marks. Idempotent, and commutative but for
    /// the verdict (the one merged last is kept), so that no fact counts twice however
    /// often and in whatever order it arrives. Returns whether anything changed.
    pub fn merge(&mut self, other: &Deploy) -> bool {
        let before = self.clone();
        self.started = self.started.min(other.started);
        if self.images.is_empty() {
            self.images.clone_from(&other.images);
        }
        self.set_commit(earliest(self.commit(), other.commit()));
        self.set_completed(earliest(self.completed(), other.completed()));
        self.set_superseded(earliest(self.superseded(), other.superseded()));
        self.peak_weight = self.peak_weight.max(other.peak_weight);
        self.merge_traffic(&other.traffic);
        if !(self.details.is_none() && other.details.is_none()) {
            self.details.get_mut().merge(other.details.get());
        }
        *self != before
    }

    fn merge_traffic(&mut self, other: &[TrafficMark]) {
        let mut traffic = std::mem::take(&mut self.traffic).into_vec();
        for mark in other {
            if !traffic.contains(mark) {
                traffic.push(*mark);
            }
        }
        traffic.sort_by_key(|m| (m.at, m.weight));
        traffic.dedup_by_key(|m| m.at);
        // A reading that changes nothing is no mark.
        traffic.dedup_by_key(|m| (m.weight, m.step));
        if traffic.len() > TRAFFIC_MARKS {
            let extra = traffic.len() - TRAFFIC_MARKS;
            traffic.drain(1..=extra);
        }
        self.traffic = traffic.into_boxed_slice();
    }

    /// When it was at 100% at the latest: when seen there, else (read from the
    /// cluster's history, where no object says) when the next revision started, for
    /// a version that did not fail was running at 100% before it was replaced.
    pub fn completed_by(&self) -> Option<Timestamp> {
        self.completed()
            .or(self.superseded().filter(|_| self.failed().is_none()))
    }

    /// When the bad version stopped taking traffic: its stop, else its failure.
    pub fn stop_time(&self) -> Option<Timestamp> {
        self.stopped().or(self.failed().map(|(_, at)| at))
    }

    /// How much traffic a failed deploy took before it was stopped, and what a
    /// big-bang release (100% from the start) would have exposed over the same time.
    pub fn exposure(&self) -> Option<Exposure> {
        self.failed()?;
        self.exposure_until(self.stop_time()?)
    }

    /// The traffic it took from its start until `end` (its stop, or for a deploy
    /// fixed forward, the fix's start).
    /// `None` when nothing is known of its traffic (read from the cluster's history:
    /// no step seen, never the stable version): unknown, not zero.
    pub fn exposure_until(&self, end: Timestamp) -> Option<Exposure> {
        if self.traffic.is_empty() && self.peak_weight == 0 && !self.completed.is_some() {
            return None;
        }
        let end = end.max(self.started);
        let seconds = (end.as_millisecond() - self.started.as_millisecond()) as f64 / 1000.0;
        let share_seconds = if self.traffic.is_empty() {
            // No step seen: its highest share over the whole time, an upper bound.
            let peak = if self.completed.is_some() {
                100
            } else {
                self.peak_weight.min(100)
            };
            f64::from(peak) / 100.0 * seconds
        } else {
            let mut total = 0.0;
            let mut weight = 0.0;
            let mut from = self.started;
            for mark in self.traffic.iter().filter(|m| m.at <= end) {
                let at = mark.at.max(self.started);
                total += weight * (at.as_millisecond() - from.as_millisecond()) as f64 / 1000.0;
                weight = f64::from(mark.weight.min(100)) / 100.0;
                from = at;
            }
            total + weight * (end.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
        };
        Some(Exposure {
            share_seconds,
            big_bang_seconds: seconds,
            requests: self.request_rate().map(|rate| rate * share_seconds),
        })
    }
}

/// The traffic a failed version took: share × time, in "full-traffic seconds".
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Exposure {
    /// ∫ share dt: 600 is ten minutes at 100%, or an hour at 1/6.
    pub share_seconds: f64,
    /// What a big-bang release would have exposed: 100% for as long.
    pub big_bang_seconds: f64,
    /// Requests the bad version served, when a request rate is known.
    pub requests: Option<f64>,
}

impl Exposure {
    pub fn add(&mut self, other: Exposure) {
        self.share_seconds += other.share_seconds;
        self.big_bang_seconds += other.big_bang_seconds;
        self.requests = match (self.requests, other.requests) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }

    /// The share of a big bang's exposure the progressive delivery saved.
    pub fn saved(&self) -> Option<f64> {
        (self.big_bang_seconds > 0.0).then(|| 1.0 - self.share_seconds / self.big_bang_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(second: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + second).unwrap()
    }

    fn id(revision: u64) -> DeployId {
        DeployId {
            context: "eu".into(),
            namespace: "shop".into(),
            kind: Default::default(),
            name: "checkout".into(),
            hash: format!("h{revision}").into(),
            revision,
        }
    }

    #[test]
    fn merging_is_commutative_and_idempotent() {
        let mut a = Deploy::new(id(1), t(100));
        a.set_completed(Some(t(500)));
        a.mark_traffic(TrafficMark {
            at: t(200),
            weight: 20,
            step: None,
        });
        let mut b = Deploy::new(id(1), t(90));
        b.peak_weight = 40;
        b.details_mut().failed = Some((Failure::Aborted, t(300)));
        b.mark_traffic(TrafficMark {
            at: t(250),
            weight: 40,
            step: None,
        });
        let mut ab = a.clone();
        assert!(ab.merge(&b));
        let mut ba = b.clone();
        assert!(ba.merge(&a));
        assert_eq!(ab, ba);
        assert!(!ab.merge(&b), "a fact merged twice changes nothing");
        assert_eq!(ab.started, t(90));
        assert_eq!(ab.outcome(), Outcome::Failed(Failure::Aborted));
        assert_eq!(ab.traffic.len(), 2);
    }

    #[test]
    fn verdict_transitions_merge_in_any_order_without_repeats() {
        let mark = |second, outcome: &str| VerdictMark {
            at: t(second),
            outcome: outcome.into(),
            deciding: String::new(),
        };
        let mut a = Deploy::new(id(1), t(0));
        a.details_mut().verdicts = vec![mark(10, "PASS"), mark(30, "FAIL")].into();
        let mut b = Deploy::new(id(1), t(0));
        b.details_mut().verdicts = vec![mark(20, "PASS"), mark(40, "PASS")].into();
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        // PASS at 20 repeats PASS at 10; PASS at 40 follows the FAIL: a transition.
        assert_eq!(
            ab.verdicts(),
            [mark(10, "PASS"), mark(30, "FAIL"), mark(40, "PASS")]
        );
        assert!(!ab.merge(&b), "merged twice, nothing new");
    }

    #[test]
    fn exposure_integrates_the_traffic_until_the_stop() {
        let mut d = Deploy::new(id(1), t(0));
        d.traffic = vec![
            TrafficMark {
                at: t(0),
                weight: 10,
                step: None,
            },
            TrafficMark {
                at: t(100),
                weight: 50,
                step: None,
            },
        ]
        .into();
        d.details_mut().failed = Some((Failure::Aborted, t(200)));
        d.details_mut().stopped = Some(t(300));
        d.details_mut().request_rate = Some(10.0);
        // 10% × 100 s + 50% × 200 s = 110 full-traffic seconds over 300 s.
        let e = d.exposure().unwrap();
        assert!((e.share_seconds - 110.0).abs() < 1e-9, "{e:?}");
        assert_eq!(e.big_bang_seconds, 300.0);
        assert!((e.requests.unwrap() - 1100.0).abs() < 1e-9);
        assert!((e.saved().unwrap() - (1.0 - 110.0 / 300.0)).abs() < 1e-9);
        d.details_mut().failed = None;
        assert!(
            d.exposure().is_none(),
            "a deploy that did not fail exposed nothing bad"
        );
    }

    #[test]
    fn a_deploy_takes_at_most_184_bytes() {
        // 336 bytes while every time was an `Option<Timestamp>` of 24 and every
        // deploy held room for a failure, verdicts and actions; a cockpit holds a
        // few deploys per rollout, a ledger millions.
        assert!(size_of::<Deploy>() <= 184, "{} bytes", size_of::<Deploy>());
    }
}

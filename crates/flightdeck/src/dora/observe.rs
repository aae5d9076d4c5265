//! What a rollout and its ReplicaSets say about its deploys: facts to merge into the
//! history. Read from a list (the cluster's history: times from the objects'
//! timestamps and conditions) or from a watch event (live: the time it is seen).

use jiff::Timestamp;

use super::deploy::{
    ActionMark, Deploy, DeployId, Failure, TrafficMark, VerdictMark, WorkloadKind,
};
use super::history::History;
use crate::model::{Name, ObjectKey, Phase, ReplicaSet, Rollout, RolloutAction, first_time};

/// The pod-template annotations read for a deploy's commit time by default, tried
/// in order (RFC 3339, or seconds since 1970), as a CI pipeline sets them:
/// flightdeck's own, and the one the `dora-controller` reads.
pub const COMMIT_TIME_ANNOTATIONS: [&str; 2] =
    ["flightdeck.io/commit-time", "dora/commitTimestamp"];

/// A rollout as a watch shows it.
pub struct Observation<'a> {
    pub rollout: &'a Rollout,
    pub replica_sets: &'a [ReplicaSet],
    /// A Canary's target Deployment (whose revisions and pod template it analyses).
    pub target: Option<&'a Rollout>,
    /// When it was seen changing (a watch event); `None` for what a list shows,
    /// which is history: only the objects' own timestamps count then.
    pub live: Option<Timestamp>,
    /// The pod-template annotations that may hold the commit time, in order.
    pub commit_annotations: &'a [String],
    /// The canary's verdict now (its line, and the transition it marks), and the
    /// workload's requests per second.
    pub verdict: Option<(String, VerdictMark)>,
    pub request_rate: Option<f64>,
}

fn condition_since(rollout: &Rollout, kind: &str, reason: Option<&str>) -> Option<Timestamp> {
    rollout
        .conditions
        .iter()
        .find(|c| c.kind == kind && c.status == "True" && reason.is_none_or(|r| c.reason == r))
        .and_then(|c| c.since.get())
}

pub(super) fn id_of(key: &ObjectKey, kind: WorkloadKind, hash: &str, revision: u64) -> DeployId {
    DeployId {
        context: key.context.clone(),
        namespace: key.namespace.clone(),
        kind,
        name: key.name.clone(),
        hash: hash.into(),
        revision,
    }
}

impl Observation<'_> {
    /// The verdict now on `deploy`, the one taking the canary's traffic.
    pub(super) fn verdict_on(&self, deploy: &mut Deploy) {
        if let Some((text, mark)) = &self.verdict {
            deploy.details_mut().verdict = Some(text.as_str().into());
            deploy.details_mut().verdicts.push(mark.clone());
        }
    }

    /// `deploy` under way with `weight` percent of the traffic: its verdict, the
    /// request rate, and (seen live) a mark of its share now.
    pub(super) fn under_way(&self, deploy: &mut Deploy, weight: u32) {
        deploy.peak_weight = weight;
        self.verdict_on(deploy);
        if let Some(rate) = self.request_rate {
            deploy.details_mut().request_rate = Some(rate);
        }
        if let Some(now) = self.live {
            deploy.mark_traffic(TrafficMark {
                at: now,
                weight,
                step: None,
            });
        }
    }
}

/// `deploy` took all traffic at `at` (when known).
pub(super) fn at_full(deploy: &mut Deploy, at: Option<Timestamp>) {
    deploy.set_completed(at);
    deploy.peak_weight = 100;
    if let Some(done) = at {
        deploy.mark_traffic(TrafficMark {
            at: done,
            weight: 100,
            step: None,
        });
    }
}

/// The fact that `new` ended the workload's deploy before it (of `known`, the
/// workload's deploys in start order): rolled back when `new` brings an older pod
/// template back, else superseded.
pub(super) fn replaced(known: &[Deploy], new: &Deploy) -> Option<Deploy> {
    let last = known
        .iter()
        .rfind(|d| d.id.kind == new.id.kind && d.id != new.id && d.started <= new.started)?;
    if last.id.revision >= new.id.revision {
        return None;
    }
    let mut fact = Deploy::new(last.id.clone(), last.started);
    let back = known.iter().any(|d| {
        d.id.kind == new.id.kind && d.id.hash == new.id.hash && d.id.revision < new.id.revision
    });
    if back {
        fact.details_mut().failed = Some((Failure::RolledBack, new.started));
    } else {
        fact.set_superseded(Some(new.started));
    }
    Some(fact)
}

/// The deploys the ReplicaSets show, in revision order, with their starts (an undo's
/// as bounded by the revision before it), the rollbacks their revision-history
/// records, and when each was superseded; and the newest revision.
pub(super) fn revisions(o: &Observation<'_>, kind: WorkloadKind) -> (Vec<Deploy>, Option<u64>) {
    let rollout = o.rollout;
    let key = &rollout.key;
    let mut sets: Vec<&ReplicaSet> = o
        .replica_sets
        .iter()
        .filter(|rs| rs.revision.is_some())
        .collect();
    sets.sort_by_key(|rs| rs.revision);
    let mut deploys: Vec<Deploy> = Vec::with_capacity(sets.len());
    for rs in &sets {
        let revision = rs.revision.unwrap_or(0);
        let Some(created) = rs.created.get().or(o.live) else {
            continue;
        };
        // An undo brought this template back under a new revision: the revisions it
        // held before were deploys of their own, and the one just before this
        // revision was rolled back.
        let mut started = created;
        if let Some(&old) = rs.revision_history.iter().max() {
            for &held in &rs.revision_history {
                let mut earlier = Deploy::new(id_of(key, kind, &rs.hash, held), created);
                earlier.images.clone_from(&rs.images);
                deploys.push(earlier);
            }
            // When it came back is not on the object: at the latest now (live), at
            // the earliest when the revision before it started.
            started = match o.live {
                Some(now) if rollout.current_hash.as_deref() == Some(&rs.hash) => now,
                _ => deploys
                    .iter()
                    .filter(|d| d.id.revision < revision && d.id.revision > old)
                    .map(|d| d.started)
                    .max()
                    .unwrap_or(created)
                    .max(created),
            };
            if let Some(undone) = deploys
                .iter_mut()
                .filter(|d| d.id.revision < revision && d.id.hash != rs.hash)
                .max_by_key(|d| d.id.revision)
            {
                undone.details_mut().failed = Some((Failure::RolledBack, started));
            }
        }
        let mut deploy = Deploy::new(id_of(key, kind, &rs.hash, revision), started);
        deploy.images.clone_from(&rs.images);
        deploy.set_commit(first_time(&rs.template_times, o.commit_annotations));
        deploys.push(deploy);
    }
    deploys.sort_by_key(|d| d.id.revision);
    // Each revision was superseded when the next one started.
    for i in 1..deploys.len() {
        let next = deploys[i].started;
        deploys[i - 1].set_superseded(Some(next));
    }
    let newest = sets.last().and_then(|rs| rs.revision);
    (deploys, newest)
}

/// The facts about every deploy the rollout's ReplicaSets still show.
pub fn deploys_of(o: &Observation<'_>) -> Vec<Deploy> {
    let rollout = o.rollout;
    let (mut deploys, newest) = revisions(o, WorkloadKind::Rollout);
    for deploy in &mut deploys {
        let is = |h: &Option<Name>| h.as_deref() == Some(deploy.id.hash.as_str());
        let current = Some(deploy.id.revision) == newest;
        if is(&rollout.stable_hash) {
            deploy.peak_weight = 100;
            let settled = current && !rollout.update_in_flight() && rollout.phase == Phase::Healthy;
            if settled {
                deploy.set_completed(o.live.or_else(|| {
                    condition_since(rollout, "Completed", None)
                        .or_else(|| condition_since(rollout, "Healthy", None))
                        .or_else(|| {
                            condition_since(rollout, "Progressing", Some("NewReplicaSetAvailable"))
                        })
                }));
                if deploy.completed().is_some() {
                    deploy.mark_traffic(TrafficMark {
                        at: deploy.completed().unwrap_or(deploy.started),
                        weight: 100,
                        step: None,
                    });
                }
            }
        } else if current && is(&rollout.current_hash) {
            let weight = rollout.new_version_weight();
            deploy.peak_weight = weight;
            o.verdict_on(deploy);
            if let Some(rate) = o.request_rate {
                deploy.details_mut().request_rate = Some(rate);
            }
            if let Some(now) = o.live {
                let step = rollout.current_step.and_then(|s| u16::try_from(s).ok());
                deploy.mark_traffic(TrafficMark {
                    at: now,
                    weight,
                    step,
                });
            }
            if rollout.aborted {
                let at = o
                    .live
                    .or_else(|| {
                        rollout
                            .conditions
                            .iter()
                            .find(|c| c.reason == "RolloutAborted")
                            .and_then(|c| c.since.get())
                    })
                    .or(rollout.since.get());
                if let Some(at) = at {
                    deploy.details_mut().failed = Some((Failure::Aborted, at));
                    if weight == 0 {
                        deploy.details_mut().stopped = Some(at);
                    }
                }
            }
        }
    }
    deploys
}

/// The fact an action taken through flightdeck adds to the deploy it acted on (the
/// workload's newest at that moment): who, what, and for an abort or an undo, a
/// failure detected then.
pub fn action_fact(
    history: &History,
    key: &ObjectKey,
    action: RolloutAction,
    label: &str,
    user: &str,
    at: Timestamp,
) -> Option<Deploy> {
    let target = history.current_at(key, at)?;
    let mut fact = Deploy::new(target.id.clone(), target.started);
    fact.details_mut().actions.push(ActionMark {
        at,
        user: user.to_string(),
        action: label.to_string(),
    });
    fact.details_mut().failed = match action {
        RolloutAction::Abort => Some((Failure::Aborted, at)),
        RolloutAction::Undo { .. } => Some((Failure::Undone, at)),
        _ => None,
    };
    Some(fact)
}

//! What a plain Deployment says about its deploys: one per revision
//! (`deployment.kubernetes.io/revision`), its hash that of the ReplicaSet the
//! `Progressing` condition names (the controller names each `<deployment>-<hash>`).
//! Its ReplicaSets, read once at start, give the revisions it still keeps, each with
//! its creation time; after that a deploy is known from when the watch sees the
//! revision change, and the condition's `NewReplicaSetAvailable` says when a known
//! one completed while no one watched.

use super::deploy::{Deploy, WorkloadKind};
use super::observe::{Observation, at_full, id_of, replaced, revisions};
use crate::model::{Phase, first_time};

/// The pod-template hash in `ReplicaSet "web-7c9f8d6b5" is progressing.`
fn named_hash<'a>(message: &'a str, deployment: &str) -> Option<&'a str> {
    let name = message.split('"').nth(1)?;
    name.strip_prefix(deployment)?
        .strip_prefix('-')
        .filter(|h| !h.is_empty())
}

/// Complete (every desired replica updated and available): seen so now, or when the
/// `Progressing` condition last said `NewReplicaSetAvailable`.
fn complete(o: &Observation<'_>, deploy: &mut Deploy) {
    let condition = o
        .rollout
        .conditions
        .iter()
        .find(|c| c.kind == "Progressing" && c.reason == "NewReplicaSetAvailable");
    at_full(
        deploy,
        o.live.or_else(|| condition.and_then(|c| c.since.get())),
    );
}

/// The facts about every revision the Deployment's ReplicaSets still show (the
/// cluster's history, read once at start), as a Rollout's are read: created, rolled
/// back (`deployment.kubernetes.io/revision-history`), superseded; the newest
/// complete when the Deployment is.
pub fn deployment_history(o: &Observation<'_>) -> Vec<Deploy> {
    let (mut deploys, newest) = revisions(o, WorkloadKind::Deployment);
    let current = deploys
        .last_mut()
        .filter(|d| Some(d.id.revision) == newest && newest == o.rollout.revision);
    if let Some(current) = current
        && o.rollout.phase == Phase::Healthy
    {
        complete(o, current);
    }
    deploys
}

/// The facts about the Deployment's deploy now (and the one it replaced). `known`: its
/// deploys so far; `history`: what its ReplicaSets say now, not yet merged in (a
/// Deployment listed before its ReplicaSets has its revision's start from them);
/// `before`: the revision seen before this observation, if any.
pub fn deployment_deploys(
    o: &Observation<'_>,
    known: &[Deploy],
    history: &[Deploy],
    before: Option<&str>,
) -> Vec<Deploy> {
    let rollout = o.rollout;
    let Some(revision) = rollout.revision else {
        return Vec::new();
    };
    let progressing = rollout.conditions.iter().find(|c| c.kind == "Progressing");
    let named = progressing.and_then(|c| named_hash(&c.message, &rollout.key.name));
    let same = known.iter().chain(history).find(|d| {
        d.id.kind == WorkloadKind::Deployment
            && d.id.revision == revision
            && named.is_none_or(|h| h == d.id.hash)
    });
    let hash = named
        .or(same.map(|d| d.id.hash.as_str()))
        .unwrap_or_default();
    let seen_changing = before.is_some_and(|b| b != revision.to_string());
    let Some(started) = same
        .map(|d| d.started)
        .or_else(|| o.live.filter(|_| seen_changing))
    else {
        // A revision rolled out unseen: nothing dates its start.
        return Vec::new();
    };
    let mut deploy = Deploy::new(
        id_of(&rollout.key, WorkloadKind::Deployment, hash, revision),
        started,
    );
    deploy.images.clone_from(&rollout.images);
    deploy.set_commit(
        rollout
            .deployment
            .as_ref()
            .and_then(|d| first_time(&d.template_times, o.commit_annotations)),
    );
    if rollout.phase == Phase::Healthy {
        complete(o, &mut deploy);
    } else {
        // Its share while rolling: updated of desired replicas.
        let r = rollout.replicas;
        let weight = match r.desired {
            0 => 0,
            desired => u32::try_from(u64::from(r.updated.min(desired)) * 100 / u64::from(desired))
                .unwrap_or(100),
        };
        o.under_way(&mut deploy, weight);
    }
    let mut facts: Vec<Deploy> = replaced(known, &deploy).into_iter().collect();
    facts.push(deploy);
    facts
}

#[cfg(test)]
mod tests {
    use super::named_hash;

    #[test]
    fn the_progressing_condition_names_the_new_replica_set() {
        let said = |m| named_hash(m, "web");
        assert_eq!(
            said("ReplicaSet \"web-7c9f8d6b5\" is progressing."),
            Some("7c9f8d6b5")
        );
        assert_eq!(
            said("ReplicaSet \"web-7c9f8d6b5\" has timed out progressing."),
            Some("7c9f8d6b5")
        );
        assert_eq!(said("ReplicaSet \"webx-7c9\" is progressing."), None);
        assert_eq!(said("Deployment has minimum availability."), None);
    }
}

#[cfg(test)]
mod observed {
    use jiff::Timestamp;

    use super::*;
    use crate::dora::{Failure, History, Outcome};
    use crate::model::testing::{at, rolling_update, rollout};
    use crate::model::{Condition, Replicas, Rollout, Workload};

    fn web(revision: u64, hash: &str, phase: Phase, updated: u32, since: i64) -> Rollout {
        let reason = if phase == Phase::Healthy {
            "NewReplicaSetAvailable"
        } else {
            "ReplicaSetUpdated"
        };
        Rollout {
            revision: Some(revision),
            images: crate::model::Images::new([format!("web:{hash}")]),
            workload: Workload::Deployment,
            replicas: Replicas {
                desired: 4,
                current: 4,
                updated,
                ready: 4,
                available: 4,
            },
            conditions: vec![Condition {
                kind: "Progressing".into(),
                status: "True".into(),
                reason: reason.into(),
                message: format!("ReplicaSet \"web-{hash}\" is progressing.")
                    .as_str()
                    .into(),
                since: Some(at(since)).into(),
            }],
            deployment: Some(rolling_update(
                false,
                &[("dora/commitTimestamp", "1789990000")],
            )),
            key: crate::model::ObjectKey::of(
                crate::model::Workload::Deployment,
                "eu",
                "shop",
                "web",
            ),
            ..rollout("eu", "shop", "web", phase)
        }
    }

    fn seen(history: &mut History, d: &Rollout, live: Option<Timestamp>, before: Option<&str>) {
        let names = [
            "flightdeck.io/commit-time".to_string(),
            "dora/commitTimestamp".to_string(),
        ];
        let o = Observation {
            rollout: d,
            replica_sets: &[],
            target: None,
            live,
            commit_annotations: &names,
            verdict: None,
            request_rate: None,
        };
        for fact in deployment_deploys(&o, history.of(&d.key), &[], before) {
            history.merge(fact);
        }
    }

    #[test]
    fn a_revision_seen_changing_is_a_deploy_whose_share_is_its_updated_replicas() {
        let mut history = History::new();
        // Listed settled: its revision rolled out unseen.
        seen(
            &mut history,
            &web(7, "aaa", Phase::Healthy, 4, -900),
            None,
            None,
        );
        assert_eq!(history.len(), 0);
        seen(
            &mut history,
            &web(8, "bbb", Phase::Progressing, 1, 0),
            Some(at(0)),
            Some("7"),
        );
        seen(
            &mut history,
            &web(8, "bbb", Phase::Progressing, 3, 0),
            Some(at(30)),
            Some("8"),
        );
        let key = ObjectKeyOf::of(&history);
        let d = &history.of(&key)[0];
        assert_eq!(
            (d.id.kind, d.id.hash.as_str(), d.id.revision),
            (WorkloadKind::Deployment, "bbb", 8)
        );
        assert_eq!(
            (d.started, d.peak_weight, d.commit()),
            (at(0), 75, Some(at(-10_000)))
        );
        assert_eq!(
            d.traffic.iter().map(|m| m.weight).collect::<Vec<_>>(),
            [25, 75]
        );
        // Completed while no one watched: the condition's time says when.
        seen(
            &mut history,
            &web(8, "bbb", Phase::Healthy, 4, 120),
            None,
            Some("8"),
        );
        let d = &history.of(&key)[0];
        assert_eq!(
            (d.outcome(), d.completed()),
            (Outcome::Succeeded, Some(at(120)))
        );
        // `kubectl rollout undo`: revision 9 brings revision 8's predecessor's template
        // back; revision 8 did not, and is superseded.
        seen(
            &mut history,
            &web(9, "ccc", Phase::Progressing, 1, 200),
            Some(at(200)),
            Some("8"),
        );
        seen(
            &mut history,
            &web(10, "bbb", Phase::Progressing, 1, 400),
            Some(at(400)),
            Some("9"),
        );
        let list = history.of(&key);
        assert_eq!(
            list.iter().map(|d| d.outcome()).collect::<Vec<_>>(),
            [
                Outcome::Succeeded,
                Outcome::Failed(Failure::RolledBack),
                Outcome::InProgress
            ]
        );
        assert_eq!(list[1].failed().unwrap().1, at(400));
    }

    /// The one workload of a history.
    struct ObjectKeyOf;
    impl ObjectKeyOf {
        fn of(history: &History) -> crate::model::ObjectKey {
            history.workloads().next().unwrap().0
        }
    }
}

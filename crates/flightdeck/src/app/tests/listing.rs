//! Lists that arrive in parts, as the watches stream them.
use super::*;
use crate::app::*;
use crate::cluster::{Change, ClusterEvent};
use crate::model::Phase;
use crate::model::testing::{canary, replica_set};

/// A list arrives in parts: each part shows at once, and at the end of the list what
/// it did not show is gone (rollouts and the objects under them), in its scope only.
#[test]
fn a_list_in_parts_shows_as_it_comes_and_its_end_forgets_the_rest() {
    let mut s = state();
    let gone = canary("eu", "shop", "gone", Phase::Healthy, 0);
    let other = canary("us", "shop", "elsewhere", Phase::Healthy, 0);
    relist(&mut s, "eu", vec![gone.clone()]);
    relist(&mut s, "us", vec![other]);
    let stays = canary("eu", "shop", "first", Phase::Healthy, 0);
    let last = canary("eu", "shop", "last", Phase::Healthy, 0);
    let stale_rs = replica_set(&gone, "old", 1, 1);
    let kept_rs = replica_set(&stays, "aaa", 1, 3);
    let rs_part = |items| {
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Listing {
            context: "eu".into(),
            namespace: None,
            items,
        }))
    };
    let rs_end = |items| {
        Event::Cluster(ClusterEvent::ReplicaSet(Change::Relisted {
            context: "eu".into(),
            namespace: None,
            items,
        }))
    };
    update(&mut s, rs_end(vec![stale_rs]));
    assert_eq!(s.replica_sets_of(&gone.key).len(), 1);
    // A relist of the ReplicaSets: a part, then its end.
    update(&mut s, rs_part(vec![kept_rs.clone()]));
    update(&mut s, rs_end(Vec::new()));
    update(
        &mut s,
        Event::Cluster(ClusterEvent::Rollout(Change::Listing {
            context: "eu".into(),
            namespace: None,
            items: vec![stays.clone()],
        })),
    );
    settle(&mut s);
    // The part is in the fleet before the list ends; nothing is gone yet.
    assert_eq!(names(&s), ["elsewhere", "first", "gone"]);
    relist(&mut s, "eu", vec![last]);
    assert_eq!(names(&s), ["elsewhere", "first", "last"]);
    assert_eq!(s.replica_sets_of(&stays.key), [kept_rs]);
    assert!(s.replica_sets_of(&gone.key).is_empty());
}

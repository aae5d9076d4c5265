//! What the simulated clusters hold: the demo's services and incidents (demo.rs), or
//! generated rollouts for scale runs (scale.rs), both made of the objects in manifests.rs
//! and set up by playing their history of [`Action`]s through the controller before the
//! servers answer; and the new revisions that start on their own afterwards
//! (liveliness.rs).

mod demo;
mod deployments;
mod flagger;
mod liveliness;
mod manifests;
mod past;
mod scale;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::discovery::{ANALYSIS_TEMPLATES, NAMESPACES, ROLLOUTS};
use crate::objects::{COMMIT_TIME_ANNOTATION, str_at};
use crate::store::{ObjectKey, Store};

pub use demo::{
    DEMO_HISTORY, DemoCanary, behaviour, demo, demo_canaries, demo_incidents, has_past,
    image_exists,
};
pub use liveliness::Liveliness;
pub use past::{backfill, retime};
pub use scale::{SCALE_HISTORY, scale};

/// Something the scenario does to a cluster at a simulated second (relative to the start
/// of the live run; the history before it is negative).
pub struct Action {
    pub at: i64,
    pub cluster: usize,
    pub change: Change,
}

pub enum Change {
    Create(Value),
    /// Roll out a new image (a new pod template).
    SetImage {
        key: ObjectKey,
        image: String,
    },
    /// Skip the steps of the update in progress (`status.promoteFull`), as history does.
    PromoteFull(ObjectKey),
    Abort(ObjectKey),
    /// Roll out a new image on a Deployment (a Flagger Canary's target, or a plain one).
    SetDeploymentImage {
        key: ObjectKey,
        image: String,
    },
    /// `kubectl rollout pause` on a plain Deployment.
    PauseDeployment(ObjectKey),
}

/// How long before its deploy an image's commit was made: 20 minutes to 6 hours,
/// the same for the same image.
pub(crate) fn commit_lag(image: &str) -> i64 {
    let hash = image.bytes().fold(0x811c_9dc5_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    1_200 + (hash % 20_400) as i64
}

fn bump_generation(rollout: &mut Value) {
    let generation = rollout["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
    rollout["metadata"]["generation"] = json!(generation);
}

pub fn apply(store: &Store, change: Change, now: Timestamp) {
    let result = match change {
        Change::Create(object) => {
            let resource = match str_at(&object, "kind") {
                "Namespace" => NAMESPACES,
                "AnalysisTemplate" => ANALYSIS_TEMPLATES,
                "Canary" => crate::discovery::CANARIES,
                "Deployment" => crate::discovery::DEPLOYMENTS,
                "ReplicaSet" => crate::discovery::REPLICASETS,
                _ => ROLLOUTS,
            };
            store.create(resource, object, now).map(|_| ())
        }
        Change::SetImage { key, image } => store
            .update(ROLLOUTS, &key, |r| {
                // The simulated pipeline committed the change a while before it shipped.
                let committed = now - jiff::SignedDuration::from_secs(commit_lag(&image));
                r["spec"]["template"]["metadata"]["annotations"][COMMIT_TIME_ANNOTATION] =
                    json!(crate::clock::rfc3339(committed));
                r["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
                bump_generation(r);
                Ok(())
            })
            .map(|_| ()),
        Change::PromoteFull(key) => store
            .update(ROLLOUTS, &key, |r| {
                r["status"]["promoteFull"] = json!(true);
                Ok(())
            })
            .map(|_| ()),
        Change::SetDeploymentImage { key, image } => store
            .update(crate::discovery::DEPLOYMENTS, &key, |d| {
                let committed = now - jiff::SignedDuration::from_secs(commit_lag(&image));
                d["spec"]["template"]["metadata"]["annotations"][COMMIT_TIME_ANNOTATION] =
                    json!(crate::clock::rfc3339(committed));
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
                // The Deployment controller numbers the new revision.
                bump_generation(d);
                Ok(())
            })
            .map(|_| ()),
        Change::PauseDeployment(key) => store
            .update(crate::discovery::DEPLOYMENTS, &key, |d| {
                d["spec"]["paused"] = json!(true);
                bump_generation(d);
                Ok(())
            })
            .map(|_| ()),
        Change::Abort(key) => store
            .update(ROLLOUTS, &key, |r| {
                r["status"]["abort"] = json!(true);
                Ok(())
            })
            .map(|_| ()),
    };
    if let Err(e) = result {
        tracing::warn!("simulated scenario: {e}");
    }
}

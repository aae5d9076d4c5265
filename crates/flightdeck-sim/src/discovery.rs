//! The resource kinds a simulated cluster serves, and the discovery documents
//! (`/api`, `/apis`, group/version resource lists) that let kubectl and kube-rs find them.

use serde_json::{Value, json};

/// One served resource kind: what discovery says about it and how the server treats it.
#[derive(Debug)]
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    /// Has a `status` subresource: status changes sent to the main resource are ignored.
    pub status_subresource: bool,
    /// The server counts `metadata.generation` (spec changes) for this kind.
    pub generation: bool,
    /// A custom resource: strategic merge patch is refused, as the real API server does.
    pub custom: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `rollouts.argoproj.io`, `replicasets.apps`, `events`: how error messages name the kind.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Rollout.argoproj.io`: how validation errors name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

/// Index of a kind in [`RESOURCES`]; the store keeps one table per kind.
pub type ResourceId = usize;

/// (group, version) and (kind, plural, singular) of a kind.
type GroupVersion = (&'static str, &'static str);
type Names = (&'static str, &'static str, &'static str);

const fn builtin(
    gv: GroupVersion,
    names: Names,
    short_names: &'static [&'static str],
    namespaced: bool,
    status_subresource: bool,
    generation: bool,
) -> Resource {
    Resource {
        group: gv.0,
        version: gv.1,
        kind: names.0,
        plural: names.1,
        singular: names.2,
        short_names,
        namespaced,
        status_subresource,
        generation,
        custom: false,
    }
}

const fn custom(
    gv: GroupVersion,
    names: Names,
    short_names: &'static [&'static str],
    namespaced: bool,
    status_subresource: bool,
) -> Resource {
    Resource {
        generation: true,
        custom: true,
        ..builtin(gv, names, short_names, namespaced, status_subresource, true)
    }
}

pub const NAMESPACES: ResourceId = 0;
pub const EVENTS: ResourceId = 1;
pub const EVENTS_K8S_IO: ResourceId = 3;
pub const REPLICASETS: ResourceId = 4;
pub const DEPLOYMENTS: ResourceId = 5;
pub const EXPERIMENTS: ResourceId = 6;
pub const ROLLOUTS: ResourceId = 7;
pub const ANALYSIS_RUNS: ResourceId = 8;
pub const ANALYSIS_TEMPLATES: ResourceId = 9;
pub const CLUSTER_ANALYSIS_TEMPLATES: ResourceId = 10;
pub const CANARIES: ResourceId = 11;

/// Every kind the simulator serves. The Argo CRDs' scopes and subresources are copied from
/// argo-rollouts' manifests (AnalysisRuns have no status subresource there).
pub static RESOURCES: &[Resource] = &[
    builtin(
        ("", "v1"),
        ("Namespace", "namespaces", "namespace"),
        &["ns"],
        false,
        true,
        false,
    ),
    builtin(
        ("", "v1"),
        ("Event", "events", "event"),
        &["ev"],
        true,
        false,
        false,
    ),
    builtin(
        ("", "v1"),
        ("Service", "services", "service"),
        &["svc"],
        true,
        true,
        false,
    ),
    builtin(
        ("events.k8s.io", "v1"),
        ("Event", "events", "event"),
        &["ev"],
        true,
        false,
        false,
    ),
    builtin(
        ("apps", "v1"),
        ("ReplicaSet", "replicasets", "replicaset"),
        &["rs"],
        true,
        true,
        true,
    ),
    builtin(
        ("apps", "v1"),
        ("Deployment", "deployments", "deployment"),
        &["deploy"],
        true,
        true,
        true,
    ),
    custom(
        ("argoproj.io", "v1alpha1"),
        ("Experiment", "experiments", "experiment"),
        &["exp"],
        true,
        true,
    ),
    custom(
        ("argoproj.io", "v1alpha1"),
        ("Rollout", "rollouts", "rollout"),
        &["ro"],
        true,
        true,
    ),
    custom(
        ("argoproj.io", "v1alpha1"),
        ("AnalysisRun", "analysisruns", "analysisrun"),
        &["ar"],
        true,
        false,
    ),
    custom(
        ("argoproj.io", "v1alpha1"),
        ("AnalysisTemplate", "analysistemplates", "analysistemplate"),
        &["at"],
        true,
        false,
    ),
    custom(
        ("argoproj.io", "v1alpha1"),
        (
            "ClusterAnalysisTemplate",
            "clusteranalysistemplates",
            "clusteranalysistemplate",
        ),
        &["cat"],
        false,
        false,
    ),
    custom(
        ("flagger.app", "v1beta1"),
        ("Canary", "canaries", "canary"),
        &["canary"],
        true,
        true,
    ),
    builtin(
        ("apiextensions.k8s.io", "v1"),
        (
            "CustomResourceDefinition",
            "customresourcedefinitions",
            "customresourcedefinition",
        ),
        &["crd", "crds"],
        false,
        true,
        true,
    ),
];

/// The kinds served outside the store: `POST` only, answered from the caller's permissions.
pub const SELF_SUBJECT_ACCESS_REVIEW: (&str, &str, &str) =
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews");
pub const SELF_SUBJECT_RULES_REVIEW: (&str, &str, &str) =
    ("authorization.k8s.io", "v1", "selfsubjectrulesreviews");

pub fn find(group: &str, version: &str, plural: &str) -> Option<ResourceId> {
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The kind an object's `apiVersion` and `kind` name, for loading objects from files.
pub fn find_kind(api_version: &str, kind: &str) -> Option<ResourceId> {
    RESOURCES
        .iter()
        .position(|r| r.api_version() == api_version && r.kind == kind)
}

fn groups() -> Vec<(&'static str, &'static str)> {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !groups.contains(&(r.group, r.version)) {
            groups.push((r.group, r.version));
        }
    }
    groups.push((SELF_SUBJECT_ACCESS_REVIEW.0, SELF_SUBJECT_ACCESS_REVIEW.1));
    groups
}

/// `GET /api`
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `GET /apis`
pub fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(|(g, v)| group_doc(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/{group}`
pub fn group(group: &str) -> Option<Value> {
    let (g, v) = groups().into_iter().find(|(g, _)| *g == group)?;
    let mut doc = group_doc(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `GET /api/v1` or `GET /apis/{group}/{version}`
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resources.push(json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            "shortNames": r.short_names,
        }));
        if r.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if (group, version) == (SELF_SUBJECT_ACCESS_REVIEW.0, SELF_SUBJECT_ACCESS_REVIEW.1) {
        for (plural, kind) in [
            (SELF_SUBJECT_ACCESS_REVIEW.2, "SelfSubjectAccessReview"),
            (SELF_SUBJECT_RULES_REVIEW.2, "SelfSubjectRulesReview"),
        ] {
            resources.push(json!({
                "name": plural,
                "singularName": kind.to_lowercase(),
                "namespaced": false,
                "kind": kind,
                "verbs": ["create"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_ids_point_at_their_kinds() {
        let named = [
            (NAMESPACES, "Namespace"),
            (EVENTS, "Event"),
            (EVENTS_K8S_IO, "Event"),
            (REPLICASETS, "ReplicaSet"),
            (EXPERIMENTS, "Experiment"),
            (ROLLOUTS, "Rollout"),
            (ANALYSIS_RUNS, "AnalysisRun"),
            (ANALYSIS_TEMPLATES, "AnalysisTemplate"),
            (CLUSTER_ANALYSIS_TEMPLATES, "ClusterAnalysisTemplate"),
        ];
        for (id, kind) in named {
            assert_eq!(RESOURCES[id].kind, kind);
        }
        assert_eq!(RESOURCES[EVENTS].group, "");
        assert_eq!(RESOURCES[EVENTS_K8S_IO].group, "events.k8s.io");
    }
}

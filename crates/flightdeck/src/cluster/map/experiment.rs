//! An Argo `Experiment` → `model::Experiment`: its phase, each template's
//! pods and images, each analysis's phase.

use serde_json::Value;

use crate::model::{Experiment, ExperimentTemplate, ObjectKey};

use super::analysis_run::analysis_phase;
use super::fields::{Field, MapError};
use super::meta::Meta;

pub fn map_experiment(context: &str, obj: &Value) -> Result<Experiment, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    let spec_templates = root.at(&["spec", "templates"], |list| {
        list.each(|t| {
            let name = t.at(&["name"], |f| f.string())?;
            let images = t.at(&["template", "spec", "containers"], |list| list.images())?;
            Ok((name, images))
        })
    })?;
    let statuses = root.at(&["status", "templateStatuses"], |list| {
        list.each(|s| {
            Ok((
                s.at(&["name"], |f| f.string())?,
                s.at(&["replicas"], |f| f.count_or_zero())?,
                s.at(&["readyReplicas"], |f| f.count_or_zero())?,
                s.at(&["availableReplicas"], |f| f.count_or_zero())?,
                s.at(&["status"], |f| f.string())?,
            ))
        })
    })?;
    let templates = spec_templates
        .into_iter()
        .map(|(name, images)| {
            let status = statuses.iter().find(|s| s.0 == name);
            ExperimentTemplate {
                replicas: status.map_or(0, |s| s.1),
                ready: status.map_or(0, |s| s.2),
                available: status.map_or(0, |s| s.3),
                status: status.map_or_else(String::new, |s| s.4.clone()),
                name,
                images,
            }
        })
        .collect();
    let analyses = root.at(&["status", "analysisRuns"], |list| {
        list.each(|a| {
            Ok((
                a.at(&["name"], |f| f.string())?,
                a.at(&["phase"], analysis_phase)?,
            ))
        })
    })?;
    Ok(Experiment {
        key: ObjectKey::new(context, &meta.namespace, &meta.name),
        owner: meta.owner,
        hash: meta.hash,
        phase: root.at(&["status", "phase"], analysis_phase)?,
        message: root.at(&["status", "message"], |f| f.string())?,
        templates,
        analyses,
        created: meta.created,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::AnalysisPhase;

    #[test]
    fn an_experiment_reads_its_templates_and_analyses() {
        let experiment = json!({
            "metadata": {"name": "ranking-7f9c-3-1", "namespace": "search",
                         "labels": {"rollouts-pod-template-hash": "7f9c"},
                         "ownerReferences": [{"kind": "Rollout", "name": "ranking", "controller": true}]},
            "spec": {"templates": [
                {"name": "baseline", "template": {"spec": {"containers": [{"image": "ranking:v1"}]}}},
                {"name": "canary", "template": {"spec": {"containers": [{"image": "ranking:v2"}]}}}
            ]},
            "status": {"phase": "Running",
                       "templateStatuses": [{"name": "canary", "replicas": 1, "readyReplicas": 1,
                                              "availableReplicas": 1, "status": "Running"}],
                       "analysisRuns": [{"name": "success-rate", "phase": "Running"}]}
        });
        let e = map_experiment("eu", &experiment).unwrap();
        assert_eq!(e.owner.as_deref(), Some("ranking"));
        assert_eq!(e.phase, AnalysisPhase::Running);
        assert_eq!(e.templates.len(), 2);
        assert_eq!(
            (e.templates[0].name.as_str(), e.templates[0].replicas),
            ("baseline", 0)
        );
        assert_eq!(*e.templates[1].images, ["ranking:v2"]);
        assert_eq!(
            (e.templates[1].ready, e.templates[1].status.as_str()),
            (1, "Running")
        );
        assert_eq!(
            e.analyses,
            [("success-rate".to_string(), AnalysisPhase::Running)]
        );
        let mut bad = experiment.clone();
        bad["status"]["phase"] = json!("Sideways");
        let err = map_experiment("eu", &bad).unwrap_err().to_string();
        assert!(
            err.contains("search/ranking-7f9c-3-1: status.phase"),
            "{err}"
        );
    }
}

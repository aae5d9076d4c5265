//! An Argo `AnalysisRun` → `model::AnalysisRun`: its phase and, per
//! metric, the tally of measurements and the latest value.

use serde_json::Value;

use crate::model::{AnalysisMetric, AnalysisPhase, AnalysisRun, ObjectKey};

use super::fields::{Field, MapError};
use super::meta::Meta;

pub fn map_analysis_run(context: &str, obj: &Value) -> Result<AnalysisRun, MapError> {
    let meta = Meta::read(obj)?;
    let root = Field::root(&meta.object, obj);
    let metrics = root.at(&["status", "metricResults"], |list| {
        list.each(|m| {
            let values = m.at(&["measurements"], |list| {
                list.each(|x| x.at(&["value"], |f| f.str().map(|v| v.map(str::to_string))))
            })?;
            Ok(AnalysisMetric {
                name: m.at(&["name"], |f| f.string())?,
                phase: m.at(&["phase"], analysis_phase)?,
                successful: m.at(&["successful"], |f| f.count_or_zero())?,
                failed: m.at(&["failed"], |f| f.count_or_zero())?,
                inconclusive: m.at(&["inconclusive"], |f| f.count_or_zero())?,
                errors: m.at(&["error"], |f| f.count_or_zero())?,
                // Measurements are kept oldest first.
                values: {
                    let values: Vec<String> = values.into_iter().flatten().collect();
                    let from = values.len().saturating_sub(AnalysisMetric::VALUES_KEPT);
                    values[from..].to_vec()
                },
            })
        })
    })?;
    Ok(AnalysisRun {
        key: ObjectKey::new(context, &meta.namespace, &meta.name),
        owner: meta.owner,
        hash: meta.hash,
        phase: root.at(&["status", "phase"], analysis_phase)?,
        message: root.at(&["status", "message"], |f| f.string())?,
        metrics,
        started: match root.at(&["status", "startedAt"], |f| f.time())? {
            Some(t) => Some(t),
            None => meta.created,
        },
    })
}

/// A run or metric phase; none yet means Pending.
pub(super) fn analysis_phase(field: Field<'_, '_>) -> Result<AnalysisPhase, MapError> {
    match field.str()? {
        None | Some("") => Ok(AnalysisPhase::Pending),
        Some(text) => AnalysisPhase::parse(text).ok_or_else(|| {
            field.error(format!(
                "expected Pending, Running, Successful, Failed, Error or Inconclusive, found {text:?}"
            ))
        }),
    }
}

//! Canary steps as users write them: `setWeight: 20`, `pause: {}`,
//! `pause: {duration: 10s}` (or `"1m"`, or `30` meaning seconds),
//! `analysis: {templates: [...]}`, and any other step by its key.

use crate::model::Step;

use super::fields::{Field, MapError};

/// `spec.strategy.canary.steps`, in order.
pub fn map_steps(steps: Field<'_, '_>) -> Result<Vec<Step>, MapError> {
    steps.each(|step| map_step(step))
}

fn map_step(step: Field<'_, '_>) -> Result<Step, MapError> {
    let keys = step.keys()?;
    if keys.contains(&"setWeight") {
        // Over 100 Argo rejects as InvalidSpec; the cockpit shows `100 - weight`.
        let weight = step.at(&["setWeight"], |w| w.percent())?;
        return Ok(Step::SetWeight(weight.unwrap_or(0)));
    }
    if keys.contains(&"pause") {
        let seconds = step.at(&["pause", "duration"], pause_seconds)?;
        return Ok(Step::Pause { seconds });
    }
    if keys.contains(&"analysis") {
        let templates = step.at(&["analysis", "templates"], |templates| {
            templates.each(|t| t.at(&["templateName"], |n| n.string()))
        })?;
        return Ok(Step::Analysis { templates });
    }
    match keys.first() {
        Some(key) => Ok(Step::Other((*key).to_string())),
        None => Err(step.error("expected a step, found an empty object")),
    }
}

/// A pause duration: an integer is seconds, as is a string of digits;
/// otherwise a Go duration such as `"1m30s"` (Argo's `DurationString`).
pub(super) fn pause_seconds(duration: Field<'_, '_>) -> Result<Option<u64>, MapError> {
    if let Ok(seconds) = duration.count::<u64>() {
        return Ok(seconds);
    }
    let Some(text) = duration.str()? else {
        return Ok(None);
    };
    if let Ok(seconds) = text.trim().parse::<u64>() {
        return Ok(Some(seconds));
    }
    go_duration_seconds(text).map(Some).ok_or_else(|| {
        duration.error(format!(
            "expected a duration like \"30s\" or \"1m\", found {text:?}"
        ))
    })
}

/// Parses Go's `time.ParseDuration` syntax (`"1h30m"`, `"1.5s"`, `"500ms"`)
/// into whole seconds, rounded up so that a pause never reads as over early.
fn go_duration_seconds(text: &str) -> Option<u64> {
    const UNITS: [(&str, f64); 7] = [
        ("ns", 1e-9),
        ("us", 1e-6),
        ("µs", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
    ];
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let (_, scale) = UNITS.iter().find(|(u, _)| *u == &rest[..unit_len])?;
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Some(total.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn steps(value: serde_json::Value) -> Result<Vec<Step>, MapError> {
        map_steps(Field::root("ns/ro", &value))
    }

    #[test]
    fn steps_map_by_their_key() {
        let mapped = steps(json!([
            {"setWeight": 20},
            {"pause": {}},
            {"pause": {"duration": "10s"}},
            {"pause": {"duration": "1m"}},
            {"pause": {"duration": 30}},
            {"pause": {"duration": "45"}},
            {"analysis": {"templates": [
                {"templateName": "random-fail"},
                {"templateName": "always-pass", "clusterScope": true}
            ]}},
            {"experiment": {"templates": []}},
            {"setCanaryScale": {"weight": 25}},
        ]))
        .unwrap();
        assert_eq!(
            mapped,
            vec![
                Step::SetWeight(20),
                Step::Pause { seconds: None },
                Step::Pause { seconds: Some(10) },
                Step::Pause { seconds: Some(60) },
                Step::Pause { seconds: Some(30) },
                Step::Pause { seconds: Some(45) },
                Step::Analysis {
                    templates: vec!["random-fail".into(), "always-pass".into()]
                },
                Step::Other("experiment".into()),
                Step::Other("setCanaryScale".into()),
            ]
        );
    }

    #[test]
    fn go_durations_round_up_to_whole_seconds() {
        assert_eq!(go_duration_seconds("1h30m"), Some(5400));
        assert_eq!(go_duration_seconds("1.5s"), Some(2));
        assert_eq!(go_duration_seconds("500ms"), Some(1));
        assert_eq!(go_duration_seconds("2m0s"), Some(120));
        assert_eq!(go_duration_seconds("10"), None);
        assert_eq!(go_duration_seconds("10 parsecs"), None);
        assert_eq!(go_duration_seconds(""), None);
    }

    #[test]
    fn bad_steps_name_the_step() {
        let err = steps(json!([{"setWeight": 20}, {"pause": {"duration": "soon"}}])).unwrap_err();
        assert_eq!(err.field, "[1].pause.duration");
        assert_eq!(
            err.problem,
            r#"expected a duration like "30s" or "1m", found "soon""#
        );
        let err = steps(json!([{}])).unwrap_err();
        assert_eq!(err.problem, "expected a step, found an empty object");
        let err = steps(json!([{"setWeight": "20%"}])).unwrap_err();
        assert_eq!(err.field, "[0].setWeight");
    }

    #[test]
    fn a_set_weight_is_a_percentage() {
        assert_eq!(
            steps(json!([{"setWeight": 0}, {"setWeight": 100}])).unwrap(),
            [Step::SetWeight(0), Step::SetWeight(100)]
        );
        // Found by fuzzing: 725 was taken as a weight, and 100 - 725 overflows.
        for weight in [101, 725, -1] {
            let err = steps(json!([{"setWeight": weight}])).unwrap_err();
            assert_eq!(err.field, "[0].setWeight");
            assert_eq!(
                err.problem,
                format!("expected a percentage from 0 to 100, found {weight}")
            );
        }
    }
}

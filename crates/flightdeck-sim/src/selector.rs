//! `labelSelector` and `fieldSelector` query parameters, parsed as the API server parses them.

use std::collections::BTreeMap;

use super::api_error::ApiError;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

/// Split on commas that are not inside `( )`.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn set_values(key: &str, rest: &str, raw: &str) -> Result<(String, Vec<String>), ApiError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to parse requirement: {raw:?}: expected ( values )"
            ))
        })?;
    let values = inner.split(',').map(|v| v.trim().to_string()).collect();
    Ok((key.to_string(), values))
}

impl LabelSelector {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_top_level(raw)
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let bad = || {
                ApiError::bad_request(format!(
                    "unable to parse requirement: {part:?} in labelSelector {raw:?}"
                ))
            };
            let requirement = if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(key.trim().into())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                let (k, v) = set_values(k.trim(), rest, raw)?;
                Requirement::NotIn(k, v)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                let (k, v) = set_values(k.trim(), rest, raw)?;
                Requirement::In(k, v)
            } else if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                Requirement::Exists(part.into())
            } else {
                return Err(bad());
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// The field selectors every kind supports: `metadata.name` and `metadata.namespace`
/// (kube-rs watches a single object with `metadata.name=X`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    name: Option<(String, bool)>,
    namespace: Option<(String, bool)>,
}

impl FieldSelector {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut selector = FieldSelector::default();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, v, true)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: {part:?}; can't understand it"
                )));
            };
            let slot = match field.trim() {
                "metadata.name" => &mut selector.name,
                "metadata.namespace" => &mut selector.namespace,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "field label not supported: {other} (the simulator supports metadata.name and metadata.namespace)"
                    )));
                }
            };
            *slot = Some((value.trim().to_string(), equal));
        }
        Ok(selector)
    }

    pub fn matches(&self, namespace: &str, name: &str) -> bool {
        let test = |want: &Option<(String, bool)>, have: &str| {
            want.as_ref().is_none_or(|(v, eq)| (v == have) == *eq)
        };
        test(&self.name, name) && test(&self.namespace, namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_forms() {
        let l = labels(&[("app", "checkout"), ("tier", "web")]);
        for (raw, want) in [
            ("app=checkout", true),
            ("app==checkout,tier=web", true),
            ("app!=checkout", false),
            ("app in (cart, checkout)", true),
            ("app notin (cart,checkout)", false),
            ("tier", true),
            ("!tier", false),
            ("app=cart", false),
            ("", true),
        ] {
            assert_eq!(
                LabelSelector::parse(raw).unwrap().matches(&l),
                want,
                "{raw}"
            );
        }
        assert_eq!(LabelSelector::parse("app in cart").unwrap_err().code, 400);
    }

    #[test]
    fn field_selector_forms() {
        let s = FieldSelector::parse("metadata.name=checkout,metadata.namespace!=search").unwrap();
        assert!(s.matches("shop", "checkout"));
        assert!(!s.matches("search", "checkout"));
        assert!(!s.matches("shop", "cart"));
        let err = FieldSelector::parse("status.phase=Running").unwrap_err();
        assert!(err.message.contains("status.phase"), "{err}");
    }
}

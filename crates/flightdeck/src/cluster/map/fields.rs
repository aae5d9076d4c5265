//! Reading one raw object's JSON with errors that name the object and the
//! field at fault: `shop/checkout: status.currentStepIndex: expected an
//! integer, found "x"`.
//!
//! Missing and `null` fields read as `None`: controllers omit empty fields,
//! so absence is normal and each caller picks its default.

use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

use crate::model::Images;

/// A raw object could not be mapped: which object, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object}: {field}: {problem}")]
pub struct MapError {
    /// `namespace/name` (or `<unnamed>` when the name itself is missing).
    pub object: String,
    /// The path of the field, e.g. `spec.strategy.canary.steps[2].pause.duration`.
    pub field: String,
    pub problem: String,
}

/// A field of an object: where it is (for errors) and its value, if present.
///
/// `'v` is the object's lifetime (values read from it live that long); `'p`
/// is the path's, which is only as long as the walk down to the field.
#[derive(Clone, Copy)]
pub struct Field<'v, 'p> {
    object: &'v str,
    path: Path<'p>,
    value: Option<&'v Value>,
}

/// A field's path as a linked list of segments, so that descending is free
/// and the text is only built for an error.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(parent, key) => {
                let dotted = key.contains(['.', '/']);
                match (parent, dotted) {
                    (_, true) => write!(f, "{parent}[\"{key}\"]"),
                    (Path::Root, false) => f.write_str(key),
                    (_, false) => write!(f, "{parent}.{key}"),
                }
            }
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// How a value that is not what was expected reads in an error.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(_) => "an object".into(),
        Value::Array(_) => "a list".into(),
        Value::Null => "null".into(),
    }
}

impl<'v, 'p> Field<'v, 'p> {
    /// The whole object; `object` is its `namespace/name` for errors.
    pub fn root(object: &'v str, value: &'v Value) -> Self {
        Field {
            object,
            path: Path::Root,
            value: Some(value),
        }
    }

    pub fn error(&self, problem: impl Into<String>) -> MapError {
        MapError {
            object: self.object.to_string(),
            field: self.path.to_string(),
            problem: problem.into(),
        }
    }

    fn expected(&self, what: &str, found: &Value) -> MapError {
        self.error(format!("expected {what}, found {}", describe(found)))
    }

    /// The value, with `null` read as absent.
    fn present(&self) -> Option<&'v Value> {
        self.value.filter(|v| !v.is_null())
    }

    pub fn is_present(&self) -> bool {
        self.present().is_some()
    }

    /// Calls `f` with the child `key` of this object. The child borrows its
    /// parent's path, hence a callback rather than a returned value.
    pub fn with<T>(&self, key: &str, f: impl FnOnce(Field<'v, '_>) -> T) -> Result<T, MapError> {
        let value = match self.present() {
            None => None,
            Some(Value::Object(map)) => map.get(key),
            Some(other) => return Err(self.expected("an object", other)),
        };
        Ok(f(Field {
            object: self.object,
            path: Path::Key(&self.path, key),
            value,
        }))
    }

    /// Calls `f` with the field at `keys` below this one and flattens its result.
    pub fn at<T>(
        &self,
        keys: &[&str],
        f: impl FnOnce(Field<'v, '_>) -> Result<T, MapError>,
    ) -> Result<T, MapError> {
        match keys.split_first() {
            None => f(*self),
            Some((first, rest)) => self.with(first, |child| child.at(rest, f))?,
        }
    }

    /// Maps each element of a list (absent reads as empty).
    pub fn each<T>(
        &self,
        mut f: impl FnMut(Field<'v, '_>) -> Result<T, MapError>,
    ) -> Result<Vec<T>, MapError> {
        match self.present() {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                // Sized to the list: collecting through a `Result` would start at
                // four and double, and the model keeps these vectors for life.
                let mut mapped = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    mapped.push(f(Field {
                        object: self.object,
                        path: Path::Index(&self.path, i),
                        value: Some(item),
                    })?);
                }
                Ok(mapped)
            }
            Some(other) => Err(self.expected("a list", other)),
        }
    }

    /// The keys of an object, in document order.
    pub fn keys(&self) -> Result<Vec<&'v str>, MapError> {
        match self.present() {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => Ok(map.keys().map(String::as_str).collect()),
            Some(other) => Err(self.expected("an object", other)),
        }
    }

    pub fn str(&self) -> Result<Option<&'v str>, MapError> {
        match self.present() {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.expected("a string", other)),
        }
    }

    /// A string field, empty when absent.
    pub fn string(&self) -> Result<String, MapError> {
        Ok(self.str()?.unwrap_or_default().to_string())
    }

    /// The images of a list of containers (a pod template's `spec.containers`).
    pub fn images(&self) -> Result<Images, MapError> {
        let images = self.each(|c| c.at(&["image"], |f| Ok(f.str()?.unwrap_or_default())))?;
        Ok(Images::new(images))
    }

    pub fn bool(&self) -> Result<Option<bool>, MapError> {
        match self.present() {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.expected("true or false", other)),
        }
    }

    pub fn flag(&self) -> Result<bool, MapError> {
        Ok(self.bool()?.unwrap_or(false))
    }

    pub fn int(&self) -> Result<Option<i64>, MapError> {
        match self.present() {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.expected("an integer", v)),
            Some(other) => Err(self.expected("an integer", other)),
        }
    }

    /// A count or an index: an integer from 0 up.
    pub fn count<T: TryFrom<i64>>(&self) -> Result<Option<T>, MapError> {
        match self.int()? {
            None => Ok(None),
            Some(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| self.error(format!("expected a non-negative integer, found {n}"))),
        }
    }

    /// A percentage, such as a traffic weight: an integer from 0 to 100.
    pub fn percent(&self) -> Result<Option<u32>, MapError> {
        let Some(n) = self.int()? else {
            return Ok(None);
        };
        u32::try_from(n)
            .ok()
            .filter(|percent| *percent <= 100)
            .map(Some)
            .ok_or_else(|| self.error(format!("expected a percentage from 0 to 100, found {n}")))
    }

    /// A count that reads as 0 when absent (as the API server omits zeros).
    pub fn count_or_zero(&self) -> Result<u32, MapError> {
        Ok(self.count()?.unwrap_or(0))
    }

    /// An RFC 3339 time such as `2019-10-28T04:52:55Z`.
    pub fn time(&self) -> Result<Option<Timestamp>, MapError> {
        match self.str()? {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| self.error(format!("expected an RFC 3339 time, found {s:?}"))),
        }
    }

    /// A string holding an unsigned integer, as annotations do (`"31"`).
    pub fn numeric_string(&self) -> Result<Option<u64>, MapError> {
        match self.str()? {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.error(format!("expected a number in a string, found {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_name_the_object_and_the_path() {
        let obj = json!({"status": {"currentStepIndex": "x"}});
        let err = Field::root("shop/checkout", &obj)
            .at(&["status", "currentStepIndex"], |f| f.count::<usize>())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"shop/checkout: status.currentStepIndex: expected an integer, found "x""#
        );
    }

    #[test]
    fn paths_show_list_indexes_and_keys_with_dots() {
        let obj = json!({
            "metadata": {"annotations": {"rollout.argoproj.io/revision": "x"}},
            "spec": {"steps": [{}, {"pause": {"duration": true}}]},
        });
        let root = Field::root("a/b", &obj);
        let err = root
            .at(
                &["metadata", "annotations", "rollout.argoproj.io/revision"],
                |f| f.numeric_string(),
            )
            .unwrap_err();
        assert_eq!(
            err.field,
            r#"metadata.annotations["rollout.argoproj.io/revision"]"#
        );
        let err = root
            .at(&["spec", "steps"], |steps| {
                steps.each(|s| s.at(&["pause", "duration"], |d| d.str()))
            })
            .unwrap_err();
        assert_eq!(err.field, "spec.steps[1].pause.duration");
        assert_eq!(err.problem, "expected a string, found true");
    }

    #[test]
    fn absent_and_null_read_as_none_but_a_wrong_parent_is_an_error() {
        let obj = json!({"status": null, "spec": "oops"});
        let root = Field::root("a/b", &obj);
        assert_eq!(root.at(&["status", "phase"], |f| f.str()).unwrap(), None);
        assert_eq!(root.at(&["missing", "deep"], |f| f.int()).unwrap(), None);
        let err = root.at(&["spec", "replicas"], |f| f.int()).unwrap_err();
        assert_eq!(err.field, "spec");
        assert_eq!(err.problem, r#"expected an object, found "oops""#);
    }

    #[test]
    fn counts_reject_negatives() {
        let obj = json!({"n": -1});
        let err = Field::root("a/b", &obj)
            .at(&["n"], |f| f.count::<u32>())
            .unwrap_err();
        assert_eq!(err.problem, "expected a non-negative integer, found -1");
    }
}

//! Objects decoded once, straight from the API server's bytes into the JSON the mapping
//! reads, and only that: no `managedFields`, no `last-applied-configuration` copy of the
//! whole object, no pod spec beyond the containers' names and images. kube's
//! `DynamicObject` would buffer each object into serde's `Content`, then into a `Value`,
//! which the mapping needed re-serialised into another `Value`; on real clusters most of
//! those bytes are fields nobody reads.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ApiResource;
use kube::core::{DynamicResourceScope, Resource};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::Kind;

/// Which parts of a JSON value to keep.
#[derive(Debug)]
pub enum Shape {
    /// All of it.
    Whole,
    /// Nothing.
    Skip,
    /// Of an object (or of each object in an array): the fields named, in the shape
    /// given; every other field whole or skipped, as `rest` says.
    Fields {
        named: &'static [(&'static str, Shape)],
        rest: Rest,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    Whole,
    Skip,
}

use Shape::{Fields, Skip, Whole};

/// Metadata as the mapping reads it: everything but the server's bookkeeping of who
/// set which field, and kubectl's copy of the last applied object.
const METADATA: Shape = Fields {
    named: &[
        ("managedFields", Skip),
        (
            "annotations",
            Fields {
                named: &[("kubectl.kubernetes.io/last-applied-configuration", Skip)],
                rest: Rest::Whole,
            },
        ),
    ],
    rest: Rest::Whole,
};

/// A pod template: its containers' names and images, and its annotations (where a
/// pipeline puts the commit time DORA's lead time reads, and `kubectl rollout
/// restart` its `restartedAt`).
const POD_TEMPLATE: Shape = Fields {
    named: &[
        (
            "metadata",
            Fields {
                named: &[("annotations", Whole)],
                rest: Rest::Skip,
            },
        ),
        (
            "spec",
            Fields {
                named: &[(
                    "containers",
                    Fields {
                        named: &[("name", Whole), ("image", Whole)],
                        rest: Rest::Skip,
                    },
                )],
                rest: Rest::Skip,
            },
        ),
    ],
    rest: Rest::Skip,
};

/// A Deployment: a workload whose template's annotations are read too.
const DEPLOYMENT: Shape = Fields {
    named: &[
        ("metadata", METADATA),
        (
            "spec",
            Fields {
                named: &[("template", POD_TEMPLATE)],
                rest: Rest::Whole,
            },
        ),
    ],
    rest: Rest::Whole,
};

/// A workload whose `spec.template` is a pod template (Rollouts, ReplicaSets).
const WORKLOAD: Shape = Fields {
    named: &[
        ("metadata", METADATA),
        (
            "spec",
            Fields {
                named: &[("template", POD_TEMPLATE)],
                rest: Rest::Whole,
            },
        ),
    ],
    rest: Rest::Whole,
};

/// An Experiment: its templates' pod templates.
const EXPERIMENT: Shape = Fields {
    named: &[
        ("metadata", METADATA),
        (
            "spec",
            Fields {
                named: &[(
                    "templates",
                    Fields {
                        named: &[("template", POD_TEMPLATE)],
                        rest: Rest::Whole,
                    },
                )],
                rest: Rest::Whole,
            },
        ),
    ],
    rest: Rest::Whole,
};

/// Anything else the mapping reads: all but the metadata's bookkeeping.
const OBJECT: Shape = Fields {
    named: &[("metadata", METADATA)],
    rest: Rest::Whole,
};

/// Which [`Shape`] a decoded kind keeps.
pub trait Kept: Clone + fmt::Debug + Send + Sync + 'static {
    const SHAPE: &'static Shape;
}

/// An object of any kind, decoded in the shape `K` keeps, with the metadata kube's
/// watcher resumes from (name, namespace, uid, resourceVersion).
pub struct Decoded<K> {
    meta: ObjectMeta,
    pub json: Value,
    kind: PhantomData<K>,
}

impl<K> Clone for Decoded<K> {
    fn clone(&self) -> Self {
        Decoded {
            meta: self.meta.clone(),
            json: self.json.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for Decoded<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("name", &self.meta.name)
            .field("namespace", &self.meta.namespace)
            .finish_non_exhaustive()
    }
}

impl<'de, K: Kept> Deserialize<'de> for Decoded<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Keep(K::SHAPE).deserialize(deserializer)?;
        Ok(Decoded {
            meta: watched_meta(&json),
            json,
            kind: PhantomData,
        })
    }
}

/// What kube's watcher reads of an object's metadata.
fn watched_meta(json: &Value) -> ObjectMeta {
    let text = |field: &str| json["metadata"][field].as_str().map(str::to_string);
    ObjectMeta {
        name: text("name"),
        namespace: text("namespace"),
        uid: text("uid"),
        resource_version: text("resourceVersion"),
        ..ObjectMeta::default()
    }
}

impl<K> Resource for Decoded<K> {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn group(dt: &ApiResource) -> Cow<'_, str> {
        dt.group.as_str().into()
    }

    fn version(dt: &ApiResource) -> Cow<'_, str> {
        dt.version.as_str().into()
    }

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        dt.kind.as_str().into()
    }

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        dt.api_version.as_str().into()
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        dt.plural.as_str().into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// Decodes a value in a shape: what is skipped is only scanned, never allocated.
struct Keep(&'static Shape);

impl<'de> DeserializeSeed<'de> for Keep {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Whole => Value::deserialize(deserializer),
            Skip => IgnoredAny::deserialize(deserializer).map(|_| Value::Null),
            fields @ Fields { .. } => deserializer.deserialize_any(ShapeVisitor(fields)),
        }
    }
}

struct ShapeVisitor(&'static Shape);

impl ShapeVisitor {
    fn field(&self, key: &str) -> Option<&'static Shape> {
        let Fields { named, rest } = self.0 else {
            return Some(self.0);
        };
        match named.iter().find(|(name, _)| *name == key) {
            Some((_, Skip)) => None,
            Some((_, shape)) => Some(shape),
            None if *rest == Rest::Whole => Some(&Whole),
            None => None,
        }
    }
}

/// A field's name, without allocating for the ones that are skipped.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            match self.field(&key) {
                Some(shape) => {
                    let value = map.next_value_seed(Keep(shape))?;
                    out.insert(key.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// An array in a shape of fields: each element in that shape.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Keep(self.0))? {
            out.push(item);
        }
        Ok(Value::Array(out))
    }

    // Where a shape expected an object and found a scalar, the scalar is kept as it is,
    // for the mapping to name the field that is wrong.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// The shape the watches decode each kind in.
pub const fn shape_of(kind: Kind) -> &'static Shape {
    match kind {
        Kind::Rollout | Kind::ReplicaSet | Kind::DeploymentReplicaSet => &WORKLOAD,
        Kind::Experiment => &EXPERIMENT,
        Kind::AnalysisRun | Kind::Canary => &OBJECT,
        Kind::Deployment => &DEPLOYMENT,
    }
}

/// An object as the watches would have decoded it: what the mapping gets to read.
pub fn as_watched(kind: Kind, json: &Value) -> Value {
    Keep(shape_of(kind))
        .deserialize(json)
        .expect("a JSON value decodes from itself")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Clone)]
    struct Rollouts;
    impl Kept for Rollouts {
        const SHAPE: &'static Shape = &WORKLOAD;
    }

    #[test]
    fn a_workload_keeps_what_the_mapping_reads_and_drops_the_rest() {
        let text = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {
                "name": "checkout", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                "labels": {"app": "checkout"},
                "annotations": {
                    "rollout.argoproj.io/revision": "3",
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"a very\": \"long copy\"}"
                },
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
            },
            "spec": {
                "replicas": 5,
                "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
                "template": {
                    "metadata": {
                        "labels": {"app": "checkout"},
                        "annotations": {"flightdeck.io/commit-time": "2026-11-30T10:00:00Z"}
                    },
                    "spec": {"containers": [{
                        "name": "app", "image": "checkout:v2",
                        "env": [{"name": "A", "value": "b"}], "resources": {"limits": {}}
                    }], "volumes": [{"name": "v"}]}
                }
            },
            "status": {"phase": "Paused", "currentStepIndex": 1}
        })
        .to_string();
        let decoded: Decoded<Rollouts> = serde_json::from_str(&text).unwrap();
        assert_eq!(
            decoded.json,
            json!({
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "metadata": {
                    "name": "checkout", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                    "labels": {"app": "checkout"},
                    "annotations": {"rollout.argoproj.io/revision": "3"}
                },
                "spec": {
                    "replicas": 5,
                    "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
                    "template": {
                        "metadata": {"annotations": {"flightdeck.io/commit-time": "2026-11-30T10:00:00Z"}},
                        "spec": {"containers": [{"name": "app", "image": "checkout:v2"}]}
                    }
                },
                "status": {"phase": "Paused", "currentStepIndex": 1}
            })
        );
        let meta = decoded.meta();
        assert_eq!(
            (meta.name.as_deref(), meta.namespace.as_deref()),
            (Some("checkout"), Some("shop"))
        );
        assert_eq!(meta.resource_version.as_deref(), Some("42"));
    }

    /// A field of the wrong type stays as it came, for the mapping to name it.
    #[test]
    fn a_scalar_where_an_object_belongs_is_kept_for_the_mapping_to_name() {
        let text = r#"{"metadata": "oops", "spec": {"template": {"spec": {"containers": "x"}}}}"#;
        let decoded: Decoded<Rollouts> = serde_json::from_str(text).unwrap();
        assert_eq!(
            decoded.json,
            json!({"metadata": "oops", "spec": {"template": {"spec": {"containers": "x"}}}})
        );
        assert_eq!(decoded.meta().name, None);
    }

    #[test]
    fn as_watched_is_what_decoding_would_keep() {
        let full = json!({"metadata": {"name": "a", "managedFields": []}, "status": {"x": 1}});
        assert_eq!(
            as_watched(Kind::ReplicaSet, &full),
            json!({"metadata": {"name": "a"}, "status": {"x": 1}})
        );
    }
}

//! Argo Rollouts' own test fixtures, read as an API server would load them.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Argo Rollouts' own test fixtures, shared beside the repository.
pub fn fixtures() -> PathBuf {
    repo().join("../shared/fixtures/argo-rollouts")
}

/// Every object in the YAML files of a fixtures folder, with the file it came from, and the
/// documents that YAML reads as something JSON cannot hold (so no API server could either).
pub fn fixture_objects_and_unloadable(folder: &str) -> (Vec<(String, Value)>, Vec<String>) {
    let mut files: Vec<_> = walk(&fixtures().join(folder));
    files.sort();
    let (mut objects, mut unloadable) = (Vec::new(), Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, doc) in text.split("\n---").enumerate() {
            match serde_saphyr::from_str::<Value>(doc) {
                Ok(value) if value.is_object() => objects.push((file.display().to_string(), value)),
                Ok(_) => {}
                Err(_) => unloadable.push(format!("{} document {index}", file.display())),
            }
        }
    }
    (objects, unloadable)
}

pub fn fixture_objects(folder: &str) -> Vec<(String, Value)> {
    let (objects, unloadable) = fixture_objects_and_unloadable(folder);
    assert!(unloadable.is_empty(), "{unloadable:?}");
    objects
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out
}

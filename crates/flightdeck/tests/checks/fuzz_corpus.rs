//! Every file of each fuzz target's corpus (`fuzz/corpus/<target>/`), run
//! through that target's body on the stable toolchain: the inputs that once
//! found a panic, and the minimised corpus, stay checked by `cargo test`.

#[path = "../../../../fuzz/src/lib.rs"]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// What a fuzz target runs on one input.
type Body = fn(&[u8]);

/// Each fuzz target (as named in `fuzz/Cargo.toml`) and the body it runs.
const TARGETS: [(&str, Body); 6] = [
    ("cluster_json", targets::cluster_object),
    ("cluster_structured", targets::cluster_object),
    ("prometheus_response", targets::prometheus_response),
    ("config_file", targets::config_file),
    ("keymap_file", targets::keymap_file),
    ("theme_file", targets::theme_file),
];

#[test]
fn every_corpus_file_runs_without_a_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut panicked = Vec::new();
    for (target, body) in TARGETS {
        let dir = corpus.join(target);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        assert!(!files.is_empty(), "{target}: an empty corpus");
        for file in files {
            let input = std::fs::read(&file).expect("a corpus file");
            if catch_unwind(AssertUnwindSafe(|| body(&input))).is_err() {
                panicked.push(file.display().to_string());
            }
        }
    }
    assert!(panicked.is_empty(), "panicked on {panicked:#?}");
}

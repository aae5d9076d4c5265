//! The house rules: the product's top-level modules depend on lower layers only (so no
//! cycle can form between them), the product knows nothing of the simulator, and no
//! source file grows past a size a newcomer can read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The product's top-level modules by layer, lowest first: a module may use modules of
/// lower layers only. A new module must be placed here.
const LAYERS: &[&[&str]] = &[
    // Plain data and the edges of the machine: no other module.
    &["model", "paths", "term"],
    // Sources: the cluster and the metrics, and the DORA figures, each on the model alone.
    &["cluster", "metrics", "dora"],
    // The pure app: state, events, effects, keymap.
    &["app"],
    // Drawing from the app's state.
    &["ui"],
    // Files: settings (which name the keymap and theme), the audit trail, the log, the ledger.
    &["config", "audit", "logging", "ledger"],
    // The one executor of audited actions.
    &["audited"],
    // What runs: the cockpit and the headless commands.
    &["cockpit", "headless"],
];

/// Files allowed past [`MAX_LINES`], and why.
const LONG_FILES: &[(&str, &str)] = &[];

const MAX_LINES: usize = 600;

fn product_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The top-level module a file of `src/` belongs to (`None` for `lib.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(stem) => Some(stem.to_string()),
        None => Some(first.to_string()),
    }
}

/// The top-level modules `text` names through `crate::`, outside comments.
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() {
                found.push((number + 1, name));
            }
            rest = after;
        }
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `crate::` use that points sideways or up, as `file:line: a uses b`.
fn violations(src: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    for file in rust_files(src) {
        let Some(module) = module_of(src, &file) else {
            continue;
        };
        let Some(layer) = layer_of(&module) else {
            wrong.push(format!(
                "{}: module {module} has no layer in LAYERS",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, used) in uses(&text) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(below) if below < layer => {}
                _ => wrong.push(format!(
                    "{}:{line}: {module} uses {used}",
                    file.strip_prefix(src).unwrap().display()
                )),
            }
        }
    }
    wrong
}

#[test]
fn top_level_modules_use_lower_layers_only() {
    let wrong = violations(&product_src());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The check itself: a module that reaches up, or sideways within its layer, is caught.
#[test]
fn a_use_that_points_up_or_sideways_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("cluster")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod cluster;\n").unwrap();
    std::fs::write(
        src.join("cluster/watch.rs"),
        "use crate::model::Rollout;\n// crate::app in a comment is not a use\nuse crate::app::State;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("metrics.rs"),
        "fn f() { crate::cluster::connect(); }\n",
    )
    .unwrap();
    std::fs::write(src.join("plugins.rs"), "").unwrap();
    assert_eq!(
        violations(src),
        [
            "cluster/watch.rs:3: cluster uses app".to_string(),
            "metrics.rs:1: metrics uses cluster".to_string(),
            format!(
                "{}: module plugins has no layer in LAYERS",
                src.join("plugins.rs").display()
            ),
        ]
    );
}

#[test]
fn the_product_knows_nothing_of_the_simulator() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    for crate_name in [
        "flightdeck-sim",
        "flightdeck-demo",
        "flightdeck-bench",
        "flightdeck-testkit",
    ] {
        assert!(
            !manifest.contains(crate_name),
            "crates/flightdeck/Cargo.toml depends on {crate_name}"
        );
    }
    for file in rust_files(&product_src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        for name in ["flightdeck_sim", "flightdeck_demo", "flightdeck_bench"] {
            assert!(!text.contains(name), "{} names {name}", file.display());
        }
    }
}

#[test]
fn no_source_file_is_longer_than_a_newcomer_can_read() {
    let root = workspace();
    let mut long = BTreeMap::new();
    let crates = std::fs::read_dir(root.join("crates")).unwrap();
    let mut dirs: Vec<PathBuf> = crates.map(|c| c.unwrap().path().join("src")).collect();
    dirs.push(root.join("src"));
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for file in rust_files(dir) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            let name = file.strip_prefix(&root).unwrap().display().to_string();
            if lines > MAX_LINES && !LONG_FILES.iter().any(|(f, _)| *f == name) {
                long.insert(name, lines);
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

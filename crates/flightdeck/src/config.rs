//! `config.toml`, keymaps and themes: embedded defaults, user files override.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use termprofile::TermProfile;

use std::collections::BTreeMap;

use crate::app::{Keymap, Policy};
use crate::metrics::MetricsConfig;
use crate::paths;
use crate::ui::Theme;

/// The settings a user can write in `config.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// A theme name: `default`, `mono`, or a file `themes/NAME.toml` in the config dir.
    theme: Option<String>,
    /// No action is sent to any context.
    #[serde(default)]
    readonly: bool,
    /// Per kubeconfig context: `[contexts.prod-eu]`.
    #[serde(default)]
    contexts: BTreeMap<String, ContextConfig>,
    /// The metrics backend, its queries and the verdict's thresholds.
    metrics: Option<MetricsConfig>,
    /// Where the deploy ledger is: `path` (SQLite) or `url` (PostgreSQL).
    #[serde(default)]
    ledger: LedgerSettings,
    /// What the DORA figures count as what.
    #[serde(default)]
    dora: DoraFile,
}

/// `[ledger]`: a SQLite file (`path`, default `ledger.sqlite` in the data dir) or a
/// team's PostgreSQL (`url = "postgres://user@host/db?sslmode=require"`, the
/// password in the environment variable `password_env`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    pub path: Option<PathBuf>,
    pub url: Option<String>,
    pub password_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DoraFile {
    /// The pod-template annotations that may hold the commit time, tried in order.
    commit_time_annotations: Option<Vec<String>>,
    /// `1h`, `30m`: a redeploy this soon after a deploy reached 100% fixes it forward.
    fix_forward: Option<String>,
}

/// `[dora]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct DoraSettings {
    pub commit_annotations: Vec<String>,
    pub figures: crate::dora::Settings,
}

impl Default for DoraSettings {
    fn default() -> DoraSettings {
        DoraSettings {
            commit_annotations: crate::dora::COMMIT_TIME_ANNOTATIONS
                .map(str::to_string)
                .to_vec(),
            figures: crate::dora::Settings::default(),
        }
    }
}

fn dora_settings(file: &DoraFile) -> Result<DoraSettings, String> {
    let mut settings = DoraSettings::default();
    if let Some(names) = &file.commit_time_annotations {
        let said = format!("[dora] commit_time_annotations = {names:?}");
        if names.is_empty() {
            return Err(format!("{said}: name at least one annotation"));
        }
        if let Some(bad) = names.iter().find(|n| !is_annotation_key(n)) {
            return Err(format!(
                "{said}: {bad:?} is not an annotation key (prefix/name, as `flightdeck.io/commit-time`)"
            ));
        }
        settings.commit_annotations.clone_from(names);
    }
    if let Some(text) = &file.fix_forward {
        let span: jiff::Span = text
            .parse()
            .map_err(|_| format!("[dora] fix_forward = {text:?}: not a duration like 30m or 1h"))?;
        settings.figures.fix_forward = jiff::SignedDuration::try_from(span)
            .map_err(|e| format!("[dora] fix_forward = {text:?}: {e}"))?
            .abs();
    }
    Ok(settings)
}

/// A Kubernetes annotation key: an optional DNS-subdomain prefix and `/`, then a
/// name of up to 63 letters, digits, `-`, `_` or `.`, beginning and ending with a
/// letter or digit.
fn is_annotation_key(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    let edges = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let name_ok = name.len() <= 63
        && edges(name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let prefix_ok = !key.contains('/')
        || (prefix.len() <= 253
            && prefix.split('.').all(|label| {
                edges(label)
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }));
    name_ok && prefix_ok
}

impl ConfigFile {
    /// `config.toml`'s text → its settings: what `load_from` does with the
    /// file it reads, apart from the file system so that it can be fuzzed.
    /// The error is the TOML parser's, naming line and column.
    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextConfig {
    /// Abort, undo and promote --full need the rollout's name typed.
    #[serde(default)]
    production: bool,
    /// No action is sent to this context.
    #[serde(default)]
    readonly: bool,
    /// Namespaces to watch one by one where the user may not list rollouts
    /// across all namespaces.
    #[serde(default)]
    namespaces: Vec<String>,
    /// The metrics backend this context reads: a name of `[metrics.backends]`.
    #[serde(default)]
    metrics: Option<String>,
}

/// Everything loaded from files, ready for the cockpit.
#[derive(Debug, Clone)]
pub struct Config {
    pub keymap: Keymap,
    pub theme: Theme,
    /// What the terminal can show, that the theme was brought down to.
    pub colours: TermProfile,
    pub policy: Policy,
    pub metrics: Option<MetricsConfig>,
    /// Per context, the metrics backend it names (`[contexts.X] metrics = "NAME"`).
    pub metrics_of_contexts: BTreeMap<String, String>,
    /// Per context, the namespaces to watch one by one (`namespaces = [...]`).
    pub namespaces: BTreeMap<String, Vec<String>>,
    pub ledger: LedgerSettings,
    pub dora: DoraSettings,
}

/// A config file that could not be used: its path and what is wrong (the
/// TOML parser's message names line and column).
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

fn read(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// Load the config, keymap and theme from the user's config dir over the
/// embedded defaults, the theme brought down to the terminal's `profile`
/// (`NO_COLOR`, a 16-colour console: see `term::colour_profile`).
pub fn load(profile: TermProfile) -> Result<Config, ConfigError> {
    let mut config = load_from(
        paths::config_file().as_deref(),
        paths::config_dir().as_deref(),
        profile,
    )?;
    config.theme.console_font = crate::term::console_font();
    Ok(config)
}

pub fn load_from(
    config_file: Option<&Path>,
    config_dir: Option<&Path>,
    profile: TermProfile,
) -> Result<Config, ConfigError> {
    let file: ConfigFile = match config_file.map(|p| (p, read(p))) {
        Some((path, Ok(Some(text)))) => {
            let file = ConfigFile::parse(&text).map_err(|message| ConfigError {
                path: path.to_path_buf(),
                message,
            })?;
            let checked = check_metrics(&file).and_then(|()| dora_settings(&file.dora).map(drop));
            if let Err(problem) = checked {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    message: match line_naming(&text, &problem) {
                        Some(line) => format!("line {line}: {problem}"),
                        None => problem,
                    },
                });
            }
            file
        }
        Some((_, Err(e))) => return Err(e),
        _ => ConfigFile::default(),
    };
    let mut keymap = Keymap::default_keys();
    if let Some(path) = config_dir.map(|d| d.join("keymap.toml"))
        && let Some(text) = read(&path)?
    {
        keymap =
            Keymap::parse(&text, Some(&keymap)).map_err(|message| ConfigError { path, message })?;
    }
    // Without colour, the mono theme (the user's themes/mono.toml if any).
    let name = if profile <= TermProfile::NoColor {
        "mono"
    } else {
        file.theme.as_deref().unwrap_or("default")
    };
    let theme = load_theme(name, config_dir)?.adapted_to(profile);
    let pick = |want: fn(&ContextConfig) -> bool| {
        file.contexts
            .iter()
            .filter(|(_, c)| want(c))
            .map(|(n, _)| n.clone())
            .collect()
    };
    let dora = dora_settings(&file.dora).map_err(|message| ConfigError {
        path: config_file.map(Path::to_path_buf).unwrap_or_default(),
        message,
    })?;
    if file.ledger.path.is_some() && file.ledger.url.is_some() {
        return Err(ConfigError {
            path: config_file.map(Path::to_path_buf).unwrap_or_default(),
            message: "[ledger]: path (SQLite) or url (PostgreSQL), not both".into(),
        });
    }
    let policy = Policy {
        readonly: file.readonly,
        readonly_contexts: pick(|c| c.readonly),
        production_contexts: pick(|c| c.production),
    };
    Ok(Config {
        keymap,
        theme,
        colours: profile,
        policy,
        namespaces: file
            .contexts
            .iter()
            .filter(|(_, c)| !c.namespaces.is_empty())
            .map(|(name, c)| (name.clone(), c.namespaces.clone()))
            .collect(),
        metrics_of_contexts: file
            .contexts
            .iter()
            .filter_map(|(name, c)| Some((name.clone(), c.metrics.clone()?)))
            .collect(),
        metrics: file.metrics,
        ledger: file.ledger,
        dora,
    })
}

/// The metrics section's own checks, and that each context names a backend there is.
fn check_metrics(file: &ConfigFile) -> Result<(), String> {
    if let Some(metrics) = &file.metrics {
        metrics.check()?;
    }
    let names = file.metrics.as_ref().map(|m| m.names()).unwrap_or_default();
    for (context, config) in &file.contexts {
        if let Some(name) = &config.metrics
            && !names.contains(&name.as_str())
        {
            let known = match names.as_slice() {
                [] => "there is no [metrics] section".to_string(),
                names => format!("there are {}", names.join(", ")),
            };
            return Err(format!(
                "[contexts.{context}] metrics = {name:?}: no such backend; {known}"
            ));
        }
    }
    Ok(())
}

/// The line of `text` that a check's `problem` is about: the one with the
/// threshold it names, or with the metric's name (`metrics.metric `X``).
fn line_naming(text: &str, problem: &str) -> Option<usize> {
    // `[table] key …`: the key's line in that table, else the table's own.
    let needle = if let Some(rest) = problem.strip_prefix('[') {
        let (table, rest) = rest.split_once("] ")?;
        let key = rest.split(' ').next()?;
        let header = text.find(&format!("[{table}]"))?;
        let end = text[header + 1..]
            .find("\n[")
            .map_or(text.len(), |e| e + header + 1);
        let at = text[header..end]
            .find(&format!("{key} ="))
            .map_or(header, |at| at + header);
        return Some(text[..at].matches('\n').count() + 1);
    } else {
        let name = problem
            .strip_prefix("metrics.metric `")?
            .split('`')
            .next()?;
        format!("\"{name}\"")
    };
    let at = text.find(&needle)?;
    Some(text[..at].matches('\n').count() + 1)
}

fn load_theme(name: &str, config_dir: Option<&Path>) -> Result<Theme, ConfigError> {
    if let Some(path) = config_dir.map(|d| d.join("themes").join(format!("{name}.toml")))
        && let Some(text) = read(&path)?
    {
        // What the file leaves out comes from the built-in theme of that
        // name, or the default one.
        let base = Theme::builtin(name)
            .or_else(|| Theme::builtin("default"))
            .expect("the default theme is built in");
        return Theme::parse_over(&text, &base).map_err(|message| ConfigError { path, message });
    }
    Theme::builtin(name).ok_or_else(|| ConfigError {
        path: PathBuf::from(format!("themes/{name}.toml")),
        message: format!("no theme {name:?} (built in: default, mono)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_any_file() {
        let config = load_from(None, None, TermProfile::Ansi256).unwrap();
        assert_eq!(config.theme, Theme::builtin("default").unwrap());
        assert_eq!(config.keymap, Keymap::default_keys());
        assert_eq!(
            load_from(None, None, TermProfile::NoColor).unwrap().theme,
            Theme::builtin("mono").unwrap()
        );
    }

    /// Settings that cannot be right are said with their line before
    /// flightdeck starts, not found when the first canary is judged.
    #[test]
    fn thresholds_and_queries_that_cannot_be_right_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            load_from(Some(&file), None, TermProfile::Ansi256).map(|_| ())
        };
        let metrics = "[metrics]\nurl = \"http://p:9090\"\n";
        let err = load(&format!(
            "{metrics}[metrics.thresholds]\npass = 70\nmarginal = 80\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 5: [metrics.thresholds] marginal = 80 is above pass = 70"),
            "{err}"
        );
        let err = load(&format!("{metrics}[metrics.thresholds]\npass = 120\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 4: [metrics.thresholds] pass = 120: a score threshold is 0 to 100"),
            "{err}"
        );
        let err = load(&format!(
            "{metrics}\n[[metrics.metric]]\nname = \"orders\"\nquery = 'sum(rate(orders{{namespace=\"{{{{nmspace}}}}\"}}[1m]))'\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.starts_with(&file.display().to_string()), "{err}");
        assert!(
            err.contains("line 5: metrics.metric `orders`: unknown variable {{nmspace}}"),
            "{err}"
        );
        assert!(err.contains("known: cluster, context, hash"), "{err}");
        load(&format!(
            "{metrics}[metrics.thresholds]\npass = 90\nmarginal = 60\n"
        ))
        .unwrap();
    }

    /// Named backends: each context reads the one it names; a name that is not there, a
    /// site that is not Datadog's, NRQL that brings its own window are said with their line.
    #[test]
    fn metrics_backends_are_checked_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            load_from(Some(&file), None, TermProfile::Ansi256).map_err(|e| e.to_string())
        };
        let backends = "[metrics]\ndefault = \"us\"\n\n[metrics.backends.eu]\nkind = \"datadog\"\nsite = \"datadoghq.eu\"\n\n[metrics.backends.us]\nkind = \"newrelic\"\naccount_id = 42\n";
        let config = load(&format!(
            "[contexts.prod-eu]\nmetrics = \"eu\"\n\n{backends}"
        ))
        .unwrap();
        assert_eq!(
            config.metrics_of_contexts,
            [("prod-eu".to_string(), "eu".to_string())].into()
        );
        let err = load(&format!(
            "[contexts.prod-eu]\nproduction = true\nmetrics = \"ue\"\n\n{backends}"
        ))
        .unwrap_err();
        assert!(
            err.contains(
                "line 3: [contexts.prod-eu] metrics = \"ue\": no such backend; there are eu, us"
            ),
            "{err}"
        );
        let err = load(&backends.replace("datadoghq.eu", "datadoghq.io")).unwrap_err();
        assert!(
            err.contains("line 6: [metrics.backends.eu] site = \"datadoghq.io\": not a Datadog site; one of datadoghq.com, us3.datadoghq.com"),
            "{err}"
        );
        let err = load(&backends.replace("default = \"us\"", "default = \"ap\"")).unwrap_err();
        assert!(
            err.contains("line 2: [metrics] default = \"ap\": no such backend; there are eu, us"),
            "{err}"
        );
        let err = load(&format!(
            "{backends}\n[[metrics.backends.us.metric]]\nname = \"orders\"\nquery = \"SELECT count(*) FROM Order SINCE 1 hour ago\"\n"
        ))
        .unwrap_err();
        assert!(
            err.contains("line 13: metrics.metric `orders`: leave SINCE out of the NRQL"),
            "{err}"
        );
        let err = load("[contexts.lab]\nmetrics = \"eu\"\n").unwrap_err();
        assert!(
            err.contains("line 2: [contexts.lab] metrics = \"eu\": no such backend; there is no [metrics] section"),
            "{err}"
        );
    }

    #[test]
    fn user_files_override_and_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let mine = include_str!("../themes/default.toml").replace("\"208\"", "\"magenta\"");
        std::fs::write(dir.path().join("themes/mine.toml"), mine).unwrap();
        std::fs::write(&file, "theme = \"mine\"\n").unwrap();
        let config = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256).unwrap();
        assert_eq!(config.theme.canary, ratatui::style::Color::Magenta);

        std::fs::write(&file, "\n\ntheme = 3\n").unwrap();
        let err = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&file.display().to_string()), "{err}");
        assert!(err.contains("line 3"), "{err}");

        std::fs::write(&file, "colour = \"red\"\n").unwrap();
        let err = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");

        std::fs::write(
            &file,
            "[contexts.prod-eu]\nproduction = true\n[contexts.lab]\nreadonly = true\n",
        )
        .unwrap();
        let policy = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256)
            .unwrap()
            .policy;
        assert_eq!(policy.production_contexts, ["prod-eu"]);
        assert!(policy.readonly("lab") && !policy.readonly("prod-eu"));

        std::fs::write(&file, "[contexts.prod-eu]\nprodction = true\n").unwrap();
        let err = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("unknown field `prodction`"),
            "{err}"
        );

        std::fs::write(&file, "theme = \"nope\"\n").unwrap();
        let err = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no theme \"nope\""), "{err}");

        std::fs::write(&file, "").unwrap();
        std::fs::write(dir.path().join("keymap.toml"), "[normal]\nfly = [\"f\"]\n").unwrap();
        let err = load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keymap.toml: [normal] fly: unknown action"),
            "{err}"
        );
    }

    /// The commit time's annotations, tried in order; a list that cannot be right is
    /// said with its file and line.
    #[test]
    fn commit_time_annotations_are_a_checked_list_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let load = || load_from(Some(&file), Some(dir.path()), TermProfile::Ansi256);
        std::fs::write(&file, "").unwrap();
        assert_eq!(
            load().unwrap().dora.commit_annotations,
            ["flightdeck.io/commit-time", "dora/commitTimestamp"]
        );
        std::fs::write(
            &file,
            "[dora]\ncommit_time_annotations = [\"ci.example.com/committed-at\", \"flightdeck.io/commit-time\"]\n",
        )
        .unwrap();
        assert_eq!(
            load().unwrap().dora.commit_annotations,
            ["ci.example.com/committed-at", "flightdeck.io/commit-time"]
        );
        std::fs::write(
            &file,
            "\n[dora]\nfix_forward = \"1h\"\ncommit_time_annotations = []\n",
        )
        .unwrap();
        let err = load().unwrap_err().to_string();
        assert!(err.starts_with(&file.display().to_string()), "{err}");
        assert!(
            err.contains(
                "line 4: [dora] commit_time_annotations = []: name at least one annotation"
            ),
            "{err}"
        );
        std::fs::write(
            &file,
            "[dora]\ncommit_time_annotations = [\"commit time\"]\n",
        )
        .unwrap();
        let err = load().unwrap_err().to_string();
        assert!(
            err.contains("line 2: [dora] commit_time_annotations = [\"commit time\"]: \"commit time\" is not an annotation key"),
            "{err}"
        );
        std::fs::write(&file, "[dora]\ncommit_time_annotation = \"x\"\n").unwrap();
        let err = load().unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("unknown field"),
            "{err}"
        );
        assert!(is_annotation_key("dora/commitTimestamp") && is_annotation_key("built-at"));
        assert!(!is_annotation_key("Flightdeck.io/x") && !is_annotation_key("a/-b"));
    }
}

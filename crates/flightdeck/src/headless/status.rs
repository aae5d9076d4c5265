//! `flightdeck status`: the fleet as a table or JSON, most urgent first.

use std::io::Write;

use color_eyre::eyre;
use serde::Serialize;

use super::{snapshot, table};
use crate::app::{self, State};
use crate::cluster::{self, Scope};
use crate::metrics::{Backends, RolloutMetricsReport};
use crate::model::Outcome;
use crate::model::{Phase, Role, Rollout, Text};

/// How a headless command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
}

/// One rollout as scripts see it: what the cockpit knows.
#[derive(Debug, Serialize)]
struct Row<'a> {
    context: &'a str,
    namespace: &'a str,
    name: &'a str,
    strategy: &'static str,
    /// Argo's own phase, as `kubectl argo rollouts` reports it (an abort
    /// is `Degraded`, with `aborted` set).
    phase: &'static str,
    aborted: bool,
    message: &'a str,
    revision: Option<u64>,
    /// What holds a paused rollout: `person` (spec.paused), `step`,
    /// `promotion` (a blue-green's wait), `analysis`; none when moving.
    paused_by: Option<&'static str>,
    step: Option<usize>,
    steps: usize,
    set_weight: u32,
    actual_weight: u32,
    /// The new version's share of live traffic, as the cockpit shows it
    /// (0 once the new version is the stable one).
    new_version_weight: u32,
    stable: Option<&'a str>,
    canary: Option<&'a str>,
    images: &'a [Text],
    created: Option<jiff::Timestamp>,
    age_seconds: Option<i64>,
    /// Seconds in the current step or state.
    in_step_seconds: Option<i64>,
    verdict: Option<VerdictRow>,
}

/// The canary's verdict, with the metric that decided it.
#[derive(Debug, Serialize)]
struct VerdictRow {
    /// `pass`, `marginal`, `fail`, `insufficient data`, or `no verdict`
    /// when the metrics could not be read (`error` says why).
    outcome: String,
    summary: String,
    score: Option<f64>,
    deciding: Vec<String>,
    error: Option<String>,
}

fn verdict_row(report: &Result<RolloutMetricsReport, String>) -> VerdictRow {
    match report {
        Ok(report) => {
            let verdict = &report.verdict;
            VerdictRow {
                outcome: outcome_word(&verdict.outcome).into(),
                summary: verdict.to_string(),
                score: verdict.score,
                deciding: verdict.deciding.clone(),
                error: None,
            }
        }
        Err(error) => VerdictRow {
            outcome: "no verdict".into(),
            summary: format!("metrics backend down: {error}"),
            score: None,
            deciding: Vec::new(),
            error: Some(error.clone()),
        },
    }
}

fn outcome_word(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Marginal => "marginal",
        Outcome::Fail => "fail",
        Outcome::InsufficientData { .. } => "insufficient data",
        Outcome::NoData => "no data",
    }
}

fn paused_by(rollout: &Rollout) -> Option<&'static str> {
    if rollout.paused_by_user {
        return Some("person");
    }
    let reason = rollout.pause_conditions.first()?.reason.as_str();
    Some(match reason {
        "CanaryPauseStep" => "step",
        "BlueGreenPause" => "promotion",
        "InconclusiveAnalysisRun" => "analysis",
        _ => "controller",
    })
}

fn row<'a>(state: &'a State, rollout: &'a Rollout) -> Row<'a> {
    let image_of = |role: Role| {
        state
            .replica_sets_of(&rollout.key)
            .iter()
            .find(|rs| rs.roles(rollout).contains(&role))
            .and_then(|rs| rs.images.first().map(|i| i.as_str()))
    };
    let seconds_since =
        |t: Option<jiff::Timestamp>| t.map(|t| state.now.as_second() - t.as_second());
    Row {
        context: &rollout.key.context,
        namespace: &rollout.key.namespace,
        name: &rollout.key.name,
        strategy: rollout.strategy.label(),
        phase: match rollout.phase {
            Phase::Aborted => Phase::Degraded.label(),
            phase => phase.label(),
        },
        aborted: rollout.aborted,
        message: &rollout.message,
        revision: rollout.revision,
        paused_by: paused_by(rollout),
        step: rollout.current_step,
        steps: rollout.steps.len(),
        set_weight: rollout.set_weight,
        actual_weight: rollout.actual_weight,
        new_version_weight: rollout.new_version_weight(),
        stable: image_of(Role::Stable),
        canary: image_of(Role::Canary).or_else(|| image_of(Role::Preview)),
        images: &rollout.images,
        created: rollout.created.get(),
        age_seconds: seconds_since(rollout.created.get()),
        in_step_seconds: seconds_since(rollout.since.get()),
        verdict: state.metrics.get(&rollout.key).map(verdict_row),
    }
}

/// Print the fleet; an error (non-zero exit) when a context could not be
/// read. With a metrics backend, each canary's verdict is read once.
pub async fn status(
    scope: &Scope,
    format: OutputFormat,
    metrics: Option<Backends>,
) -> eyre::Result<()> {
    let connection = cluster::connect(scope).await?;
    let mut state = snapshot::take(&connection, scope.namespace.as_deref()).await;
    if let Some(backends) = metrics {
        // The cockpit's own path: settle names the canaries to follow, their
        // reports arrive as events, and the rows take their urgency.
        state.metrics_sources = backends.names();
        for effect in app::settle(&mut state) {
            if let app::Effect::PollMetrics(targets) = effect {
                for (backend, targets) in backends.all().iter().zip(backends.split(targets)) {
                    let updates = crate::metrics::read_once(backend.source.as_ref(), targets);
                    for update in updates.await {
                        app::update(&mut state, app::Event::Metrics(update));
                    }
                }
            }
        }
        app::settle(&mut state);
    }
    let rows: Vec<Row> = state
        .view
        .iter()
        .filter_map(|k| state.rollouts.get(k))
        .map(|r| row(&state, r))
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        OutputFormat::Table => write_table(&mut out, &rows)?,
    }
    let down: Vec<String> = state
        .contexts
        .iter()
        .filter_map(|(c, h)| h.error().map(|e| format!("{c}: {e}")))
        .collect();
    if down.is_empty() {
        Ok(())
    } else {
        Err(eyre::eyre!("{}", down.join("; ")))
    }
}

fn write_table(out: &mut impl Write, rows: &[Row]) -> std::io::Result<()> {
    let headers = [
        "CONTEXT",
        "NAMESPACE",
        "NAME",
        "STRATEGY",
        "PHASE",
        "STEP",
        "WEIGHT",
        "VERDICT",
        "MESSAGE",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.context.to_string(),
                r.namespace.to_string(),
                r.name.to_string(),
                r.strategy.to_string(),
                // For people, an abort is said as such.
                if r.aborted { "Aborted" } else { r.phase }.to_string(),
                r.step
                    .filter(|_| r.steps > 0)
                    .map_or(String::new(), |s| format!("{s}/{}", r.steps)),
                // As the cockpit shows it: the new version's share while it
                // has some and not all of the traffic.
                match r.new_version_weight {
                    1..=99 => format!("{}%", r.new_version_weight),
                    _ => String::new(),
                },
                r.verdict
                    .as_ref()
                    .map_or(String::new(), |v| v.summary.clone()),
                r.message.to_string(),
            ]
        })
        .collect();
    table::write(out, &headers, &cells)
}

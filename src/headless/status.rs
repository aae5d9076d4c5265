//! `flightdeck status`: the fleet as a table or JSON, most urgent first.

use std::io::Write;

use color_eyre::eyre;
use serde::Serialize;

use super::{snapshot, table};
use crate::app::State;
use crate::cli::Scope;
use crate::model::{Role, Rollout};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// One rollout as scripts see it.
#[derive(Debug, Serialize)]
struct Row<'a> {
    context: &'a str,
    namespace: &'a str,
    name: &'a str,
    strategy: &'static str,
    phase: &'static str,
    message: &'a str,
    step: Option<usize>,
    steps: usize,
    set_weight: u32,
    actual_weight: u32,
    stable: Option<&'a str>,
    canary: Option<&'a str>,
    images: &'a [String],
}

fn row<'a>(state: &'a State, rollout: &'a Rollout) -> Row<'a> {
    let image_of = |role: Role| {
        state
            .replica_sets_of(&rollout.key)
            .iter()
            .find(|rs| rs.roles(rollout).contains(&role))
            .and_then(|rs| rs.images.first().map(String::as_str))
    };
    Row {
        context: &rollout.key.context,
        namespace: &rollout.key.namespace,
        name: &rollout.key.name,
        strategy: rollout.strategy.label(),
        phase: rollout.phase.label(),
        message: &rollout.message,
        step: rollout.current_step,
        steps: rollout.steps.len(),
        set_weight: rollout.set_weight,
        actual_weight: rollout.actual_weight,
        stable: image_of(Role::Stable),
        canary: image_of(Role::Canary).or_else(|| image_of(Role::Preview)),
        images: &rollout.images,
    }
}

/// Print the fleet; an error (non-zero exit) when a context could not be read.
pub async fn status(scope: &Scope, format: OutputFormat) -> eyre::Result<()> {
    let state = snapshot::take(scope).await?;
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
                r.phase.to_string(),
                r.step
                    .filter(|_| r.steps > 0)
                    .map_or(String::new(), |s| format!("{s}/{}", r.steps)),
                if r.strategy == "canary" {
                    format!("{}%", r.actual_weight)
                } else {
                    String::new()
                },
                r.message.to_string(),
            ]
        })
        .collect();
    table::write(out, &headers, &cells)
}

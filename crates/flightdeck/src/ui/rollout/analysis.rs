//! The rollout pane's analyses and experiments: each run's metrics and their marks.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::State;
use crate::model::{AnalysisPhase, Rollout};
use crate::ui::Theme;
use crate::ui::format::{age_at, fit, fit_left};

/// The experiments of an `experiment` step, newest first: each template's
/// pods and image, each analysis's phase.
pub(super) fn experiments(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    state: &State,
    theme: &Theme,
    width: usize,
) {
    let mut experiments: Vec<_> = state.experiments_of(&rollout.key).iter().collect();
    if experiments.is_empty() {
        return;
    }
    experiments.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.key.name.cmp(&b.key.name))
    });
    let image_width = width.saturating_sub(40).max(12);
    for experiment in experiments.into_iter().take(2) {
        let (icon, color) = analysis_mark(experiment.phase, theme);
        out.push(Line::from(vec![
            Span::styled("experiment ", theme.muted()),
            Span::raw(experiment.key.name.clone()),
            Span::styled(
                format!("  {icon} {}", experiment.phase.label()),
                Style::new().fg(color),
            ),
            Span::styled(
                format!("  {}", age_at(state.now, experiment.created)),
                theme.muted(),
            ),
        ]));
        for template in &experiment.templates {
            let image = template.images.first().map_or("", |i| i.as_str());
            out.push(Line::raw(format!(
                "  {:<10} {:<image_width$} pods {}/{} ready  {}",
                fit(&template.name, 10),
                fit_left(image, image_width),
                template.ready,
                template.replicas,
                template.status,
            )));
        }
        for (name, phase) in &experiment.analyses {
            let (icon, color) = analysis_mark(*phase, theme);
            out.push(Line::from(vec![
                Span::raw(format!("  analysis {name}")),
                Span::styled(
                    format!("  {icon} {}", phase.label()),
                    Style::new().fg(color),
                ),
            ]));
        }
        if !experiment.message.is_empty() {
            out.push(Line::styled(
                format!("  {}", experiment.message),
                theme.muted(),
            ));
        }
    }
}

pub(super) fn analysis_mark(
    phase: AnalysisPhase,
    theme: &Theme,
) -> (&'static str, ratatui::style::Color) {
    match phase {
        AnalysisPhase::Successful => ("✔", theme.healthy),
        AnalysisPhase::Failed | AnalysisPhase::Error => ("✖", theme.degraded),
        AnalysisPhase::Inconclusive => ("?", theme.paused),
        AnalysisPhase::Running | AnalysisPhase::Pending => ("◌", theme.progressing),
    }
}

pub(super) fn analysis(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    state: &State,
    theme: &Theme,
    width: usize,
) {
    let mut runs: Vec<_> = state.analysis_runs_of(&rollout.key).iter().collect();
    if runs.is_empty() {
        return;
    }
    runs.sort_by(|a, b| {
        b.started
            .cmp(&a.started)
            .then_with(|| b.key.name.cmp(&a.key.name))
    });
    out.push(Line::raw(""));
    for run in runs.into_iter().take(3) {
        let (icon, color) = analysis_mark(run.phase, theme);
        out.push(Line::from(vec![
            Span::styled("analysis  ", theme.muted()),
            Span::raw(run.key.name.clone()),
            Span::styled(
                format!("  {icon} {}", run.phase.label()),
                Style::new().fg(color),
            ),
            Span::styled(
                format!("  {}", age_at(state.now, run.started)),
                theme.muted(),
            ),
        ]));
        for metric in &run.metrics {
            let tally = format!(
                "  {:<20} {:<12} ✔{} ✖{} ?{} ⚠{}",
                fit(&metric.name, 20),
                metric.phase.label(),
                metric.successful,
                metric.failed,
                metric.inconclusive,
                metric.errors,
            );
            // With room, the measurements themselves, oldest first.
            let room = width.saturating_sub(tally.chars().count() + 9);
            let values = metric.values.join(" ");
            let measured = if metric.values.len() > 1 && values.chars().count() <= room {
                format!("  values {values}")
            } else {
                format!("  last {}", fit(metric.last_value().unwrap_or("–"), 24))
            };
            out.push(Line::raw(tally + &measured));
        }
        if !run.message.is_empty() {
            out.push(Line::styled(format!("  {}", run.message), theme.muted()));
        }
    }
}

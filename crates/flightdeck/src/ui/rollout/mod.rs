//! The rollout pane: versions, weights, replicas, steps, analysis and the
//! controller's own words, for the selected rollout.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::cells;
use super::format::age_at;
use super::{Theme, phase_icon};
use crate::app::{Focus, State};
use crate::cluster::Kind;
use crate::metrics::RolloutMetricsReport;
use crate::model::{Rollout, Strategy, age_changes_at};

mod analysis;
mod flagger;
mod versions;

use analysis::{analysis, experiments};
use versions::{deployment_history, replicas, revisions, shown_replica_sets, versions};

/// Draws the pane; returns how many lines its text has and how many show.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) -> (usize, usize) {
    let focused = state.focus == Focus::Rollout;
    let Some(rollout) = state.selected_rollout() else {
        let block = Block::bordered()
            .title(" ROLLOUT ")
            .border_style(theme.border(focused));
        frame.render_widget(
            Paragraph::new("No rollout selected.")
                .style(theme.muted())
                .block(block),
            area,
        );
        return (0, 0);
    };
    let key = &rollout.key;
    let title = Line::from(vec![
        Span::raw(" "),
        Span::styled(key.name.as_str(), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(
            format!(
                " · {} · {} · {} ",
                key.namespace,
                key.context,
                match (&rollout.flagger, &rollout.deployment) {
                    (Some(f), _) => format!("Flagger {}", f.strategy.label()),
                    (_, Some(_)) => "Deployment".to_string(),
                    _ => rollout.strategy.label().to_string(),
                }
            ),
            theme.muted(),
        ),
    ]);
    let block = Block::bordered()
        .title(title)
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = lines(rollout, state, theme, inner.width as usize);
    cells::lines(frame.buffer_mut(), inner, &lines, state.detail_scroll);
    (
        cells::height(&lines, inner.width),
        usize::from(inner.height),
    )
}

fn lines(rollout: &Rollout, state: &State, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let phase_style = theme.phase(rollout.phase);
    let mut status = vec![Span::styled(
        format!("{} {}", phase_icon(rollout.phase), rollout.phase_label()),
        phase_style,
    )];
    if rollout.paused_by_user && rollout.deployment.is_some() {
        status.push(Span::styled(
            "  paused by a person (spec.paused)",
            theme.muted(),
        ));
    } else if rollout.paused_by_user && rollout.flagger.is_some() {
        status.push(Span::styled(
            "  suspended by a person (spec.suspend)",
            theme.muted(),
        ));
    } else if rollout.paused_by_user {
        status.push(Span::styled(
            "  paused by a person (spec.paused)",
            theme.muted(),
        ));
    } else if rollout.waiting_for_person() {
        status.push(Span::styled(
            "  waiting for promotion",
            Style::new().fg(theme.paused),
        ));
    }
    if let Some(rev) = rollout.revision {
        status.push(Span::styled(format!("  revision {rev}"), theme.muted()));
    }
    out.push(Line::from(status));
    if let Some(canary) = &rollout.flagger {
        out.extend(flagger::flagger_lines(canary, theme));
    }
    let health = state
        .contexts
        .iter()
        .find(|(c, _)| *c == rollout.key.context);
    if let Some((context, health)) = health
        && let Some(error) = health.error()
    {
        out.push(Line::styled(
            format!(
                "✖ {context}: no updates for {} ({error}); shown as last seen",
                age_at(state.now, health.stale_since)
            ),
            Style::new().fg(theme.error),
        ));
    }
    match state.metrics.get(&rollout.key) {
        Some(Ok(report)) => {
            let mut line = super::metrics::verdict_line(&report.verdict, theme);
            line.spans.extend(deciding_figures(report, theme));
            out.push(line);
        }
        Some(Err(down)) => out.push(Line::styled(
            format!("metrics  backend down: {down}"),
            Style::new().fg(theme.error),
        )),
        None => {}
    }
    if !rollout.message.is_empty() {
        out.push(Line::from(vec![
            Span::styled("message  ", theme.muted()),
            Span::raw(rollout.message.clone()),
        ]));
    }
    out.push(Line::raw(""));
    let sets = shown_replica_sets(rollout, state);
    let health = state.health(&rollout.key.context);
    let problem = |kind| health.and_then(|h| h.problem(kind));
    versions(
        &mut out,
        rollout,
        &sets,
        problem(Kind::ReplicaSet),
        theme,
        width,
    );
    out.extend(at_stake(rollout, state, theme));
    if !rollout.steps.is_empty() {
        out.push(steps(rollout, state, theme));
    }
    experiments(&mut out, rollout, state, theme, width);
    out.push(Line::raw(""));
    if rollout.flagger.is_none() && rollout.deployment.is_none() {
        replicas(&mut out, rollout, &sets, state, theme);
    }
    if rollout.deployment.is_some() {
        let problem = problem(Kind::DeploymentReplicaSet);
        deployment_history(&mut out, rollout, state, problem, (theme, width));
    } else {
        revisions(&mut out, rollout, state, theme, width);
    }
    if let Some(problem) = problem(Kind::AnalysisRun) {
        out.push(Line::raw(""));
        out.push(Line::styled(
            format!("AnalysisRuns: {problem}"),
            Style::new().fg(theme.warning),
        ));
    }
    analysis(&mut out, rollout, state, theme, width);
    conditions(&mut out, rollout, theme);
    out
}

/// After the verdict, the deciding metric's figures: "(canary 38.2% vs
/// stable 0.1%)", so that a short terminal without the metrics pane still
/// shows what decided it.
fn deciding_figures(report: &RolloutMetricsReport, theme: &Theme) -> Option<Span<'static>> {
    let name = report.verdict.deciding.first()?;
    let metric = report.metrics.iter().find(|m| &m.name == name)?;
    let (canary, stable) = (metric.canary_now?, metric.stable_now?);
    Some(Span::styled(
        format!(
            "  (canary {} vs stable {})",
            super::metrics::figure(canary, &metric.unit),
            super::metrics::figure(stable, &metric.unit)
        ),
        theme.muted(),
    ))
}

/// What is at stake now: the new version's share of live traffic, the
/// requests per second it serves, and its pods (what an abort sends back).
fn at_stake(rollout: &Rollout, state: &State, theme: &Theme) -> Option<Line<'static>> {
    if !rollout.update_in_flight() {
        return None;
    }
    let new = match rollout.strategy {
        Strategy::BlueGreen => "preview",
        _ => "canary",
    };
    let share = rollout.new_version_weight();
    let pods = state
        .replica_sets_of(&rollout.key)
        .iter()
        .find(|rs| rollout.current_hash.as_deref() == Some(rs.hash.as_str()))
        .map_or(0, |rs| rs.replicas.available);
    if share == 0 && pods == 0 {
        return None;
    }
    let text = if share == 0 {
        format!("{new}: no live traffic · {pods} pods")
    } else {
        let rate = match state.report(&rollout.key).and_then(|r| r.rps) {
            Some((_, canary)) => format!("{} req/s", super::format::thousands(canary)),
            None => "req/s unknown".into(),
        };
        format!("{new} {share}% of traffic · {rate} · {pods} pods")
    };
    Some(Line::from(vec![
        Span::styled("at stake ", theme.muted()),
        Span::styled(text, Style::new().fg(theme.canary)),
    ]))
}

/// "steps ✔20% ✔pause ▶40% · 10s · 60%", with a countdown on a timed pause.
fn steps(rollout: &Rollout, state: &State, theme: &Theme) -> Line<'static> {
    let current = rollout.current_step.unwrap_or(0);
    let mut spans = vec![Span::styled("steps  ", theme.muted())];
    for (i, step) in rollout.steps.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        let (mark, style) = if i < current {
            ("✔", Style::new().fg(theme.healthy))
        } else if i == current {
            ("▶", theme.phase(rollout.phase).add_modifier(Modifier::BOLD))
        } else {
            ("", theme.muted())
        };
        spans.push(Span::styled(format!("{mark}{step}"), style));
        if i == current
            && let Some(left) = countdown(rollout, state)
        {
            spans.push(Span::styled(
                format!(" ({left} left)"),
                Style::new().fg(theme.paused),
            ));
        }
    }
    if current >= rollout.steps.len() {
        spans.push(Span::styled(
            "  ✔ all steps done",
            Style::new().fg(theme.healthy),
        ));
    }
    Line::from(spans)
}

fn countdown(rollout: &Rollout, state: &State) -> Option<String> {
    let ends = rollout.pause_ends_at()?;
    let left = (ends.as_second() - state.now.as_second()).max(0);
    Some(if left >= 60 {
        format!("{}m{:02}s", left / 60, left % 60)
    } else {
        format!("{left}s")
    })
}

fn conditions(out: &mut Vec<Line<'static>>, rollout: &Rollout, theme: &Theme) {
    if rollout.conditions.is_empty() {
        return;
    }
    out.push(Line::raw(""));
    for c in &rollout.conditions {
        let ok = c.status == "True";
        let color = if ok { theme.healthy } else { theme.warning };
        let mut spans = vec![
            Span::styled(format!("{:<15}", c.kind), theme.muted()),
            Span::styled(format!("{:<8}", c.status), Style::new().fg(color)),
            Span::raw(c.reason.clone()),
        ];
        if !c.message.is_empty() {
            spans.push(Span::styled(format!(": {}", c.message), theme.muted()));
        }
        out.push(Line::from(spans));
    }
}

/// When the next text of this pane that moves with the clock (a
/// countdown, every second; the versions' ages) changes.
pub fn next_change(state: &State) -> Option<Timestamp> {
    let rollout = state.selected_rollout()?;
    let countdown = countdown(rollout, state)
        .and_then(|_| Timestamp::from_second(state.now.as_second() + 1).ok());
    let ages = state
        .replica_sets_of(&rollout.key)
        .iter()
        .filter_map(|rs| rs.created.get())
        .map(|since| age_changes_at(since, state.now));
    let stale = state
        .health(&rollout.key.context)
        .and_then(|h| h.stale_since)
        .map(|since| age_changes_at(since, state.now));
    countdown.into_iter().chain(ages).chain(stale).min()
}

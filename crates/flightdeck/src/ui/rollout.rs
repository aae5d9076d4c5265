//! The rollout pane: versions, weights, replicas, steps, analysis and the
//! controller's own words, for the selected rollout.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::cells;
use super::format::{age_at, fit, fit_left, short_hash};
use super::{Theme, phase_icon};
use crate::app::{Focus, State};
use crate::cluster::Kind;
use crate::metrics::RolloutMetricsReport;
use crate::model::{AnalysisPhase, ReplicaSet, Role, Rollout, Strategy, age_changes_at};

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
                rollout.strategy.label()
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
        format!("{} {}", phase_icon(rollout.phase), rollout.phase.label()),
        phase_style,
    )];
    if rollout.paused_by_user {
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
    replicas(&mut out, rollout, &sets, state, theme);
    revisions(&mut out, rollout, state, theme, width);
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

/// The ReplicaSets worth a line, newest first, each with its main role:
/// every one with a role, and old ones only while they still have pods.
fn shown_replica_sets<'a>(rollout: &Rollout, state: &'a State) -> Vec<(&'a ReplicaSet, Role)> {
    let mut sets: Vec<(&ReplicaSet, Role)> = state
        .replica_sets_of(&rollout.key)
        .iter()
        .filter_map(|rs| {
            let roles = rs.roles(rollout);
            // Blue-green speaks of active and preview (a settled one's live
            // version is both: it is active); canary of stable and canary.
            let role = match rollout.strategy {
                Strategy::BlueGreen => [Role::Active, Role::Preview]
                    .into_iter()
                    .find(|r| roles.contains(r))
                    .or_else(|| roles.iter().copied().min()),
                _ => roles.iter().copied().min(),
            }?;
            (role != Role::Old || rs.replicas.desired > 0).then_some((rs, role))
        })
        .collect();
    sets.sort_by(|(a, _), (b, _)| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.key.name.cmp(&b.key.name))
    });
    sets
}

/// The role as the plugin's tree names it: a ping-pong canary's versions
/// also say which service they are behind (`stable·ping`, `canary·pong`).
fn role_label(rollout: &Rollout, role: Role) -> String {
    let other = |side: &str| if side == "ping" { "pong" } else { "ping" };
    match (role, rollout.stable_ping_pong.as_deref()) {
        (Role::Stable, Some(side)) => format!("stable·{side}"),
        (Role::Canary, Some(side)) => format!("canary·{}", other(side)),
        _ => role.label().to_string(),
    }
}

fn role_style(role: Role, theme: &Theme) -> Style {
    let color = match role {
        Role::Canary | Role::Preview => theme.canary,
        Role::Stable | Role::Active => theme.stable,
        Role::Old => theme.muted,
    };
    Style::new().fg(color)
}

/// A line per version: role, hash, revision, image and its share of traffic.
/// `problem`: why the ReplicaSets cannot be read, if they cannot.
fn versions(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    sets: &[(&ReplicaSet, Role)],
    problem: Option<&str>,
    theme: &Theme,
    width: usize,
) {
    if sets.is_empty() {
        out.push(match problem {
            Some(problem) => Line::styled(
                format!("ReplicaSets: {problem}"),
                Style::new().fg(theme.warning),
            ),
            None => Line::styled("no ReplicaSets seen yet", theme.muted()),
        });
        return;
    }
    let bar_width = (width / 4).clamp(10, 30);
    let role_width = if rollout.stable_ping_pong.is_some() {
        11
    } else {
        7
    };
    let image_width = width.saturating_sub(bar_width + 23 + role_width).max(8);
    for (rs, role) in sets {
        let style = role_style(*role, theme);
        let image = rs.images.first().map_or("", String::as_str);
        let mut spans = vec![
            Span::styled(
                format!("{:<role_width$} ", role_label(rollout, *role)),
                style.add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("{:<10} ", short_hash(&rs.hash))),
            Span::styled(
                format!("r{:<3} ", rs.revision.map_or("?".into(), |r| r.to_string())),
                theme.muted(),
            ),
            Span::raw(format!("{:<image_width$} ", fit_left(image, image_width))),
        ];
        if let Some(share) = traffic_share(rollout, *role) {
            let filled = (share as usize * bar_width).div_ceil(100).min(bar_width);
            spans.push(Span::styled("█".repeat(filled), style));
            spans.push(Span::styled(
                "░".repeat(bar_width - filled),
                Style::new().fg(theme.bar_empty),
            ));
            spans.push(Span::raw(format!(" {share:>3}%")));
        }
        out.push(Line::from(spans));
        // Every container's image, as the plugin's `Images` lists them.
        let indent = role_width + 17;
        for image in rs.images.iter().skip(1) {
            let room = width.saturating_sub(indent + 2).max(8);
            out.push(Line::styled(
                format!("{:<indent$}+ {}", "", fit_left(image, room)),
                theme.muted(),
            ));
        }
    }
    if let Strategy::Canary { .. } = rollout.strategy
        && rollout.set_weight != rollout.actual_weight
    {
        out.push(Line::styled(
            format!(
                "        set weight {}%, actual {}%",
                rollout.set_weight, rollout.actual_weight
            ),
            theme.muted(),
        ));
    }
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

/// The revisions no longer running, newest first, as the plugin's tree
/// lists them (`ScaledDown`): what an undo can go back to.
fn revisions(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    state: &State,
    theme: &Theme,
    width: usize,
) {
    let mut old: Vec<&ReplicaSet> = state
        .replica_sets_of(&rollout.key)
        .iter()
        .filter(|rs| rs.replicas.desired == 0 && rs.roles(rollout) == [Role::Old])
        .collect();
    if old.is_empty() {
        return;
    }
    old.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
    out.push(Line::raw(""));
    let image_width = width.saturating_sub(36).max(12);
    for rs in old {
        let image = rs.images.first().map_or("", String::as_str);
        out.push(Line::from(vec![
            Span::styled("revision ", theme.muted()),
            Span::styled(
                format!("r{:<4}", rs.revision.map_or("?".into(), |r| r.to_string())),
                theme.muted(),
            ),
            Span::raw(format!("{:<image_width$} ", fit_left(image, image_width))),
            Span::styled(
                format!("• ScaledDown  {}", age_at(state.now, rs.created)),
                theme.muted(),
            ),
        ]));
    }
}

/// The experiments of an `experiment` step, newest first: each template's
/// pods and image, each analysis's phase.
fn experiments(
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
            let image = template.images.first().map_or("", String::as_str);
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

fn analysis_mark(phase: AnalysisPhase, theme: &Theme) -> (&'static str, ratatui::style::Color) {
    match phase {
        AnalysisPhase::Successful => ("✔", theme.healthy),
        AnalysisPhase::Failed | AnalysisPhase::Error => ("✖", theme.degraded),
        AnalysisPhase::Inconclusive => ("?", theme.paused),
        AnalysisPhase::Running | AnalysisPhase::Pending => ("◌", theme.progressing),
    }
}

/// Pods per version: desired, ready, available, and the version's age.
fn replicas(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    sets: &[(&ReplicaSet, Role)],
    state: &State,
    theme: &Theme,
) {
    out.push(Line::styled(
        "pods     desired  ready  available  age",
        theme.muted(),
    ));
    for (rs, role) in sets {
        out.push(Line::from(vec![
            Span::styled(format!("{:<8}", role.label()), role_style(*role, theme)),
            Span::raw(format!(
                "{:>7} {:>6} {:>10}  {}",
                rs.replicas.desired,
                rs.replicas.ready,
                rs.replicas.available,
                age_at(state.now, rs.created),
            )),
        ]));
    }
    let r = rollout.replicas;
    out.push(Line::styled(
        format!(
            "total   {:>7} {:>6} {:>10}  updated {}",
            r.desired, r.ready, r.available, r.updated
        ),
        theme.muted(),
    ));
}

/// Share of live traffic per version: the canary's actual weight, the rest
/// on stable; blue-green sends everything to the active version.
fn traffic_share(rollout: &Rollout, role: Role) -> Option<u32> {
    match (rollout.strategy, role) {
        (Strategy::Canary { .. }, Role::Canary) => Some(rollout.new_version_weight()),
        (Strategy::Canary { .. }, Role::Stable) => Some(100 - rollout.new_version_weight()),
        (Strategy::BlueGreen, Role::Active) => Some(100),
        (Strategy::BlueGreen, Role::Preview) => Some(0),
        _ => None,
    }
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

fn analysis(
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
        .filter_map(|rs| rs.created)
        .map(|since| age_changes_at(since, state.now));
    let stale = state
        .health(&rollout.key.context)
        .and_then(|h| h.stale_since)
        .map(|since| age_changes_at(since, state.now));
    countdown.into_iter().chain(ages).chain(stale).min()
}

//! The rollout pane's versions: each ReplicaSet shown with its role, share of traffic,
//! pods and images, and the revisions scaled down before them.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::State;
use crate::model::{ReplicaSet, Role, Rollout, Strategy};
use crate::ui::Theme;
use crate::ui::format::{age_at, fit_left, short_hash};

/// The ReplicaSets worth a line, newest first, each with its main role:
/// every one with a role, and old ones only while they still have pods.
pub(super) fn shown_replica_sets<'a>(
    rollout: &Rollout,
    state: &'a State,
) -> Vec<(&'a ReplicaSet, Role)> {
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
    match (role, rollout.detail().stable_ping_pong.as_deref()) {
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
pub(super) fn versions(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    sets: &[(&ReplicaSet, Role)],
    problem: Option<&str>,
    theme: &Theme,
    width: usize,
) {
    if let Some(d) = &rollout.deployment {
        let r = rollout.replicas;
        out.push(Line::raw(format!(
            "{} · updated {} · ready {} · available {} of {} desired",
            d.strategy, r.updated, r.ready, r.available, r.desired
        )));
        out.push(Line::styled(
            format!(
                "maxSurge {} · maxUnavailable {} · {} pods now",
                d.max_surge, d.max_unavailable, r.current
            ),
            theme.muted(),
        ));
        if let Some(at) = &d.restarted_at {
            out.push(Line::styled(format!("restarted at {at}"), theme.muted()));
        }
        return;
    }
    if let Some(canary) = &rollout.flagger {
        // The versions are the primary and target Deployments, whose pods flightdeck
        // does not watch yet: say so rather than count none.
        let w = rollout.actual_weight.min(100);
        out.push(Line::raw(format!(
            "primary {}-primary {}% · canary {} {w}%",
            canary.target,
            100 - w,
            canary.target
        )));
        out.push(Line::styled(
            "pods of the Deployments: not watched yet",
            theme.muted(),
        ));
        return;
    }
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
    let role_width = if rollout.detail().stable_ping_pong.is_some() {
        11
    } else {
        7
    };
    let image_width = width.saturating_sub(bar_width + 23 + role_width).max(8);
    for (rs, role) in sets {
        let style = role_style(*role, theme);
        let image = rs.images.first().map_or("", |i| i.as_str());
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

/// The revisions no longer running, newest first, as the plugin's tree
/// lists them (`ScaledDown`): what an undo can go back to.
pub(super) fn revisions(
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
        let image = rs.images.first().map_or("", |i| i.as_str());
        out.push(Line::from(vec![
            Span::styled("revision ", theme.muted()),
            Span::styled(
                format!("r{:<4}", rs.revision.map_or("?".into(), |r| r.to_string())),
                theme.muted(),
            ),
            Span::raw(format!("{:<image_width$} ", fit_left(image, image_width))),
            Span::styled(
                format!("• ScaledDown  {}", age_at(state.now, rs.created.get())),
                theme.muted(),
            ),
        ]));
    }
}

/// A Deployment's revision history from its ReplicaSets, newest first: revision, image,
/// pods and age, the current one marked (what `kubectl rollout history` lists, and what
/// undo picks from). `problem`: why its ReplicaSets cannot be read.
pub(super) fn deployment_history(
    out: &mut Vec<Line<'static>>,
    rollout: &Rollout,
    state: &State,
    problem: Option<&str>,
    (theme, width): (&Theme, usize),
) {
    let mut sets: Vec<&ReplicaSet> = state.replica_sets_of(&rollout.key).iter().collect();
    out.push(Line::raw(""));
    if sets.is_empty() {
        out.push(match problem {
            Some(problem) => Line::styled(
                format!("ReplicaSets: {problem}"),
                Style::new().fg(theme.warning),
            ),
            None => Line::styled("no revision history seen yet", theme.muted()),
        });
        return;
    }
    sets.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
    out.push(Line::styled(
        "revision          image                     pods    age",
        theme.muted(),
    ));
    let image_width = width.saturating_sub(36).max(12);
    for rs in sets {
        let current = rs.revision.is_some() && rs.revision == rollout.revision;
        let image = rs.images.first().map_or("", |i| i.as_str());
        let style = if current {
            Style::new().fg(theme.stable)
        } else {
            theme.muted()
        };
        out.push(Line::from(vec![
            Span::styled(
                format!(
                    "r{:<4}{:<8} ",
                    rs.revision.map_or("?".into(), |r| r.to_string()),
                    if current { "current" } else { "" }
                ),
                style,
            ),
            Span::raw(format!("{:<image_width$} ", fit_left(image, image_width))),
            Span::styled(
                format!(
                    "{:>2}/{:<2}  {}",
                    rs.replicas.available,
                    rs.replicas.desired,
                    age_at(state.now, rs.created.get())
                ),
                style,
            ),
        ]));
    }
}

/// Pods per version: desired, ready, available, and the version's age.
pub(super) fn replicas(
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
                age_at(state.now, rs.created.get()),
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

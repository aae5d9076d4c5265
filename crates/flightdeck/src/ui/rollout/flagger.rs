//! The lines only a Flagger Canary has: its target and primary, the analysis plan and
//! where it stands (weight, iterations, failed checks against the threshold), the A/B
//! test's `match` rules (who sees the canary), the spec hashes and the gates.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::super::Theme;
use crate::model::{FlaggerCanary, FlaggerStrategy, short_duration};

pub(super) fn flagger_lines(canary: &FlaggerCanary, theme: &Theme) -> Vec<Line<'static>> {
    let label = |text: &str| Span::styled(format!("{text:<9}"), theme.muted());
    let mut out = Vec::new();
    out.push(Line::from(vec![
        label("flagger"),
        Span::raw(format!(
            "{} · primary {}-primary (stable) · canary {} ",
            canary.phase.label(),
            canary.target,
            canary.target
        )),
    ]));
    let mut plan = format!("{} every {}", canary.strategy.label(), every(canary));
    match canary.strategy {
        FlaggerStrategy::Canary => {
            if canary.step_weights.is_empty() {
                plan += &format!(
                    " · +{}% up to {}%",
                    canary.step_weight.unwrap_or(0),
                    canary.max_weight.unwrap_or(100)
                );
            } else {
                let weights: Vec<String> = canary
                    .step_weights
                    .iter()
                    .map(|w| format!("{w}%"))
                    .collect();
                plan += &format!(" · weights {}", weights.join(" "));
            }
            plan += &format!(" · now {}%", canary.canary_weight);
        }
        _ => {
            plan += &format!(
                " · iteration {}/{}",
                canary.iterations,
                canary.max_iterations.unwrap_or(0)
            );
        }
    }
    out.push(Line::from(vec![label("analysis"), Span::raw(plan)]));
    let failing = canary
        .threshold
        .is_some_and(|t| t > 0 && canary.failed_checks * 2 >= t);
    let checks_style = if failing {
        Style::new().fg(theme.error)
    } else {
        Style::new()
    };
    out.push(Line::from(vec![
        label("checks"),
        Span::styled(canary.checks_label(), checks_style),
        Span::styled(
            match canary.threshold {
                Some(t) => format!("  (rolls back at {t})"),
                None => String::new(),
            },
            theme.muted(),
        ),
    ]));
    if canary.strategy == FlaggerStrategy::AbTesting {
        out.push(Line::from(vec![
            label("canary"),
            Span::styled("requests that match any of:", theme.muted()),
        ]));
        for rule in &canary.matches {
            out.push(Line::raw(format!("           {rule}")));
        }
        out.push(Line::from(vec![
            label("primary"),
            Span::styled("every other request", theme.muted()),
        ]));
    }
    let spec = match (&canary.last_applied, &canary.last_promoted) {
        (Some(a), Some(p)) if a == p => format!("applied = promoted {a}"),
        (a, p) => format!(
            "applied {} · promoted {}",
            a.as_deref().unwrap_or("none"),
            p.as_deref().unwrap_or("none")
        ),
    };
    out.push(Line::from(vec![label("spec"), Span::raw(spec)]));
    let mut flags = Vec::new();
    if canary.suspended {
        flags.push("suspended (spec.suspend)".to_string());
    }
    if canary.skip_analysis {
        flags.push("skipAnalysis set: promotes without checks".to_string());
    }
    for (what, gate) in [
        ("confirm-rollout", &canary.rollout_gate),
        ("confirm-promotion", &canary.promotion_gate),
        ("rollback", &canary.rollback_gate),
    ] {
        if let Some(g) = gate {
            flags.push(format!("{what} {}", g.url));
        }
    }
    for flag in flags {
        out.push(Line::from(vec![
            label("gate"),
            Span::styled(flag, theme.muted()),
        ]));
    }
    out
}

fn every(canary: &FlaggerCanary) -> String {
    short_duration(canary.interval.unwrap_or(60))
}

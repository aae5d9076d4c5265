//! The metrics pane: per metric, stable | canary now, with units, a trend
//! over the window, and a mark where the canary is worse.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::Theme;
use super::format::{fit, thousands};
use crate::app::State;
use crate::metrics::{MetricState, MetricView, RolloutMetricsReport};
use crate::model::EffectSize;
use crate::model::Outcome;
use crate::model::{Direction, MetricResult, Verdict};

/// How many lines the pane would show for the selected rollout: a tall
/// terminal gives it that much room.
pub fn lines_wanted(state: &State) -> usize {
    match state.selected.as_ref().and_then(|k| state.report(k)) {
        Some(report) => 1 + report.metrics.len() + usize::from(report.rps.is_some()),
        None => 1,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // The backend the selected rollout's context reads: contexts may read different ones.
    let context = state.selected.as_ref().map(|k| k.context.as_str());
    let source = match context {
        Some(context) => state.metrics_sources.of(context),
        None => state.metrics_sources.default.as_deref(),
    };
    let block = Block::bordered()
        .title(format!(
            " METRICS stable | canary · {} ",
            source.unwrap_or("no metrics backend")
        ))
        .border_style(theme.border(false));
    let width = block.inner(area).width as usize;
    let lines = match state.selected.as_ref().and_then(|k| state.metrics.get(k)) {
        _ if state.metrics_sources.is_empty() => vec![Line::styled(
            "no metrics backend: add a [metrics] section to config.toml",
            theme.muted(),
        )],
        _ if source.is_none() => vec![Line::styled(
            format!(
                "no metrics backend for {}: name one in [contexts.{0}] metrics, or [metrics] default",
                context.unwrap_or("this context")
            ),
            theme.muted(),
        )],
        None => vec![Line::styled(
            "no canary in progress: nothing to compare",
            theme.muted(),
        )],
        Some(Err(down)) => vec![Line::styled(
            format!("metrics backend down: {down}"),
            Style::new().fg(theme.error),
        )],
        Some(Ok(report)) => report_lines(report, theme, width),
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// From this width, each metric's line also says what the judge found:
/// the estimated change with its interval, and how much data it had.
const WHY_FROM: usize = 150;

fn report_lines(report: &RolloutMetricsReport, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![verdict_line(&report.verdict, theme)];
    let spark_width = width.saturating_sub(56).clamp(8, 40) / 2;
    for metric in &report.metrics {
        let mut line = metric_line(metric, theme, spark_width);
        if width >= WHY_FROM
            && let Some(result) = report
                .verdict
                .metrics
                .iter()
                .find(|r| r.name == metric.name)
        {
            line.spans.push(Span::styled(
                format!("  {}", judged(result, &metric.unit)),
                theme.muted(),
            ));
        }
        lines.push(line);
    }
    if let Some((stable, canary)) = report.rps {
        lines.push(Line::styled(
            format!(
                "{:<14} {:>9} | {:<9} req/s",
                "traffic",
                rate(stable),
                rate(canary)
            ),
            theme.muted(),
        ));
    }
    lines
}

fn metric_line(metric: &MetricView, theme: &Theme, spark_width: usize) -> Line<'static> {
    let name = Span::styled(
        format!("{:<14} ", fit(&metric.name, 14)),
        Style::new().add_modifier(Modifier::BOLD),
    );
    match &metric.state {
        MetricState::NoData => {
            return Line::from(vec![name, Span::styled("no data yet", theme.muted())]);
        }
        MetricState::QueryError(error) => {
            return Line::from(vec![
                name,
                Span::styled(
                    format!("query error: {error}"),
                    Style::new().fg(theme.error),
                ),
            ]);
        }
        MetricState::Ok => {}
    }
    let value = |v: Option<f64>| v.map_or("–".to_string(), |v| figure(v, &metric.unit));
    let worse = if metric.canary_worse {
        let mark = match metric.direction {
            Direction::Higher => " ▼",
            _ => " ▲",
        };
        Span::styled(
            mark,
            Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw("  ")
    };
    let canary_style = if metric.canary_worse {
        Style::new().fg(theme.error)
    } else {
        Style::new().fg(theme.canary)
    };
    let (low, high) = bounds(metric.stable_trend.iter().chain(&metric.canary_trend));
    Line::from(vec![
        name,
        Span::styled(
            format!("{:>9}", value(metric.stable_now)),
            Style::new().fg(theme.stable),
        ),
        Span::styled(" | ", theme.muted()),
        Span::styled(format!("{:<9}", value(metric.canary_now)), canary_style),
        worse,
        Span::raw("  "),
        Span::styled(
            spark(&metric.stable_trend, low, high, spark_width),
            Style::new().fg(theme.stable),
        ),
        Span::styled(" | ", theme.muted()),
        Span::styled(
            spark(&metric.canary_trend, low, high, spark_width),
            canary_style,
        ),
    ])
}

/// "verdict FAIL score 0/100: error rate High", coloured by outcome.
pub fn verdict_line(verdict: &Verdict, theme: &Theme) -> Line<'static> {
    let color = match verdict.outcome {
        Outcome::Pass => theme.healthy,
        Outcome::Marginal => theme.warning,
        Outcome::Fail => theme.error,
        Outcome::InsufficientData { .. } => theme.muted,
        Outcome::NoData => theme.warning,
    };
    Line::from(vec![
        Span::styled("verdict  ", theme.muted()),
        Span::styled(
            verdict.to_string(),
            Style::new().fg(color).add_modifier(Modifier::BOLD),
        ),
    ])
}

/// A value in the metric's unit, the way people read it.
pub fn figure(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    match unit {
        "errors/request" | "ratio" => format!("{:.1}%", value * 100.0),
        "s" if value < 1.0 => format!("{:.0}ms", value * 1000.0),
        "s" => format!("{value:.2}s"),
        "ms" if value >= 1000.0 => format!("{:.2}s", value / 1000.0),
        "ms" => format!("{value:.0}ms"),
        "" => format!("{value:.3}"),
        unit => format!("{value:.2} {unit}"),
    }
}

/// What the judge found of one metric: "+212ms [+180ms, +240ms] p<0.001 ·
/// 30/5 points", "errors ×38.2 [×31.0, ×47.1] · 9,920/250 requests".
fn judged(result: &MetricResult, unit: &str) -> String {
    let signed = |v: f64| {
        let text = figure(v.abs(), unit);
        if v < 0.0 {
            format!("-{text}")
        } else {
            format!("+{text}")
        }
    };
    let ratio = |v: f64| {
        if v.is_finite() {
            format!("×{v:.1}")
        } else {
            "×∞".to_string()
        }
    };
    let mut parts = Vec::new();
    match result.effect {
        Some(EffectSize::Shift {
            estimate,
            lower,
            upper,
        }) => parts.push(format!(
            "{} [{}, {}]",
            signed(estimate),
            signed(lower),
            signed(upper)
        )),
        Some(EffectSize::RateRatio {
            estimate,
            lower,
            upper,
        }) => parts.push(format!(
            "rate {} [{}, {}]",
            ratio(estimate),
            ratio(lower),
            ratio(upper)
        )),
        None => {}
    }
    if let Some(p) = result.p_value {
        parts.push(if p < 0.001 {
            "p<0.001".to_string()
        } else {
            format!("p={p:.3}")
        });
    }
    if let Some(data) = result.data {
        parts.push(format!(
            "{}/{} {}",
            thousands(data.have as f64),
            thousands(data.needed as f64),
            data.unit
        ));
    }
    parts.join(" · ")
}

fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn bounds<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

/// The last `width` points as ▁▂▃▄▅▆▇█ on a shared scale, so stable and
/// canary compare by eye.
fn spark(values: &[f64], low: f64, high: f64, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let start = values.len().saturating_sub(width);
    values[start..]
        .iter()
        .map(|v| {
            if !v.is_finite() || high <= low {
                return BARS[0];
            }
            let at = ((v - low) / (high - low) * 7.0).round() as usize;
            BARS[at.min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_in_their_units() {
        assert_eq!(figure(0.382, "errors/request"), "38.2%");
        assert_eq!(figure(0.18, "s"), "180ms");
        assert_eq!(figure(1.2, "s"), "1.20s");
        assert_eq!(figure(1200.0, "ms"), "1.20s");
        assert_eq!(figure(42.0, "orders/min"), "42.00 orders/min");
        assert_eq!(figure(f64::NAN, "s"), "–");
    }

    #[test]
    fn sparklines_share_a_scale() {
        assert_eq!(spark(&[0.0, 1.0, 2.0], 0.0, 2.0, 8), "▁▅█");
        assert_eq!(spark(&[5.0, 5.0], 5.0, 5.0, 8), "▁▁");
        assert_eq!(spark(&[0.0, 1.0, 2.0, 3.0], 0.0, 3.0, 2), "▆█");
    }
}

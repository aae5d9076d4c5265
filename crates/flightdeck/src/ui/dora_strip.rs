//! The DORA strip above the footer: the fleet's figures over the window, with their
//! bands and trends, and the selected workload's; or why the ledger cannot be used.
//! Also the words and colours the DORA and changes views share.

use jiff::SignedDuration;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::Theme;
use super::format::thousands;
use crate::app::{LedgerState, State};
use crate::dora::{Band, Exposure, Figures, Trend, Trends};

/// `45s`, `22m`, `3.1h`, `2.5d`; `—` when unknown.
pub fn duration(d: Option<SignedDuration>) -> String {
    let Some(d) = d else {
        return "—".into();
    };
    let s = d.as_secs_f64().max(0.0);
    if s < 60.0 {
        format!("{s:.0}s")
    } else if s < 3_600.0 {
        format!("{:.0}m", s / 60.0)
    } else if s < 86_400.0 {
        format!("{:.1}h", s / 3_600.0)
    } else {
        format!("{:.1}d", s / 86_400.0)
    }
}

/// `7%`; `—` when unknown.
pub fn rate(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{:.0}%", r * 100.0))
}

/// `4.2/day`, `0.3/day`.
pub fn per_day(f: &Figures) -> String {
    if f.deploys == 0 {
        return "—".into();
    }
    match f.per_day {
        d if d >= 10.0 => format!("{d:.0}/day"),
        d if d >= 1.0 => format!("{d:.1}/day"),
        d => format!("{d:.2}/day"),
    }
}

/// `registry.example.com/shop/checkout:v2.5.0` → `checkout:v2.5.0`, within a text.
pub fn short_images(text: &str) -> String {
    text.split(' ')
        .map(|word| match word.rsplit_once('/') {
            Some((_, last)) if word.contains(':') || word.contains('.') => last,
            _ => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn band_style(band: Option<Band>, theme: &Theme) -> Style {
    match band {
        Some(Band::Elite | Band::High) => Style::new().fg(theme.healthy),
        Some(Band::Medium) => Style::new().fg(theme.warning),
        Some(Band::Low) => Style::new().fg(theme.error).add_modifier(Modifier::BOLD),
        None => theme.muted(),
    }
}

fn arrow(trend: Option<Trend>, theme: &Theme) -> Span<'static> {
    match trend {
        Some(Trend::Better) => Span::styled(" ▲", Style::new().fg(theme.healthy)),
        Some(Trend::Worse) => Span::styled(" ▼", Style::new().fg(theme.error)),
        Some(Trend::Same) => Span::styled(" =", theme.muted()),
        None => Span::raw(""),
    }
}

/// `6m at full traffic · 1,240 req · 80% saved`: what a failed version took.
pub fn exposure(e: &Exposure) -> String {
    let mut parts = vec![format!(
        "{} at 100%",
        duration(Some(SignedDuration::from_secs_f64(
            e.share_seconds.max(0.0)
        )))
    )];
    if let Some(requests) = e.requests {
        parts.push(format!("{} req", thousands(requests)));
    }
    if let Some(saved) = e.saved() {
        parts.push(format!("{:.0}% saved", saved * 100.0));
    }
    parts.join(" · ")
}

/// The figures of one group as spans: frequency, lead time, change fail, recovery, rework.
fn figures<'a>(f: &Figures, trends: Option<&Trends>, theme: &Theme) -> Vec<Span<'a>> {
    let t = |pick: fn(&Trends) -> Option<Trend>| arrow(trends.and_then(pick), theme);
    vec![
        Span::styled(per_day(f), band_style(f.frequency_band(), theme)),
        t(|t| t.frequency),
        Span::styled(" · lead ", theme.muted()),
        Span::styled(duration(f.lead_time), band_style(f.lead_time_band(), theme)),
        t(|t| t.lead_time),
        Span::styled(" · change fail ", theme.muted()),
        Span::styled(
            rate(f.change_fail_rate),
            band_style(f.change_fail_band(), theme),
        ),
        t(|t| t.change_fail_rate),
        Span::styled(" · recovery ", theme.muted()),
        Span::styled(duration(f.recovery), band_style(f.recovery_band(), theme)),
        t(|t| t.recovery),
        Span::styled(" · rework ", theme.muted()),
        Span::raw(rate(f.rework_rate)),
        t(|t| t.rework_rate),
    ]
}

/// Whether the strip is shown: wherever a ledger is in play (the cockpit always
/// has one, or says why not).
pub fn wanted(state: &State) -> bool {
    state.dora.ledger != LedgerState::Off
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = Style::new().fg(theme.title).add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    match &state.dora.strip {
        Some(strip) => {
            let mut first = vec![
                Span::styled(format!("DORA {} ", strip.window.label()), title),
                Span::styled("fleet ", theme.muted()),
            ];
            first.extend(figures(&strip.fleet, Some(&strip.trends), theme));
            if strip.fleet.exposure.big_bang_seconds > 0.0 {
                first.push(Span::styled(
                    format!(" · exposure {}", exposure(&strip.fleet.exposure)),
                    theme.muted(),
                ));
            }
            lines.push(Line::from(first));
            if let Some((key, f)) = &strip.selected {
                let mut second = vec![Span::styled(format!("{:<8} ", key.name), theme.muted())];
                second.extend(figures(f, None, theme));
                lines.push(Line::from(second));
            }
        }
        None => lines.push(Line::styled("DORA: counting deploys…", theme.muted())),
    }
    let ledger = match &state.dora.ledger {
        LedgerState::Unavailable(why) => Some(Line::styled(
            format!("ledger not in use: {why}"),
            Style::new().fg(theme.error),
        )),
        LedgerState::Opening => Some(Line::styled("reading the ledger…", theme.muted())),
        LedgerState::Retrying(retry) => {
            // What it means first: the reason may be long.
            let mut text = format!(
                "ledger unreachable, trying again in {}s, {} deploys kept in memory",
                retry.after.as_secs(),
                thousands(retry.kept as f64)
            );
            if retry.dropped > 0 {
                text.push_str(&format!(
                    " ({} more dropped)",
                    thousands(retry.dropped as f64)
                ));
            }
            text.push_str(&format!(": {}", retry.why));
            Some(Line::styled(text, Style::new().fg(theme.error)))
        }
        _ => state
            .dora
            .write_error
            .as_ref()
            .map(|why| Line::styled(format!("ledger: {why}"), Style::new().fg(theme.error))),
    };
    if let Some(line) = ledger {
        // The ledger's trouble replaces the selected workload's line.
        lines.truncate(1);
        lines.push(line);
    }
    lines.truncate(usize::from(area.height));
    for (i, line) in lines.into_iter().enumerate() {
        let row = Rect {
            y: area.y + i as u16,
            height: 1,
            ..area
        };
        frame.render_widget(line, row);
    }
}

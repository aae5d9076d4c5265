//! Where each pane goes for a terminal size. Pure.

use ratatui::layout::{Constraint, Flex, Layout, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// From this width the fleet and rollout panes stand side by side.
const SIDE_BY_SIDE: u16 = 120;

/// From this height the metrics pane has a place of its own.
const METRICS_FROM: u16 = 32;
const METRICS_HEIGHT: u16 = 7;
const METRICS_TALL_FROM: u16 = 50;
const METRICS_TALL: u16 = 12;

pub struct Areas {
    pub header: Rect,
    pub fleet: Rect,
    pub rollout: Rect,
    /// `None` when the terminal is too short: the rollout pane then shows
    /// the verdict line alone.
    pub metrics: Option<Rect>,
    /// The DORA strip: the first to go as the terminal shrinks.
    pub dora: Option<Rect>,
    pub footer: Rect,
}

/// From this height the DORA strip has its two lines (above the metrics pane's
/// 32, so that it goes first).
const DORA_FROM: u16 = 34;
const DORA_HEIGHT: u16 = 2;

/// `None` when the terminal is below the minimum size. `metrics_lines`:
/// the lines the metrics pane would show, which a tall terminal gives it.
#[cfg(test)]
pub fn areas(area: Rect, metrics_lines: usize) -> Option<Areas> {
    areas_with_dora(area, metrics_lines, false)
}

/// As [`areas`], with the DORA strip when `dora` and the terminal is tall enough.
pub fn areas_with_dora(area: Rect, metrics_lines: usize, dora: bool) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    // The metrics pane from 32 rows; from 50, as tall as its lines need
    // (up to a verdict, eight metrics and the traffic line).
    let wanted = u16::try_from(metrics_lines.saturating_add(2)).unwrap_or(u16::MAX);
    let metrics_height = match area.height {
        h if h >= METRICS_TALL_FROM => wanted.clamp(METRICS_HEIGHT, METRICS_TALL),
        h if h >= METRICS_FROM => METRICS_HEIGHT,
        _ => 0,
    };
    let dora_height = if dora && area.height >= DORA_FROM {
        DORA_HEIGHT
    } else {
        0
    };
    let [header, body, metrics, strip, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(metrics_height),
        Constraint::Length(dora_height),
        Constraint::Length(1),
    ])
    .areas(area);
    let dora = (dora_height > 0).then_some(strip);
    let [fleet, rollout] = if area.width >= SIDE_BY_SIDE {
        Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)]).areas(body)
    } else {
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body)
    };
    let metrics = (metrics_height > 0).then_some(metrics);
    Some(Areas {
        header,
        fleet,
        rollout,
        metrics,
        dora,
        footer,
    })
}

/// A dialog of `width` columns and `lines` lines of text (plus borders),
/// centred in `area` and cut to fit it.
pub fn modal(area: Rect, width: u16, lines: usize) -> Rect {
    let height = (lines as u16).saturating_add(2).min(area.height);
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    popup
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_stack_when_narrow_and_stand_side_by_side_when_wide() {
        let narrow = areas(Rect::new(0, 0, 80, 24), 3).unwrap();
        assert_eq!(narrow.fleet.width, 80);
        assert!(narrow.rollout.y > narrow.fleet.y);
        let wide = areas(Rect::new(0, 0, 200, 60), 3).unwrap();
        assert!(wide.rollout.x > wide.fleet.x);
        assert_eq!(wide.fleet.height, 51);
        assert!(wide.metrics.is_some() && narrow.metrics.is_none());
        assert!(areas(Rect::new(0, 0, 79, 24), 3).is_none());
        let tall = areas(Rect::new(0, 0, 200, 60), 9).unwrap();
        assert_eq!(tall.metrics.unwrap().height, 11);
    }

    #[test]
    fn the_dora_strip_goes_first_as_the_terminal_shrinks() {
        let at = |h| areas_with_dora(Rect::new(0, 0, 120, h), 3, true).unwrap();
        assert_eq!(at(40).dora.unwrap().height, 2);
        assert!(at(40).metrics.is_some());
        // Metrics keep their place after DORA has gone.
        assert!(at(33).dora.is_none() && at(33).metrics.is_some());
        assert!(at(24).dora.is_none());
        assert!(areas(Rect::new(0, 0, 120, 40), 3).unwrap().dora.is_none());
    }
}

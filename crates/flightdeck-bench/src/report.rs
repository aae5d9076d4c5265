//! The figures: percentiles, the table printed with each figure beside its
//! target, and the line that says what machine they were measured on.

use std::fmt::Write;
use std::time::Duration;

/// One line of the table.
pub struct Figure {
    pub measure: String,
    pub figure: String,
    pub target: String,
    /// `None` where there is no target.
    pub met: Option<bool>,
}

impl Figure {
    pub fn new(measure: impl Into<String>, figure: impl Into<String>) -> Figure {
        Figure {
            measure: measure.into(),
            figure: figure.into(),
            target: "—".into(),
            met: None,
        }
    }

    pub fn target(mut self, target: impl Into<String>, met: bool) -> Figure {
        self.target = target.into();
        self.met = Some(met);
        self
    }
}

/// The `p`th percentile (0–100) of `samples`, by nearest rank.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or_default()
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.3} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A Markdown table, readable as it is on a terminal and pasteable into
/// the README.
pub fn table(figures: &[Figure]) -> String {
    let rows: Vec<[&str; 4]> = figures
        .iter()
        .map(|f| {
            let result = match f.met {
                Some(true) => "ok",
                Some(false) => "MISSED",
                None => "",
            };
            [&f.measure, &f.figure, &f.target, result]
        })
        .collect();
    let header = ["measure", "figure", "target", ""];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut out = String::from("|");
        for (cell, w) in cells.iter().zip(widths) {
            let pad = w - cell.chars().count();
            let _ = write!(out, " {cell}{} |", " ".repeat(pad));
        }
        out.push('\n');
        out
    };
    let mut out = line(header);
    out.push('|');
    for w in widths {
        let _ = write!(out, "{}|", "-".repeat(w + 2));
    }
    out.push('\n');
    rows.into_iter().for_each(|row| out.push_str(&line(row)));
    out
}

/// "2 cores, AMD EPYC …, 23.5 GiB": from /proc, as far as it tells.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = kib_field(&meminfo, "MemTotal:").map_or("unknown memory".into(), |kib| {
        format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0))
    });
    format!("{cores} cores, {model}, {memory}")
}

/// A `Name:   1234 kB` field of a /proc file, in KiB.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&samples, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn the_table_lines_up_and_says_what_missed() {
        let table = table(&[
            Figure::new("render", "0.5 ms").target("< 1 ms", true),
            Figure::new("idle bytes", "12 B").target("0", false),
            Figure::new("update", "1e6 events/s"),
        ]);
        let lines: Vec<&str> = table.lines().collect();
        let width = |l: &str| l.chars().count();
        assert!(lines.iter().all(|l| width(l) == width(lines[0])), "{table}");
        assert!(lines[2].ends_with("| ok     |"), "{table}");
        assert!(lines[3].contains("MISSED"), "{table}");
    }

    #[test]
    fn proc_fields_read_in_kib() {
        let status = "Name:\tflightdeck\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(51234));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }
}

//! `flightdeck dora` and `flightdeck changes`: the ledger's figures and changes, as a
//! table, JSON or CSV.

use std::io::Write;

use jiff::Timestamp;
use serde::Serialize;

use super::table;
use crate::config::{DoraSettings, LedgerSettings};
use crate::dora::{self, Band, By, Figures, History, Period, Trends};
use crate::ledger::{Ledger, Location};

/// How `dora` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoraFormat {
    Table,
    Json,
    Csv,
}

/// `30d`, `24h`, `1h` before `now`.
pub fn since(age: &str, now: Timestamp) -> Result<Timestamp, String> {
    let span: jiff::Span = age
        .parse()
        .map_err(|_| format!("--since {age:?} is not an age like 1h, 7d or 30d"))?;
    now.to_zoned(jiff::tz::TimeZone::UTC)
        .checked_sub(span.abs())
        .map(|z| z.timestamp())
        .map_err(|e| format!("--since {age:?}: {e}"))
}

fn open(settings: &LedgerSettings) -> Result<Ledger, String> {
    let location = Location::from_settings(
        settings.path.as_deref(),
        settings.url.as_deref(),
        settings.password_env.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    if let Location::Sqlite(path) = &location
        && !path.exists()
    {
        return Err(format!(
            "no ledger at {} yet: run `flightdeck record` (or the cockpit) to keep one",
            path.display()
        ));
    }
    Ledger::open(&location).map_err(|e| e.to_string())
}

#[derive(Serialize)]
struct Bands {
    frequency: Option<Band>,
    lead_time: Option<Band>,
    change_fail_rate: Option<Band>,
    recovery: Option<Band>,
}

#[derive(Serialize)]
struct Row<'a> {
    group: &'a str,
    #[serde(flatten)]
    figures: &'a Figures,
    lead_time_seconds: Option<i64>,
    recovery_seconds: Option<i64>,
    bands: Bands,
    trends: Trends,
}

fn bands(f: &Figures) -> Bands {
    Bands {
        frequency: f.frequency_band(),
        lead_time: f.lead_time_band(),
        change_fail_rate: f.change_fail_band(),
        recovery: f.recovery_band(),
    }
}

fn label(band: Option<Band>) -> &'static str {
    band.map_or("", Band::label)
}

fn text(d: Option<jiff::SignedDuration>) -> String {
    d.map_or(String::new(), |d| {
        let s = d.as_secs();
        match s {
            ..60 => format!("{s}s"),
            60..3_600 => format!("{}m", s / 60),
            3_600..86_400 => format!("{:.1}h", s as f64 / 3_600.0),
            _ => format!("{:.1}d", s as f64 / 86_400.0),
        }
    })
}

fn percent(r: Option<f64>) -> String {
    r.map_or(String::new(), |r| format!("{:.1}%", r * 100.0))
}

/// The figures per group over `period`, with the previous period's for the trends.
pub fn figures_table(
    history: &History,
    by: By,
    period: Period,
    settings: &dora::Settings,
) -> Vec<(String, Figures, Trends)> {
    let before = dora::figures_by(history, by, period.previous(), settings);
    dora::figures_by(history, by, period, settings)
        .into_iter()
        .map(|(group, f)| {
            let previous = before
                .get(&group)
                .cloned()
                .unwrap_or_else(|| dora::figures_of(&[], period.previous(), settings));
            let trends = dora::trends(&f, &previous);
            (group, f, trends)
        })
        .collect()
}

fn write_figures(
    out: &mut impl Write,
    rows: &[(String, Figures, Trends)],
    format: DoraFormat,
) -> std::io::Result<()> {
    match format {
        DoraFormat::Json => {
            let rows: Vec<Row> = rows
                .iter()
                .map(|(group, f, trends)| Row {
                    group,
                    figures: f,
                    lead_time_seconds: f.lead_time.map(|d| d.as_secs()),
                    recovery_seconds: f.recovery.map(|d| d.as_secs()),
                    bands: bands(f),
                    trends: *trends,
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        DoraFormat::Csv => {
            writeln!(
                out,
                "group,deploys,succeeded,per_day,days_with_deploy,lead_time_seconds,lead_time_unknown,failed,change_fail_rate,recovery_seconds,unrecovered,reworks,rework_rate,exposure_share_seconds"
            )?;
            for (group, f, _) in rows {
                let opt = |v: Option<String>| v.unwrap_or_default();
                writeln!(
                    out,
                    "\"{}\",{},{},{:.4},{:.4},{},{},{},{},{},{},{},{},{:.1}",
                    group.replace('"', "\"\""),
                    f.deploys,
                    f.succeeded,
                    f.per_day,
                    f.days_with_deploy,
                    opt(f.lead_time.map(|d| d.as_secs().to_string())),
                    f.lead_time_unknown,
                    f.failed,
                    opt(f.change_fail_rate.map(|r| format!("{r:.4}"))),
                    opt(f.recovery.map(|d| d.as_secs().to_string())),
                    f.unrecovered,
                    f.reworks,
                    opt(f.rework_rate.map(|r| format!("{r:.4}"))),
                    f.exposure.share_seconds,
                )?;
            }
            Ok(())
        }
        DoraFormat::Table => {
            let headers = [
                "GROUP",
                "DEPLOYS",
                "PER DAY",
                "BAND",
                "LEAD TIME",
                "BAND",
                "CHANGE FAIL",
                "BAND",
                "RECOVERY",
                "BAND",
                "REWORK",
                "UNRECOVERED",
            ];
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|(group, f, _)| {
                    vec![
                        group.clone(),
                        f.deploys.to_string(),
                        format!("{:.2}", f.per_day),
                        label(f.frequency_band()).into(),
                        text(f.lead_time),
                        label(f.lead_time_band()).into(),
                        format!(
                            "{} ({}/{})",
                            percent(f.change_fail_rate),
                            f.failed,
                            f.deploys
                        ),
                        label(f.change_fail_band()).into(),
                        text(f.recovery),
                        label(f.recovery_band()).into(),
                        percent(f.rework_rate),
                        f.unrecovered.to_string(),
                    ]
                })
                .collect();
            table::write(out, &headers, &rows)
        }
    }
}

/// `flightdeck dora`.
pub fn dora(
    age: &str,
    by: By,
    format: DoraFormat,
    ledger: &LedgerSettings,
    settings: &DoraSettings,
) -> Result<(), String> {
    let now = Timestamp::now();
    let from = since(age, now)?;
    let period = Period { from, to: now };
    let mut ledger = open(ledger)?;
    let deploys = ledger
        .load(period.previous().from)
        .map_err(|e| e.to_string())?;
    let history = History::from_deploys(deploys);
    let rows = figures_table(&history, by, period, &settings.figures);
    write_figures(&mut std::io::stdout().lock(), &rows, format).map_err(|e| e.to_string())
}

/// `flightdeck changes`.
pub fn changes(age: &str, json: bool, ledger: &LedgerSettings) -> Result<(), String> {
    let from = since(age, Timestamp::now())?;
    let mut ledger = open(ledger)?;
    // A deploy's previous one (for old → new) may have started before the window.
    let earlier = from
        .checked_sub(jiff::SignedDuration::from_hours(24 * 90))
        .unwrap_or(Timestamp::MIN);
    let history = History::from_deploys(ledger.load(earlier).map_err(|e| e.to_string())?);
    let rows = dora::changes(&history, from, usize::MAX);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows).map_err(|e| e.to_string())?;
        return writeln!(out).map_err(|e| e.to_string());
    }
    let headers = [
        "WHEN", "KIND", "WORKLOAD", "REV", "WHAT", "WHO", "OUTCOME", "VERDICTS", "EXPOSURE",
    ];
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            vec![
                c.at.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
                c.kind.label().to_string(),
                c.key.to_string(),
                c.revision.to_string(),
                c.what.clone(),
                c.who.clone(),
                c.outcome.clone(),
                c.verdict_trail(false),
                c.exposure
                    .map(|e| format!("{:.0} s at 100%", e.share_seconds))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table::write(&mut out, &headers, &rows).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::{Deploy, DeployId, Failure};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_714_521_600 + s).unwrap()
    }

    #[test]
    fn figures_print_as_a_table_json_or_csv() {
        let id = |r| DeployId {
            context: "eu".into(),
            namespace: "shop".into(),
            kind: Default::default(),
            name: "checkout".into(),
            hash: format!("h{r}").into(),
            revision: r,
        };
        let mut ok = Deploy::new(id(1), t(0));
        ok.set_completed(Some(t(600)));
        let mut bad = Deploy::new(id(2), t(86_400));
        bad.details_mut().failed = Some((Failure::Aborted, t(86_400 + 300)));
        let history = History::from_deploys([ok, bad]);
        let period = Period {
            from: t(0),
            to: t(7 * 86_400),
        };
        let rows = figures_table(&history, By::Context, period, &dora::Settings::default());
        let mut out = Vec::new();
        write_figures(&mut out, &rows, DoraFormat::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().nth(1).unwrap().starts_with("eu  "), "{text}");
        assert!(text.contains("50.0% (1/2)"), "{text}");
        let mut out = Vec::new();
        write_figures(&mut out, &rows, DoraFormat::Json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json[0]["group"], "eu");
        assert_eq!(json[0]["change_fail_rate"], 0.5);
        assert_eq!(json[0]["bands"]["change_fail_rate"], "low");
        assert_eq!(
            json[0]["lead_time"],
            serde_json::Value::Null,
            "unknown, not zero"
        );
        let mut out = Vec::new();
        write_figures(&mut out, &rows, DoraFormat::Csv).unwrap();
        let csv = String::from_utf8(out).unwrap();
        assert_eq!(csv.lines().count(), 2);
        assert!(
            csv.lines().nth(1).unwrap().starts_with("\"eu\",2,1,"),
            "{csv}"
        );
    }

    #[test]
    fn ages_are_checked() {
        assert!(
            since("soon", Timestamp::now())
                .unwrap_err()
                .contains("not an age")
        );
        assert_eq!(since("1h", t(3_600)).unwrap(), t(0));
    }
}

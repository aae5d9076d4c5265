//! `flightdeck audit`: the audit trail since a moment, as a table or JSON.

use std::io::Write;

use jiff::{Span, Timestamp, tz::TimeZone};
use serde::Serialize;

use super::{OutputFormat, table};
use crate::audit::{Audit, Entry, EntryState};

/// `24h`, `30m`, `7d` before `now`.
fn since(age: &str, now: Timestamp) -> Result<Timestamp, String> {
    let span: Span = age
        .parse()
        .map_err(|_| format!("--since {age:?} is not an age like 30m, 24h or 7d"))?;
    now.to_zoned(TimeZone::UTC)
        .checked_sub(span.abs())
        .map(|z| z.timestamp())
        .map_err(|e| format!("--since {age:?}: {e}"))
}

#[derive(Serialize)]
struct Row<'a> {
    id: i64,
    #[serde(flatten)]
    entry: &'a Entry,
}

fn outcome_text(outcome: &EntryState) -> String {
    match outcome {
        EntryState::Pending => "pending".into(),
        EntryState::Done(_) => "done".into(),
        EntryState::Failed(reason) => format!("failed: {reason}"),
    }
}

fn write(
    out: &mut impl Write,
    entries: &[(i64, Entry)],
    format: OutputFormat,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            let rows: Vec<Row> = entries
                .iter()
                .map(|(id, entry)| Row { id: *id, entry })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|(_, e)| {
                    vec![
                        e.time.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
                        e.user.clone(),
                        e.context.clone(),
                        format!("{}/{}", e.namespace, e.name),
                        e.action.clone(),
                        e.before.clone(),
                        outcome_text(&e.outcome),
                    ]
                })
                .collect();
            let headers = [
                "TIME", "USER", "CONTEXT", "ROLLOUT", "ACTION", "BEFORE", "OUTCOME",
            ];
            table::write(out, &headers, &rows)
        }
    }
}

pub fn audit(age: &str, format: OutputFormat) -> Result<(), String> {
    let from = since(age, Timestamp::now())?;
    let path = crate::audit::default_path().map_err(|e| e.to_string())?;
    let audit = Audit::open_to_read(&path).map_err(|e| e.to_string())?;
    let entries = audit.list(from).map_err(|e| e.to_string())?;
    write(&mut std::io::stdout().lock(), &entries, format).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(outcome: EntryState) -> Entry {
        Entry {
            time: "2024-05-01T10:00:00Z".parse().unwrap(),
            user: "alice".into(),
            context: "prod-eu".into(),
            namespace: "shop".into(),
            name: "checkout".into(),
            action: "abort".into(),
            before: "Paused, step 1/8, canary 20%, revision 4".into(),
            outcome,
        }
    }

    #[test]
    fn ages_count_back_from_now() {
        let now: Timestamp = "2024-05-08T10:00:00Z".parse().unwrap();
        assert_eq!(
            since("24h", now).unwrap(),
            "2024-05-07T10:00:00Z".parse().unwrap()
        );
        assert_eq!(
            since("7d", now).unwrap(),
            "2024-05-01T10:00:00Z".parse().unwrap()
        );
        assert_eq!(
            since("30m", now).unwrap(),
            "2024-05-08T09:30:00Z".parse().unwrap()
        );
        assert!(since("soon", now).unwrap_err().contains("not an age"));
    }

    #[test]
    fn entries_print_as_a_table_or_json() {
        let entries = vec![
            (1, entry(EntryState::Done("status patch".into()))),
            (
                2,
                entry(EntryState::Failed(
                    "RBAC: user bob cannot patch rollouts/status in namespace shop".into(),
                )),
            ),
        ];
        let mut out = Vec::new();
        write(&mut out, &entries, OutputFormat::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("TIME"));
        assert!(lines[2].starts_with("2024-05-01 10:00:00Z  alice  prod-eu  shop/checkout  abort"));
        assert!(
            lines[2]
                .ends_with("failed: RBAC: user bob cannot patch rollouts/status in namespace shop")
        );
        let mut out = Vec::new();
        write(&mut out, &entries[..1], OutputFormat::Json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json[0]["id"], 1);
        assert_eq!(
            json[0]["outcome"],
            serde_json::json!({"state": "done", "detail": "status patch"})
        );
        assert_eq!(json[0]["time"], "2024-05-01T10:00:00Z");
    }
}

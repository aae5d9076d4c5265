//! The audit trail: who did what to which rollout through flightdeck, with
//! the rollout's state before and how it ended. An intent is on disk
//! (SQLite, `synchronous=FULL`) before any call is sent, so a crash or a
//! kill mid-action still leaves the entry, pending.
//!
//! `Audit` is cheap to clone and can be used from any thread or tokio task;
//! each write is one short transaction.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::model::{Rollout, RolloutAction};
use crate::paths;

const FILE_NAME: &str = "audit.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no data directory for the audit trail (set XDG_DATA_HOME or HOME)")]
    NoDataDir,
    #[error("cannot open the audit trail at {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot write the audit trail at {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no audit entry {0}")]
    NoEntry(i64),
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "lowercase")]
pub enum EntryState {
    /// Intended, and perhaps sent: no outcome was recorded (yet).
    Pending,
    /// Went through; what was sent.
    Done(String),
    /// Did not go through; why, in plain words.
    Failed(String),
}

/// One action on one rollout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub time: Timestamp,
    /// The kubeconfig user it was taken as.
    pub user: String,
    pub context: String,
    pub namespace: String,
    pub name: String,
    /// `abort`, `undo to revision 3`, ...
    pub action: String,
    /// The rollout's state before: phase, step, canary weight, revision.
    pub before: String,
    pub outcome: EntryState,
}

impl Entry {
    /// The intent to take `action` on `rollout` as `user`, now pending.
    pub fn intent(user: &str, rollout: &Rollout, action: RolloutAction, time: Timestamp) -> Entry {
        Entry {
            time,
            user: user.to_string(),
            context: rollout.key.context.to_string(),
            namespace: rollout.key.namespace.to_string(),
            name: rollout.key.name.to_string(),
            action: action.to_string(),
            before: state_before(rollout),
            outcome: EntryState::Pending,
        }
    }
}

/// `Paused, step 1/8, canary 20%, revision 4`.
fn state_before(rollout: &Rollout) -> String {
    let mut parts = vec![rollout.phase.label().to_string()];
    if let Some(step) = rollout.step_label() {
        parts.push(format!("step {step}"));
    }
    parts.push(format!("canary {}%", rollout.actual_weight));
    if let Some(revision) = rollout.revision {
        parts.push(format!("revision {revision}"));
    }
    parts.join(", ")
}

/// The audit trail's SQLite file.
#[derive(Clone)]
pub struct Audit {
    path: PathBuf,
    db: Arc<Mutex<rusqlite::Connection>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").field("path", &self.path).finish()
    }
}

/// `audit.sqlite` in the data dir (`$XDG_DATA_HOME/flightdeck`).
pub fn default_path() -> Result<PathBuf, AuditError> {
    paths::data_dir()
        .map(|d| d.join(FILE_NAME))
        .ok_or(AuditError::NoDataDir)
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        user TEXT NOT NULL,
        context TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'done', 'failed')),
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS audit_time ON audit (time_ms);
";

impl Audit {
    /// Open (or create) the trail at `path`, creating its directory.
    pub fn open(path: &Path) -> Result<Audit, AuditError> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| AuditError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.into()))?;
        }
        let db = rusqlite::Connection::open(path).map_err(|e| open_error(e.into()))?;
        // WAL: the cockpit and a headless command may write at once, and a
        // reader never blocks them. FULL: each commit is fsync'd, so an
        // intent survives a crash right after it is written.
        db.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| db.pragma_update(None, "synchronous", "FULL"))
            .and_then(|()| db.busy_timeout(std::time::Duration::from_secs(5)))
            .and_then(|()| db.execute_batch(SCHEMA))
            // SQLite opens a write-protected file read-only without a word:
            // take the write lock once, so that a trail that cannot be
            // written is found now and not after an action was confirmed.
            .and_then(|()| db.execute_batch("BEGIN IMMEDIATE; ROLLBACK;"))
            .map_err(|e| open_error(e.into()))?;
        Ok(Audit {
            path: path.to_path_buf(),
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Open the trail at `default_path()`.
    pub fn open_default() -> Result<Audit, AuditError> {
        Audit::open(&default_path()?)
    }

    /// Open the trail to read it only: on a read-only filesystem too, where
    /// a WAL database cannot make its shared-memory file (then it is read
    /// as immutable, which it is there).
    pub fn open_to_read(path: &Path) -> Result<Audit, AuditError> {
        use rusqlite::OpenFlags;
        let open_error = |source: rusqlite::Error| AuditError::Open {
            path: path.to_path_buf(),
            source: source.into(),
        };
        if !path.exists() {
            return Err(AuditError::Open {
                path: path.to_path_buf(),
                source: "no audit trail there yet (flightdeck has taken no action)".into(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let readable = |db: rusqlite::Connection| {
            db.query_row("SELECT count(*) FROM audit", [], |_| Ok(()))
                .map(|()| db)
        };
        let db = rusqlite::Connection::open_with_flags(path, flags)
            .and_then(readable)
            .or_else(|_| {
                let uri = format!("file:{}?immutable=1", path.display());
                rusqlite::Connection::open_with_flags(uri, flags).and_then(readable)
            })
            .map_err(open_error)?;
        Ok(Audit {
            path: path.to_path_buf(),
            db: Arc::new(Mutex::new(db)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // A panic while holding the lock cannot leave a half-written row:
        // each write is a single statement.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write_error(&self, source: rusqlite::Error) -> AuditError {
        AuditError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Write `entry` as pending, durably, and return its id. Call before
    /// sending anything.
    pub fn record_intent(&self, entry: &Entry) -> Result<i64, AuditError> {
        let db = self.db();
        db.execute(
            "INSERT INTO audit (time_ms, user, context, namespace, name, action, before, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
            params![
                entry.time.as_millisecond(),
                entry.user,
                entry.context,
                entry.namespace,
                entry.name,
                entry.action,
                entry.before,
            ],
        )
        .map_err(|e| self.write_error(e))?;
        Ok(db.last_insert_rowid())
    }

    /// Record how the action of entry `id` ended.
    pub fn record_outcome(&self, id: i64, outcome: &EntryState) -> Result<(), AuditError> {
        let (state, detail) = match outcome {
            EntryState::Pending => ("pending", ""),
            EntryState::Done(detail) => ("done", detail.as_str()),
            EntryState::Failed(reason) => ("failed", reason.as_str()),
        };
        let changed = self
            .db()
            .execute(
                "UPDATE audit SET outcome = ?1, detail = ?2 WHERE id = ?3",
                params![state, detail, id],
            )
            .map_err(|e| self.write_error(e))?;
        if changed == 0 {
            return Err(AuditError::NoEntry(id));
        }
        Ok(())
    }

    /// The entries since `since`, oldest first, with their ids.
    pub fn list(&self, since: Timestamp) -> Result<Vec<(i64, Entry)>, AuditError> {
        let db = self.db();
        let mut statement = db
            .prepare(&format!(
                "{SELECT} WHERE time_ms >= ?1 ORDER BY time_ms, id"
            ))
            .map_err(|e| self.write_error(e))?;
        let rows = statement
            .query_map([since.as_millisecond()], read_entry)
            .map_err(|e| self.write_error(e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.write_error(e))
    }

    /// The entry `id`, if there is one.
    pub fn get(&self, id: i64) -> Result<Option<Entry>, AuditError> {
        self.db()
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], read_entry)
            .optional()
            .map(|found| found.map(|(_, entry)| entry))
            .map_err(|e| self.write_error(e))
    }
}

const SELECT: &str = "SELECT id, time_ms, user, context, namespace, name, action, before, outcome, detail FROM audit";

fn read_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Entry)> {
    let outcome = match row.get::<_, String>(8)?.as_str() {
        "done" => EntryState::Done(row.get(9)?),
        "failed" => EntryState::Failed(row.get(9)?),
        _ => EntryState::Pending,
    };
    let time = Timestamp::from_millisecond(row.get(1)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Integer, e.into())
    })?;
    Ok((
        row.get(0)?,
        Entry {
            time,
            user: row.get(2)?,
            context: row.get(3)?,
            namespace: row.get(4)?,
            name: row.get(5)?,
            action: row.get(6)?,
            before: row.get(7)?,
            outcome,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;
    use crate::model::testing::{at, canary};

    fn entry(second: i64) -> Entry {
        let rollout = canary("prod-eu", "shop", "checkout", Phase::Paused, 1);
        Entry::intent("alice", &rollout, RolloutAction::Abort, at(second))
    }

    #[test]
    fn an_intent_is_pending_until_its_outcome_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(&dir.path().join("nested/audit.sqlite")).unwrap();
        let first = audit.record_intent(&entry(0)).unwrap();
        let second = audit.record_intent(&entry(10)).unwrap();
        assert_eq!(
            audit.get(first).unwrap().unwrap().outcome,
            EntryState::Pending
        );
        audit
            .record_outcome(first, &EntryState::Done("status patch".into()))
            .unwrap();
        audit
            .record_outcome(second, &EntryState::Failed("RBAC: no".into()))
            .unwrap();
        let all = audit.list(at(0)).unwrap();
        assert_eq!(
            all.iter()
                .map(|(_, e)| e.outcome.clone())
                .collect::<Vec<_>>(),
            [
                EntryState::Done("status patch".into()),
                EntryState::Failed("RBAC: no".into())
            ]
        );
        assert_eq!(
            all[0].1,
            Entry {
                outcome: all[0].1.outcome.clone(),
                ..entry(0)
            }
        );
        assert_eq!(audit.list(at(5)).unwrap().len(), 1);
        assert!(matches!(
            audit.record_outcome(99, &EntryState::Pending),
            Err(AuditError::NoEntry(99))
        ));
    }

    #[test]
    fn entries_survive_reopening_and_say_the_state_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        let id = Audit::open(&path)
            .unwrap()
            .record_intent(&entry(0))
            .unwrap();
        let again = Audit::open(&path).unwrap();
        let e = again.get(id).unwrap().unwrap();
        assert_eq!(
            (e.user.as_str(), e.action.as_str(), e.before.as_str()),
            ("alice", "abort", "Paused, step 1/4, canary 20%, revision 2")
        );
    }

    #[test]
    fn a_trail_that_cannot_be_written_is_found_when_opened_and_can_still_be_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        let id = Audit::open(&path)
            .unwrap()
            .record_intent(&entry(0))
            .unwrap();
        let read_only = std::fs::Permissions::from_mode(0o555);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(dir.path(), read_only).unwrap();
        // As root, permissions do not stop a write: only check what can be.
        let root = rustix::process::geteuid().is_root();
        if !root {
            let error = Audit::open(&path).err().unwrap().to_string();
            assert!(error.contains("readonly"), "{error}");
        }
        let reader = Audit::open_to_read(&path).unwrap();
        assert_eq!(reader.get(id).unwrap().unwrap().user, "alice");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let missing = Audit::open_to_read(&dir.path().join("none.sqlite"));
        assert!(
            missing
                .err()
                .unwrap()
                .to_string()
                .contains("no audit trail there yet")
        );
    }

    #[test]
    fn a_store_that_cannot_be_opened_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let path = blocker.join("audit.sqlite");
        let error = Audit::open(&path).err().unwrap().to_string();
        assert!(
            error.starts_with(&format!(
                "cannot open the audit trail at {}: ",
                path.display()
            )),
            "{error}"
        );
    }
}

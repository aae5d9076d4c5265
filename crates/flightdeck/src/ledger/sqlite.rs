//! The ledger in a SQLite file: WAL, so that readers never block the writer;
//! `synchronous=FULL`, so that a committed deploy survives a crash; each write a
//! transaction that takes the write lock first (`BEGIN IMMEDIATE`), so that two
//! writers merge one after the other.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::LedgerError;
use super::schema::{self, MIGRATIONS, VERSION};
use crate::dora::Deploy;

pub struct Sqlite {
    db: Connection,
}

fn open_error(at: &str, problem: impl ToString) -> LedgerError {
    LedgerError::Open {
        at: at.to_string(),
        problem: problem.to_string(),
    }
}

impl Sqlite {
    pub fn open(path: &Path, at: &str) -> Result<Sqlite, LedgerError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| open_error(at, e))?;
        }
        let db = Connection::open(path).map_err(|e| open_error(at, e))?;
        db.busy_timeout(Duration::from_secs(10))
            .and_then(|()| db.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|()| db.pragma_update(None, "synchronous", "FULL"))
            .map_err(|e| open_error(at, e))?;
        let mut store = Sqlite { db };
        store.migrate(at)?;
        Ok(store)
    }

    fn migrate(&mut self, at: &str) -> Result<(), LedgerError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| open_error(at, e))?;
        tx.execute_batch(schema::META)
            .map_err(|e| open_error(at, e))?;
        let found: i64 = tx
            .query_row(schema::READ_VERSION, [], |r| r.get(0))
            .optional()
            .map_err(|e| open_error(at, e))?
            .unwrap_or(0);
        if found > VERSION {
            return Err(LedgerError::Newer {
                at: at.to_string(),
                found,
                known: VERSION,
            });
        }
        for step in &MIGRATIONS[usize::try_from(found).unwrap_or(0)..] {
            for statement in *step {
                tx.execute_batch(statement).map_err(|e| open_error(at, e))?;
            }
        }
        tx.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [VERSION],
        )
        .map_err(|e| open_error(at, e))?;
        tx.commit().map_err(|e| open_error(at, e))
    }

    pub fn record(&mut self, facts: &[Deploy]) -> Result<usize, String> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        let mut changed = 0;
        {
            let mut read = tx
                .prepare_cached(
                    "SELECT body FROM deploys WHERE context = ?1 AND namespace = ?2
                     AND name = ?3 AND hash = ?4 AND revision = ?5 AND kind = ?6",
                )
                .map_err(|e| e.to_string())?;
            let mut write = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO deploys
                     (context, namespace, name, hash, revision, kind, started_ms, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(|e| e.to_string())?;
            for fact in facts {
                let id = &fact.id;
                let key = params![
                    id.context.as_str(),
                    id.namespace.as_str(),
                    id.name.as_str(),
                    id.hash.as_str(),
                    schema::revision(fact),
                    id.kind.label()
                ];
                let stored: Option<String> = read
                    .query_row(key, |r| r.get(0))
                    .optional()
                    .map_err(|e| e.to_string())?;
                let deploy = match stored {
                    Some(text) => {
                        let mut deploy = schema::from_body(&text)?;
                        if !deploy.merge(fact) {
                            continue;
                        }
                        deploy
                    }
                    None => fact.clone(),
                };
                write
                    .execute(params![
                        id.context.as_str(),
                        id.namespace.as_str(),
                        id.name.as_str(),
                        id.hash.as_str(),
                        schema::revision(fact),
                        id.kind.label(),
                        deploy.started.as_millisecond(),
                        schema::body(&deploy)
                    ])
                    .map_err(|e| e.to_string())?;
                changed += 1;
            }
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(changed)
    }

    pub fn load(&mut self, since: Timestamp) -> Result<Vec<Deploy>, String> {
        let mut statement = self
            .db
            .prepare("SELECT body FROM deploys WHERE started_ms >= ?1")
            .map_err(|e| e.to_string())?;
        let rows = statement
            .query_map([since.as_millisecond()], |r| r.get::<_, String>(0))
            .map_err(|e| e.to_string())?;
        let mut deploys = Vec::new();
        for row in rows {
            deploys.push(schema::from_body(&row.map_err(|e| e.to_string())?)?);
        }
        Ok(deploys)
    }
}

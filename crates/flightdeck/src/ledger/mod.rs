//! The ledger: every deploy flightdeck has seen, kept durably, in SQLite (the
//! default: `ledger.sqlite` in the data dir, WAL, `synchronous=FULL`) or in a
//! team's PostgreSQL (`[ledger] url`). The same schema in both, versioned, with
//! migrations; a ledger of a newer schema or one that cannot be read is named
//! in the error and left as it is.
//!
//! A deploy is one row, identified by context, namespace, name, pod-template
//! hash and revision. Writing a fact reads the row, merges the fact in
//! (`dora::Deploy::merge`: earliest times, highest weight, union of marks) and
//! writes it back in one transaction that holds the write lock, so two writers
//! and any number of repeats count nothing twice.

mod postgres;
mod schema;
mod sqlite;
mod writer;

pub use writer::Writer;

use std::path::PathBuf;

use jiff::Timestamp;

use crate::dora::Deploy;
use crate::paths;

pub const FILE_NAME: &str = "ledger.sqlite";

/// Where the ledger is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgres://` URL; the password, if not in the URL, from the
    /// environment variable named.
    Postgres {
        url: String,
        password_env: Option<String>,
    },
}

impl Location {
    /// `ledger.sqlite` in the data dir (`$XDG_DATA_HOME/flightdeck`).
    pub fn default_sqlite() -> Result<Location, LedgerError> {
        paths::data_dir()
            .map(|d| Location::Sqlite(d.join(FILE_NAME)))
            .ok_or(LedgerError::NoDataDir)
    }

    /// The ledger `[ledger]` names: its `url` (PostgreSQL), its `path`, or the default file.
    pub fn from_settings(
        path: Option<&std::path::Path>,
        url: Option<&str>,
        password_env: Option<&str>,
    ) -> Result<Location, LedgerError> {
        match (url, path) {
            (Some(url), _) => Ok(Location::Postgres {
                url: url.to_string(),
                password_env: password_env.map(str::to_string),
            }),
            (None, Some(path)) => Ok(Location::Sqlite(path.to_path_buf())),
            (None, None) => Location::default_sqlite(),
        }
    }

    /// The ledger as a person may be told of it: the file, or the URL without
    /// its password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres { url, .. } => postgres::redact(url),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    #[error("no data directory for the ledger (set XDG_DATA_HOME or HOME)")]
    NoDataDir,
    #[error("cannot open the ledger at {at}: {problem}")]
    Open { at: String, problem: String },
    #[error(
        "the ledger at {at} has schema version {found}, newer than this flightdeck knows ({known}); \
         it is left as it is: use a newer flightdeck"
    )]
    Newer { at: String, found: i64, known: i64 },
    #[error("cannot write the ledger at {at}: {problem}")]
    Write { at: String, problem: String },
    #[error("cannot read the ledger at {at}: {problem}")]
    Read { at: String, problem: String },
}

impl LedgerError {
    /// The ledger could not be reached at all (a server down): worth trying again.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, LedgerError::Open { .. })
    }
}

enum Store {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// An open ledger. Its calls block: use it from a thread of its own.
pub struct Ledger {
    at: String,
    store: Store,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("at", &self.at).finish()
    }
}

impl Ledger {
    /// Open (or create, migrating an older schema) the ledger at `location`.
    pub fn open(location: &Location) -> Result<Ledger, LedgerError> {
        let at = location.describe();
        let store = match location {
            Location::Sqlite(path) => Store::Sqlite(sqlite::Sqlite::open(path, &at)?),
            Location::Postgres { url, password_env } => {
                Store::Postgres(postgres::Postgres::open(url, password_env.as_deref(), &at)?)
            }
        };
        Ok(Ledger { at, store })
    }

    pub fn at(&self) -> &str {
        &self.at
    }

    /// Merge these facts in; returns how many rows changed.
    pub fn record(&mut self, facts: &[Deploy]) -> Result<usize, LedgerError> {
        if facts.is_empty() {
            return Ok(0);
        }
        match &mut self.store {
            Store::Sqlite(s) => s.record(facts),
            Store::Postgres(p) => p.record(facts),
        }
        .map_err(|problem| LedgerError::Write {
            at: self.at.clone(),
            problem,
        })
    }

    /// Every deploy that started at or after `since`.
    pub fn load(&mut self, since: Timestamp) -> Result<Vec<Deploy>, LedgerError> {
        match &mut self.store {
            Store::Sqlite(s) => s.load(since),
            Store::Postgres(p) => p.load(since),
        }
        .map_err(|problem| LedgerError::Read {
            at: self.at.clone(),
            problem,
        })
    }
}

#[cfg(test)]
mod tests;

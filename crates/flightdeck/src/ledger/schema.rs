//! The ledger's schema, the same in SQLite and PostgreSQL, and its migrations: the
//! version is a row of `ledger_meta`; each migration takes it one step further.

use crate::dora::Deploy;

/// The schema this flightdeck writes.
pub const VERSION: i64 = 2;

pub const META: &str =
    "CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)";

pub const READ_VERSION: &str = "SELECT value FROM ledger_meta WHERE key = 'schema_version'";

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE deploys (
        context TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        revision BIGINT NOT NULL,
        kind TEXT NOT NULL,
        started_ms BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (context, namespace, name, hash, revision)
    )",
        "CREATE INDEX deploys_started ON deploys (started_ms)",
    ],
    // 2: the kind joins the key (a Canary and a Rollout may share a namespace and a
    // name); each body gains the verdicts it had, read as none from schema 1's.
    &[
        "CREATE TABLE deploys_2 (
            context TEXT NOT NULL,
            namespace TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            hash TEXT NOT NULL,
            revision BIGINT NOT NULL,
            started_ms BIGINT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (context, namespace, kind, name, hash, revision)
        )",
        "INSERT INTO deploys_2 (context, namespace, kind, name, hash, revision, started_ms, body)
         SELECT context, namespace, kind, name, hash, revision, started_ms, body FROM deploys",
        "DROP TABLE deploys",
        "ALTER TABLE deploys_2 RENAME TO deploys",
        "CREATE INDEX deploys_started ON deploys (started_ms)",
    ],
];

/// The body column: the whole deploy.
pub fn body(deploy: &Deploy) -> String {
    serde_json::to_string(deploy).unwrap_or_default()
}

pub fn from_body(text: &str) -> Result<Deploy, String> {
    serde_json::from_str(text).map_err(|e| format!("a deploy that cannot be read ({e})"))
}

/// `revision` as the BIGINT column holds it.
pub fn revision(deploy: &Deploy) -> i64 {
    i64::try_from(deploy.id.revision).unwrap_or(i64::MAX)
}

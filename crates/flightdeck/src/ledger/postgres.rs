//! The ledger in a team's PostgreSQL: the same schema as SQLite's. The password
//! comes from the URL or from an environment variable and is never logged or
//! shown; TLS (rustls, the system's roots) when the URL asks for it
//! (`sslmode=require`).

use jiff::Timestamp;
use postgres::config::SslMode;
use postgres::{Client, NoTls};

use super::LedgerError;
use super::schema::{self, MIGRATIONS, VERSION};
use crate::dora::Deploy;

pub struct Postgres {
    client: Client,
}

/// The URL without its password, to name the ledger in messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // A key=value string: drop the password's pair.
        return url
            .split_whitespace()
            .filter(|pair| !pair.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" ");
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let query: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("password="))
        .collect();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// The rustls connector, with the system's trusted roots.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl Postgres {
    pub fn open(url: &str, password_env: Option<&str>, at: &str) -> Result<Postgres, LedgerError> {
        let open_error = |problem: String| LedgerError::Open {
            at: at.to_string(),
            problem,
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| open_error(format!("not a PostgreSQL URL ({e})")))?;
        if config.get_password().is_none()
            && let Some(var) = password_env
        {
            match std::env::var(var) {
                Ok(password) => {
                    config.password(password);
                }
                Err(_) => {
                    return Err(open_error(format!(
                        "the environment variable {var} (the password) is not set"
                    )));
                }
            }
        }
        config.connect_timeout(std::time::Duration::from_secs(10));
        let client = if config.get_ssl_mode() == SslMode::Require {
            config.connect(tls().map_err(&open_error)?)
        } else {
            config.connect(NoTls)
        }
        .map_err(|e| open_error(e.to_string()))?;
        let mut store = Postgres { client };
        store.migrate(at)?;
        Ok(store)
    }

    fn migrate(&mut self, at: &str) -> Result<(), LedgerError> {
        let open_error = |e: postgres::Error| LedgerError::Open {
            at: at.to_string(),
            problem: e.to_string(),
        };
        let mut tx = self.client.transaction().map_err(open_error)?;
        // One migrating writer at a time (a lock of the transaction's time).
        tx.execute("SELECT pg_advisory_xact_lock(1214012)", &[])
            .map_err(open_error)?;
        tx.batch_execute(schema::META).map_err(open_error)?;
        let found: i64 = tx
            .query_opt(schema::READ_VERSION, &[])
            .map_err(open_error)?
            .map_or(0, |row| row.get(0));
        if found > VERSION {
            return Err(LedgerError::Newer {
                at: at.to_string(),
                found,
                known: VERSION,
            });
        }
        for step in &MIGRATIONS[usize::try_from(found).unwrap_or(0)..] {
            for statement in *step {
                tx.batch_execute(statement).map_err(open_error)?;
            }
        }
        tx.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&VERSION],
        )
        .map_err(open_error)?;
        tx.commit().map_err(open_error)
    }

    pub fn record(&mut self, facts: &[Deploy]) -> Result<usize, String> {
        let text = |e: postgres::Error| e.to_string();
        let mut tx = self.client.transaction().map_err(text)?;
        let insert = tx
            .prepare(
                "INSERT INTO deploys (context, namespace, name, hash, revision, kind, started_ms, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .map_err(text)?;
        let read = tx
            .prepare(
                "SELECT body FROM deploys WHERE context = $1 AND namespace = $2 AND name = $3
                 AND hash = $4 AND revision = $5 AND kind = $6 FOR UPDATE",
            )
            .map_err(text)?;
        let update = tx
            .prepare(
                "UPDATE deploys SET started_ms = $7, body = $8 WHERE context = $1
                 AND namespace = $2 AND name = $3 AND hash = $4 AND revision = $5 AND kind = $6",
            )
            .map_err(text)?;
        let mut changed = 0;
        for fact in facts {
            let id = &fact.id;
            let revision = schema::revision(fact);
            let inserted = tx
                .execute(
                    &insert,
                    &[
                        &id.context.as_str(),
                        &id.namespace.as_str(),
                        &id.name.as_str(),
                        &id.hash.as_str(),
                        &revision,
                        &id.kind.label(),
                        &fact.started.as_millisecond(),
                        &schema::body(fact),
                    ],
                )
                .map_err(text)?;
            if inserted == 1 {
                changed += 1;
                continue;
            }
            // There already: merge under the row's lock (a second writer waits).
            let row = tx
                .query_one(
                    &read,
                    &[
                        &id.context.as_str(),
                        &id.namespace.as_str(),
                        &id.name.as_str(),
                        &id.hash.as_str(),
                        &revision,
                        &id.kind.label(),
                    ],
                )
                .map_err(text)?;
            let mut deploy = schema::from_body(row.get(0))?;
            if !deploy.merge(fact) {
                continue;
            }
            tx.execute(
                &update,
                &[
                    &id.context.as_str(),
                    &id.namespace.as_str(),
                    &id.name.as_str(),
                    &id.hash.as_str(),
                    &revision,
                    &id.kind.label(),
                    &deploy.started.as_millisecond(),
                    &schema::body(&deploy),
                ],
            )
            .map_err(text)?;
            changed += 1;
        }
        tx.commit().map_err(text)?;
        Ok(changed)
    }

    pub fn load(&mut self, since: Timestamp) -> Result<Vec<Deploy>, String> {
        let rows = self
            .client
            .query(
                "SELECT body FROM deploys WHERE started_ms >= $1",
                &[&since.as_millisecond()],
            )
            .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|row| schema::from_body(row.get(0)))
            .collect()
    }
}

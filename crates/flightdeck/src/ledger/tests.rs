//! The ledger on SQLite (PostgreSQL's tests need a server: `tests/dora`).

use jiff::Timestamp;

use super::*;
use crate::dora::{DeployId, Failure};

fn fact(name: &str, revision: u64, started: i64) -> Deploy {
    let id = DeployId {
        context: "eu".into(),
        namespace: "shop".into(),
        kind: Default::default(),
        name: name.into(),
        hash: format!("h{revision}").into(),
        revision,
    };
    Deploy::new(id, Timestamp::from_second(1_800_000_000 + started).unwrap())
}

fn sqlite(dir: &tempfile::TempDir) -> Location {
    Location::Sqlite(dir.path().join("nested/ledger.sqlite"))
}

#[test]
fn facts_merge_into_one_row_per_deploy_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(&sqlite(&dir)).unwrap();
    let mut aborted = fact("checkout", 2, 100);
    aborted.details_mut().failed = Some((
        Failure::Aborted,
        Timestamp::from_second(1_800_000_200).unwrap(),
    ));
    assert_eq!(
        ledger
            .record(&[fact("checkout", 1, 0), fact("checkout", 2, 100)])
            .unwrap(),
        2
    );
    assert_eq!(
        ledger.record(&[fact("checkout", 2, 100)]).unwrap(),
        0,
        "nothing new"
    );
    assert_eq!(ledger.record(&[aborted.clone()]).unwrap(), 1);
    drop(ledger);
    let mut again = Ledger::open(&sqlite(&dir)).unwrap();
    let mut all = again.load(Timestamp::MIN).unwrap();
    all.sort_by_key(|d| d.id.revision);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], aborted);
    let since = Timestamp::from_second(1_800_000_050).unwrap();
    assert_eq!(again.load(since).unwrap().len(), 1);
}

#[test]
fn two_writers_on_one_file_count_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let location = sqlite(&dir);
    Ledger::open(&location).unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let location = location.clone();
            std::thread::spawn(move || {
                let mut ledger = Ledger::open(&location).unwrap();
                for round in 0..20 {
                    let mut facts: Vec<Deploy> = (0..10).map(|r| fact("a", r, r as i64)).collect();
                    facts[round % 10].peak_weight = 10 * w + 1;
                    ledger.record(&facts).unwrap();
                }
            })
        })
        .collect();
    writers.into_iter().for_each(|w| w.join().unwrap());
    let all = Ledger::open(&location)
        .unwrap()
        .load(Timestamp::MIN)
        .unwrap();
    assert_eq!(all.len(), 10);
    assert!(
        all.iter().all(|d| d.peak_weight == 11),
        "both writers' facts merged"
    );
}

#[test]
fn a_corrupt_ledger_is_named_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let junk = b"this is not a database, and it must stay as it is".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let error = Ledger::open(&Location::Sqlite(path.clone()))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("cannot open the ledger at {}: ", path.display())),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn a_ledger_of_a_newer_schema_is_refused_and_not_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let location = Location::Sqlite(path.clone());
    let mut ledger = Ledger::open(&location).unwrap();
    ledger.record(&[fact("a", 1, 0)]).unwrap();
    drop(ledger);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE ledger_meta SET value = 99 WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(db);
    let error = Ledger::open(&location).unwrap_err();
    assert!(
        matches!(error, LedgerError::Newer { found: 99, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&path.display().to_string()));
    let db = rusqlite::Connection::open(&path).unwrap();
    let (version, rows): (i64, i64) = db
        .query_row(
            "SELECT (SELECT value FROM ledger_meta), (SELECT count(*) FROM deploys)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((version, rows), (99, 1));
}

#[test]
fn a_postgres_url_is_named_without_its_password() {
    assert_eq!(
        postgres::redact("postgres://flightdeck:s3cret@db.example.com:5432/ledger?sslmode=require"),
        "postgres://flightdeck@db.example.com:5432/ledger?sslmode=require"
    );
    assert_eq!(
        postgres::redact("postgresql://db/ledger?password=s3cret&sslmode=require"),
        "postgresql://db/ledger?sslmode=require"
    );
    assert_eq!(
        postgres::redact("host=db user=fd password=s3cret dbname=ledger"),
        "host=db user=fd dbname=ledger"
    );
}

#[test]
fn a_missing_password_variable_is_named() {
    let location = Location::Postgres {
        url: "postgres://fd@127.0.0.1:1/ledger".into(),
        password_env: Some("FLIGHTDECK_TEST_NO_SUCH_VARIABLE".into()),
    };
    let error = Ledger::open(&location).unwrap_err().to_string();
    assert!(
        error.contains("FLIGHTDECK_TEST_NO_SUCH_VARIABLE"),
        "{error}"
    );
    assert!(
        error.contains("postgres://fd@127.0.0.1:1/ledger"),
        "{error}"
    );
}

/// A deploy as flightdeck wrote it with schema 1: no kind in its identity, its latest
/// verdict only.
pub(super) const SCHEMA_1_BODY: &str = r#"{"id":{"context":"eu","namespace":"shop","name":"checkout","hash":"h1","revision":1},"kind":"Rollout","images":["shop:v1"],"started":"2027-01-15T08:00:00Z","commit":null,"completed":null,"superseded":null,"failed":["aborted","2027-01-15T08:03:20Z"],"stopped":null,"peak_weight":20,"traffic":[],"request_rate":null,"verdict":"FAIL score 12/100","actions":[{"at":"2027-01-15T08:03:20Z","user":"alice","action":"abort"}]}"#;

#[test]
fn a_ledger_of_schema_1_is_migrated_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(schema::META).unwrap();
    for statement in schema::MIGRATIONS[0] {
        db.execute_batch(statement).unwrap();
    }
    db.execute(
        "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', 1)",
        [],
    )
    .unwrap();
    db.execute(
        "INSERT INTO deploys VALUES ('eu', 'shop', 'checkout', 'h1', 1, 'Rollout', ?1, ?2)",
        rusqlite::params![
            Timestamp::from_second(1_799_999_600)
                .unwrap()
                .as_millisecond(),
            SCHEMA_1_BODY
        ],
    )
    .unwrap();
    drop(db);
    let location = Location::Sqlite(path.clone());
    let mut ledger = Ledger::open(&location).unwrap();
    let old = ledger.load(Timestamp::MIN).unwrap();
    assert_eq!(old.len(), 1);
    let d = &old[0];
    assert_eq!(d.id.kind, crate::dora::WorkloadKind::Rollout);
    assert_eq!(d.verdict(), Some("FAIL score 12/100"));
    assert!(d.verdicts().is_empty());
    assert_eq!(d.failed().map(|f| f.0), Some(Failure::Aborted));
    assert_eq!(d.actions()[0].user, "alice");
    // A Canary of the same namespace, name, hash and revision is a deploy of its own.
    let mut canary = d.clone();
    canary.id.kind = crate::dora::WorkloadKind::Canary;
    let at = canary.started;
    canary
        .details_mut()
        .verdicts
        .push(crate::dora::VerdictMark {
            at,
            outcome: "PASS".into(),
            deciding: String::new(),
        });
    assert_eq!(ledger.record(&[canary.clone(), d.clone()]).unwrap(), 1);
    drop(ledger);
    let mut again = Ledger::open(&location).unwrap();
    let mut all = again.load(Timestamp::MIN).unwrap();
    all.sort_by_key(|d| d.id.kind);
    assert_eq!(all, [d.clone(), canary]);
    let db = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = db
        .query_row(schema::READ_VERSION, [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);
}

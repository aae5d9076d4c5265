//! The ledger on a real PostgreSQL (Debian's, started here on 127.0.0.1), and a
//! recorder whose PostgreSQL cannot be reached.

use std::time::{Duration, Instant};

use flightdeck::dora::{Deploy, DeployId, Failure, VerdictMark, WorkloadKind};
use flightdeck::ledger::{Ledger, LedgerError, Location};
use flightdeck_testkit::Postgres;
use jiff::Timestamp;

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

/// The password comes from this variable, named in `[ledger] password_env`.
const PASSWORD_ENV: &str = "FLIGHTDECK_TEST_LEDGER_PASSWORD";

fn location(pg: &Postgres) -> Location {
    // SAFETY: set once, to the same value, before any thread reads it.
    unsafe { std::env::set_var(PASSWORD_ENV, &pg.password) };
    Location::Postgres {
        url: pg.url(),
        password_env: Some(PASSWORD_ENV.into()),
    }
}

/// The deploys the ledger holds (none while it cannot be read).
fn rows(config: &postgres::Config) -> i64 {
    // The blocking client makes a runtime of its own: not on a runtime's thread.
    let asked = config.clone();
    std::thread::spawn(move || {
        asked
            .connect(postgres::NoTls)
            .ok()
            .and_then(|mut c| c.query_one("SELECT count(*) FROM deploys", &[]).ok())
            .map_or(0, |r| r.get(0))
    })
    .join()
    .unwrap()
}

#[test]
fn the_ledger_on_postgresql_merges_counts_once_and_refuses_a_newer_schema() {
    let pg = Postgres::start();
    let location = location(&pg);
    let mut ledger = Ledger::open(&location).unwrap();
    assert!(!ledger.at().contains(&pg.password), "{}", ledger.at());
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
    assert_eq!(ledger.record(&[fact("checkout", 2, 100)]).unwrap(), 0);
    assert_eq!(ledger.record(std::slice::from_ref(&aborted)).unwrap(), 1);
    // Two writers at once.
    let writers: Vec<_> = (0..2u32)
        .map(|w| {
            let location = location.clone();
            std::thread::spawn(move || {
                let mut ledger = Ledger::open(&location).unwrap();
                for round in 0..10 {
                    let mut facts: Vec<Deploy> =
                        (10..20).map(|r| fact("cart", r, r as i64)).collect();
                    facts[round].peak_weight = 10 * w + 1;
                    ledger.record(&facts).unwrap();
                }
            })
        })
        .collect();
    writers.into_iter().for_each(|w| w.join().unwrap());
    let mut again = Ledger::open(&location).unwrap();
    let all = again.load(Timestamp::MIN).unwrap();
    assert_eq!(all.len(), 12);
    assert!(all.contains(&aborted));
    let cart: Vec<&Deploy> = all.iter().filter(|d| d.id.name == "cart").collect();
    assert!(
        cart.iter().all(|d| d.peak_weight == 11),
        "both writers merged"
    );
    // A newer flightdeck's schema: named, refused, left as it is.
    let mut config: postgres::Config = pg.url().parse().unwrap();
    config.password(&pg.password);
    let mut client = config.connect(postgres::NoTls).unwrap();
    client
        .execute(
            "UPDATE ledger_meta SET value = 7 WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
    let error = Ledger::open(&location).unwrap_err();
    assert!(
        matches!(error, LedgerError::Newer { found: 7, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&pg.url()), "{error}");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM deploys", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 12);
}

#[test]
fn a_wrong_password_is_an_error_that_does_not_show_it() {
    let pg = Postgres::start();
    let url = format!(
        "postgres://{}:not-the-password@127.0.0.1:{}/postgres",
        pg.user, pg.port
    );
    let error = Ledger::open(&Location::Postgres {
        url,
        password_env: None,
    })
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("cannot open the ledger at postgres://flightdeck@127.0.0.1"),
        "{error}"
    );
    assert!(!error.contains("not-the-password"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorder_whose_postgresql_is_down_tries_again_with_backoff() {
    let fleet = super::frozen_fleet().await;
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    super::write_config(
        home.path(),
        &format!("[ledger]\nurl = \"postgres://fd:s3cret-pw@127.0.0.1:{port}/ledger\"\n"),
    );
    let kubeconfig = fleet.kubeconfig_path().display().to_string();
    let mut recorder = super::Running(super::flightdeck(
        home.path(),
        &["record", "--kubeconfig", &kubeconfig, "--all-contexts"],
    ));
    let start = Instant::now();
    let log = loop {
        let log = super::stderr_of(home.path());
        if log.contains("trying again in 2s") {
            break log;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    assert!(log.contains("trying again in 1s"), "{log}");
    assert!(
        log.contains(&format!(
            "cannot open the ledger at postgres://fd@127.0.0.1:{port}/ledger"
        )),
        "{log}"
    );
    assert!(
        !log.contains("s3cret-pw"),
        "the password is never shown:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorder_writes_a_teams_postgresql_and_dora_reads_it_back() {
    let pg = Postgres::start();
    let fleet = super::frozen_fleet().await;
    let home = tempfile::tempdir().unwrap();
    super::write_config(
        home.path(),
        &format!(
            "[ledger]\nurl = \"{}\"\npassword_env = \"{PASSWORD_ENV}\"\n",
            pg.url()
        ),
    );
    let vars = [(PASSWORD_ENV, pg.password.as_str())];
    let kubeconfig = fleet.kubeconfig_path().display().to_string();
    let mut recorder = super::Running(super::flightdeck_with(
        home.path(),
        &["record", "--kubeconfig", &kubeconfig, "--all-contexts"],
        &vars,
    ));
    let mut config: postgres::Config = pg.url().parse().unwrap();
    config.password(&pg.password);
    let start = Instant::now();
    let mut last = -1;
    let mut same_since = Instant::now();
    // Until the rows stop growing for three seconds.
    loop {
        let rows = rows(&config);
        if rows != last {
            last = rows;
            same_since = Instant::now();
        } else if rows > 100 && same_since.elapsed() > Duration::from_secs(3) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{}",
            super::stderr_of(home.path())
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    assert!(!super::stderr_of(home.path()).contains(&pg.password));
    let out = super::flightdeck_with(
        home.path(),
        &["dora", "--since", "90d", "-o", "json"],
        &vars,
    )
    .wait_with_output()
    .unwrap();
    assert!(out.status.success(), "{}", super::stderr_of(home.path()));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["group"], "fleet");
    assert_eq!(
        json[0]["deploys"].as_i64().unwrap(),
        last,
        "every row, once"
    );
}

#[test]
fn a_postgresql_ledger_of_schema_1_is_migrated_with_nothing_lost() {
    let pg = Postgres::start();
    let location = location(&pg);
    let mut config: postgres::Config = pg.url().parse().unwrap();
    config.password(&pg.password);
    let mut client = config.connect(postgres::NoTls).unwrap();
    // The tables as flightdeck made them with schema 1, and a deploy it wrote then.
    client
        .batch_execute(
            "CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
             INSERT INTO ledger_meta VALUES ('schema_version', 1);
             CREATE TABLE deploys (context TEXT NOT NULL, namespace TEXT NOT NULL,
                 name TEXT NOT NULL, hash TEXT NOT NULL, revision BIGINT NOT NULL,
                 kind TEXT NOT NULL, started_ms BIGINT NOT NULL, body TEXT NOT NULL,
                 PRIMARY KEY (context, namespace, name, hash, revision));
             CREATE INDEX deploys_started ON deploys (started_ms);",
        )
        .unwrap();
    let body = r#"{"id":{"context":"eu","namespace":"shop","name":"cart","hash":"h3","revision":3},"kind":"Rollout","images":["cart:v3"],"started":"2027-01-15T08:00:00Z","commit":"2027-01-15T07:00:00Z","completed":"2027-01-15T08:30:00Z","superseded":null,"failed":null,"stopped":null,"peak_weight":100,"traffic":[],"request_rate":null,"verdict":"PASS score 100/100","actions":[]}"#;
    client
        .execute(
            "INSERT INTO deploys VALUES ('eu', 'shop', 'cart', 'h3', 3, 'Rollout', 1800000000000, $1)",
            &[&body],
        )
        .unwrap();
    let mut ledger = Ledger::open(&location).unwrap();
    let old = ledger.load(Timestamp::MIN).unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].id.kind, WorkloadKind::Rollout);
    assert_eq!(old[0].verdict(), Some("PASS score 100/100"));
    assert_eq!(old[0].completed(), "2027-01-15T08:30:00Z".parse().ok());
    // The kind is part of the key now: a Canary of the same name is a deploy of its own,
    // and its verdicts are kept.
    let mut canary = old[0].clone();
    canary.id.kind = WorkloadKind::Canary;
    canary.details_mut().verdicts = vec![
        VerdictMark {
            at: canary.started,
            outcome: "PASS".into(),
            deciding: String::new(),
        },
        VerdictMark {
            at: canary.completed().unwrap(),
            outcome: "FAIL".into(),
            deciding: "error rate".into(),
        },
    ]
    .into();
    assert_eq!(ledger.record(std::slice::from_ref(&canary)).unwrap(), 1);
    let mut all = Ledger::open(&location)
        .unwrap()
        .load(Timestamp::MIN)
        .unwrap();
    all.sort_by_key(|d| d.id.kind);
    assert_eq!(all, [old[0].clone(), canary]);
    let version: i64 = client
        .query_one(
            "SELECT value FROM ledger_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, 2);
}

/// The cockpit started while its team's PostgreSQL is down: the fleet shows, the DORA
/// strip says the ledger is unreachable and tried again; when the server comes up, the
/// strip recovers and what was seen meanwhile is in the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cockpit_tries_an_unreachable_postgresql_again_and_recovers() {
    let pg = Postgres::start();
    pg.stop();
    let fleet = super::frozen_fleet().await;
    let home = tempfile::tempdir().unwrap();
    super::write_config(
        home.path(),
        &format!(
            "[ledger]\nurl = \"postgres://{}:{}@127.0.0.1:{}/postgres\"\n",
            pg.user, pg.password, pg.port
        ),
    );
    let tmux = flightdeck_testkit::Tmux::start(120, 40, home.path());
    tmux.type_text(&format!(
        "{} --kubeconfig {} --all-contexts",
        env!("CARGO_BIN_EXE_flightdeck"),
        fleet.kubeconfig_path().display()
    ));
    tmux.press("Enter");
    let wait = Duration::from_secs(60);
    let down = tmux.wait_for("the strip to say the ledger is unreachable", wait, |s| {
        s.contains("ledger unreachable, trying again in") && s.contains("DORA 30d fleet")
    });
    assert!(down.contains("● sim-prod-eu"), "the fleet shows: {down}");
    assert!(!down.contains(&pg.password), "{down}");
    pg.resume();
    tmux.wait_for("the strip to recover", wait, |s| {
        s.contains("DORA 30d fleet") && !s.contains("ledger unreachable")
    });
    let mut config: postgres::Config = pg.url().parse().unwrap();
    config.password(&pg.password);
    let start = Instant::now();
    let rows = loop {
        let rows = rows(&config);
        if rows > 0 || start.elapsed() > wait {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(rows > 0, "what the watches saw while it was down landed");
    tmux.type_text("q");
}

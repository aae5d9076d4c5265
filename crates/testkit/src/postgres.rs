//! A private PostgreSQL for the ledger's tests: Debian's server binaries, a cluster
//! made in a temporary directory, listening on 127.0.0.1 only, on a free port, with a
//! password for TCP (scram); stopped and removed when dropped. PostgreSQL refuses to
//! run as root: as root, the directory is given to the `postgres` user and the
//! commands run as it (`runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    pub port: u16,
    pub user: String,
    pub password: String,
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server is installed (apt-get install postgresql)")
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a /usr/lib/postgresql/<version>/bin/initdb")
        .1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Make and start the cluster.
    pub fn start() -> Postgres {
        let dir = std::env::temp_dir().join(format!(
            "flightdeck-pg-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        let as_postgres = is_root();
        let pg = Postgres {
            dir,
            bin: bin_dir(),
            as_postgres,
            port: free_port(),
            user: "flightdeck".into(),
            password: format!("pw-{}", fastrand::u64(..)),
        };
        let password_file = pg.dir.join("password");
        std::fs::write(&password_file, &pg.password).unwrap();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&pg.dir)
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "chown the cluster's directory to postgres"
            );
        }
        let data = pg.path("data");
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                &pg.user,
                &format!("--pwfile={}", password_file.display()),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ],
        );
        pg.resume();
        pg
    }

    /// Stop the server (the cluster stays): the ledger's server gone away.
    pub fn stop(&self) {
        let data = self.path("data");
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// Start the server again, on the same port.
    pub fn resume(&self) {
        let data = self.path("data");
        let options = format!("-h 127.0.0.1 -p {} -k {}", self.port, self.dir.display());
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                &self.path("log"),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The URL of its `postgres` database, without the password.
    pub fn url(&self) -> String {
        format!("postgres://{}@127.0.0.1:{}/postgres", self.user, self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.path("data");
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! A broken metrics backend is never a failing release: `flightdeck demo --prometheus`
//! pointed at a server on 127.0.0.1 that answers every request with 200 and a body that is
//! not Prometheus' JSON (a proxy's page, a wrong port). The cockpit shows the backend's
//! trouble and no canary FAILs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flightdeck_testkit::Tmux;

const WAIT: Duration = Duration::from_secs(60);
/// The server stops by itself after this long, or this many requests, whatever happens.
const SERVER_LIFETIME: Duration = Duration::from_secs(300);
const SERVER_REQUESTS: usize = 100_000;

/// Answers every request with 200 and `garbage {` until dropped.
struct GarbageServer {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GarbageServer {
    fn start() -> GarbageServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut served = 0;
            while !stopped.load(Ordering::Relaxed)
                && started.elapsed() < SERVER_LIFETIME
                && served < SERVER_REQUESTS
            {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        served += 1;
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut head = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        let body = "garbage {";
                        let _ = stream.write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        GarbageServer {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for GarbageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The fleet pane's rows (its left 57 columns) whose verdict reads `?`.
fn unknown_verdicts(screen: &str) -> usize {
    screen
        .lines()
        .map(|l| l.chars().take(57).collect::<String>())
        .filter(|row| row.contains("sim-prod-") && row.contains("  ?  "))
        .count()
}

#[test]
fn a_prometheus_answering_garbage_fails_no_canary_and_says_so() {
    let server = GarbageServer::start();
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(120, 40, home.path());
    let bin = env!("CARGO_BIN_EXE_flightdeck");
    tmux.type_text(&format!("{bin} demo --seed 1 --prometheus {}", server.url));
    tmux.press("Enter");
    // The canaries in progress in both clusters (checkout, frontend, search-api, …) have
    // been read: their verdicts say the backend could not tell.
    let fleet = tmux.wait_for("the fleet's verdicts", WAIT, |s| {
        s.contains("● sim-prod-us") && unknown_verdicts(s) >= 3
    });
    assert!(
        !fleet.contains("FAIL"),
        "a broken backend fails nothing:\n{fleet}"
    );

    tmux.type_text(":ctx sim-prod-eu");
    tmux.press("Enter");
    tmux.type_text("/checkout");
    tmux.press("Enter");
    // The metrics pane names each metric's failed query.
    let screen = tmux.wait_for("checkout's metrics", WAIT, |s| {
        s.contains("checkout · shop · sim-prod-eu") && s.contains("query error")
    });
    assert!(!screen.contains("FAIL"), "{screen}");
    assert!(
        screen.contains(&format!(
            "Prometheus at {}: 200: unparseable answer",
            server.url
        )),
        "the backend and its answer are named:\n{screen}"
    );
    assert!(
        screen.contains("NO DATA: queries failed for error rate, latency p99"),
        "{screen}"
    );
    tmux.type_text("q");
}

//! A small HTTP server on 127.0.0.1 for the simulated vendors: each request goes to a
//! handler that checks it and answers; a request it refuses is answered 400 and kept, so
//! that a test can fail on it. A test may queue answers (a 429, a 403) that are sent, in
//! turn, instead of the handler's, after the request has been checked.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Request {
    /// The header's value, or why it is missing.
    pub fn header(&self, name: &str) -> Result<&str, String> {
        self.headers
            .get(name)
            .ok_or_else(|| format!("no {name} header"))?
            .to_str()
            .map_err(|_| format!("header {name} is not text"))
    }
}

/// What the server sends back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }
}

/// Checks a request and answers it, or says what is wrong with it.
pub type Handler = dyn Fn(&Request) -> Result<Answer, String> + Send + Sync;

#[derive(Default)]
struct Record {
    requests: usize,
    wrong: Vec<String>,
    queued: VecDeque<Answer>,
}

/// A running server; dropping it stops it.
pub struct Served {
    pub url: String,
    record: Arc<Mutex<Record>>,
    task: JoinHandle<()>,
}

impl Served {
    /// The requests the handler refused, with why.
    pub fn violations(&self) -> Vec<String> {
        self.record.lock().unwrap().wrong.clone()
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.record.lock().unwrap().requests
    }

    /// Sends `answer` for the next request that passes the checks.
    pub fn queue(&self, answer: Answer) {
        self.record.lock().unwrap().queued.push_back(answer);
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(handler: Arc<Handler>) -> std::io::Result<Served> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let record = Arc::new(Mutex::new(Record::default()));
    let shared = record.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (handler, record) = (handler.clone(), shared.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (handler, record) = (handler.clone(), record.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let request = Request {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_string(),
                            query: parts.uri.query().map(str::to_string),
                            headers: parts.headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        let answer = answer(handler.as_ref(), &record, &request);
                        let mut response = hyper::Response::builder().status(answer.status);
                        for (name, value) in &answer.headers {
                            response = response.header(name, value);
                        }
                        Ok::<_, Infallible>(
                            response
                                .body(Full::new(Bytes::from(answer.body)))
                                .expect("a valid response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Served { url, record, task })
}

fn answer(handler: &Handler, record: &Mutex<Record>, request: &Request) -> Answer {
    let checked = handler(request);
    let mut record = record.lock().unwrap();
    record.requests += 1;
    match checked {
        Ok(answer) => record.queued.pop_front().unwrap_or(answer),
        Err(wrong) => {
            tracing::warn!("simulated backend: a wrong request: {wrong}");
            record
                .wrong
                .push(format!("{} {}: {wrong}", request.method, request.path));
            Answer::json(400, serde_json::json!({ "errors": [wrong] }))
        }
    }
}

//! Everything that happens to a request before and after its service sees it: buffering and recording, added
//! latency, scripted faults, and the response headers every Azure service sets (`x-ms-request-id`, ...).
//! Recorded requests can also be appended to a JSON-lines file (`--traffic-file`) for tools outside the process.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::ids;
use crate::state::{AppState, lock};

/// Bodies larger than this are refused with 413. Generous because Blob uploads will come through here too; the whole
/// body is held in memory for the recording.
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// One request as the sandbox received it, with the status it was answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The URL path, still percent-encoded as sent.
    pub path: String,
    /// The raw query string without `?`.
    pub query: Option<String>,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// The body as text (lossy), for assertions and failure messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// One line of the traffic file: `seq` (arrival order), `method`, `path`, `query` (raw, or null), `headers`
    /// (`[name, value]` pairs in the order received), `status`, and the body as `body` (UTF-8 text) or
    /// `bodyBase64` (anything else); both null when it was empty.
    pub fn to_json_line(&self, seq: u64) -> Value {
        let (text, binary) = match (self.body.is_empty(), std::str::from_utf8(&self.body)) {
            (true, _) => (None, None),
            (false, Ok(text)) => (Some(text.to_string()), None),
            (false, Err(_)) => (None, Some(base64::engine::general_purpose::STANDARD.encode(&self.body))),
        };
        json!({
            "seq": seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "status": self.status,
            "body": text,
            "bodyBase64": binary,
        })
    }
}

/// A scripted failure: the next `times` requests that match (after letting `skip` of them through) get `action`
/// instead of a normal answer. They are still delayed by the latency and recorded (a request that is never
/// answered is recorded on arrival with status 0, so a test can see it came).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Matches any method when `None`; otherwise compared case-insensitively.
    pub method: Option<String>,
    /// A substring of the request target (path plus `?query`); empty matches every request.
    pub path_contains: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Sent as `application/json` when it starts with `{` or `[` and no `content-type` header is given.
    pub body: String,
    pub times: usize,
    /// Matching requests let through untouched before the fault applies (`Fault::hang("").skip(5)` hangs the
    /// sixth request, whatever it is).
    pub skip: usize,
    pub action: FaultAction,
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with the fault's status, headers and body; the service never sees the request.
    Respond,
    /// Never answer; the service never sees the request (a black-holed server).
    Hang,
    /// The service handles the request (it takes effect), but the answer never comes (lost on the way back).
    LostAnswer,
    /// The service's answer, its body sent `chunk` bytes at a time every `every`.
    SlowBody { chunk: usize, every: Duration },
    /// A 200 whose body is `bytes` bytes of JSON-looking filler, streamed without ever being held in memory;
    /// with `declare_length` the `Content-Length` says so up front, without it the body is chunked.
    GiantBody { bytes: u64, declare_length: bool },
    /// A 200 whose body breaks off at once: the connection dies mid-answer.
    Reset,
}

impl Default for Fault {
    /// A single 500 with an empty body on any request.
    fn default() -> Fault {
        Fault {
            method: None,
            path_contains: String::new(),
            status: 500,
            headers: Vec::new(),
            body: String::new(),
            times: 1,
            skip: 0,
            action: FaultAction::Respond,
        }
    }
}

impl Fault {
    /// Answers the next request whose target contains `path_contains` with `status`, once.
    pub fn new(path_contains: impl Into<String>, status: u16) -> Fault {
        Fault { path_contains: path_contains.into(), status, ..Fault::default() }
    }

    /// A 429 with `Retry-After`, the throttling answer of ARM and storage.
    pub fn throttled(path_contains: impl Into<String>, retry_after_secs: u64) -> Fault {
        Fault::new(path_contains, 429).header("Retry-After", retry_after_secs.to_string()).body(
            r#"{"error":{"code":"TooManyRequests","message":"The request was throttled (drift-sandbox fault)."}}"#,
        )
    }

    /// Never answers the next matching request (the service does not see it).
    pub fn hang(path_contains: impl Into<String>) -> Fault {
        Fault { action: FaultAction::Hang, ..Fault::new(path_contains, 200) }
    }

    /// Lets the service handle the next matching request, then never answers.
    pub fn lost_answer(path_contains: impl Into<String>) -> Fault {
        Fault { action: FaultAction::LostAnswer, ..Fault::new(path_contains, 200) }
    }

    /// The service's answer with its body trickling out `chunk` bytes every `every`.
    pub fn slow_body(path_contains: impl Into<String>, chunk: usize, every: Duration) -> Fault {
        Fault { action: FaultAction::SlowBody { chunk: chunk.max(1), every }, ..Fault::new(path_contains, 200) }
    }

    /// A 200 with a `bytes`-long generated body (never held in memory).
    pub fn giant_body(path_contains: impl Into<String>, bytes: u64, declare_length: bool) -> Fault {
        Fault { action: FaultAction::GiantBody { bytes, declare_length }, ..Fault::new(path_contains, 200) }
    }

    /// A 200 whose body breaks off at once.
    pub fn reset(path_contains: impl Into<String>) -> Fault {
        Fault { action: FaultAction::Reset, ..Fault::new(path_contains, 200) }
    }

    /// Lets `n` matching requests through before the fault applies.
    pub fn skip(mut self, n: usize) -> Fault {
        self.skip = n;
        self
    }

    /// Only requests with this method match.
    pub fn method(mut self, method: impl Into<String>) -> Fault {
        self.method = Some(method.into());
        self
    }

    /// Matches this many requests before it is used up.
    pub fn times(mut self, times: usize) -> Fault {
        self.times = times;
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Fault {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Fault {
        self.body = body.into();
        self
    }

    fn matches(&self, method: &str, target: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && target.contains(&self.path_contains)
    }

    /// Checks what `into_response` relies on, so a typo in a test fails at `push_fault`, not as a confusing answer.
    pub(crate) fn validate(&self) -> Result<(), String> {
        StatusCode::from_u16(self.status).map_err(|_| format!("fault status {} is not an HTTP status", self.status))?;
        for (name, value) in &self.headers {
            HeaderName::try_from(name.as_str()).map_err(|_| format!("fault header name {name:?} is not valid"))?;
            HeaderValue::try_from(value.as_str())
                .map_err(|_| format!("fault header {name} value {value:?} is not valid"))?;
        }
        Ok(())
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str()))
            {
                headers.append(name, value);
            }
        }
        if !headers.contains_key(header::CONTENT_TYPE) && !self.body.is_empty() {
            let trimmed = self.body.trim_start();
            let kind = if trimmed.starts_with('{') || trimmed.starts_with('[') {
                crate::wire::JSON_CONTENT_TYPE
            } else {
                "text/plain; charset=utf-8"
            };
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        }
        (status, headers, self.body).into_response()
    }
}

/// Recording, latency and faults. Shared by all services.
pub(crate) struct TrafficState {
    latency_nanos: AtomicU64,
    faults: Mutex<Vec<Fault>>,
    log: Mutex<Log>,
    /// Arrival order: a request takes its number when it arrives and is filed under it when it completes, so
    /// `requests()` lists concurrent requests in the order they came in.
    next_seq: AtomicU64,
    log_requests: bool,
    /// `--traffic-file`: every recorded request is appended as one JSON line, in completion order (`seq` gives
    /// the arrival order). Written and flushed per request so a reader sees it as soon as the answer is out.
    /// Not affected by `clear_requests`.
    file: Option<Mutex<File>>,
}

#[derive(Default)]
struct Log {
    entries: Vec<(u64, RecordedRequest)>,
    /// Requests that arrived before the last `clear_requests` and finish after it are not recorded.
    cleared_before: u64,
}

impl TrafficState {
    pub fn new(latency: Duration, log_requests: bool) -> TrafficState {
        let traffic = TrafficState {
            latency_nanos: AtomicU64::new(0),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Log::default()),
            next_seq: AtomicU64::new(0),
            log_requests,
            file: None,
        };
        traffic.set_latency(latency);
        traffic
    }

    /// Also appends every recorded request to `path` as a JSON line (created if missing, appended to if not).
    pub fn with_file(mut self, path: &Path) -> io::Result<TrafficState> {
        let file =
            File::options().create(true).append(true).open(path).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot open the traffic file {}: {e}", path.display()))
            })?;
        self.file = Some(Mutex::new(file));
        Ok(self)
    }

    pub fn set_latency(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_nanos.store(nanos, Ordering::Relaxed);
    }

    fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }

    pub fn push_fault(&self, fault: Fault) {
        if fault.times > 0 {
            lock(&self.faults).push(fault);
        }
    }

    pub fn arrivals(&self) -> u64 {
        self.next_seq.load(Ordering::SeqCst)
    }

    pub fn faults_left(&self) -> usize {
        lock(&self.faults).len()
    }

    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// Takes one use of the first (oldest) matching fault; a fault still skipping lets this request through.
    fn take_fault(&self, method: &str, target: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| f.matches(method, target))?;
        if faults[index].skip > 0 {
            faults[index].skip -= 1;
            return None;
        }
        let fault = faults[index].clone();
        faults[index].times -= 1;
        if faults[index].times == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.log).entries.iter().map(|(_, r)| r.clone()).collect()
    }

    pub fn clear_requests(&self) {
        let mut log = lock(&self.log);
        log.entries.clear();
        log.cleared_before = self.next_seq.load(Ordering::SeqCst);
    }

    fn record(&self, seq: u64, request: RecordedRequest) {
        if let Some(file) = &self.file {
            let mut line = request.to_json_line(seq).to_string();
            line.push('\n');
            // A full disk must not fail the request being answered; the reader will see the line missing.
            if let Err(e) = lock(file).write_all(line.as_bytes()) {
                eprintln!("drift-sandbox: cannot write the traffic file: {e}");
            }
        }
        let mut log = lock(&self.log);
        if seq < log.cleared_before {
            return;
        }
        let at = log.entries.partition_point(|(s, _)| *s < seq);
        log.entries.insert(at, (seq, request));
    }
}

/// The outermost middleware: every request, routed or not, passes through here.
pub(crate) async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let traffic = &state.traffic;
    let seq = traffic.next_seq.fetch_add(1, Ordering::SeqCst);
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let target = parts.uri.path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| path.clone());
    let recorded_headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let request_headers = parts.headers.clone();

    let latency = traffic.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let (body, mut response) = match to_bytes(body, MAX_BODY_BYTES).await {
        Err(_) => (
            Vec::new(),
            (StatusCode::PAYLOAD_TOO_LARGE, format!("drift-sandbox accepts bodies up to {MAX_BODY_BYTES} bytes"))
                .into_response(),
        ),
        Ok(bytes) => {
            let fault = traffic.take_fault(&method, &target);
            let action = fault.as_ref().map(|f| f.action.clone());
            let response = match (fault, &action) {
                (Some(fault), Some(FaultAction::Respond)) => fault.into_response(),
                (Some(_), Some(FaultAction::Hang)) => {
                    let request = RecordedRequest {
                        method: method.clone(),
                        path: path.clone(),
                        query: query.clone(),
                        headers: recorded_headers.clone(),
                        body: bytes.to_vec(),
                        status: 0,
                    };
                    traffic.record(seq, request);
                    return std::future::pending().await;
                }
                (Some(_), Some(FaultAction::GiantBody { bytes: size, declare_length })) => {
                    giant_body(*size, *declare_length)
                }
                (Some(_), Some(FaultAction::Reset)) => broken_body(),
                _ => next.run(Request::from_parts(parts, Body::from(bytes.clone()))).await,
            };
            match action {
                Some(FaultAction::LostAnswer) => {
                    let status = response.status().as_u16();
                    let request = RecordedRequest {
                        method,
                        path,
                        query,
                        headers: recorded_headers,
                        body: bytes.to_vec(),
                        status,
                    };
                    traffic.record(seq, request);
                    // The service has done its work; the answer is lost on the way back.
                    return std::future::pending().await;
                }
                Some(FaultAction::SlowBody { chunk, every }) => {
                    (bytes.to_vec(), slow_body(response, chunk, every).await)
                }
                _ => (bytes.to_vec(), response),
            }
        }
    };
    stamp_headers(&path, &request_headers, response.headers_mut());

    let status = response.status().as_u16();
    if traffic.log_requests {
        eprintln!("drift-sandbox: {method} {target} -> {status} ({} ms)", started.elapsed().as_millis());
    }
    traffic.record(seq, RecordedRequest { method, path, query, headers: recorded_headers, body, status });
    response
}

/// `response` with its body re-sent `chunk` bytes every `every`.
async fn slow_body(response: Response, chunk: usize, every: Duration) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let stream = futures_util::stream::unfold(0usize, move |at| {
        let bytes = bytes.clone();
        async move {
            if at >= bytes.len() {
                return None;
            }
            tokio::time::sleep(every).await;
            let end = (at + chunk).min(bytes.len());
            Some((Ok::<_, std::io::Error>(bytes.slice(at..end)), end))
        }
    });
    let mut response = Response::from_parts(parts, Body::from_stream(stream));
    // The length stays right (same bytes), but drop it so the client cannot size a buffer up front.
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// A 200 with `size` bytes of filler, produced 64 KiB at a time.
fn giant_body(size: u64, declare_length: bool) -> Response {
    const CHUNK: usize = 64 * 1024;
    let filler = axum::body::Bytes::from(vec![b' '; CHUNK]);
    let head = axum::body::Bytes::from_static(b"{\"value\":[");
    let stream = futures_util::stream::unfold(0u64, move |sent| {
        let (filler, head) = (filler.clone(), head.clone());
        async move {
            if sent >= size {
                return None;
            }
            let piece = if sent == 0 { head.slice(..head.len().min(size as usize)) } else { filler };
            let piece = piece.slice(..piece.len().min((size - sent) as usize));
            let next = sent + piece.len() as u64;
            Some((Ok::<_, std::io::Error>(piece), next))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::wire::JSON_CONTENT_TYPE));
    if declare_length && let Ok(value) = HeaderValue::try_from(size.to_string()) {
        response.headers_mut().insert(header::CONTENT_LENGTH, value);
    }
    response
}

/// A 200 whose body fails at once, so the server drops the connection mid-answer.
fn broken_body() -> Response {
    let stream = futures_util::stream::once(async { Err::<axum::body::Bytes, _>(std::io::Error::other("reset")) });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::wire::JSON_CONTENT_TYPE));
    response
}

/// Headers real Azure front ends put on every answer, including errors and throttling: clients log them and the
/// Azure SDKs read them. Done here, not per service, so faults and unrouted paths carry them too.
fn stamp_headers(path: &str, request: &HeaderMap, response: &mut HeaderMap) {
    let fresh = || HeaderValue::try_from(ids::uuid()).unwrap_or_else(|_| HeaderValue::from_static("0"));
    if !response.contains_key("x-ms-request-id") {
        response.insert("x-ms-request-id", fresh());
    }
    // Services echo the caller's own request id so it can match answers to its logs.
    if let Some(client_id) = request.get("x-ms-client-request-id")
        && !response.contains_key("x-ms-client-request-id")
    {
        response.insert("x-ms-client-request-id", client_id.clone());
    }
    // ARM groups all calls of one operation under a correlation id, echoing the caller's when it sent one.
    if (path == "/arm" || path.starts_with("/arm/")) && !response.contains_key("x-ms-correlation-request-id") {
        let value = request.get("x-ms-correlation-request-id").cloned().unwrap_or_else(fresh);
        response.insert("x-ms-correlation-request-id", value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(path: &str) -> RecordedRequest {
        RecordedRequest {
            method: "GET".into(),
            path: path.into(),
            query: Some("a=1&b=x%20y".into()),
            headers: vec![("authorization".into(), "Bearer t".into())],
            body: b"hi".to_vec(),
            status: 200,
        }
    }

    #[test]
    fn faults_match_oldest_first_and_wear_out() {
        let traffic = TrafficState::new(Duration::ZERO, false);
        traffic.push_fault(Fault::new("/kv/", 503).times(2));
        traffic.push_fault(Fault::new("", 500).method("post"));
        traffic.push_fault(Fault::new("", 418).times(0));
        assert_eq!(traffic.take_fault("GET", "/arm/x").map(|f| f.status), None);
        assert_eq!(traffic.take_fault("POST", "/kv/v").map(|f| f.status), Some(503));
        assert_eq!(traffic.take_fault("GET", "/kv/v?x=1").map(|f| f.status), Some(503));
        assert_eq!(traffic.take_fault("GET", "/kv/v").map(|f| f.status), None);
        assert_eq!(traffic.take_fault("POST", "/kv/v").map(|f| f.status), Some(500));
        assert_eq!(traffic.take_fault("POST", "/kv/v").map(|f| f.status), None);
    }

    #[test]
    fn fault_validation() {
        assert!(Fault::new("", 99).validate().is_err());
        assert!(Fault::new("", 503).header("bad name", "x").validate().is_err());
        assert!(Fault::throttled("/arm", 2).validate().is_ok());
    }

    #[test]
    fn record_keeps_arrival_order_and_respects_clear() {
        let traffic = TrafficState::new(Duration::ZERO, false);
        traffic.next_seq.store(3, Ordering::SeqCst);
        traffic.record(2, recorded("/b"));
        traffic.record(0, recorded("/a"));
        let paths: Vec<_> = traffic.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/a", "/b"]);
        traffic.clear_requests();
        traffic.record(1, recorded("/late"));
        assert!(traffic.requests().is_empty());
    }

    #[test]
    fn json_lines_carry_text_or_base64_bodies() {
        let line = recorded("/x").to_json_line(7);
        assert_eq!(line["seq"], 7);
        assert_eq!(line["query"], "a=1&b=x%20y");
        assert_eq!(line["headers"], json!([["authorization", "Bearer t"]]));
        assert_eq!((line["body"].as_str(), line["bodyBase64"].is_null()), (Some("hi"), true));
        let binary = RecordedRequest { body: vec![0xff, 0], query: None, ..recorded("/y") };
        let line = binary.to_json_line(0);
        assert_eq!((line["body"].is_null(), line["bodyBase64"].as_str()), (true, Some("/wA=")));
        assert!(line["query"].is_null());
        let empty = RecordedRequest { body: Vec::new(), ..recorded("/z") };
        assert!(empty.to_json_line(0)["body"].is_null() && empty.to_json_line(0)["bodyBase64"].is_null());
    }

    #[test]
    fn recorded_request_helpers() {
        let r = recorded("/x");
        assert_eq!(r.header("Authorization"), Some("Bearer t"));
        assert_eq!(r.query_param("b").as_deref(), Some("x y"));
        assert_eq!(r.body_text(), "hi");
    }
}

//! The one HTTP client every Azure call goes through: TLS, timeouts, retries with backoff, bearer tokens with a
//! single refresh on 401, secret-free logging, and one error funnel that turns any failure into [`HttpError`].

// `HttpError` carries everything a support ticket needs (URL, status, Azure's code and message, two request ids),
// so it is a couple of hundred bytes; the calls it comes back from are network round trips, next to which moving
// it is free. Boxing it would only make every caller's `?` noisier.
#![allow(clippy::result_large_err)]

pub mod encode;
mod error;
mod paging;
mod redact;
pub mod retry;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

pub use error::{CredentialError, HttpError, HttpErrorKind, parse_error_body, request_ids};
pub use paging::{Page, Pager};
pub use redact::{redact, redact_url};
pub use retry::RetryPolicy;

use crate::cloud::{check_metadata_transport, check_transport, is_loopback};
use crate::secret::Secret;
use crate::shutdown::Shutdown;

/// Sent on every request so Azure-side logs can tell drift apart.
pub const USER_AGENT: &str = concat!("drift/", env!("CARGO_PKG_VERSION"));

/// Time to establish a TCP+TLS connection. Azure front doors answer in well under a second; ten covers a slow
/// corporate proxy without letting a black-holed address stall a run.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest silence while reading a response. Large job-list pages take a few seconds to produce server-side.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Upper bound of one attempt, headers to last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A future returned by a token provider.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, CredentialError>> + Send + 'a>>;

/// Supplies bearer tokens per scope. Implemented by `auth::Credential`; lives here so the HTTP layer can refresh
/// a token on 401 without depending on how tokens are obtained.
pub trait TokenProvider: Send + Sync {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a>;
    /// Forget `token` for `scope` (the server rejected it), so the next call fetches a fresh one.
    fn invalidate(&self, scope: &str, token: &Secret);
}

/// Signs a request just before each attempt (storage Shared Key signs the date, so it must be redone per retry).
pub trait RequestSigner: Send + Sync {
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), CredentialError>;
}

/// How a request authenticates.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer {
        provider: Arc<dyn TokenProvider>,
        scope: String,
    },
    Signed(Arc<dyn RequestSigner>),
}

impl Auth {
    pub fn bearer(provider: Arc<dyn TokenProvider>, scope: impl Into<String>) -> Auth {
        Auth::Bearer { provider, scope: scope.into() }
    }
}

/// Whether a failed attempt may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Repeating the request has the same effect as sending it once (GET, HEAD, PUT to a chosen name, DELETE).
    Idempotent,
    /// A POST only retried when it provably never reached the server (connection refused).
    Never,
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    proxied: reqwest::Client,
    /// Loopback endpoints (sandbox, Azurite) bypass any configured proxy.
    direct: reqwest::Client,
    policy: Arc<RetryPolicy>,
    /// When set, requests stop at a shutdown signal (see [`RequestBuilder::send`]).
    shutdown: Option<Shutdown>,
}

static TLS_PROVIDER: Once = Once::new();

impl HttpClient {
    pub fn new(policy: RetryPolicy) -> Result<HttpClient, HttpError> {
        TLS_PROVIDER.call_once(|| {
            // Another component may have installed one already; either provider is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let build = |proxy: bool| {
            let mut b = reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(CONNECT_TIMEOUT.mul_f64(policy.timeout_scale))
                .read_timeout(READ_TIMEOUT.mul_f64(policy.timeout_scale))
                .timeout(REQUEST_TIMEOUT.mul_f64(policy.timeout_scale))
                // Azure APIs do not redirect; following one could carry the x-azureml-token to another host.
                .redirect(reqwest::redirect::Policy::none());
            if !proxy {
                b = b.no_proxy();
            }
            b.build().map_err(|e| {
                HttpError::new("-", "-", HttpErrorKind::Request, format!("cannot initialise the HTTP client: {e}"))
            })
        };
        Ok(HttpClient { proxied: build(true)?, direct: build(false)?, policy: Arc::new(policy), shutdown: None })
    }

    /// This client, with every request bound to `shutdown`: after a signal nothing new is sent and whatever is
    /// in flight (a request, a retry's sleep) ends with an [`HttpErrorKind::Interrupted`] error.
    pub fn with_shutdown(&self, shutdown: Shutdown) -> HttpClient {
        HttpClient { shutdown: Some(shutdown), ..self.clone() }
    }

    /// This client without a shutdown binding: for the few requests that must still go out after a signal (the
    /// retrainer's cancel of jobs it started). Callers bound them with a deadline of their own.
    pub fn detached(&self) -> HttpClient {
        HttpClient { shutdown: None, ..self.clone() }
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Starts a request. Plain http to a non-loopback host is refused here, before anything is sent.
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, HttpError> {
        let parsed = Url::parse(url)
            .map_err(|e| HttpError::before_send(&method, &redact_url(url), format!("invalid URL ({e})")))?;
        check_transport(parsed.as_str()).map_err(|reason| HttpError::before_send(&method, &redact(&parsed), reason))?;
        Ok(self.builder(method, parsed, false))
    }

    /// Starts the managed-identity token GET to IMDS: plain http is accepted for loopback and for the IMDS address
    /// (169.254.169.254, which has no https), and the request never goes through a proxy, as the IMDS documentation
    /// requires. Only the IMDS token source calls this.
    pub fn metadata_get(&self, url: &str) -> Result<RequestBuilder, HttpError> {
        let method = Method::GET;
        let parsed = Url::parse(url)
            .map_err(|e| HttpError::before_send(&method, &redact_url(url), format!("invalid URL ({e})")))?;
        check_metadata_transport(parsed.as_str())
            .map_err(|reason| HttpError::before_send(&method, &redact(&parsed), reason))?;
        Ok(self.builder(method, parsed, true))
    }

    fn builder(&self, method: Method, url: Url, direct: bool) -> RequestBuilder {
        let retry = if method == Method::POST { RetryMode::Never } else { RetryMode::Idempotent };
        RequestBuilder {
            client: self.clone(),
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            auth: Auth::None,
            token_headers: Vec::new(),
            retry,
            accept: Vec::new(),
            timeout: None,
            max_retries: None,
            max_body: MAX_RESPONSE_BYTES,
            direct,
        }
    }

    pub fn get(&self, url: &str) -> Result<RequestBuilder, HttpError> {
        self.request(Method::GET, url)
    }

    fn client_for(&self, url: &Url, direct: bool) -> &reqwest::Client {
        if direct || is_loopback(url) { &self.direct } else { &self.proxied }
    }
}

/// A request being built; [`RequestBuilder::send`] runs it with retries.
pub struct RequestBuilder {
    client: HttpClient,
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    auth: Auth,
    token_headers: Vec<(HeaderName, String)>,
    retry: RetryMode,
    accept: Vec<u16>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    /// Largest accepted response body ([`MAX_RESPONSE_BYTES`] unless set).
    max_body: usize,
    /// Never through a proxy (loopback hosts bypass proxies anyway; IMDS must).
    direct: bool,
}

impl RequestBuilder {
    pub fn query(mut self, pairs: &[(&str, &str)]) -> RequestBuilder {
        self.url.query_pairs_mut().extend_pairs(pairs);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Result<RequestBuilder, HttpError> {
        let invalid =
            |what: &str| HttpError::before_send(&self.method, &redact(&self.url), format!("invalid {what} {name:?}"));
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("header name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid("value for header"))?;
        self.headers.insert(header, value);
        Ok(self)
    }

    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<RequestBuilder, HttpError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            HttpError::before_send(&self.method, &redact(&self.url), format!("cannot encode JSON body ({e})"))
        })?;
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// An `application/x-www-form-urlencoded` body (OAuth token requests).
    pub fn form(mut self, pairs: &[(&str, &str)]) -> RequestBuilder {
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        self.body = Some(Bytes::from(encoded));
        self
    }

    pub fn body(mut self, bytes: Bytes, content_type: &'static str) -> RequestBuilder {
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.body = Some(bytes);
        self
    }

    pub fn auth(mut self, auth: Auth) -> RequestBuilder {
        self.auth = auth;
        self
    }

    /// Adds a header carrying the bare access token (no `Bearer ` prefix) of another scope from the same provider
    /// as [`Auth::Bearer`] (pipeline-job PUTs carry `x-azureml-token`).
    pub fn token_header(mut self, name: &'static str, scope: impl Into<String>) -> RequestBuilder {
        self.token_headers.push((HeaderName::from_static(name), scope.into()));
        self
    }

    /// Marks a POST as safe to repeat (the API documents it as read-only or idempotent).
    pub fn retry_safe(mut self) -> RequestBuilder {
        self.retry = RetryMode::Idempotent;
        self
    }

    /// Statuses returned as a [`Response`] instead of an error (e.g. 404 where absence is a normal answer).
    pub fn accept(mut self, statuses: &[u16]) -> RequestBuilder {
        self.accept.extend_from_slice(statuses);
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> RequestBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// Overrides [`MAX_RESPONSE_BYTES`] for this request.
    pub fn max_body(mut self, bytes: usize) -> RequestBuilder {
        self.max_body = bytes;
        self
    }

    /// Overrides the policy's retry count for this request (a probe that should fail fast uses 0).
    pub fn max_retries(mut self, n: u32) -> RequestBuilder {
        self.max_retries = Some(n);
        self
    }

    /// Sends the request, retrying as the policy allows, and returns the response of an accepted status. With a
    /// shutdown attached to the client ([`HttpClient::with_shutdown`]), nothing is sent after a signal, and a
    /// request in flight or sleeping before a retry is abandoned at once (its connection is dropped).
    pub async fn send(self) -> Result<Response, HttpError> {
        let Some(shutdown) = self.client.shutdown.clone() else {
            return self.send_attempts().await;
        };
        let interrupted = |signal: &'static str, what: &str| HttpError {
            signal: Some(signal),
            ..HttpError::new(self.method.as_str(), &redact(&self.url), HttpErrorKind::Interrupted, what)
        };
        if let Some(signal) = shutdown.requested() {
            return Err(interrupted(signal, "not sent: a shutdown was requested"));
        }
        let stopped = interrupted("", "abandoned at a shutdown signal");
        tokio::select! {
            biased;
            signal = shutdown.wait() => Err(HttpError { signal: Some(signal), ..stopped }),
            result = self.send_attempts() => result,
        }
    }

    async fn send_attempts(self) -> Result<Response, HttpError> {
        let started = Instant::now();
        let shown_url = redact(&self.url);
        let method = self.method.as_str().to_string();
        let policy = &self.client.policy;
        let mut attempts = retry::Attempts {
            retries: 0,
            max_retries: self.max_retries.unwrap_or(policy.max_retries),
            idempotent: self.retry == RetryMode::Idempotent,
            had_tokens: false,
            refreshed_after_401: false,
        };
        let fail = |status: Option<u16>, kind, code, message: String, (request_id, correlation_id), retries| {
            // The whole URL goes to the debug log; the error itself names the resource short.
            tracing::debug!(target: "drift::http", method = %method, url = %shown_url, "request failed: {message}");
            HttpError {
                status,
                code,
                request_id,
                correlation_id,
                retries,
                elapsed: started.elapsed(),
                ..HttpError::new(&method, &shown_url, kind, message)
            }
        };
        loop {
            let (request, used_tokens) = self.build_attempt().await?;
            attempts.had_tokens = !used_tokens.is_empty();
            let client = self.client.client_for(&self.url, self.direct);
            tracing::trace!(target: "drift::http", method = %method, url = %shown_url, attempt = attempts.retries + 1, "sending");
            let attempt_started = Instant::now();
            let step = match client.execute(request).await {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let accepted = resp.status().is_success() || self.accept.contains(&code);
                    // An error body only needs its first bytes; an accepted one is capped, not truncated.
                    let limit = if accepted { self.max_body } else { MAX_ERROR_BODY_BYTES };
                    let body = match read_body(resp, limit, accepted).await {
                        Ok(body) => body,
                        Err(BodyError::TooLarge { declared }) => {
                            return Err(fail(
                                Some(code),
                                HttpErrorKind::TooLarge,
                                None,
                                too_large_message(limit, declared),
                                request_ids(&headers),
                                attempts.retries,
                            ));
                        }
                        Err(BodyError::Transport(e)) => {
                            let kind = if e.is_timeout() { HttpErrorKind::Timeout } else { HttpErrorKind::Transport };
                            match retry::after_transport_failure(false, attempts, policy, rand::random::<f64>()) {
                                retry::Step::Retry(delay) => {
                                    attempts.retries += 1;
                                    log_retry(
                                        &method,
                                        &shown_url,
                                        &describe_transport_error(&e),
                                        attempts.retries,
                                        delay,
                                    );
                                    tokio::time::sleep(delay).await;
                                    continue;
                                }
                                _ => {
                                    return Err(fail(
                                        Some(code),
                                        kind,
                                        None,
                                        describe_transport_error(&e),
                                        request_ids(&headers),
                                        attempts.retries,
                                    ));
                                }
                            }
                        }
                    };
                    tracing::debug!(
                        target: "drift::http",
                        method = %method,
                        url = %shown_url,
                        status = code,
                        ms = attempt_started.elapsed().as_millis() as u64,
                        "response"
                    );
                    if accepted {
                        return Ok(Response {
                            status: code,
                            headers,
                            body,
                            method,
                            url: shown_url,
                            retries: attempts.retries,
                            started,
                        });
                    }
                    let hint = retry::server_hint(&headers, SystemTime::now());
                    match retry::after_status(code, attempts, policy, hint, rand::random::<f64>()) {
                        retry::Step::RefreshTokens => {
                            attempts.refreshed_after_401 = true;
                            if let Auth::Bearer { provider, .. } = &self.auth {
                                for (scope, token) in &used_tokens {
                                    provider.invalidate(scope, token);
                                }
                            }
                            tracing::debug!(target: "drift::http", url = %shown_url, "401: refreshing the token once");
                            continue;
                        }
                        retry::Step::Retry(delay) => {
                            log_retry(&method, &shown_url, &format!("HTTP {code}"), attempts.retries + 1, delay);
                            delay
                        }
                        retry::Step::GiveUp => {
                            let (azure_code, message) = parse_error_body(&headers, &body);
                            return Err(fail(
                                Some(code),
                                HttpErrorKind::Status,
                                azure_code,
                                message,
                                request_ids(&headers),
                                attempts.retries,
                            ));
                        }
                    }
                }
                Err(e) => {
                    let kind = if e.is_timeout() {
                        HttpErrorKind::Timeout
                    } else if e.is_connect() {
                        HttpErrorKind::Connect
                    } else {
                        HttpErrorKind::Transport
                    };
                    let never_reached = kind == HttpErrorKind::Connect;
                    match retry::after_transport_failure(never_reached, attempts, policy, rand::random::<f64>()) {
                        retry::Step::Retry(delay) => {
                            log_retry(&method, &shown_url, &describe_transport_error(&e), attempts.retries + 1, delay);
                            delay
                        }
                        _ => {
                            return Err(fail(
                                None,
                                kind,
                                None,
                                describe_transport_error(&e),
                                (None, None),
                                attempts.retries,
                            ));
                        }
                    }
                }
            };
            attempts.retries += 1;
            tokio::time::sleep(step).await;
        }
    }

    /// One attempt's request with fresh tokens/signature; returns the tokens used so a 401 can invalidate them.
    async fn build_attempt(&self) -> Result<(reqwest::Request, Vec<(String, Secret)>), HttpError> {
        let client = self.client.client_for(&self.url, self.direct);
        let mut builder = client.request(self.method.clone(), self.url.clone()).headers(self.headers.clone());
        if let Some(t) = self.timeout {
            builder = builder.timeout(t);
        }
        if let Some(body) = &self.body {
            builder = builder.body(body.clone());
        }
        let mut request = builder.build().map_err(|e| {
            HttpError::before_send(&self.method, &redact(&self.url), format!("cannot build the request ({e})"))
        })?;
        let mut used = Vec::new();
        let no_credential = |why: CredentialError| HttpError {
            credential: Some(Box::new(why.clone())),
            ..HttpError::new(
                self.method.as_str(),
                &redact(&self.url),
                HttpErrorKind::Credential,
                format!("no credential for the request: {why}"),
            )
        };
        match &self.auth {
            Auth::None => {}
            Auth::Bearer { provider, scope } => {
                let token = provider.token(scope).await.map_err(no_credential)?;
                request.headers_mut().insert(AUTHORIZATION, sensitive(&format!("Bearer {}", token.expose()))?);
                used.push((scope.clone(), token));
                for (name, extra_scope) in &self.token_headers {
                    let token = provider.token(extra_scope).await.map_err(no_credential)?;
                    // The bare access token, no `Bearer ` scheme: azure-ai-ml sets
                    // `headers["x-azureml-token"] = credential.get_token(scope).token`
                    // (azure/ai/ml/operations/_job_operations.py), and the service expects what its SDK sends.
                    request.headers_mut().insert(name.clone(), sensitive(token.expose())?);
                    used.push((extra_scope.clone(), token));
                }
            }
            Auth::Signed(signer) => signer.sign(&mut request).map_err(no_credential)?,
        }
        Ok((request, used))
    }
}

/// Largest accepted response body drift reads by default: 64 MiB. A page of 100 pipeline jobs is about 0.2 MB and
/// the largest single resources drift reads (a pipeline job with its graph) are well under 1 MB, so this is far
/// above any real answer while keeping a broken or hostile server from filling memory. Storage reads of Delta
/// commits set their own limit ([`RequestBuilder::max_body`]).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// How much of an error response is kept: its code and message are in the first bytes.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

enum BodyError {
    /// The body is larger than the limit; `declared` is its Content-Length when the server sent one.
    TooLarge {
        declared: Option<u64>,
    },
    Transport(reqwest::Error),
}

/// Reads a body chunk by chunk up to `limit` bytes. Over the limit, an accepted body is an error (decoding half
/// of it would be wrong) and an error body is truncated (its first bytes say what went wrong). A declared
/// Content-Length over the limit fails before anything is read.
async fn read_body(mut resp: reqwest::Response, limit: usize, strict: bool) -> Result<Bytes, BodyError> {
    let declared = resp.content_length();
    if strict && declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { declared });
    }
    let capacity = declared.map_or(0, |n| n.min(limit as u64) as usize);
    let mut body = bytes::BytesMut::with_capacity(capacity);
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            if strict {
                return Err(BodyError::TooLarge { declared });
            }
            body.extend_from_slice(&chunk[..limit - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn too_large_message(limit: usize, declared: Option<u64>) -> String {
    let size = match declared {
        Some(n) => format!("{n} bytes"),
        None => format!("more than {limit} bytes"),
    };
    format!(
        "the response body ({size}) is larger than drift's limit of {} MiB for this request; a real Azure answer is \
         far smaller, so a proxy or the endpoint is misbehaving",
        limit / (1024 * 1024)
    )
}

fn log_retry(method: &str, url: &str, why: &str, retry: u32, delay: Duration) {
    tracing::info!(
        target: "drift::http",
        method = %method,
        url = %url,
        reason = %why,
        retry,
        delay_ms = delay.as_millis() as u64,
        "retrying"
    );
}

/// A header value hidden from `Debug` output of requests (hyper and reqwest honour the flag).
fn sensitive(value: &str) -> Result<HeaderValue, HttpError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        let why = CredentialError::Rejected("a token contains characters not allowed in HTTP headers".into());
        HttpError {
            credential: Some(Box::new(why)),
            ..HttpError::new(
                "-",
                "-",
                HttpErrorKind::Credential,
                "a token contains characters not allowed in HTTP headers",
            )
        }
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The transport error with its causes, without the URL (errors print the redacted URL themselves).
fn describe_transport_error(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    let head = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "reading the response failed"
    } else {
        "request failed"
    };
    if parts.is_empty() { head.to_string() } else { format!("{head}: {}", parts.join(": ")) }
}

impl HttpError {
    fn before_send(method: &Method, url: &str, message: String) -> HttpError {
        HttpError::new(method.as_str(), url, HttpErrorKind::Request, message)
    }
}

/// A response with an accepted status, body read in full.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    method: String,
    url: String,
    retries: u32,
    started: Instant,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is(&self, status: StatusCode) -> bool {
        self.status == status.as_u16()
    }

    /// Decodes the JSON body; a mismatch names the field path (`value[3].properties.status`) and the URL.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = if path == "." {
                format!("unexpected response body: {inner}")
            } else {
                format!("unexpected response body at `{path}`: {inner}")
            };
            self.error(HttpErrorKind::Decode, None, message)
        })
    }

    /// An error about this response (an accepted status that the caller still treats as a failure).
    pub fn error(&self, kind: HttpErrorKind, code: Option<String>, message: impl Into<String>) -> HttpError {
        let (request_id, correlation_id) = request_ids(&self.headers);
        HttpError {
            status: Some(self.status),
            code,
            request_id,
            correlation_id,
            retries: self.retries,
            elapsed: self.started.elapsed(),
            ..HttpError::new(&self.method, &self.url, kind, message)
        }
    }

    /// This response as the error it would have been had its status not been accepted.
    pub fn into_status_error(self) -> HttpError {
        let (code, message) = parse_error_body(&self.headers, &self.body);
        self.error(HttpErrorKind::Status, code, message)
    }

    /// The redacted URL of the request.
    pub fn url(&self) -> &str {
        &self.url
    }
}

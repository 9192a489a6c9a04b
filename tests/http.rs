//! The HTTP layer against wiremock: retries (429 with Retry-After, 503, connection refused), no retry where it
//! would be wrong, error contents, paging and its loop guard, transport rules, redaction.

use std::time::{Duration, Instant};

use drift::Error;
use drift::http::{HttpClient, HttpErrorKind, Pager, RetryPolicy};
use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn client(scale: f64) -> HttpClient {
    HttpClient::new(RetryPolicy { delay_scale: scale, ..RetryPolicy::default() }).unwrap()
}

/// Answers with the given responses in order, then repeats the last.
struct Sequence(std::sync::Mutex<Vec<ResponseTemplate>>);

impl Sequence {
    fn new(mut v: Vec<ResponseTemplate>) -> Sequence {
        v.reverse();
        Sequence(std::sync::Mutex::new(v))
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut v = self.0.lock().unwrap();
        if v.len() > 1 { v.pop().unwrap() } else { v[0].clone() }
    }
}

/// The HTTP layer returns its own error type; this names what the tests look at.
fn http_error(e: drift::http::HttpError) -> drift::http::HttpError {
    e
}

#[tokio::test]
async fn retries_429_after_the_servers_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            ResponseTemplate::new(200).set_body_string("ok"),
        ]))
        .mount(&server)
        .await;
    let started = Instant::now();
    let r = client(1.0).get(&server.uri()).unwrap().send().await.unwrap();
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(950), "waited for Retry-After: {:?}", started.elapsed());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn retries_503_with_backoff_and_honours_x_ms_retry_after_ms() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(503).insert_header("x-ms-retry-after-ms", "150"),
            ResponseTemplate::new(503),
            ResponseTemplate::new(201).set_body_json(json!({"ok": true})),
        ]))
        .mount(&server)
        .await;
    let started = Instant::now();
    let r = client(1.0)
        .request(reqwest::Method::PUT, &server.uri())
        .unwrap()
        .json(&json!({"a": 1}))
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    // 150 ms from the header, then at least half of the 1.6 s second backoff step.
    assert!(started.elapsed() >= Duration::from_millis(150 + 800), "{:?}", started.elapsed());
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.body == br#"{"a":1}"#), "the body is resent on every attempt");
}

#[tokio::test]
async fn gives_up_after_the_retry_budget_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("x-ms-request-id", "req-42")
                .insert_header("x-ms-correlation-request-id", "corr-7")
                .set_body_json(json!({"error": {"code": "ServerBusy", "message": "Try later."}})),
        )
        .mount(&server)
        .await;
    let err = http_error(client(0.0).get(&server.uri()).unwrap().send().await.unwrap_err());
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
    assert_eq!(err.retries, 4);
    let text = err.to_string();
    for part in [
        "GET",
        "HTTP 503",
        "ServerBusy: Try later.",
        "after 4 retries",
        "x-ms-request-id=req-42",
        "x-ms-correlation-request-id=corr-7",
    ] {
        assert!(text.contains(part), "{part} missing in: {text}");
    }
    assert_eq!(Error::Http(Box::new(err)).exit_status().code(), 4);
}

#[tokio::test]
async fn no_retry_on_400_or_on_a_plain_post() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "UserError", "message": "Bad input."}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/post")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    Mock::given(method("POST")).and(path("/safe")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let http = client(0.0);
    let err = http_error(http.get(&server.uri()).unwrap().send().await.unwrap_err());
    assert_eq!(
        (err.status, err.code.as_deref(), err.message.as_str(), err.retries),
        (Some(400), Some("UserError"), "Bad input.", 0)
    );
    http.request(reqwest::Method::POST, &format!("{}/post", server.uri())).unwrap().send().await.unwrap_err();
    http.request(reqwest::Method::POST, &format!("{}/safe", server.uri()))
        .unwrap()
        .retry_safe()
        .send()
        .await
        .unwrap_err();
    let received = server.received_requests().await.unwrap();
    let count = |p: &str| received.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count("/"), 1, "400 is not retried");
    assert_eq!(count("/post"), 1, "a POST is not repeated after it reached the server");
    assert_eq!(count("/safe"), 5, "a POST marked safe is retried");
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_as_network_error() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = http_error(
        client(0.0)
            .request(reqwest::Method::POST, &format!("http://127.0.0.1:{port}/x"))
            .unwrap()
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(err.kind, HttpErrorKind::Connect);
    assert_eq!(err.retries, 4, "a refused connection never reached the server, so even a POST is retried");
    assert!(err.to_string().contains("connection failed"), "{err}");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_sending() {
    let Err(err) = client(0.0).get("http://management.example.com/x") else { panic!("plain http was accepted") };
    let err = http_error(err);
    assert_eq!(err.kind, HttpErrorKind::Request);
    assert!(err.message.contains("loopback"), "{err}");
    assert!(client(0.0).get("https://management.example.com/x").is_ok());
}

#[tokio::test]
async fn sas_signatures_never_appear_in_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(403)).mount(&server).await;
    let url = format!("{}/c/b?sv=2022-11-02&sig=TOPSECRETSIGNATURE&se=2030-01-01", server.uri());
    let err = client(0.0).get(&url).unwrap().send().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("TOPSECRETSIGNATURE"), "{text}");
    assert!(text.contains("sig=REDACTED"));
    assert_eq!(Error::from(err).exit_status().code(), 3, "403 is an authorization error");
}

#[tokio::test]
async fn sends_the_user_agent() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    client(0.0).get(&server.uri()).unwrap().send().await.unwrap();
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(r.headers.get("user-agent").unwrap(), concat!("drift/", env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn decode_errors_name_the_field() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        count: u32,
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [{"name": "a", "count": 1}, {"name": "b", "count": "x"}]})),
        )
        .mount(&server)
        .await;
    let mut pager: Pager<Item> = Pager::new(client(0.0), Default::default(), &server.uri()).unwrap();
    let err = http_error(pager.next_page().await.unwrap_err());
    assert_eq!(err.kind, HttpErrorKind::Decode);
    assert!(err.message.contains("value[1].count"), "{}", err.message);
}

#[derive(Debug, Deserialize, PartialEq)]
struct Job {
    name: String,
}

async fn paged_server(links: [Option<&str>; 3]) -> MockServer {
    let server = MockServer::start().await;
    for (i, link) in links.iter().enumerate() {
        let mut body = json!({"value": [{"name": format!("job-{i}a")}, {"name": format!("job-{i}b")}]});
        if let Some(l) = link {
            body["nextLink"] = json!(l.replace("{uri}", &server.uri()));
        }
        let matcher = if i == 0 { query_param("api-version", "1") } else { query_param("$skip", format!("tok{i}")) };
        Mock::given(method("GET"))
            .and(path("/jobs"))
            .and(matcher)
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    server
}

#[tokio::test]
async fn paging_follows_next_link_across_three_pages_as_a_stream() {
    let server = paged_server([Some("{uri}/jobs?$skip=tok1"), Some("{uri}/jobs?$skip=tok2"), None]).await;
    let pager: Pager<Job> =
        Pager::new(client(0.0), Default::default(), &format!("{}/jobs?api-version=1", server.uri())).unwrap();
    let pages: Vec<Vec<Job>> = pager.into_stream().try_collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2][1], Job { name: "job-2b".into() });
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_repeated_next_link_stops_instead_of_looping() {
    let server = paged_server([Some("{uri}/jobs?$skip=tok1"), Some("{uri}/jobs?$skip=tok1"), None]).await;
    let mut pager: Pager<Job> =
        Pager::new(client(0.0), Default::default(), &format!("{}/jobs?api-version=1", server.uri())).unwrap();
    assert!(pager.next_page().await.unwrap().is_some());
    let err = http_error(pager.next_page().await.unwrap_err());
    assert!(err.message.contains("already returned"), "{}", err.message);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let server = paged_server([Some("https://evil.example.com/jobs?$skip=tok1"), None, None]).await;
    let mut pager: Pager<Job> =
        Pager::new(client(0.0), Default::default(), &format!("{}/jobs?api-version=1", server.uri())).unwrap();
    let err = http_error(pager.next_page().await.unwrap_err());
    assert!(err.message.contains("another host"), "{}", err.message);
}

//! Recording, faults, latency and the common response headers, on every route.

mod common;

use std::time::{Duration, Instant};

use common::*;
use drift_sandbox::Fault;

#[tokio::test]
async fn every_request_is_recorded_in_order_with_its_status() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    get(&secret_url(&sandbox, VAULT, "pw"), None, &[("api-version", KV_API)]).await;
    get(&secret_url(&sandbox, VAULT, "pw"), Some(&token), &[("api-version", KV_API)]).await;
    get(&format!("{}/nowhere", sandbox.url()), None, &[]).await;

    let requests = sandbox.requests();
    let summary: Vec<(&str, &str, u16)> =
        requests.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.status)).collect();
    let token_path = format!("/aad/{TENANT}/oauth2/v2.0/token");
    assert_eq!(
        summary,
        [
            ("POST", token_path.as_str(), 200),
            ("GET", "/kv/myvault/secrets/pw", 401),
            ("GET", "/kv/myvault/secrets/pw", 200),
            ("GET", "/nowhere", 404),
        ]
    );
    let token_request = &requests[0];
    assert_eq!(token_request.header("Content-Type"), Some("application/x-www-form-urlencoded"));
    assert!(token_request.body_text().contains("grant_type=client_credentials"));
    assert_eq!(requests[2].query.as_deref(), Some("api-version=7.5"));
    assert_eq!(requests[2].query_param("api-version").as_deref(), Some("7.5"));
    assert_eq!(requests[2].header("authorization"), Some(format!("Bearer {token}").as_str()));
    assert_eq!(requests[1].header("authorization"), None);

    sandbox.clear_requests();
    assert!(sandbox.requests().is_empty());
    get(&format!("{}/nowhere", sandbox.url()), None, &[]).await;
    assert_eq!(sandbox.requests().len(), 1);
}

#[tokio::test]
async fn concurrent_requests_are_all_recorded() {
    let sandbox = sandbox();
    let client = client();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = format!("{}/nowhere/{i}", sandbox.url());
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 404);
    }
    assert_eq!(sandbox.requests().len(), 20);
}

#[tokio::test]
async fn faults_replace_the_answer_a_number_of_times() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let url = secret_url(&sandbox, VAULT, "pw");
    sandbox.push_fault(
        Fault::new("/secrets/pw", 503)
            .method("GET")
            .times(2)
            .header("Retry-After", "0")
            .body(r#"{"error":{"code":"ServiceUnavailable","message":"try later"}}"#),
    );
    for _ in 0..2 {
        let response = get(&url, Some(&token), &[("api-version", KV_API)]).await;
        assert_eq!(response.headers()["retry-after"], "0");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert!(response.headers().contains_key("x-ms-request-id"));
        let (status, body) = status_json(response).await;
        assert_eq!((status, body["error"]["code"].as_str().unwrap()), (503, "ServiceUnavailable"));
    }
    assert_eq!(get(&url, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(), 200, "used up");
    let statuses: Vec<u16> = sandbox.requests().iter().skip(1).map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200], "faults are recorded too");
}

#[tokio::test]
async fn faults_filter_by_method_and_apply_to_every_route() {
    let sandbox = sandbox();
    sandbox.push_fault(Fault::new("/oauth2/v2.0/token", 500).method("GET"));
    sandbox.push_fault(Fault::throttled("/nowhere", 7));
    // A POST does not match the GET-only fault.
    let _ = sp_token(&sandbox, KV_SCOPE).await;
    let response = get(&format!("{}/nowhere", sandbox.url()), None, &[]).await;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    // Faults match on the query string too.
    sandbox.push_fault(Fault::new("comp=list", 500).body("plain failure"));
    let response =
        get(&format!("{}/blob/acct/c", sandbox.url()), None, &[("restype", "container"), ("comp", "list")]).await;
    assert_eq!(response.status().as_u16(), 500);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(response.text().await.unwrap(), "plain failure");
}

#[tokio::test]
#[should_panic(expected = "not an HTTP status")]
async fn invalid_faults_fail_loudly() {
    let sandbox = sandbox();
    sandbox.push_fault(Fault::new("", 42));
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let sandbox = sandbox();
    sandbox.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    get(&format!("{}/nowhere", sandbox.url()), None, &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    sandbox.set_latency(Duration::ZERO);
    let started = Instant::now();
    get(&format!("{}/nowhere", sandbox.url()), None, &[]).await;
    assert!(started.elapsed() < Duration::from_millis(150), "{:?}", started.elapsed());
}

#[tokio::test]
async fn unrouted_paths_answer_json_404_with_a_request_id() {
    let sandbox = sandbox();
    // Blob and DFS are routed now; Queue and Files are not faked.
    for path in ["/", "/queue/acct/q", "/file/acct/share", "/aad/x/oauth2/token"] {
        let response = get(&format!("{}{path}", sandbox.url()), None, &[]).await;
        let request_id = response.headers()["x-ms-request-id"].to_str().unwrap().to_string();
        assert_eq!(request_id.len(), 36, "{request_id}");
        assert!(!response.headers().contains_key("x-ms-correlation-request-id"), "only ARM sets it");
        let (status, body) = status_json(response).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "NotFound");
    }
}

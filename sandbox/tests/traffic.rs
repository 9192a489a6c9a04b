//! Recording, faults, latency and the common response headers, on every route.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use drift_sandbox::{Fault, SandboxOptions};
use serde_json::{Value, json};

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

/// A fresh path in a per-test folder under the system temp dir (no tempfile in the sandbox's dev-dependencies).
fn scratch(test: &str, file: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drift-sandbox-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(file)
}

fn read_lines(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// `--traffic-file` (library: `SandboxOptions::traffic_file`): one JSON line per request with the method, raw path
/// and query, every header, the status and the body (text, or base64 when it is not UTF-8), appended.
#[tokio::test]
async fn the_traffic_file_gets_one_json_line_per_request() {
    let path = scratch("traffic-file", "traffic.jsonl");
    std::fs::write(&path, "").unwrap();
    let sandbox = sandbox_with(SandboxOptions { traffic_file: Some(path.clone()), ..Default::default() });
    let token = sp_token(&sandbox, STORAGE_SCOPE).await;
    sandbox.add_storage_account("acct", "a2V5");
    sandbox.add_container("acct", "data");
    let response = client()
        .put(format!("{}/blob/acct/data/dir/x.bin?timeout=30", sandbox.url()))
        .bearer_auth(&token)
        .header("x-ms-version", X_MS_VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .header("x-ms-meta-Name", "v")
        .body(vec![0xffu8, 0x00, 0x01])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    get(&format!("{}/nowhere", sandbox.url()), None, &[]).await;

    let lines = read_lines(&path);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [0, 1, 2]);
    let token_line = &lines[0];
    assert_eq!((token_line["method"].as_str(), token_line["status"].as_u64()), (Some("POST"), Some(200)));
    assert_eq!(token_line["path"], format!("/aad/{TENANT}/oauth2/v2.0/token"));
    assert!(token_line["body"].as_str().unwrap().contains("grant_type=client_credentials"), "{token_line}");
    let put = &lines[1];
    assert_eq!(put["path"], "/blob/acct/data/dir/x.bin");
    assert_eq!(put["query"], "timeout=30");
    assert_eq!(put["status"], 201);
    assert_eq!((put["body"].is_null(), put["bodyBase64"].as_str()), (true, Some("/wAB")));
    let headers = put["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-ms-meta-name", "v"])), "{headers:?}");
    assert!(headers.contains(&json!(["authorization", format!("Bearer {token}")])), "{headers:?}");
    let missing = &lines[2];
    assert_eq!((missing["path"].as_str(), missing["status"].as_u64()), (Some("/nowhere"), Some(404)));
    assert!(missing["query"].is_null() && missing["body"].is_null() && missing["bodyBase64"].is_null());

    // Cleared recordings stay in the file; a second sandbox appends rather than truncates.
    sandbox.clear_requests();
    drop(sandbox);
    let again = sandbox_with(SandboxOptions { traffic_file: Some(path.clone()), ..Default::default() });
    get(&format!("{}/elsewhere", again.url()), None, &[]).await;
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["path"], "/elsewhere");
}

/// The binary's `--traffic-file`: written while it serves; a file that cannot be opened stops it before it prints
/// its address.
#[test]
fn the_binary_writes_its_traffic_file() {
    let path = scratch("traffic-binary", "traffic.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_drift-sandbox"))
        .args(["--port", "0", "--traffic-file", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("drift-sandbox listening on ").unwrap_or_else(|| panic!("{first}")).to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = runtime.block_on(async { get(&format!("{url}/nowhere"), None, &[("a", "b c")]).await.status() });
    assert_eq!(status.as_u16(), 404);
    child.kill().unwrap();
    child.wait().unwrap();
    let recorded = read_lines(&path);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!((recorded[0]["path"].as_str(), recorded[0]["query"].as_str()), (Some("/nowhere"), Some("a=b+c")));

    let unwritable = path.with_file_name("missing-dir").join("traffic.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_drift-sandbox"))
        .args(["--port", "0", "--traffic-file", unwritable.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the traffic file") && stderr.contains("missing-dir"), "{stderr}");
}

//! Starting and stopping: from plain code, from inside current-thread and multi-thread runtimes, fixed ports,
//! isolation between sandboxes, and the endpoint variables.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use drift_sandbox::{Sandbox, SandboxOptions};

/// One raw HTTP/1.1 exchange, so the sync test needs no async client.
fn raw_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[test]
fn starts_and_stops_from_plain_sync_code() {
    let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
    let port = sandbox.port();
    assert_ne!(port, 0);
    assert_eq!(sandbox.url(), format!("http://127.0.0.1:{port}"));
    let answer = raw_get(port, "/nowhere").unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("x-ms-request-id:"), "{answer}");
    drop(sandbox);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "dropping the sandbox closes its port");
}

#[tokio::test(flavor = "current_thread")]
async fn starts_inside_a_current_thread_runtime() {
    let sandbox = common::sandbox();
    let token = common::sp_token(&sandbox, common::KV_SCOPE).await;
    assert_eq!(token.split('.').count(), 3, "{token}");
    // Dropped inside the runtime: the server's runtime lives on its own thread, so this neither panics nor hangs.
    drop(sandbox);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_inside_a_multi_thread_runtime_with_keep_alive_connections() {
    let sandbox = common::sandbox();
    let client = common::client();
    for _ in 0..3 {
        let response = client.get(format!("{}/nowhere", sandbox.url())).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404);
    }
    let port = sandbox.port();
    // The client still holds a pooled connection; the drop must not wait for it.
    drop(sandbox);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_fixed_port_is_used_and_a_taken_one_is_an_error() {
    let first = Sandbox::start(SandboxOptions::default()).unwrap();
    let taken = Sandbox::start(SandboxOptions { port: first.port(), ..Default::default() });
    assert!(taken.is_err());
    let port = first.port();
    drop(first);
    let again = Sandbox::start(SandboxOptions { port, ..Default::default() }).unwrap();
    assert_eq!(again.port(), port);
}

#[tokio::test]
async fn sandboxes_are_isolated() {
    let a = common::sandbox();
    let b = Sandbox::start(SandboxOptions::default()).unwrap();
    assert_ne!(a.port(), b.port());
    let _ = common::sp_token(&a, common::KV_SCOPE).await;
    assert_eq!(a.requests().len(), 1);
    assert!(b.requests().is_empty());
    let response = common::post_token(&b, common::TENANT, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status().as_u16(), 400, "b has no tenants");
}

#[test]
fn env_points_every_service_at_the_sandbox() {
    let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
    let url = sandbox.url();
    let env = sandbox.env();
    let expected = [
        ("AZURE_AUTHORITY_HOST", format!("{url}/aad")),
        ("DRIFT_ARM_ENDPOINT", format!("{url}/arm")),
        ("DRIFT_KEYVAULT_ENDPOINT", format!("{url}/kv/{{vault}}")),
        ("DRIFT_BLOB_ENDPOINT", format!("{url}/blob/{{account}}")),
        ("DRIFT_DFS_ENDPOINT", format!("{url}/dfs/{{account}}")),
        ("DRIFT_IMDS_ENDPOINT", format!("{url}/imds")),
    ];
    let expected: Vec<(String, String)> = expected.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(env, expected);
    assert!(format!("{sandbox:?}").contains(&url));
}

#[test]
fn default_options() {
    let options = SandboxOptions::default();
    assert_eq!(options.port, 0);
    assert_eq!(options.latency, Duration::ZERO);
    assert_eq!(options.token_lifetime, Duration::from_secs(3599));
}

#[test]
fn handles_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
    assert_send_sync::<drift_sandbox::RecordedRequest>();
    assert_send_sync::<drift_sandbox::Fault>();
    let sandbox = std::sync::Arc::new(Sandbox::start(SandboxOptions::default()).unwrap());
    let seeding = {
        let sandbox = sandbox.clone();
        std::thread::spawn(move || sandbox.add_vault_secret("myvault", "pw", "x"))
    };
    assert_eq!(seeding.join().unwrap().len(), 32);
}

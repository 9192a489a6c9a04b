//! The transport faults the fault suite builds on: a hang, a lost answer, a slow body, a giant body, a broken
//! connection, and `skip` to pick the Nth matching request.

mod common;

use std::time::{Duration, Instant};

use common::*;
use drift_sandbox::Fault;

fn nowhere(sandbox: &drift_sandbox::Sandbox, i: usize) -> String {
    format!("{}/nowhere/{i}", sandbox.url())
}

#[tokio::test]
async fn hang_never_answers_and_is_recorded_on_arrival() {
    let sandbox = sandbox();
    sandbox.push_fault(Fault::hang("/nowhere/").skip(1));
    let client = client();
    // The first matching request is let through.
    assert_eq!(client.get(nowhere(&sandbox, 0)).send().await.unwrap().status().as_u16(), 404);
    let hung = client.get(nowhere(&sandbox, 1)).timeout(Duration::from_millis(500)).send().await;
    assert!(hung.unwrap_err().is_timeout());
    let seen: Vec<(String, u16)> = sandbox.requests().into_iter().map(|r| (r.path, r.status)).collect();
    assert_eq!(seen, [("/nowhere/0".to_string(), 404), ("/nowhere/1".to_string(), 0)]);
    // Used up: the next one is answered.
    assert_eq!(sandbox.faults_left(), 0);
    assert_eq!(client.get(nowhere(&sandbox, 2)).send().await.unwrap().status().as_u16(), 404);
    sandbox.push_fault(Fault::hang("/nowhere/"));
    assert_eq!(sandbox.faults_left(), 1);
    sandbox.clear_faults();
    assert_eq!(sandbox.faults_left(), 0);
    assert_eq!(client.get(nowhere(&sandbox, 3)).send().await.unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn a_lost_answer_still_takes_effect() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    // Issued tokens are the effect we can observe: the token request is handled, its answer lost.
    sandbox.push_fault(Fault::lost_answer("/oauth2/v2.0/token"));
    let url = format!("{}/aad/{TENANT}/oauth2/v2.0/token", sandbox.url());
    let form =
        [("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", SECRET), ("scope", KV_SCOPE)];
    let lost = client().post(&url).form(&form).timeout(Duration::from_millis(500)).send().await;
    assert!(lost.unwrap_err().is_timeout());
    let recorded = sandbox.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].status, 200, "the service answered; the client never saw it");
}

#[tokio::test]
async fn a_slow_body_trickles() {
    let sandbox = sandbox();
    sandbox.push_fault(Fault::slow_body("/nowhere/", 16, Duration::from_millis(50)));
    let started = Instant::now();
    let response = client().get(nowhere(&sandbox, 0)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.headers().get("content-length").is_none());
    let body = response.bytes().await.unwrap();
    let chunks = body.len().div_ceil(16) as u32;
    assert!(chunks >= 3, "a body long enough to trickle: {} bytes", body.len());
    assert!(started.elapsed() >= Duration::from_millis(50) * chunks, "{:?}", started.elapsed());
    assert!(String::from_utf8_lossy(&body).contains("NotFound"), "the service's own answer, slowly");
}

#[tokio::test]
async fn giant_bodies_stream_with_or_without_a_length() {
    let sandbox = sandbox();
    let size: u64 = 3 * 1024 * 1024 + 17;
    for declare in [true, false] {
        sandbox.push_fault(Fault::giant_body("/nowhere/", size, declare));
        let response = client().get(nowhere(&sandbox, 0)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers().get("content-length").is_some(), declare);
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len() as u64, size);
        assert!(body.starts_with(b"{\"value\":["));
    }
}

#[tokio::test]
async fn reset_breaks_the_connection_mid_answer() {
    let sandbox = sandbox();
    sandbox.push_fault(Fault::reset("/nowhere/"));
    // Depending on timing the headers may or may not have left before the body broke: either way the answer
    // never arrives whole.
    let outcome = match client().get(nowhere(&sandbox, 0)).send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the answer must not arrive");
}

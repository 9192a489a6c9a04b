//! The ARM front door through real HTTP: ARM-shaped 404s, api-version, and the bearer guard in ARM's shape.

mod common;

use std::time::Duration;

use common::*;
use drift_sandbox::{Sandbox, SandboxOptions};

const RG: &str = "subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-drift";

fn workspace_url(sandbox: &Sandbox) -> String {
    format!("{}/arm/{RG}/providers/Microsoft.MachineLearningServices/workspaces/ws", sandbox.url())
}

async fn assert_arm_401(response: reqwest::Response, code: &str) -> String {
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.starts_with("Bearer authorization_uri=\""), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let (status, body) = status_json(response).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn unknown_paths_get_an_arm_shaped_404_with_correlation_ids() {
    let sandbox = sandbox();
    let token = sp_token(&sandbox, ARM_SCOPE).await;
    let response = get(&workspace_url(&sandbox), Some(&token), &[("api-version", ARM_API)]).await;
    let headers = response.headers().clone();
    assert!(headers.contains_key("x-ms-request-id"));
    assert!(headers.contains_key("x-ms-correlation-request-id"));
    let (status, body) = status_json(response).await;
    assert_eq!(status, 404);
    assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{body}");

    // A caller's correlation id is echoed.
    let response = client()
        .get(workspace_url(&sandbox))
        .query(&[("api-version", ARM_API)])
        .bearer_auth(&token)
        .header("x-ms-correlation-request-id", "corr-123")
        .header("x-ms-client-request-id", "client-456")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-ms-correlation-request-id"], "corr-123");
    assert_eq!(response.headers()["x-ms-client-request-id"], "client-456");

    let root = get(&format!("{}/arm", sandbox.url()), Some(&token), &[("api-version", ARM_API)]).await;
    assert_eq!(root.status().as_u16(), 404);
}

#[tokio::test]
async fn api_version_is_required() {
    let sandbox = sandbox();
    let token = sp_token(&sandbox, ARM_SCOPE).await;
    let (status, body) = status_json(get(&workspace_url(&sandbox), Some(&token), &[]).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "MissingApiVersionParameter");
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_authentication_failed() {
    let sandbox = sandbox();
    let message =
        assert_arm_401(get(&workspace_url(&sandbox), None, &[("api-version", ARM_API)]).await, "AuthenticationFailed")
            .await;
    assert!(message.contains("'Authorization' header is missing"));
    let response = client()
        .get(workspace_url(&sandbox))
        .query(&[("api-version", ARM_API)])
        .header("Authorization", "Token abc")
        .send()
        .await
        .unwrap();
    assert_arm_401(response, "AuthenticationFailed").await;
}

#[tokio::test]
async fn unknown_token_is_invalid_authentication_token() {
    let sandbox = sandbox();
    let response = get(&workspace_url(&sandbox), Some("sbx.made-up"), &[("api-version", ARM_API)]).await;
    assert_arm_401(response, "InvalidAuthenticationToken").await;
}

#[tokio::test]
async fn expired_token_is_expired_authentication_token() {
    let sandbox = sandbox_with(SandboxOptions { token_lifetime: Duration::from_secs(1), ..Default::default() });
    let token = sp_token(&sandbox, ARM_SCOPE).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let message = assert_arm_401(
        get(&workspace_url(&sandbox), Some(&token), &[("api-version", ARM_API)]).await,
        "ExpiredAuthenticationToken",
    )
    .await;
    assert!(message.starts_with("The access token expiry UTC time '"), "{message}");

    let fresh = sp_token(&sandbox, ARM_SCOPE).await;
    sandbox.expire_all_tokens();
    assert_arm_401(
        get(&workspace_url(&sandbox), Some(&fresh), &[("api-version", ARM_API)]).await,
        "ExpiredAuthenticationToken",
    )
    .await;
}

#[tokio::test]
async fn wrong_audience_is_invalid_authentication_token_audience() {
    let sandbox = sandbox();
    let kv_token = sp_token(&sandbox, KV_SCOPE).await;
    let message = assert_arm_401(
        get(&workspace_url(&sandbox), Some(&kv_token), &[("api-version", ARM_API)]).await,
        "InvalidAuthenticationTokenAudience",
    )
    .await;
    assert!(message.contains("'https://vault.azure.net'"), "{message}");
    // The legacy ARM audience is still accepted.
    let legacy = sp_token(&sandbox, "https://management.core.windows.net/.default").await;
    assert_eq!(get(&workspace_url(&sandbox), Some(&legacy), &[("api-version", ARM_API)]).await.status().as_u16(), 404);
}

#[tokio::test]
async fn grants_give_authorization_failed() {
    let sandbox = sandbox();
    let token = sp_token(&sandbox, ARM_SCOPE).await;
    sandbox.grant(CLIENT, "arm/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/other-rg");
    let (status, body) =
        status_json(get(&workspace_url(&sandbox), Some(&token), &[("api-version", ARM_API)]).await).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("The client '{CLIENT}'")), "{message}");
    assert!(message.contains(&format!("over scope '/{RG}/providers")), "{message}");

    // ARM ids are case-insensitive.
    sandbox.grant(CLIENT, &format!("arm/{}", RG.to_lowercase()));
    assert_eq!(get(&workspace_url(&sandbox), Some(&token), &[("api-version", ARM_API)]).await.status().as_u16(), 404);
}

//! Helpers shared by the integration tests: a seeded sandbox, an HTTP client, token acquisition.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use drift_sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

pub const TENANT: &str = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
pub const CLIENT: &str = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";
pub const SECRET: &str = "s3cr3t~With/Odd+Chars=";
pub const FED_CLIENT: &str = "fed00000-0000-4000-8000-000000000001";
pub const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmRyaWZ0In0.c2ln";
pub const MI_PRINCIPAL: &str = "11111111-aaaa-4bbb-8ccc-dddddddddddd";
pub const VAULT: &str = "myvault";

pub const KV_SCOPE: &str = "https://vault.azure.net/.default";
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub const KV_API: &str = "7.5";
pub const ARM_API: &str = "2025-12-01";

/// A sandbox with one tenant, one service principal and one federated credential.
pub fn sandbox() -> Sandbox {
    sandbox_with(SandboxOptions::default())
}

pub fn sandbox_with(options: SandboxOptions) -> Sandbox {
    let sandbox = Sandbox::start(options).expect("sandbox starts");
    sandbox.add_tenant(TENANT);
    sandbox.add_service_principal(TENANT, CLIENT, SECRET);
    sandbox.add_federated_credential(TENANT, FED_CLIENT, ASSERTION);
    sandbox
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client")
}

pub fn token_url(sandbox: &Sandbox, tenant: &str) -> String {
    format!("{}/aad/{tenant}/oauth2/v2.0/token", sandbox.url())
}

/// Posts a form to the tenant's token endpoint.
pub async fn post_token(sandbox: &Sandbox, tenant: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client().post(token_url(sandbox, tenant)).form(form).send().await.expect("token request")
}

/// A token for the test service principal.
pub async fn sp_token(sandbox: &Sandbox, scope: &str) -> String {
    let response = post_token(
        sandbox,
        TENANT,
        &[("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", SECRET), ("scope", scope)],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("access_token").to_string()
}

/// A managed identity token from IMDS.
pub async fn mi_token(sandbox: &Sandbox, resource: &str) -> String {
    let response = client()
        .get(format!("{}/imds/metadata/identity/oauth2/token", sandbox.url()))
        .query(&[("api-version", "2018-02-01"), ("resource", resource)])
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds request");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("access_token").to_string()
}

pub fn secret_url(sandbox: &Sandbox, vault: &str, name: &str) -> String {
    format!("{}/kv/{vault}/secrets/{name}", sandbox.url())
}

/// GET with an optional bearer token and the given query.
pub async fn get(url: &str, token: Option<&str>, query: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client().get(url).query(query);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

/// Status and JSON body of a response.
pub async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

/// Asserts an AAD error: status, `error`, the AADSTS code and the body's other fields.
pub async fn assert_aad_error(response: reqwest::Response, status: u16, error: &str, code: u64) -> Value {
    let (actual, body) = status_json(response).await;
    assert_eq!(actual, status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().expect("error_description");
    assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
    assert!(description.contains("Trace ID: "), "{description}");
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{field} missing in {body}");
    }
    body
}

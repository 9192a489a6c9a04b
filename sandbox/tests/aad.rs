//! The AAD token endpoint through real HTTP: client secret and federated assertion success, and every rejection.

mod common;

use std::time::Duration;

use common::*;
use drift_sandbox::SandboxOptions;
use serde_json::Value;

/// The payload of a JWT, read without verifying (as azure-ai-ml reads the token it sends in x-azureml-token).
fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {token}");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url payload");
    serde_json::from_slice(&payload).expect("JSON claims")
}

fn secret_form(scope: &str) -> Vec<(&str, &str)> {
    vec![("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", SECRET), ("scope", scope)]
}

#[tokio::test]
async fn client_secret_grant_issues_a_jwt_shaped_bearer_token() {
    let sandbox = sandbox();
    let response = post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(headers["cache-control"].to_str().unwrap().contains("no-store"));
    assert!(headers.contains_key("x-ms-request-id"));
    let body: Value = response.json().await.unwrap();
    let fields: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields.len(), 4, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    // A JWT like Entra ID's (azure-ai-ml reads `aud` of the token it sends in x-azureml-token).
    let claims = jwt_claims(token);
    assert_eq!(claims["aud"], "https://vault.azure.net", "{claims}");
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["appid"], CLIENT);
    assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 3599);
}

#[tokio::test]
async fn federated_assertion_grant_issues_a_token() {
    let sandbox = sandbox();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", ASSERTION),
        ("scope", ARM_SCOPE),
    ];
    let (status, body) = status_json(post_token(&sandbox, TENANT, &form).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn token_lifetime_comes_from_the_options() {
    let sandbox = sandbox_with(SandboxOptions { token_lifetime: Duration::from_secs(2), ..Default::default() });
    let (_, body) = status_json(post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await).await;
    assert_eq!(body["expires_in"], 2);
    sandbox.set_token_lifetime(Duration::from_secs(30));
    let (_, body) = status_json(post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await).await;
    assert_eq!(body["expires_in"], 30);
}

#[tokio::test]
async fn tenant_ids_and_trailing_slash_resources_are_accepted_like_aad() {
    let sandbox = sandbox();
    let upper = TENANT.to_uppercase();
    let (status, body) =
        status_json(post_token(&sandbox, &upper, &secret_form("https://management.azure.com//.default")).await).await;
    assert_eq!(status, 200, "{body}");
    // The token's audience is ARM, so ARM accepts it (404: no provider route, but authenticated).
    let token = body["access_token"].as_str().unwrap();
    let response = get(&format!("{}/arm/subscriptions", sandbox.url()), Some(token), &[("api-version", ARM_API)]).await;
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn unknown_tenant_is_aadsts90002_with_the_full_error_body() {
    let sandbox = sandbox();
    let response = client()
        .post(token_url(&sandbox, "no-such-tenant"))
        .header("client-request-id", "c0ffee00-0000-4000-8000-000000000000")
        .form(&secret_form(KV_SCOPE))
        .send()
        .await
        .unwrap();
    let body = assert_aad_error(response, 400, "invalid_request", 90002).await;
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("AADSTS90002: Tenant 'no-such-tenant' not found."), "{description}");
    assert_eq!(body["correlation_id"], "c0ffee00-0000-4000-8000-000000000000", "AAD echoes client-request-id");
    assert_eq!(body["error_uri"], format!("{}/aad/error?code=90002", sandbox.url()));
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(timestamp.len() == 20 && timestamp.ends_with('Z'), "{timestamp}");
}

#[tokio::test]
async fn unknown_client_is_unauthorized_client_700016() {
    let sandbox = sandbox();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "99999999-0000-4000-8000-000000000000"),
        ("client_secret", SECRET),
        ("scope", KV_SCOPE),
    ];
    let body = assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "unauthorized_client", 700016).await;
    assert!(body["error_description"].as_str().unwrap().contains("was not found in the directory"));
}

#[tokio::test]
async fn client_registered_in_another_tenant_is_unknown_here() {
    let sandbox = sandbox();
    sandbox.add_tenant("other-tenant");
    let form = secret_form(KV_SCOPE);
    assert_aad_error(post_token(&sandbox, "other-tenant", &form).await, 400, "unauthorized_client", 700016).await;
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_7000215() {
    let sandbox = sandbox();
    let form =
        [("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", "nope"), ("scope", KV_SCOPE)];
    assert_aad_error(post_token(&sandbox, TENANT, &form).await, 401, "invalid_client", 7000215).await;
}

#[tokio::test]
async fn second_secret_is_also_valid() {
    let sandbox = sandbox();
    sandbox.add_service_principal(TENANT, CLIENT, "rotated");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", "rotated"),
        ("scope", KV_SCOPE),
    ];
    assert_eq!(post_token(&sandbox, TENANT, &form).await.status().as_u16(), 200);
    assert_eq!(post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await.status().as_u16(), 200);
}

#[tokio::test]
async fn assertion_errors() {
    let sandbox = sandbox();
    let jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let wrong = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", jwt_bearer),
        ("client_assertion", "eyJ.other.assertion"),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &wrong).await, 401, "invalid_client", 700213).await;

    let bad_type = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", "jwt"),
        ("client_assertion", ASSERTION),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &bad_type).await, 400, "invalid_request", 7000216).await;

    let no_type = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion", ASSERTION),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &no_type).await, 400, "invalid_request", 900144).await;

    let both = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("client_assertion_type", jwt_bearer),
        ("client_assertion", ASSERTION),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &both).await, 400, "invalid_request", 9000411).await;

    // A federated-only client presenting a secret has no such secret.
    let secret_for_federated = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_secret", SECRET),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &secret_for_federated).await, 401, "invalid_client", 7000215).await;
}

#[tokio::test]
async fn no_client_credential_is_invalid_client_7000218() {
    let sandbox = sandbox();
    let form = [("grant_type", "client_credentials"), ("client_id", CLIENT), ("scope", KV_SCOPE)];
    assert_aad_error(post_token(&sandbox, TENANT, &form).await, 401, "invalid_client", 7000218).await;
}

#[tokio::test]
async fn scope_must_be_a_single_default_scope() {
    let sandbox = sandbox();
    for scope in [
        "https://vault.azure.net",
        "https://vault.azure.net/user_impersonation",
        "https://vault.azure.net/.default https://management.azure.com/.default",
        "/.default",
    ] {
        let response = post_token(&sandbox, TENANT, &secret_form(scope)).await;
        let body = assert_aad_error(response, 400, "invalid_scope", 70011).await;
        assert!(body["error_description"].as_str().unwrap().contains(scope), "{body}");
    }
}

#[tokio::test]
async fn unknown_resource_is_aadsts500011() {
    let sandbox = sandbox();
    let response = post_token(&sandbox, TENANT, &secret_form("https://vault.azure.com/.default")).await;
    assert_aad_error(response, 400, "invalid_resource", 500011).await;
}

#[tokio::test]
async fn missing_parameters_are_aadsts900144() {
    let sandbox = sandbox();
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        ("grant_type", vec![("client_id", CLIENT), ("client_secret", SECRET), ("scope", KV_SCOPE)]),
        ("client_id", vec![("grant_type", "client_credentials"), ("client_secret", SECRET), ("scope", KV_SCOPE)]),
        ("scope", vec![("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", SECRET)]),
    ];
    for (parameter, form) in cases {
        let body = assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "invalid_request", 900144).await;
        assert!(body["error_description"].as_str().unwrap().contains(&format!("'{parameter}'")), "{body}");
    }
}

#[tokio::test]
async fn other_grant_types_are_unsupported() {
    let sandbox = sandbox();
    let form = [("grant_type", "password"), ("client_id", CLIENT), ("client_secret", SECRET), ("scope", KV_SCOPE)];
    assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "unsupported_grant_type", 70003).await;
}

#[tokio::test]
async fn duplicated_parameters_are_rejected() {
    let sandbox = sandbox();
    let mut form = secret_form(KV_SCOPE);
    form.push(("scope", ARM_SCOPE));
    let body = assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "invalid_request", 9000411).await;
    assert!(body["error_description"].as_str().unwrap().contains("'scope' is duplicated"));
}

#[tokio::test]
async fn body_must_be_form_encoded() {
    let sandbox = sandbox();
    let json_body = serde_json::json!({"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET, "scope": KV_SCOPE});
    let response = client().post(token_url(&sandbox, TENANT)).json(&json_body).send().await.unwrap();
    let body = assert_aad_error(response, 400, "invalid_request", 900144).await;
    assert!(body["error_description"].as_str().unwrap().contains("application/json"), "{body}");
}

#[tokio::test]
async fn only_post_is_accepted() {
    let sandbox = sandbox();
    let response = client().get(token_url(&sandbox, TENANT)).send().await.unwrap();
    let body = assert_aad_error(response, 400, "invalid_request", 900561).await;
    assert!(body["error_description"].as_str().unwrap().contains("Received a GET request"));
}

//! Key Vault GetSecret through real HTTP: the challenge, the SecretBundle, and every error path, including the
//! shared bearer guard (audience, expiry, grants) in Key Vault's shape.

mod common;

use std::time::Duration;

use common::*;
use drift_sandbox::{DEFAULT_TENANT_ID, Sandbox, SandboxOptions};

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn challenge_of(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn unauthenticated_request_gets_the_key_vault_challenge() {
    let sandbox = sandbox();
    let response = get(&secret_url(&sandbox, VAULT, "pw"), None, &[("api-version", KV_API)]).await;
    assert_eq!(
        challenge_of(&response),
        format!("Bearer authorization=\"{}/aad/{TENANT}\", resource=\"https://vault.azure.net\"", sandbox.url())
    );
    let (status, body) = status_json(response).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}})
    );
}

#[tokio::test]
async fn challenge_names_a_fixed_tenant_before_any_is_added() {
    let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
    assert_eq!(sandbox.challenge_tenant(), DEFAULT_TENANT_ID);
    let response = get(&secret_url(&sandbox, VAULT, "pw"), None, &[("api-version", KV_API)]).await;
    assert!(challenge_of(&response).contains(&format!("/aad/{DEFAULT_TENANT_ID}\"")));
}

#[tokio::test]
async fn get_secret_returns_a_secret_bundle() {
    let sandbox = sandbox();
    let version = sandbox.add_vault_secret(VAULT, "db-password", "hunter2");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    for path in ["db-password", "db-password/"] {
        let url = format!("{}/kv/{VAULT}/secrets/{path}", sandbox.url());
        let response = get(&url, Some(&token), &[("api-version", "2025-07-01")]).await;
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert!(response.headers().contains_key("x-ms-request-id"));
        let (status, body) = status_json(response).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["value"], "hunter2");
        let id = body["id"].as_str().unwrap();
        let prefix = format!("{}/kv/{VAULT}/secrets/db-password/", sandbox.url());
        assert!(id.starts_with(&prefix), "{id}");
        assert!(is_hex32(&id[prefix.len()..]), "{id}");
        assert_eq!(&id[prefix.len()..], version);
        let attributes = &body["attributes"];
        assert_eq!(attributes["enabled"], true);
        assert!(attributes["created"].as_u64().unwrap() > 1_700_000_000);
        assert_eq!(attributes["created"], attributes["updated"]);
        assert_eq!(attributes["recoveryLevel"], "Recoverable+Purgeable");
    }
}

#[tokio::test]
async fn versions_latest_and_explicit() {
    let sandbox = sandbox();
    let first = sandbox.add_vault_secret(VAULT, "pw", "one");
    let second = sandbox.add_vault_secret(VAULT, "pw", "two");
    assert_ne!(first, second);
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let base = secret_url(&sandbox, VAULT, "pw");
    let latest = status_json(get(&base, Some(&token), &[("api-version", KV_API)]).await).await.1;
    assert_eq!(latest["value"], "two");
    let old = status_json(get(&format!("{base}/{first}"), Some(&token), &[("api-version", KV_API)]).await).await.1;
    assert_eq!(old["value"], "one");
    assert!(old["id"].as_str().unwrap().ends_with(&first));

    let missing = "0123456789abcdef0123456789abcdef";
    let (status, body) =
        status_json(get(&format!("{base}/{missing}"), Some(&token), &[("api-version", KV_API)]).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "SecretNotFound");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("A secret with (name/id) pw/{missing} was not found"))
    );
}

#[tokio::test]
async fn names_are_case_insensitive() {
    let sandbox = sandbox();
    sandbox.add_vault_secret("MyVault", "Db-Password", "x");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let (status, body) = status_json(
        get(&secret_url(&sandbox, "myvault", "DB-PASSWORD"), Some(&token), &[("api-version", KV_API)]).await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().unwrap().contains("/kv/MyVault/secrets/Db-Password/"), "ids use the stored names");
}

#[tokio::test]
async fn unknown_secret_or_vault_is_secret_not_found() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    for (vault, name) in [(VAULT, "other"), ("othervault", "pw")] {
        let (status, body) =
            status_json(get(&secret_url(&sandbox, vault, name), Some(&token), &[("api-version", KV_API)]).await).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], "SecretNotFound");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("A secret with (name/id) {name} was not found in this key vault."))
        );
    }
}

#[tokio::test]
async fn invalid_secret_name_is_bad_parameter() {
    let sandbox = sandbox();
    let token = sp_token(&sandbox, KV_SCOPE).await;
    for name in ["db_password", "a.b", &"a".repeat(128)] {
        let (status, body) =
            status_json(get(&secret_url(&sandbox, VAULT, name), Some(&token), &[("api-version", KV_API)]).await).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["error"]["code"], "BadParameter");
        assert!(body["error"]["message"].as_str().unwrap().contains("invalid name"));
    }
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let url = secret_url(&sandbox, VAULT, "pw");
    let (status, body) = status_json(get(&url, Some(&token), &[]).await).await;
    assert_eq!((status, body["error"]["code"].as_str().unwrap()), (400, "BadParameter"));
    assert!(body["error"]["message"].as_str().unwrap().contains("'api-version' query parameter is missing"));
    let (status, body) = status_json(get(&url, Some(&token), &[("api-version", "2099-01-01")]).await).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("The specified version (2099-01-01) is not recognized")
    );
    let (status, _) =
        status_json(get(&url, Some(&token), &[("api-version", KV_API), ("outContentType", "text/plain")]).await).await;
    assert_eq!(status, 400);
    for version in ["7.4", "7.6", "2025-07-01"] {
        assert_eq!(get(&url, Some(&token), &[("api-version", version)]).await.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn token_for_another_audience_is_rejected_with_akv10022() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let arm_token = sp_token(&sandbox, ARM_SCOPE).await;
    let response = get(&secret_url(&sandbox, VAULT, "pw"), Some(&arm_token), &[("api-version", KV_API)]).await;
    assert!(challenge_of(&response).starts_with("Bearer authorization="));
    let (status, body) = status_json(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "Unauthorized");
    assert_eq!(
        body["error"]["message"],
        "AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com."
    );
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_rejected() {
    let sandbox = sandbox();
    let url = secret_url(&sandbox, VAULT, "pw");
    let (status, body) = status_json(get(&url, Some("sbx.never-issued"), &[("api-version", KV_API)]).await).await;
    assert_eq!((status, body["error"]["code"].as_str().unwrap()), (401, "Unauthorized"));
    let response = client()
        .get(&url)
        .query(&[("api-version", KV_API)])
        .header("Authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().starts_with("AKV10000"));
}

#[tokio::test]
async fn expired_tokens_are_rejected_and_fresh_ones_work() {
    let sandbox = sandbox_with(SandboxOptions { token_lifetime: Duration::from_secs(1), ..Default::default() });
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let url = secret_url(&sandbox, VAULT, "pw");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    assert_eq!(get(&url, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = get(&url, Some(&token), &[("api-version", KV_API)]).await;
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, body) = status_json(response).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("TokenExpired"), "{body}");
    let fresh = sp_token(&sandbox, KV_SCOPE).await;
    assert_eq!(get(&url, Some(&fresh), &[("api-version", KV_API)]).await.status().as_u16(), 200);
}

#[tokio::test]
async fn expire_all_tokens_forces_a_refresh() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let url = secret_url(&sandbox, VAULT, "pw");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let mi_before = {
        sandbox.set_managed_identity(MI_PRINCIPAL);
        mi_token(&sandbox, "https://vault.azure.net").await
    };
    sandbox.expire_all_tokens();
    for old in [&token, &mi_before] {
        let (status, body) = status_json(get(&url, Some(old), &[("api-version", KV_API)]).await).await;
        assert_eq!(status, 401, "{body}");
    }
    let fresh = sp_token(&sandbox, KV_SCOPE).await;
    assert_eq!(get(&url, Some(&fresh), &[("api-version", KV_API)]).await.status().as_u16(), 200);
}

#[tokio::test]
async fn grants_restrict_access_once_any_is_made() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    sandbox.add_vault_secret("myvault2", "pw", "y");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let url = secret_url(&sandbox, VAULT, "pw");
    let other_vault = secret_url(&sandbox, "myvault2", "pw");
    assert_eq!(
        get(&other_vault, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(),
        200,
        "open before any grant"
    );

    sandbox.grant("someone-else", "kv");
    let (status, body) = status_json(get(&url, Some(&token), &[("api-version", KV_API)]).await).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "Forbidden");
    assert_eq!(body["error"]["innererror"]["code"], "AccessDenied");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Caller is not authorized to perform action on resource."), "{message}");
    assert!(message.contains(CLIENT), "{message}");

    sandbox.grant(CLIENT, &format!("kv/{VAULT}"));
    assert_eq!(get(&url, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(), 200);
    // Whole segments only: kv/myvault does not cover kv/myvault2.
    assert_eq!(get(&other_vault, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(), 403);
}

#[tokio::test]
async fn managed_identity_principal_needs_its_own_grant() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    sandbox.add_vault_secret(VAULT, "pw", "x");
    sandbox.grant(CLIENT, "kv");
    let token = mi_token(&sandbox, "https://vault.azure.net/").await;
    let url = secret_url(&sandbox, VAULT, "pw");
    assert_eq!(get(&url, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(), 403);
    sandbox.grant(MI_PRINCIPAL, "/kv/myvault/");
    assert_eq!(get(&url, Some(&token), &[("api-version", KV_API)]).await.status().as_u16(), 200);
}

#[tokio::test]
async fn other_methods_and_operations() {
    let sandbox = sandbox();
    sandbox.add_vault_secret(VAULT, "pw", "x");
    let token = sp_token(&sandbox, KV_SCOPE).await;
    let response = client()
        .put(secret_url(&sandbox, VAULT, "pw"))
        .query(&[("api-version", KV_API)])
        .bearer_auth(&token)
        .json(&serde_json::json!({"value": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let keys_url = format!("{}/kv/{VAULT}/keys/k1", sandbox.url());
    let (status, body) = status_json(get(&keys_url, Some(&token), &[("api-version", KV_API)]).await).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"].is_string());
    // Unknown operations are still behind the guard.
    assert_eq!(get(&keys_url, None, &[("api-version", KV_API)]).await.status().as_u16(), 401);
    assert_eq!(get(&format!("{}/kv/{VAULT}", sandbox.url()), None, &[]).await.status().as_u16(), 401);
}

//! IMDS and App Service managed identity endpoints through real HTTP.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use drift_sandbox::Sandbox;
use serde_json::Value;

fn imds_url(sandbox: &Sandbox) -> String {
    format!("{}/imds/metadata/identity/oauth2/token", sandbox.url())
}

async fn imds(sandbox: &Sandbox, query: &[(&str, &str)], metadata: Option<&str>) -> (u16, Value) {
    let mut request = client().get(imds_url(sandbox)).query(query);
    if let Some(value) = metadata {
        request = request.header("Metadata", value);
    }
    status_json(request.send().await.unwrap()).await
}

async fn app_service(sandbox: &Sandbox, query: &[(&str, &str)], identity_header: Option<&str>) -> (u16, Value) {
    let mut request = client().get(format!("{}/msi/token", sandbox.url())).query(query);
    if let Some(value) = identity_header {
        request = request.header("X-IDENTITY-HEADER", value);
    }
    status_json(request.send().await.unwrap()).await
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A query, and what the App Service error message must contain.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str);
/// A query, the IMDS `error`, and what its description must contain.
type ImdsCase<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

const IMDS_OK: [(&str, &str); 2] = [("api-version", "2018-02-01"), ("resource", "https://vault.azure.net")];

#[tokio::test]
async fn imds_issues_tokens_with_string_numbers() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    let (status, body) = imds(&sandbox, &IMDS_OK, Some("true")).await;
    assert_eq!(status, 200, "{body}");
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "client_id",
            "expires_in",
            "expires_on",
            "ext_expires_in",
            "not_before",
            "resource",
            "token_type"
        ]
    );
    assert_eq!(body["client_id"], MI_PRINCIPAL);
    assert_eq!(body["expires_in"], "3599");
    assert_eq!(body["ext_expires_in"], "3599");
    assert_eq!(body["resource"], "https://vault.azure.net");
    assert_eq!(body["token_type"], "Bearer");
    let expires_on: u64 = body["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(expires_on.abs_diff(unix_now() + 3599) <= 2, "{expires_on}");
    let not_before: u64 = body["not_before"].as_str().unwrap().parse().unwrap();
    assert!(not_before.abs_diff(unix_now()) <= 2);

    // The token is good for Key Vault.
    sandbox.add_vault_secret(VAULT, "pw", "hunter2");
    let token = body["access_token"].as_str().unwrap();
    let (status, secret) =
        status_json(get(&secret_url(&sandbox, VAULT, "pw"), Some(token), &[("api-version", KV_API)]).await).await;
    assert_eq!(status, 200, "{secret}");
    assert_eq!(secret["value"], "hunter2");
}

#[tokio::test]
async fn imds_requires_the_metadata_header() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    for header in [None, Some("false")] {
        let (status, body) = imds(&sandbox, &IMDS_OK, header).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            serde_json::json!({"error": "invalid_request", "error_description": "Required metadata header not specified"})
        );
    }
}

#[tokio::test]
async fn imds_without_managed_identity_is_identity_not_found() {
    let sandbox = sandbox();
    let (status, body) = imds(&sandbox, &IMDS_OK, Some("true")).await;
    assert_eq!(status, 400);
    assert_eq!(body, serde_json::json!({"error": "invalid_request", "error_description": "Identity not found"}));
    sandbox.set_managed_identity(MI_PRINCIPAL);
    sandbox.clear_managed_identity();
    assert_eq!(imds(&sandbox, &IMDS_OK, Some("true")).await.0, 400);
}

#[tokio::test]
async fn imds_parameter_errors() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    let cases: [ImdsCase; 5] = [
        (&[("resource", "https://vault.azure.net")], "invalid_request", "api-version was not specified"),
        (&[("api-version", "2017-09-01"), ("resource", "https://vault.azure.net")], "invalid_request", "is invalid"),
        (&[("api-version", "2018-02-01")], "invalid_request", "Required audience parameter not specified"),
        (
            &[("api-version", "2018-02-01"), ("resource", "https://vault.azure.net"), ("client_id", "someone-else")],
            "invalid_request",
            "Identity not found",
        ),
        (&[("api-version", "2018-02-01"), ("resource", "https://example.com")], "invalid_resource", "AADSTS500011"),
    ];
    for (query, error, text) in cases {
        let (status, body) = imds(&sandbox, query, Some("true")).await;
        assert_eq!(status, 400, "{query:?}: {body}");
        assert_eq!(body["error"], error, "{query:?}: {body}");
        assert!(body["error_description"].as_str().unwrap().contains(text), "{query:?}: {body}");
    }
    // Naming the one identity explicitly is fine.
    let named =
        [("api-version", "2019-08-01"), ("resource", "https://management.azure.com/"), ("client_id", MI_PRINCIPAL)];
    let (status, body) = imds(&sandbox, &named, Some("true")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resource"], "https://management.azure.com/", "the resource is echoed as sent");
}

#[tokio::test]
async fn imds_only_answers_get() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    let response = client().post(imds_url(&sandbox)).query(&IMDS_OK).header("Metadata", "true").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

#[tokio::test]
async fn app_service_issues_tokens() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    let header = sandbox.identity_header();
    let query = [("api-version", "2019-08-01"), ("resource", "https://management.azure.com")];
    let (status, body) = app_service(&sandbox, &query, Some(&header)).await;
    assert_eq!(status, 200, "{body}");
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["access_token", "client_id", "expires_on", "resource", "token_type"]);
    assert_eq!(body["client_id"], MI_PRINCIPAL);
    assert_eq!(body["resource"], "https://management.azure.com");
    assert_eq!(body["token_type"], "Bearer");
    let expires_on: u64 = body["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(expires_on.abs_diff(unix_now() + 3599) <= 2);

    // Good for ARM (authenticated, then 404 for lack of a provider route).
    let token = body["access_token"].as_str().unwrap();
    let response = get(&format!("{}/arm/subscriptions", sandbox.url()), Some(token), &[("api-version", ARM_API)]).await;
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn app_service_requires_the_identity_header() {
    let sandbox = sandbox();
    sandbox.set_managed_identity(MI_PRINCIPAL);
    let query = [("api-version", "2019-08-01"), ("resource", "https://vault.azure.net")];
    for header in [None, Some("wrong")] {
        let (status, body) = app_service(&sandbox, &query, header).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["statusCode"], 401);
        assert!(body["message"].as_str().unwrap().contains("X-IDENTITY-HEADER"));
        assert!(body["correlationId"].is_string());
    }
}

#[tokio::test]
async fn app_service_parameter_errors() {
    let sandbox = sandbox();
    let header = sandbox.identity_header();
    let query = [("api-version", "2019-08-01"), ("resource", "https://vault.azure.net")];
    let (status, body) = app_service(&sandbox, &query, Some(&header)).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (400, "Unable to load the proper Managed Identity."));

    sandbox.set_managed_identity(MI_PRINCIPAL);
    let cases: [Case; 5] = [
        (&[("api-version", "2017-09-01"), ("resource", "https://vault.azure.net")], "does not support the API version"),
        (&[("resource", "https://vault.azure.net")], "does not support the API version"),
        (&[("api-version", "2019-08-01")], "'resource'"),
        (
            &[("api-version", "2019-08-01"), ("resource", "https://vault.azure.net"), ("principal_id", "other")],
            "Unable to load the proper Managed Identity.",
        ),
        (&[("api-version", "2019-08-01"), ("resource", "https://example.com")], "AADSTS500011"),
    ];
    for (query, text) in cases {
        let (status, body) = app_service(&sandbox, query, Some(&header)).await;
        assert_eq!(status, 400, "{query:?}: {body}");
        assert_eq!(body["statusCode"], 400);
        assert!(body["message"].as_str().unwrap().contains(text), "{query:?}: {body}");
    }
}

#[tokio::test]
async fn managed_identity_variables_are_separate_from_env() {
    let sandbox = sandbox();
    let env = sandbox.env();
    assert!(env.iter().all(|(name, _)| !name.starts_with("IDENTITY_")), "{env:?}");
    let mi = sandbox.managed_identity_env();
    assert_eq!(mi[0], ("IDENTITY_ENDPOINT".to_string(), format!("{}/msi/token", sandbox.url())));
    assert_eq!(mi[1], ("IDENTITY_HEADER".to_string(), sandbox.identity_header()));
    assert!(sandbox.identity_header().len() >= 32);
    let other = common::sandbox();
    assert_ne!(other.identity_header(), sandbox.identity_header(), "random per sandbox");
}

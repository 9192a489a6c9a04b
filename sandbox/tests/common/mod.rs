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
    // Built together with drift, reqwest carries rustls without a built-in crypto provider (drift picks ring);
    // install it so a client can be built whichever way the features were unified.
    let _ = rustls::crypto::ring::default_provider().install_default();
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

// ---- Azure ML and storage helpers ----

use drift_sandbox::WorkspaceRef;
use serde_json::json;

pub const SUB: &str = "00000000-0000-4000-8000-000000000001";
pub const RG: &str = "rg-drift";
pub const WS: &str = "ws-drift";
pub const ML_SCOPE: &str = "https://ml.azure.com/.default";
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
pub const X_MS_VERSION: &str = "2026-02-06";

/// A sandbox with the test principal and one workspace.
pub fn ml_sandbox() -> (Sandbox, WorkspaceRef) {
    let sandbox = sandbox();
    let ws = sandbox.add_workspace(SUB, RG, WS);
    (sandbox, ws)
}

/// Calls to one workspace with ARM and Azure ML tokens of the test principal.
pub struct Arm {
    pub base: String,
    pub url: String,
    pub token: String,
    pub ml_token: String,
    pub client: reqwest::Client,
}

impl Arm {
    pub async fn new(sandbox: &Sandbox, ws: &WorkspaceRef) -> Arm {
        Arm {
            base: format!("{}/arm{}", sandbox.url(), ws.arm_id()),
            url: sandbox.url(),
            token: sp_token(sandbox, ARM_SCOPE).await,
            ml_token: sp_token(sandbox, ML_SCOPE).await,
            client: client(),
        }
    }

    pub async fn get(&self, suffix: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{suffix}", self.base))
            .query(&[("api-version", ARM_API)])
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        status_json(response).await
    }

    /// GET of an absolute URL (a `nextLink` or `Location`), as given.
    pub async fn follow(&self, url: &str) -> reqwest::Response {
        self.client.get(url).bearer_auth(&self.token).send().await.unwrap()
    }

    pub async fn put(&self, suffix: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .put(format!("{}{suffix}", self.base))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        status_json(response).await
    }

    /// A pipeline-job PUT as the SDK sends it: with the bare Azure ML token in `x-azureml-token`.
    pub async fn put_job(&self, id: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .put(format!("{}/jobs/{id}", self.base))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(&self.token)
            .header("x-azureml-token", &self.ml_token)
            .json(body)
            .send()
            .await
            .unwrap();
        status_json(response).await
    }

    pub async fn post(&self, suffix: &str) -> reqwest::Response {
        self.client
            .post(format!("{}{suffix}", self.base))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }
}

/// A minimal valid pipeline-job body reading `uri` as input `training_data`.
pub fn pipeline_body(display_name: &str, uri: &str) -> Value {
    json!({"properties": {
        "jobType": "Pipeline",
        "displayName": display_name,
        "experimentName": "churn",
        "computeId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/cpu",
        "tags": {"team": "ml"},
        "properties": {"owner": "drift"},
        "inputs": {
            "training_data": {"jobInputType": "mltable", "uri": uri, "mode": "ReadOnlyMount"},
            "learning_rate": {"jobInputType": "literal", "value": "0.1"}
        },
        "jobs": {"train": {"type": "command", "inputs": {"data": {"job_input_type": "literal", "value": "${{parent.inputs.training_data}}"}}}},
        "settings": {"continue_on_step_failure": false},
        "outputs": {"model": {"jobOutputType": "mlflow_model", "mode": "ReadWriteMount"}}
    }})
}

// Storage: an independent Shared Key signer, written from the documentation (not from the sandbox's code).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 { Sha256::digest(key).to_vec() } else { key.to_vec() };
    k.resize(64, 0);
    let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).chain(message.iter().copied()).collect();
    let inner = Sha256::digest(&inner);
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).chain(inner.iter().copied()).collect();
    Sha256::digest(&outer).to_vec()
}

pub fn http_now() -> String {
    chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The Shared Key `Authorization` value for a request (headers: lower-case names).
pub fn shared_key(account: &str, key_b64: &str, method: &str, url: &str, headers: &[(String, String)]) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    let header = |name: &str| {
        let value = headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
        if name == "content-length" && value == "0" { String::new() } else { value }
    };
    let standard = [
        "content-encoding",
        "content-language",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "if-modified-since",
        "if-match",
        "if-none-match",
        "if-unmodified-since",
        "range",
    ];
    let mut text = method.to_string();
    for name in standard {
        text.push('\n');
        text.push_str(&header(name));
    }
    text.push('\n');
    let mut ms: Vec<&(String, String)> = headers.iter().filter(|(n, _)| n.starts_with("x-ms-")).collect();
    ms.sort();
    for (name, value) in ms {
        text.push_str(&format!("{name}:{value}\n"));
    }
    text.push_str(&format!("/{account}{}", url.path()));
    let mut params: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in url.query_pairs() {
        params.entry(k.to_lowercase()).or_default().push(v.into_owned());
    }
    for (k, mut v) in params {
        v.sort();
        text.push_str(&format!("\n{k}:{}", v.join(",")));
    }
    let key = STANDARD.decode(key_b64).unwrap();
    format!("SharedKey {account}:{}", STANDARD.encode(hmac_sha256(&key, text.as_bytes())))
}

/// Sends a storage request signed with Shared Key; `headers` are added and signed (plus x-ms-date and
/// x-ms-version, and Content-Length for bodies).
pub async fn signed(
    account: &str,
    key_b64: &str,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> reqwest::Response {
    let mut all: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_lowercase(), v.to_string())).collect();
    all.push(("x-ms-date".into(), http_now()));
    all.push(("x-ms-version".into(), X_MS_VERSION.into()));
    if !body.is_empty() || method == reqwest::Method::PUT {
        all.push(("content-length".into(), body.len().to_string()));
    }
    let authorization = shared_key(account, key_b64, method.as_str(), url, &all);
    let mut request = client().request(method, url).header("authorization", authorization).body(body);
    for (name, value) in &all {
        if name != "content-length" {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    request.send().await.unwrap()
}

/// The `<Code>` of a Blob XML error body.
pub fn xml_code(body: &str) -> String {
    body.split("<Code>").nth(1).and_then(|rest| rest.split("</Code>").next()).unwrap_or_default().to_string()
}

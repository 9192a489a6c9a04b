//! The seed loader (library and `--seed` of the binary): the example file end to end, and rejected files.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use drift_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

const EXAMPLE_TENANT: &str = "0b7e1f52-3c4d-4e5f-8a9b-1c2d3e4f5a6b";
const EXAMPLE_CLIENT: &str = "5f0c3a1e-8d2b-4c6a-9e7f-0a1b2c3d4e5f";
const EXAMPLE_SECRET: &str = "sandbox-secret~not-a-real-one";

fn example_path() -> String {
    format!("{}/examples/seed.json", env!("CARGO_MANIFEST_DIR"))
}

fn example() -> Value {
    serde_json::from_str(&std::fs::read_to_string(example_path()).unwrap()).unwrap()
}

fn bare() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).unwrap()
}

async fn example_token(url: &str, scope: &str) -> (u16, Value) {
    let response = client()
        .post(format!("{url}/aad/{EXAMPLE_TENANT}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", EXAMPLE_CLIENT),
            ("client_secret", EXAMPLE_SECRET),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    status_json(response).await
}

#[tokio::test]
async fn example_seed_loads_and_serves() {
    let sandbox = bare();
    sandbox.load_seed(&example()).unwrap();
    let (status, body) = example_token(&sandbox.url(), KV_SCOPE).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let url = secret_url(&sandbox, "drift-demo-kv", "storage-account-key");
    let (status, secret) = status_json(get(&url, Some(token), &[("api-version", KV_API)]).await).await;
    assert_eq!(status, 200, "{secret}");
    assert_eq!(secret["value"], "c2FuZGJveC1zdG9yYWdlLWtleQ==");
    // The example grants the service principal only its vault and resource group.
    sandbox.add_vault_secret("other-vault", "x", "y");
    assert_eq!(
        get(&secret_url(&sandbox, "other-vault", "x"), Some(token), &[("api-version", KV_API)]).await.status().as_u16(),
        403
    );
    // Federated credential and managed identity from the seed work too.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkcmlmdC1jaSJ9."),
        ("scope", ARM_SCOPE),
    ];
    assert_eq!(post_token(&sandbox, EXAMPLE_TENANT, &form).await.status().as_u16(), 200);
    let _ = mi_token(&sandbox, "https://vault.azure.net").await;
    assert_eq!(sandbox.challenge_tenant(), EXAMPLE_TENANT);
}

fn assert_rejected(seed: Value, expected: &[&str]) {
    let sandbox = bare();
    let error = sandbox.load_seed(&seed).unwrap_err();
    for part in expected {
        assert!(error.contains(part), "{error:?} lacks {part:?}");
    }
}

#[test]
fn unknown_keys_are_rejected_with_the_known_ones_listed() {
    assert_rejected(
        json!({"tenants": [], "workspaces": {}}),
        &["unknown key \"workspaces\"", "servicePrincipals", "vaults"],
    );
    assert_rejected(json!([1, 2]), &["must be a JSON object", "an array"]);
}

#[test]
fn unknown_and_missing_fields_name_the_section_and_entry() {
    let seed = json!({"servicePrincipals": [
        {"tenantId": "t", "clientId": "c", "clientSecret": "s"},
        {"tenantId": "t", "clientId": "c", "clientSecret": "s", "secret": "typo"}
    ]});
    assert_rejected(seed, &["seed section \"servicePrincipals\"", "entry 1", "unknown field `secret`"]);
    let seed = json!({"grants": [{"principal": "p"}]});
    assert_rejected(seed, &["seed section \"grants\"", "entry 0", "missing field `resourcePrefix`"]);
    let seed = json!({"managedIdentity": {"principalId": "p", "clientId": "c"}});
    assert_rejected(seed, &["managedIdentity", "unknown field `clientId`"]);
    let seed = json!({"federatedCredentials": [{"tenantId": "t", "clientId": "c", "assertion": ""}]});
    assert_rejected(seed, &["federatedCredentials", "assertion must not be empty"]);
}

#[test]
fn wrong_types_are_rejected() {
    assert_rejected(json!({"tenants": "t1"}), &["seed section \"tenants\"", "expected an array"]);
    assert_rejected(json!({"vaults": {"myvault": {"pw": 42}}}), &["seed section \"vaults\""]);
}

#[test]
fn key_vault_naming_rules_apply_to_seeds() {
    assert_rejected(
        json!({"vaults": {"myvault": {"db_password": "x"}}}),
        &["\"db_password\"", "not a valid Key Vault secret name"],
    );
    assert_rejected(json!({"vaults": {"kv": {"pw": "x"}}}), &["vault name \"kv\""]);
}

#[tokio::test]
async fn a_rejected_seed_changes_nothing() {
    let sandbox = bare();
    let mut seed = example();
    seed["grants"] = json!([{"principal": "p", "resourcePrefix": "kv", "extra": 1}]);
    assert!(sandbox.load_seed(&seed).is_err());
    let (status, body) = example_token(&sandbox.url(), KV_SCOPE).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_codes"], json!([90002]), "the tenant section was not applied");
}

#[test]
fn managed_identity_may_be_null() {
    let sandbox = bare();
    sandbox.load_seed(&json!({"managedIdentity": null, "tenants": ["t"]})).unwrap();
}

#[test]
#[should_panic(expected = "not a valid Key Vault secret name")]
fn add_vault_secret_enforces_names() {
    bare().add_vault_secret("myvault", "not_valid", "x");
}

/// The binary: prints its address and `export` lines, serves the seed, stops on SIGTERM.
#[test]
fn binary_serves_a_seed_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drift-sandbox"))
        .args(["--port", "0", "--seed", &example_path(), "--latency-ms", "1", "--token-lifetime-secs", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("drift-sandbox listening on ").unwrap_or_else(|| panic!("{first}")).to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let exports: Vec<String> = (0..6).map(|_| lines.next().unwrap().unwrap()).collect();
    assert_eq!(exports[0], format!("export AZURE_AUTHORITY_HOST={url}/aad"));
    assert_eq!(exports[2], format!("export DRIFT_KEYVAULT_ENDPOINT='{url}/kv/{{vault}}'"));
    assert!(exports.iter().all(|line| line.starts_with("export ")), "{exports:?}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, body) = runtime.block_on(example_token(&url, KV_SCOPE));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 5);

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "drift-sandbox did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn binary_rejects_a_bad_seed_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("drift-sandbox-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"tenants": ["t"], "vault": {}}"#).unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_drift-sandbox")).args(["--seed", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown key \"vault\""), "{stderr}");
    assert!(output.stdout.is_empty());

    std::fs::write(&bad, "{ not json").unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_drift-sandbox")).args(["--seed", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not valid JSON"));
    std::fs::remove_dir_all(&dir).unwrap();
}

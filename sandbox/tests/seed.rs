//! The seed loader (library and `--seed` of the binary): the example file end to end, and rejected files.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use drift_sandbox::{Sandbox, SandboxOptions};
// STORAGE_SCOPE, ARM_SCOPE and X_MS_VERSION come from common.
use serde_json::{Value, json};

const EXAMPLE_TENANT: &str = "0b7e1f52-3c4d-4e5f-8a9b-1c2d3e4f5a6b";
const EXAMPLE_CLIENT: &str = "5f0c3a1e-8d2b-4c6a-9e7f-0a1b2c3d4e5f";
const EXAMPLE_SECRET: &str = "sandbox-secret~not-a-real-one";

fn example_path() -> String {
    format!("{}/examples/seed.json", env!("CARGO_MANIFEST_DIR"))
}

/// The example seed as a value, its relative `localDir`s made absolute (a value has no folder to resolve them from).
fn example() -> Value {
    let mut seed: Value = serde_json::from_str(&std::fs::read_to_string(example_path()).unwrap()).unwrap();
    let examples = format!("{}/examples", env!("CARGO_MANIFEST_DIR"));
    for account in seed["storageAccounts"].as_array_mut().unwrap() {
        for container in account["containers"].as_object_mut().unwrap().values_mut() {
            let directories = container.get_mut("directories").and_then(Value::as_array_mut);
            for directory in directories.into_iter().flatten() {
                let relative = directory["localDir"].as_str().unwrap().to_string();
                directory["localDir"] = json!(format!("{examples}/{relative}"));
            }
        }
    }
    seed
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
        // A misspelt section: the singular of `workspaces`.
        json!({"tenants": [], "workspace": {}}),
        &["unknown key \"workspace\"", "servicePrincipals", "vaults", "workspaces", "storageAccounts"],
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

const EXAMPLE_WS: &str = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-drift/providers/Microsoft.MachineLearningServices/workspaces/drift-demo-ws";

/// The example file through `load_seed_file`: storage with the Delta log, the workspace with its datastores, data
/// versions and jobs, and the job settings.
#[tokio::test]
async fn example_seed_file_seeds_storage_and_azure_ml() {
    let sandbox = bare();
    sandbox.load_seed_file(std::path::Path::new(&example_path())).unwrap();
    let (_, body) = example_token(&sandbox.url(), STORAGE_SCOPE).await;
    let storage_token = body["access_token"].as_str().unwrap().to_string();
    let listing = client()
        .get(format!("{}/dfs/driftdemolake/raw", sandbox.url()))
        .query(&[("resource", "filesystem"), ("recursive", "false"), ("directory", "tables/sales/_delta_log")])
        .header("x-ms-version", X_MS_VERSION)
        .bearer_auth(&storage_token)
        .send()
        .await
        .unwrap();
    let (status, listing) = status_json(listing).await;
    assert_eq!(status, 200, "{listing}");
    assert_eq!(listing["paths"].as_array().unwrap().len(), 10);

    let (_, body) = example_token(&sandbox.url(), ARM_SCOPE).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let arm = |suffix: &str| {
        client()
            .get(format!("{}/arm{EXAMPLE_WS}{suffix}", sandbox.url()))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(&token)
            .send()
    };
    let (status, latest) = status_json(
        client()
            .get(format!("{}/arm{EXAMPLE_WS}/data/raw-tables-sales-mltable/versions", sandbox.url()))
            .query(&[("api-version", ARM_API), ("$orderBy", "createdtime desc"), ("$top", "1")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{latest}");
    assert_eq!(latest["value"][0]["name"], "20250101000000");
    assert_eq!(latest["value"][0]["systemData"]["createdAt"], "2025-01-01T00:00:05.0000000+00:00");
    let (_, store) = status_json(arm("/datastores/workspaceblobstore").await.unwrap()).await;
    assert_eq!(store["properties"]["accountName"], "driftdemows");
    let (_, jobs) = status_json(
        client()
            .get(format!("{}/arm{EXAMPLE_WS}/jobs", sandbox.url()))
            .query(&[("api-version", ARM_API), ("jobType", "Pipeline"), ("listViewType", "ActiveOnly")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let names: Vec<&str> = jobs["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fraud-20250103", "churn-20250102", "churn-20241215"]);
    let (_, job) = status_json(arm("/jobs/churn-20250102").await.unwrap()).await;
    assert_eq!(job["properties"]["status"], "Completed");
    assert_eq!(job["properties"]["jobs"]["train"]["type"], "command");
}

#[test]
fn storage_and_workspace_sections_are_checked_before_anything_is_applied() {
    let ws = |extra: Value| {
        let mut entry = json!({"subscriptionId": "s", "resourceGroup": "rg", "name": "ws1"});
        for (k, v) in extra.as_object().unwrap() {
            entry[k] = v.clone();
        }
        json!({"workspaces": [entry]})
    };
    assert_rejected(
        json!({"storageAccounts": [{"name": "Bad", "key": "a2V5"}]}),
        &["storageAccounts", "not a valid storage account name"],
    );
    assert_rejected(
        json!({"storageAccounts": [{"name": "acct01", "key": "a2V5", "containers": {"c01": {"directories": [{"prefix": "x", "localDir": "/no/such/dir"}]}}}]}),
        &["cannot read it"],
    );
    assert_rejected(
        json!({"storageAccounts": [{"name": "acct01", "key": "a2V5", "containers": {"c01": {"blobs": {"a": {"text": "x", "base64": "eA=="}}}}}]}),
        &["exactly one of text and base64"],
    );
    assert_rejected(ws(json!({"name": "w"})), &["workspaces", "does not match"]);
    assert_rejected(
        ws(
            json!({"datastores": [{"name": "raw", "properties": {"datastoreType": "AzureDataLakeGen2", "accountName": "a", "filesystem": "f", "credentials": {"credentialsType": "Sas"}}}]}),
        ),
        &["datastores entry 0 (raw)", "secrets"],
    );
    assert_rejected(
        ws(
            json!({"data": [{"name": "d", "version": "1", "properties": {"dataType": "uri_folder", "dataUri": "azureml://datastores/missing/paths/p"}}]}),
        ),
        &["data entry 0", "missing"],
    );
    assert_rejected(ws(json!({"jobs": [{"id": "-x"}]})), &["jobs entry 0"]);
    assert_rejected(ws(json!({"computes": ["ok", "not ok"]})), &["computes", "\"not ok\""]);
    assert_rejected(ws(json!({"jobs": [{"id": "j", "inputs": {"a": {"uri": "x"}}}]})), &["jobInputType"]);
    assert_rejected(
        ws(json!({"blobstore": {"account": "acct01", "container": "c01", "credentials": "Key"}})),
        &["AccountKey, Sas or None"],
    );
    assert_rejected(
        ws(json!({"generate": {"jobs": 10, "groups": 2, "asset": "a", "inputName": "i", "versions": []}})),
        &["versions"],
    );
    assert_rejected(
        json!({"jobSettings": {"scripts": [{"match": "x", "outcome": "Explode"}]}}),
        &["jobSettings", "exactly one of outcome"],
    );
    assert_rejected(json!({"jobSettings": {"pageSize": 0}}), &["pageSize"]);
}

#[tokio::test]
async fn a_workspace_seed_can_generate_and_script() {
    let sandbox = bare();
    sandbox
        .load_seed(&json!({
            "tenants": [EXAMPLE_TENANT],
            "servicePrincipals": [{"tenantId": EXAMPLE_TENANT, "clientId": EXAMPLE_CLIENT, "clientSecret": EXAMPLE_SECRET}],
            "workspaces": [{"subscriptionId": "s1", "resourceGroup": "rg1", "name": "big-ws",
                "blobstore": {"account": "bigwsblobs", "container": "azureml", "credentials": "Sas"},
                "computes": ["cpu-cluster"],
                "generate": {"jobs": 500, "groups": 5, "asset": "sales", "inputName": "training_data", "versions": ["1", "2"], "seed": 3}}],
            "jobSettings": {"pageSize": 50, "steps": ["Queued", "Completed"], "scripts": [{"match": "model000_", "status": "Hibernating"}]}
        }))
        .unwrap();
    let (_, body) = example_token(&sandbox.url(), ARM_SCOPE).await;
    let token = body["access_token"].as_str().unwrap();
    let base = format!(
        "{}/arm/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/big-ws",
        sandbox.url()
    );
    let (status, page) = status_json(
        client()
            .get(format!("{base}/jobs"))
            .query(&[("api-version", ARM_API), ("jobType", "Pipeline")])
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["value"].as_array().unwrap().len(), 50);
    assert!(page["nextLink"].is_string());
    let scripted = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["properties"]["displayName"].as_str().unwrap().starts_with("model000_"))
        .unwrap();
    assert_eq!(scripted["properties"]["status"], "Hibernating", "a scripted generated job ends where its script says");
    let (_, secrets) = status_json(
        client()
            .post(format!("{base}/datastores/workspaceblobstore/listSecrets"))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(secrets["secretsType"], "Sas");
    let (status, compute) = status_json(
        client()
            .get(format!("{base}/computes/cpu-cluster"))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, compute["name"].as_str()), (200, Some("cpu-cluster")), "{compute}");
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

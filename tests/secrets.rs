//! Secrets never leave their type: whole pipeline runs at `trace` log level (registrator with a datastore secret,
//! SAS and account-key uploads, Key Vault reads; retrainer with submissions and cancels; failures) must not print
//! the client secret, any token the sandbox issued, a storage key or a SAS signature — on stdout or stderr.

mod common;

use common::ml::*;
use common::*;
use drift_sandbox::{BlobstoreCredential, JobScript};

/// Every bearer token and SAS signature that crossed the wire, as seen by the sandbox.
fn wire_secrets(sb: &Sandbox) -> Vec<String> {
    let mut found = Vec::new();
    for r in sb.requests() {
        for (name, value) in &r.headers {
            let n = name.to_ascii_lowercase();
            if n == "authorization" || n == "x-azureml-token" || n == "x-identity-header" {
                let v = value.trim_start_matches("Bearer ").trim_start_matches("SharedKey ").to_string();
                found.push(v.rsplit(':').next().unwrap_or(&v).to_string());
            }
        }
        if let Some(sig) = r.query_param("sig") {
            found.push(sig);
        }
    }
    found.retain(|s| s.len() >= 8);
    found.sort();
    found.dedup();
    found
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} leaks a secret ({}…)", &s[..6]);
    }
}

#[test]
fn trace_logs_of_whole_runs_hold_no_secret() {
    let (sb, ws) = ml_sandbox();
    let key = "c2VjcmV0LXN0b3JhZ2Uta2V5LXZhbHVlLTEyMzQ1Njc4";
    sb.add_storage_account("lakeacct", key);
    sb.add_directory(
        "lakeacct",
        "curated",
        "delta/t",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delta/small"),
    )
    .unwrap();
    sb.set_managed_identity("mi");
    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
    sb.add_vault_secret(VAULT, "TenantID", TENANT);
    let reg = format!(
        "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml: {{subscriptionId: {SUBSCRIPTION}, resourceGroup: {RG}, mlWorkspaceName: {WS}}}\n    storageAccountName: lakeacct\n    containerName: curated\n    containerDataPath: delta/t\n"
    );
    let (_a, reg_cfg) = write_temp("reg.yaml", &reg);
    let mut outputs = Vec::new();
    // Registrator with credentials from Key Vault, account-key upload.
    outputs.push(drift(
        &["--log-level", "trace", "--output", "json", "run", "--config", &reg_cfg, "--vault_name", VAULT],
        &base_env(&sb),
    ));
    // Again with a SAS blobstore and --force, credentials from the environment, JSON logs.
    sb.set_workspace_blobstore(&ws, "wsblob", "uploads", BlobstoreCredential::Sas);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    outputs.push(drift(
        &["--log-level", "trace", "--log-format", "json", "run", "--config", &reg_cfg, "--force"],
        &sp_env(&sb),
    ));
    // Retrainer: a submission that hangs, times out and is canceled.
    let latest = outputs[0].report()["details"]["version"].as_str().unwrap().to_string();
    sb.add_job(
        &ws,
        job(
            "base2",
            "fraud_20261101000000_x",
            at(1),
            &[("training_data", &arm_data_id("curated-delta-t-mltable", &latest))],
        ),
    );
    sb.script_job("fraud", JobScript::Hang);
    let (_b, ret_cfg) =
        retrainer_config(&[("training_data", "curated-delta-t-mltable")], 1, 1, "cancelOnTimeout: true");
    outputs.push(drift(
        &["--log-level", "trace", "--output", "json", "run", "--config", &ret_cfg, "--force"],
        &sp_env(&sb),
    ));
    // A rejected secret.
    let mut bad = sp_env(&sb);
    bad.retain(|(k, _)| k != "AZURE_CLIENT_SECRET");
    bad.push(("AZURE_CLIENT_SECRET".into(), "wrong-secret-value-0001".into()));
    outputs.push(drift(&["--log-level", "trace", "auth", "describe"], &bad));

    assert_eq!(outputs[0].code, 0, "{}", outputs[0].stderr);
    assert_eq!(outputs[1].code, 0, "{}", outputs[1].stderr);
    assert_eq!(outputs[2].code, 5, "{}", outputs[2].stderr);
    assert_eq!(outputs[3].code, 3, "{}", outputs[3].stderr);
    let mut secrets = wire_secrets(&sb);
    assert!(secrets.len() >= 5, "the runs must have used tokens: {}", secrets.len());
    secrets.push(CLIENT_SECRET.to_string());
    secrets.push("wrong-secret-value-0001".to_string());
    secrets.push(key.to_string());
    secrets.push(sb.identity_header());
    for (i, o) in outputs.iter().enumerate() {
        assert!(o.stderr.contains("TRACE"), "trace logging is on (run {i}):\n{}", o.stderr);
        assert_clean(&format!("run {i} stdout"), &o.stdout, &secrets);
        assert_clean(&format!("run {i} stderr"), &o.stderr, &secrets);
    }
}

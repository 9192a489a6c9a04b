//! Behaviour that environment variables drive, each with a test of its own: `DRIFT_CLOUD` picks the cloud's
//! endpoints and audiences, `DRIFT_SECRETS_ENCODING` decodes Key Vault values before a config from ADLS is read,
//! a `DRIFT_LOG` filter directive narrows the logs to one target, and an abfss config whose own `cloud` differs
//! from the one its URL suggested is honoured for everything after it is read.

mod common;

use common::ml::*;
use common::*;

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn drift_cloud_picks_the_cloud() {
    // No endpoint overrides: only the cloud profile decides what `auth describe --no-verify` shows.
    let env = |cloud: &str| {
        vec![
            ("AZURE_CLIENT_ID".to_string(), CLIENT_ID.to_string()),
            ("AZURE_CLIENT_SECRET".to_string(), CLIENT_SECRET.to_string()),
            ("AZURE_TENANT_ID".to_string(), TENANT.to_string()),
            ("DRIFT_CLOUD".to_string(), cloud.to_string()),
            ("PATH".to_string(), "/nonexistent".to_string()),
        ]
    };
    let out = drift(&["auth", "describe", "--no-verify"], &env("AzureChinaCloud"));
    out.assert_code(0);
    assert!(
        out.stdout.contains("login.chinacloudapi.cn") && out.stdout.contains("management.chinacloudapi.cn"),
        "{}",
        out.stdout
    );
    let out = drift(&["auth", "describe", "--no-verify"], &env("azureusgovernment"));
    out.assert_code(0);
    assert!(out.stdout.contains("login.microsoftonline.us"), "{}", out.stdout);
    let out = drift(&["auth", "describe", "--no-verify"], &env("Mars"));
    out.assert_code(2);
    assert!(out.stderr.contains("DRIFT_CLOUD") && out.stderr.contains("AzureChinaCloud"), "{}", out.stderr);
}

/// A config in ADLS is read with the service principal before the config (and its `secretsEncoding`) is known,
/// so `DRIFT_SECRETS_ENCODING` says how the vault's values are encoded for that first read.
#[test]
fn drift_secrets_encoding_decodes_the_vault_before_an_abfss_config_is_read() {
    let (sb, ws) = ml_sandbox();
    sb.add_vault_secret(VAULT, "ApplicationID", &b64(CLIENT_ID));
    sb.add_vault_secret(VAULT, "ApplicationPassword", &b64(CLIENT_SECRET));
    sb.add_vault_secret(VAULT, "TenantID", &b64(TENANT));
    sb.set_managed_identity("vm-principal");
    add_versions(&sb, &ws, "sales", &["1"]);
    sb.add_job(&ws, job("churn-1", "churn_20261101000000_a1", at(0), &[("training_data", &arm_data_id("sales", "1"))]));
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 30, 1, "secretsEncoding: base64");
    sb.add_storage_account("configacct", "Y29uZmlnLWFjY291bnQta2V5LWZvci10ZXN0cw==");
    sb.add_blob("configacct", "configs", "retrainer.yaml", std::fs::read(&config).unwrap());
    let origin = "abfss://configs@configacct.dfs.core.windows.net/retrainer.yaml";
    let args = ["--output", "json", "plan", "--config", origin, "--vault_name", VAULT];
    let mut env = base_env(&sb);
    // Without the variable the base64 text is taken as the client id itself, which is not a GUID.
    let out = drift(&args, &env);
    assert!(matches!(out.code, 2 | 3), "undecoded values must fail: {}", out.stderr);
    env.push(("DRIFT_SECRETS_ENCODING".into(), "base64".into()));
    let out = drift(&args, &env);
    out.assert_code(0);
    assert_eq!(out.report()["outcome"], "planned", "{}", out.stdout);
    let bad: Vec<_> = env
        .iter()
        .map(
            |(k, v)| {
                if k == "DRIFT_SECRETS_ENCODING" { (k.clone(), "rot13".to_string()) } else { (k.clone(), v.clone()) }
            },
        )
        .collect();
    let out = drift(&args, &bad);
    out.assert_code(2);
    assert!(out.stderr.contains("DRIFT_SECRETS_ENCODING"), "{}", out.stderr);
}

#[test]
fn a_drift_log_directive_narrows_the_logs_to_its_target() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 30, 1, "");
    let mut env = sp_env(&sb);
    env.push(("DRIFT_LOG".into(), "warn,drift::http=debug".into()));
    let out = drift(&["plan", "--config", &config], &env);
    assert!(out.stderr.contains("DEBUG") && out.stderr.contains("response"), "drift::http at debug: {}", out.stderr);
    assert!(!out.stderr.contains(" INFO "), "other targets stay at warn: {}", out.stderr);
}

/// The abfss URL says public cloud (`core.windows.net`), the config inside says `cloud: AzureChinaCloud`: after
/// the read, drift resolves endpoints and credentials again for the config's cloud, so its next token is for
/// the China cloud's ARM (which this sandbox's tenant does not know — the refusal proves the switch).
#[test]
fn an_abfss_config_naming_another_cloud_is_honoured_after_it_is_read() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 30, 1, "cloud: AzureChinaCloud");
    sb.add_storage_account("configacct", "Y29uZmlnLWFjY291bnQta2V5LWZvci10ZXN0cw==");
    sb.add_blob("configacct", "configs", "retrainer.yaml", std::fs::read(&config).unwrap());
    let out =
        drift(&["plan", "--config", "abfss://configs@configacct.dfs.core.windows.net/retrainer.yaml"], &sp_env(&sb));
    out.assert_code(3);
    assert!(out.stderr.contains("management.chinacloudapi.cn"), "{}", out.stderr);
    assert_eq!(calls(&sb, "/dfs/").len(), 1, "the config was read once, with the public cloud's storage token");
}

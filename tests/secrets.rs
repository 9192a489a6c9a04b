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

#[path = "support/certs.rs"]
mod certs;

/// Every `client_assertion` the sandbox received (each one is a credential for its ten minutes).
fn sent_assertions(sb: &Sandbox) -> Vec<String> {
    sb.requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .flat_map(|r| url::form_urlencoded::parse(&r.body).into_owned().collect::<Vec<_>>())
        .filter(|(k, _)| k == "client_assertion")
        .map(|(_, v)| v)
        .collect()
}

/// Certificate principals at `trace` level: the key, the certificate password and the signed assertions never
/// appear; only the path and the thumbprint do.
#[test]
fn trace_logs_of_certificate_runs_hold_no_key_password_or_assertion() {
    use common::ml::*;
    let set = certs::CertSet::new();
    let (sb, ws) = ml_sandbox();
    sb.add_certificate_credential(TENANT, CLIENT_ID, &set.der).unwrap();
    let env = |file: &str, password: &str| {
        let mut env = base_env(&sb);
        env.push(("AZURE_CLIENT_ID".into(), CLIENT_ID.into()));
        env.push(("AZURE_TENANT_ID".into(), TENANT.into()));
        env.push(("AZURE_CLIENT_CERTIFICATE_PATH".into(), set.path(file)));
        env.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD".into(), password.into()));
        env.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN".into(), "1".into()));
        env
    };
    add_versions(&sb, &ws, "curated-delta-t-mltable", &["20261101000000"]);
    sb.add_job(
        &ws,
        job(
            "base1",
            "fraud_20261101000000_x",
            at(1),
            &[("training_data", &arm_data_id("curated-delta-t-mltable", "20261101000000"))],
        ),
    );
    let (_c, ret_cfg) = retrainer_config(&[("training_data", "curated-delta-t-mltable")], 60, 1, "");
    let outputs = [
        drift(&["--log-level", "trace", "--output", "json", "auth", "describe"], &env("aes.pfx", certs::PASSWORD)),
        drift(
            &["--log-level", "trace", "--log-format", "json", "auth", "describe"],
            &env("encrypted.pem", certs::PASSWORD),
        ),
        drift(
            &["--log-level", "trace", "--output", "json", "plan", "--config", &ret_cfg],
            &env("tdes.pfx", certs::PASSWORD),
        ),
        drift(&["--log-level", "trace", "auth", "describe"], &env("aes.pfx", "wrong-cert-password-0001")),
        drift(&["--log-level", "trace", "auth", "describe"], &env("encrypted.pem", "wrong-cert-password-0001")),
    ];
    for (i, code) in [0, 0, 0, 3, 3].into_iter().enumerate() {
        assert_eq!(outputs[i].code, code, "run {i}: {}", outputs[i].stderr);
    }
    let assertions = sent_assertions(&sb);
    assert!(assertions.len() >= 3, "the runs signed assertions: {}", assertions.len());
    let mut secrets = wire_secrets(&sb);
    secrets.extend(assertions.iter().cloned());
    // Their signatures in 24-character slices too: a log line could carry part of an assertion (any 47 characters
    // of a signature hold one whole slice).
    for signature in assertions.iter().filter_map(|a| a.rsplit('.').next()) {
        secrets.extend(
            signature.as_bytes().chunks(24).filter(|c| c.len() == 24).map(|c| String::from_utf8_lossy(c).into_owned()),
        );
    }
    secrets.push(certs::PASSWORD.to_string());
    secrets.push("wrong-cert-password-0001".to_string());
    // The private key, in slices of its PEM body.
    secrets.extend(
        set.key_base64.as_bytes().chunks(24).filter(|c| c.len() == 24).map(|c| String::from_utf8_lossy(c).into_owned()),
    );
    for (i, o) in outputs.iter().enumerate() {
        // The refused files fail before anything is logged; the others ran with trace logging.
        assert!(i >= 3 || o.stderr.contains("TRACE"), "trace logging is on (run {i}):\n{}", o.stderr);
        assert_clean(&format!("cert run {i} stdout"), &o.stdout, &secrets);
        assert_clean(&format!("cert run {i} stderr"), &o.stderr, &secrets);
    }
    // What may be shown is shown: the file and the thumbprint.
    assert_eq!(outputs[0].report()["details"]["certificate"]["thumbprint"], set.sha1_hex.as_str());
}

//! Issue 9, rows 1, 2 and 14: identifiers that would become hosts, URL paths or query values — from flags, the
//! environment, a Key Vault's secrets and the config — are refused before any request carries them. Each bad value
//! runs through the real command path (`run`, `plan`, `validate`, `auth describe`) against a sandbox; the run must
//! exit 2 (3 for a Key Vault secret that does not hold what its name says: a credentials problem), and no recorded
//! request may contain the value — in its path, query, header values or body, raw, percent-encoded or
//! JSON-escaped. Values checked before any I/O must leave the sandbox with no request at all. The same paths with
//! good values still work.

use super::setup::*;
use crate::common::ml::*;
use crate::common::*;

/// Another subscription: an asset of another workspace is named with it.
const OTHER_SUB: &str = "99999999-8888-7777-6666-555555555555";

fn env_with(mut env: Vec<(String, String)>, set: &[(&str, &str)], unset: &[&str]) -> Vec<(String, String)> {
    env.retain(|(k, _)| !unset.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k));
    env.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// `%XX` sequences decoded (lossy), and `+` as a space when `form` (query strings and form bodies).
fn percent_decoded(s: &str, form: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) if form => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The forms a value takes on the wire: as is, percent-encoded (path and form styles), JSON-escaped.
fn wire_forms(value: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json = serde_json::to_string(value).unwrap();
    let mut forms = vec![value.to_string(), form.replace('+', "%20"), form, json[1..json.len() - 1].to_string()];
    forms.sort();
    forms.dedup();
    forms
}

/// Every request from index `from` on that carries `value` anywhere, as `METHOD path (where)`.
fn requests_carrying(sb: &Sandbox, from: usize, value: &str) -> Vec<String> {
    let forms = wire_forms(value);
    let mut found = Vec::new();
    for r in sb.requests().iter().skip(from) {
        let query = r.query.clone().unwrap_or_default();
        let body = r.body_text();
        let mut places = vec![
            ("path", r.path.clone()),
            ("path", percent_decoded(&r.path, false)),
            ("query", query.clone()),
            ("query", percent_decoded(&query, true)),
            ("body", body.clone()),
            ("body", percent_decoded(&body, true)),
        ];
        places.extend(r.headers.iter().map(|(name, v)| ("header", format!("{name}: {v}"))));
        for (place, text) in places {
            if forms.iter().any(|f| text.contains(f.as_str())) {
                found.push(format!("{} {} ({place})", r.method, r.path));
                break;
            }
        }
    }
    found
}

/// Runs drift with `args` and `env`: it must exit `code`, and no request it made may carry `bad`; with
/// `no_requests`, it must make none at all.
fn refused(sb: &Sandbox, args: &[&str], env: &[(String, String)], bad: &str, code: u8, no_requests: bool) {
    let before = sb.requests().len();
    let out = drift(args, env);
    let label = format!("drift {args:?} (bad value {bad:?})");
    assert_eq!(out.code, code, "{label}: exit code; stderr:\n{}", out.stderr);
    let carrying = requests_carrying(sb, before, bad);
    assert!(carrying.is_empty(), "{label}: requests carried the bad value: {carrying:#?}");
    let made: Vec<String> =
        sb.requests().iter().skip(before).map(|r| format!("{} {} -> {}", r.method, r.path, r.status)).collect();
    if no_requests {
        assert!(made.is_empty(), "{label}: expected no request at all, got {made:#?}");
    }
    // A token must not have been asked for on the strength of a bad value either.
    if code != 0 {
        assert!(!made.iter().any(|m| m.contains("/aad/")), "{label}: a token request was made: {made:#?}");
    }
    // The message says which flag, variable, secret or key is wrong.
    assert!(out.stderr.contains("error:"), "{label}: {}", out.stderr);
}

/// Row 2: versions that would become `…/versions/{v}` path segments and job input ids.
#[test]
fn bad_data_asset_versions_send_nothing() {
    let (sb, _ws) = trained_workspace();
    let (_d, config) = retrainer_yaml("");
    let long = "9".repeat(300);
    let corpus = [
        "../../x",
        "a b",
        long.as_str(),
        "2026\n0101",
        "%2e%2e",
        "..",
        ".x",
        "-1",
        "\u{200b}",
        "x/y",
        "x?api-version=1",
        "x#y",
        "3&x=1",
        "vé",
        "{{tasks.reg.values.data_asset_versoin}}",
    ];
    for bad in corpus {
        for command in ["run", "plan"] {
            refused(&sb, &[command, "--config", &config, "--data_asset_version", bad], &sp_env(&sb), bad, 2, true);
        }
        // The legacy form (`spark_job` flags without a subcommand) goes the same way.
        refused(&sb, &["--config", &config, "--data_asset_version", bad], &sp_env(&sb), bad, 2, true);
    }
    refused(
        &sb,
        &["plan", "--config", &config, "--model_name_prefix", "churn,fr\naud"],
        &sp_env(&sb),
        "fr\naud",
        2,
        true,
    );
    // Several bad flags at once are all named.
    let out = drift(
        &["plan", "--config", &config, "--data_asset_version", "../x", "--tenant", "a/b", "--vault_name", "k/v"],
        &sp_env(&sb),
    );
    out.assert_code(2);
    for flag in ["--data_asset_version", "--tenant", "--vault_name"] {
        assert!(out.stderr.contains(flag), "{flag} not named:\n{}", out.stderr);
    }
}

/// Rows 1 and 2: tenants go into the token URL path; via the flag and the environment.
#[test]
fn bad_tenants_send_nothing() {
    let (sb, _ws) = trained_workspace();
    let (_d, config) = retrainer_yaml("");
    let no_tenant_env = env_with(sp_env(&sb), &[], &["AZURE_TENANT_ID"]);
    for bad in ["../x", "..", "a/b", "x?y=1", "t#", "contoso.com/../x", "evil.com/oauth2?", "common", "a b.com"] {
        refused(&sb, &["run", "--config", &config, "--tenant", bad], &no_tenant_env, bad, 2, true);
        refused(&sb, &["auth", "describe", "--tenant", bad], &no_tenant_env, bad, 2, true);
        // AZURE_TENANT_ID set: the flag would not even be used, but a value that is no tenant is refused anyway.
        refused(&sb, &["plan", "--config", &config, "--tenant", bad], &sp_env(&sb), bad, 2, true);
        let bad_env = env_with(sp_env(&sb), &[("AZURE_TENANT_ID", bad)], &[]);
        refused(&sb, &["run", "--config", &config], &bad_env, bad, 2, true);
        refused(&sb, &["auth", "describe"], &bad_env, bad, 2, true);
    }
    for bad in ["../x", "app-id-1", "9f3c1a52-6d0e-4b7a-8c21-5e4f3a2b1c0d/../x"] {
        let bad_env = env_with(sp_env(&sb), &[("AZURE_CLIENT_ID", bad)], &[]);
        refused(&sb, &["auth", "describe"], &bad_env, bad, 2, true);
        refused(&sb, &["plan", "--config", &config], &bad_env, bad, 2, true);
    }
}

/// Row 1: a vault name becomes the host the managed identity's Key Vault token is sent to.
#[test]
fn bad_vault_names_send_nothing() {
    let (sb, _ws) = trained_workspace();
    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
    sb.add_vault_secret(VAULT, "TenantID", TENANT);
    sb.set_managed_identity("vm-principal");
    let (_d, config) = retrainer_yaml("");
    let long = "k".repeat(25);
    let corpus = [
        "127.0.0.1:P/steal#",
        "a.evil.com",
        "kv/../x",
        "x--y",
        "kv",
        long.as_str(),
        "kvé",
        "-kv",
        "kv-",
        "1kv",
        "kv_prod",
        "kv prod",
        "kv?x=1",
        "kv@evil",
    ];
    // No AZURE_CLIENT_ID/SECRET: the Key Vault credential path, with a managed identity (the sandbox's IMDS) ready
    // to hand out a Key Vault token.
    let env = base_env(&sb);
    for bad in corpus {
        refused(&sb, &["auth", "describe", "--vault_name", bad], &env, bad, 2, true);
        refused(&sb, &["run", "--config", &config, "--vault_name", bad, "--tenant", TENANT], &env, bad, 2, true);
        refused(&sb, &["plan", "--config", &config, "--vault_name", bad], &env, bad, 2, true);
    }
}

/// Row 2, values read from a Key Vault: the vault is read, but a TenantID or ApplicationID that is not one never
/// reaches the token endpoint. A credentials problem (exit 3) naming the vault and the secret, not the value.
#[test]
fn bad_identifiers_in_the_vault_send_nothing() {
    for (secret, bad) in [
        ("TenantID", "../../steal"),
        ("TenantID", "evil.example/x?"),
        ("TenantID", "common"),
        ("ApplicationID", "x/../y"),
        ("ApplicationID", "not-a-client-id"),
    ] {
        let (sb, _ws) = trained_workspace();
        sb.add_vault_secret(VAULT, "ApplicationID", if secret == "ApplicationID" { bad } else { CLIENT_ID });
        sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
        sb.add_vault_secret(VAULT, "TenantID", if secret == "TenantID" { bad } else { TENANT });
        sb.set_managed_identity("vm-principal");
        let before = sb.requests().len();
        let out = drift(&["auth", "describe", "--vault_name", VAULT], &base_env(&sb));
        out.assert_code(3);
        assert!(out.stderr.contains(&format!("Key Vault {VAULT}: secret {secret} is not valid")), "{}", out.stderr);
        assert!(!out.stderr.contains(bad), "the value is not echoed: {}", out.stderr);
        let carrying = requests_carrying(&sb, before, bad);
        assert!(carrying.is_empty(), "{secret}={bad:?} was sent: {carrying:#?}");
        assert_eq!(token_requests(&sb), 0, "{secret}={bad:?}: no token was requested for it");
    }
}

/// Row 14 and config names: another workspace's asset, names that would become URL segments the registrator writes.
#[test]
fn bad_config_values_send_nothing() {
    let (sb, _ws) = trained_workspace();
    let other_arm = format!(
        "/subscriptions/{OTHER_SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/data/sales"
    );
    let retrainer_values = [
        (other_arm.clone(), OTHER_SUB.to_string()),
        (format!("{other_arm}/versions/3"), OTHER_SUB.to_string()),
        (format!("azureml:{other_arm}"), OTHER_SUB.to_string()),
        (
            format!("azureml://subscriptions/{SUBSCRIPTION}/resourcegroups/rg-elsewhere/workspaces/{WS}/data/sales"),
            "rg-elsewhere".to_string(),
        ),
        (
            format!(
                "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/ws-elsewhere/data/sales/versions/1"
            ),
            "ws-elsewhere".to_string(),
        ),
        ("azureml://locations/westeurope/workspaces/0a1b2c/data/sales".to_string(), "0a1b2c".to_string()),
        ("azureml://registries/shared-reg/data/sales/versions/1".to_string(), "shared-reg".to_string()),
        ("../../x".to_string(), "../../x".to_string()),
        ("'sales/../../jobs'".to_string(), "sales/../../jobs".to_string()),
    ];
    for (value, needle) in &retrainer_values {
        let (_d, config) = retrainer_config(&[("training_data", value)], 30, 1, "");
        for command in ["validate", "plan", "run"] {
            refused(&sb, &[command, "--config", &config], &sp_env(&sb), needle, 2, true);
        }
    }
    let registrator = |path: &str, extra: &str| {
        write_temp(
            "registrator.yaml",
            &format!(
                "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: {ACCOUNT}\n    containerName: {CONTAINER}\n    containerDataPath: {path}\n{extra}"
            ),
        )
    };
    for (path, extra, needle) in [
        ("delta/sales.v2/daily", "", "sales.v2"),
        ("delta/sales daily", "", "sales daily"),
        ("delta/../../x", "", "../../x"),
        (TABLE_PATH, "    apiVersion: 2025-12-01&x=1\n", "&x=1"),
        (TABLE_PATH, "    apiVersion: '2025-12-01#'\n", "2025-12-01#"),
    ] {
        let (_d, config) = registrator(path, extra);
        for command in ["validate", "plan", "run"] {
            refused(&sb, &[command, "--config", &config], &sp_env(&sb), needle, 2, true);
        }
    }
    // Several problems in one config are all listed, one per line.
    let (_d, config) = retrainer_config(&[("training_data", &other_arm), ("bad-name", "sales")], 30, 1, "");
    let out = drift(&["validate", "--config", &config], &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("dataAssets[0].value") && out.stderr.contains("dataAssets[1].name"), "{}", out.stderr);
}

/// The same paths with good values still work: a retrainer run on a version given by flag, the Key Vault credential
/// path, and a config naming its asset by this workspace's own ARM id.
#[test]
fn good_values_still_work() {
    let (sb, _ws) = trained_workspace();
    let (_d, config) = retrainer_yaml("");
    drift(
        &["run", "--config", &config, "--data_asset_version", "3", "--model_name_prefix", "churn,fraud"],
        &sp_env(&sb),
    )
    .assert_code(0);
    assert_eq!(job_puts(&sb).len(), 2, "both groups retrained on version 3");

    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
    sb.set_managed_identity("vm-principal");
    let env = base_env(&sb);
    drift(&["auth", "describe", "--vault_name", VAULT, "--tenant", TENANT], &env).assert_code(0);
    drift(&["auth", "describe", "--vault_name", VAULT, "--tenant", "contoso.onmicrosoft.com", "--no-verify"], &env)
        .assert_code(0);
    // A Databricks secret scope name is fine where the environment already holds the principal.
    drift(&["plan", "--config", &config, "--vault_name", "kv_prod.scope"], &sp_env(&sb)).assert_code(0);

    let own = format!("azureml:{}", arm_data_id("sales", "1"));
    let (_e, own_config) = retrainer_config(&[("training_data", &own)], 30, 1, "");
    drift(&["validate", "--config", &own_config], &[]).assert_code(0);
    drift(&["plan", "--config", &own_config, "--data_asset_version", "3"], &sp_env(&sb)).assert_code(0);
}

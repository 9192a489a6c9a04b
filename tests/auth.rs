//! Credentials end to end against the sandbox: environment, Key Vault via managed identity (App Service and
//! IMDS), workload identity and the Azure CLI; token caching, refresh before expiry, refresh on 401.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use drift::auth::{Credential, TokenSource};
use drift::cloud::{CloudName, Endpoints};
use drift::http::{Auth, HttpClient, RetryPolicy, TokenProvider};
use drift_sandbox::SandboxOptions;

fn describe(env: &[(String, String)], extra: &[&str]) -> Outcome {
    let mut args = vec!["--output", "json", "auth", "describe"];
    args.extend_from_slice(extra);
    drift(&args, env)
}

fn with(mut env: Vec<(String, String)>, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn vault_sandbox() -> Sandbox {
    let sb = sandbox();
    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
    sb.add_vault_secret(VAULT, "TenantID", TENANT);
    sb
}

#[test]
fn environment_credentials_are_used_first() {
    let sb = vault_sandbox();
    let out = describe(&sp_env(&sb), &["--vault_name", VAULT]);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["details"]["source"], "environment");
    assert_eq!(r["details"]["clientId"], CLIENT_ID);
    assert_eq!(r["details"]["tokenVerified"], true);
    assert!(calls(&sb, "/kv/").is_empty(), "Key Vault must not be read when the environment has credentials");
    assert_eq!(token_requests(&sb), 1);
}

#[test]
fn tenant_flag_fills_a_missing_tenant_variable() {
    let sb = sandbox();
    let env: Vec<_> = sp_env(&sb).into_iter().filter(|(k, _)| k != "AZURE_TENANT_ID").collect();
    describe(&env, &["--tenant", TENANT]).assert_code(0);
    let out = describe(&env, &[]);
    out.assert_code(3);
    assert!(out.stderr.contains("AZURE_TENANT_ID") && out.stderr.contains("--tenant"), "{}", out.stderr);
}

#[test]
fn key_vault_read_with_app_service_managed_identity() {
    let sb = vault_sandbox();
    sb.set_managed_identity("mi-principal");
    let mut env = base_env(&sb);
    env.extend(sb.managed_identity_env());
    let out = describe(&env, &["--vault_name", VAULT]);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["details"]["source"], "keyvault");
    assert_eq!(r["details"]["vault"], VAULT);
    assert_eq!(r["details"]["vaultReadWith"], "managed identity (IDENTITY_ENDPOINT)");
    assert_eq!(r["details"]["tenantId"], TENANT);
    assert_eq!(calls(&sb, "/msi/token").len(), 1, "one MI token for three secrets");
    assert_eq!(calls(&sb, "/kv/").len(), 3);
}

#[test]
fn key_vault_read_with_imds_and_tenant_from_flag() {
    let sb = sandbox();
    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
    sb.set_managed_identity("vm-principal");
    let out = describe(&base_env(&sb), &["--vault_name", VAULT, "--tenant", TENANT]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["vaultReadWith"], "managed identity (IMDS)");
    // Without TenantID in the vault and without --tenant there is no tenant.
    let out = describe(&base_env(&sb), &["--vault_name", VAULT]);
    out.assert_code(3);
    assert!(out.stderr.contains("TenantID") && out.stderr.contains("--tenant"), "{}", out.stderr);
}

#[test]
fn key_vault_read_with_workload_identity() {
    let sb = vault_sandbox();
    let wi_client = "0d0d0d0d-1111-2222-3333-444444444444";
    sb.add_federated_credential(TENANT, wi_client, "federated-jwt-from-the-platform");
    let (_dir, token_file) = write_temp("token", "federated-jwt-from-the-platform\n");
    let env = with(
        base_env(&sb),
        &[("AZURE_FEDERATED_TOKEN_FILE", &token_file), ("AZURE_CLIENT_ID", wi_client), ("AZURE_TENANT_ID", TENANT)],
    );
    let out = describe(&env, &["--vault_name", VAULT]);
    out.assert_code(0);
    let r = out.report();
    assert!(r["details"]["vaultReadWith"].as_str().unwrap().starts_with("workload identity"), "{r}");
    assert_eq!(r["details"]["clientId"], CLIENT_ID, "acts as the vault's service principal, not the workload identity");
}

#[cfg(unix)]
#[test]
fn key_vault_read_with_the_azure_cli() {
    use std::os::unix::fs::PermissionsExt;
    let sb = vault_sandbox();
    // A stand-in `az` that hands out a token the sandbox issued to the managed identity.
    sb.set_managed_identity("cli-user");
    let client = reqwest::blocking_get_token(&sb);
    let dir = tempfile::tempdir().unwrap();
    let az = dir.path().join("az");
    let expires = chrono::Utc::now().timestamp() + 3600;
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\necho '{{\"accessToken\":\"{client}\",\"expires_on\":{expires},\"tokenType\":\"Bearer\"}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    sb.clear_managed_identity();
    let mut env: Vec<_> =
        base_env(&sb).into_iter().filter(|(k, _)| k != "PATH" && k != "DRIFT_IMDS_ENDPOINT").collect();
    env.push(("PATH".into(), dir.path().display().to_string()));
    // No IMDS here: point it at a closed port so the probe fails fast.
    env.push(("DRIFT_IMDS_ENDPOINT".into(), "http://127.0.0.1:9".into()));
    let out = describe(&env, &["--vault_name", VAULT]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["vaultReadWith"], "Azure CLI (az account get-access-token)");
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert!(
        args.contains("account get-access-token") && args.contains("--scope https://vault.azure.net/.default"),
        "{args}"
    );
}

/// Gets a Key Vault token from the sandbox's IMDS, as a real `az` would have obtained one from AAD.
mod reqwest {
    pub fn blocking_get_token(sb: &drift_sandbox::Sandbox) -> String {
        let url = format!(
            "{}/imds/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
            sb.url()
        );
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let http = drift::http::HttpClient::new(drift::http::RetryPolicy::default()).unwrap();
            let r = http.get(&url).unwrap().header("metadata", "true").unwrap().send().await.unwrap();
            let v: serde_json::Value = r.json().unwrap();
            v["access_token"].as_str().unwrap().to_string()
        })
    }
}

#[test]
fn no_identity_for_key_vault_is_exit_3_listing_what_was_tried() {
    let sb = vault_sandbox();
    let env: Vec<_> = base_env(&sb).into_iter().filter(|(k, _)| k != "DRIFT_IMDS_ENDPOINT").collect();
    let env = with(env, &[("DRIFT_IMDS_ENDPOINT", "http://127.0.0.1:9")]);
    let out = describe(&env, &["--vault_name", VAULT]);
    out.assert_code(3);
    assert!(out.stderr.contains("managed identity (IMDS") && out.stderr.contains("Azure CLI"), "{}", out.stderr);
}

#[test]
fn missing_and_rejected_credentials_are_exit_3() {
    let sb = sandbox();
    let out = describe(&base_env(&sb), &[]);
    out.assert_code(3);
    assert!(out.stderr.contains("AZURE_CLIENT_ID") && out.stderr.contains("--vault_name"));
    let env = with(
        base_env(&sb),
        &[("AZURE_CLIENT_ID", CLIENT_ID), ("AZURE_CLIENT_SECRET", "wrong"), ("AZURE_TENANT_ID", TENANT)],
    );
    let out = describe(&env, &[]);
    out.assert_code(3);
    assert!(out.stderr.contains("invalid_client") && out.stderr.contains("AADSTS7000215"), "{}", out.stderr);
    assert!(!out.stderr.contains("wrong"), "the rejected secret must not be echoed");
    // A vault without the secrets.
    sb.set_managed_identity("mi");
    let out = describe(&base_env(&sb), &["--vault_name", "empty-vault"]);
    out.assert_code(3);
    assert!(out.stderr.contains("ApplicationID or ApplicationPassword"), "{}", out.stderr);
}

#[test]
fn base64_encoded_secrets_are_decoded_when_the_config_says_so() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let sb = sandbox();
    sb.set_managed_identity("mi");
    sb.add_vault_secret(VAULT, "ApplicationID", &b64(CLIENT_ID));
    sb.add_vault_secret(VAULT, "ApplicationPassword", &b64(CLIENT_SECRET));
    sb.add_vault_secret(VAULT, "TenantID", &b64(TENANT));
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/retrainer.yaml")).unwrap();
    let (_d, plain) = write_temp("plain.yaml", &config);
    let (_e, encoded) =
        write_temp("b64.yaml", &config.replacen("  parameters:\n", "  parameters:\n    secretsEncoding: base64\n", 1));
    let out = describe(&base_env(&sb), &["--vault_name", VAULT, "--config", &encoded]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["clientId"], CLIENT_ID);
    // Read as plain, the encoded values are not a tenant or a client id: refused before any token request.
    let out = describe(&base_env(&sb), &["--vault_name", VAULT, "--config", &plain]);
    out.assert_code(3);
    assert!(out.stderr.contains(&format!("Key Vault {VAULT}: secret TenantID is not valid")), "{}", out.stderr);
    assert_eq!(token_requests(&sb), 1, "only the run that decoded the secrets asked for a token");
}

/// Issue 9 row 12: `secretsEncoding: base64` describes how the Key Vault stores its secrets. A flag or an
/// environment variable is taken as it is, and a decoding error names the vault and the secret it came from.
#[test]
fn base64_applies_to_key_vault_secrets_only() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let sb = sandbox();
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/retrainer.yaml")).unwrap();
    let (_e, encoded) =
        write_temp("b64.yaml", &config.replacen("  parameters:\n", "  parameters:\n    secretsEncoding: base64\n", 1));
    // Environment credentials and --tenant, plain as always.
    let env: Vec<_> = sp_env(&sb).into_iter().filter(|(k, _)| k != "AZURE_TENANT_ID").collect();
    let out = describe(&env, &["--tenant", TENANT, "--config", &encoded]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["tenantId"], TENANT);
    let out = describe(&sp_env(&sb), &["--config", &encoded]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["clientId"], CLIENT_ID);
    // A vault secret that is not base64: the message names the vault and the secret, never the value.
    sb.set_managed_identity("mi");
    sb.add_vault_secret(VAULT, "ApplicationID", &b64(CLIENT_ID));
    sb.add_vault_secret(VAULT, "ApplicationPassword", "plain-secret-value!");
    sb.add_vault_secret(VAULT, "TenantID", &b64(TENANT));
    let out = describe(&base_env(&sb), &["--vault_name", VAULT, "--config", &encoded]);
    out.assert_code(3);
    assert!(
        out.stderr.contains(&format!("Key Vault {VAULT}: secret ApplicationPassword is not valid base64")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("plain-secret-value") && !out.stderr.contains("AZURE_"), "{}", out.stderr);
}

fn client_credential(sb: &Sandbox) -> (Arc<Credential>, HttpClient, Endpoints) {
    let env = sb.env().into_iter().collect();
    let endpoints = Endpoints::resolve(CloudName::AzureCloud, &env).unwrap();
    let http = HttpClient::new(RetryPolicy { delay_scale: 0.0, ..RetryPolicy::default() }).unwrap();
    let cred = Credential::new(
        TokenSource::ClientSecret {
            authority_host: endpoints.authority_host.clone(),
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            secret: drift::secret::Secret::new(CLIENT_SECRET),
        },
        http.clone(),
    );
    (cred, http, endpoints)
}

#[tokio::test(flavor = "current_thread")]
async fn one_token_request_for_many_concurrent_calls() {
    let sb = sandbox();
    sb.add_vault_secret(VAULT, "Probe", "x");
    let (cred, http, endpoints) = client_credential(&sb);
    let url = format!("{}/secrets/Probe/", endpoints.keyvault_url(VAULT));
    let scope = Endpoints::scope("https://vault.azure.net");
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let req = http
                .get(&url)
                .unwrap()
                .query(&[("api-version", "2025-07-01")])
                .auth(Auth::bearer(cred.clone(), scope.clone()));
            async move { req.send().await.map(|r| r.status) }
        })
        .collect();
    for status in futures_util::future::join_all(calls).await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(token_requests(&sb), 1, "fifty calls, one token");
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_are_refreshed_before_expiry() {
    let sb =
        Sandbox::start(SandboxOptions { token_lifetime: Duration::from_secs(2), ..SandboxOptions::default() }).unwrap();
    sb.add_service_principal(TENANT, CLIENT_ID, CLIENT_SECRET);
    let (cred, _, _) = client_credential(&sb);
    let scope = "https://management.azure.com/.default";
    let first = cred.token(scope).await.unwrap();
    assert_eq!(cred.token(scope).await.unwrap(), first, "fresh token reused");
    // Half of a 2 s life is the refresh margin for short-lived tokens.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = cred.token(scope).await.unwrap();
    assert_ne!(second, first, "refreshed before it expired");
    assert_eq!(token_requests(&sb), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_401_refreshes_the_token_once_and_retries() {
    let sb = sandbox();
    sb.add_vault_secret(VAULT, "Probe", "x");
    let (cred, http, endpoints) = client_credential(&sb);
    let url = format!("{}/secrets/Probe/", endpoints.keyvault_url(VAULT));
    let get = || {
        http.get(&url)
            .unwrap()
            .query(&[("api-version", "2025-07-01")])
            .auth(Auth::bearer(cred.clone(), "https://vault.azure.net/.default"))
    };
    assert_eq!(get().send().await.unwrap().status, 200);
    sb.expire_all_tokens();
    assert_eq!(get().send().await.unwrap().status, 200, "recovers from the expired token");
    assert_eq!(token_requests(&sb), 2);
    let statuses: Vec<u16> = sb.requests().iter().filter(|r| r.path.starts_with("/kv/")).map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 401, 200]);
}

/// On Databricks the wrapper reads the principal from a secret scope and hands it over in `AZURE_*` variables,
/// marking them with `DRIFT_SECRET_SCOPE`: those came from a secret store, so `secretsEncoding: base64` decodes
/// them and errors name the scope and the key. Unmarked variables (and `--tenant`) are taken as they are.
#[test]
fn base64_decodes_variables_a_secret_scope_filled() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let sb = sandbox();
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/retrainer.yaml")).unwrap();
    let (_e, encoded) =
        write_temp("b64.yaml", &config.replacen("  parameters:\n", "  parameters:\n    secretsEncoding: base64\n", 1));
    let scope_env = |id: &str, secret: &str, marked: &str| {
        let mut env: Vec<_> = base_env(&sb);
        env.push(("AZURE_CLIENT_ID".into(), id.into()));
        env.push(("AZURE_CLIENT_SECRET".into(), secret.into()));
        env.push(("DRIFT_SECRET_SCOPE".into(), format!("kv-prod:{marked}")));
        env
    };
    // The scope had no TenantID: the tenant comes from --tenant, plain.
    let env = scope_env(&b64(CLIENT_ID), &b64(CLIENT_SECRET), "AZURE_CLIENT_ID,AZURE_CLIENT_SECRET");
    let out = describe(&env, &["--tenant", TENANT, "--config", &encoded]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["clientId"], CLIENT_ID);
    // With TenantID from the scope too.
    let mut env =
        scope_env(&b64(CLIENT_ID), &b64(CLIENT_SECRET), "AZURE_CLIENT_ID,AZURE_CLIENT_SECRET,AZURE_TENANT_ID");
    env.push(("AZURE_TENANT_ID".into(), b64(TENANT)));
    describe(&env, &["--config", &encoded]).assert_code(0);
    // A scope value that is not base64 is named by scope and key, never shown.
    let env = scope_env(&b64(CLIENT_ID), "plain-secret-value!", "AZURE_CLIENT_ID,AZURE_CLIENT_SECRET");
    let out = describe(&env, &["--tenant", TENANT, "--config", &encoded]);
    out.assert_code(3);
    assert!(
        out.stderr.contains(
            "Databricks secret scope kv-prod: key ApplicationPassword (AZURE_CLIENT_SECRET) is not valid base64"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("plain-secret-value"), "{}", out.stderr);
    // A decoded ApplicationID that is not a client id: exit 3 naming the scope and the key, before any token request.
    let env = scope_env(&b64("x/../y"), &b64(CLIENT_SECRET), "AZURE_CLIENT_ID,AZURE_CLIENT_SECRET");
    let out = describe(&env, &["--tenant", TENANT, "--config", &encoded]);
    out.assert_code(3);
    assert!(out.stderr.contains("Databricks secret scope kv-prod: key ApplicationID (AZURE_CLIENT_ID) is not valid"));
    // Without the mark the same variables are plain, and base64 text is no client id: exit 2 naming the variable.
    let env: Vec<_> = scope_env(&b64(CLIENT_ID), &b64(CLIENT_SECRET), "")
        .into_iter()
        .filter(|(k, _)| k != "DRIFT_SECRET_SCOPE")
        .collect();
    let out = describe(&env, &["--tenant", TENANT, "--config", &encoded]);
    out.assert_code(2);
    assert!(out.stderr.contains("environment variable AZURE_CLIENT_ID is not valid"), "{}", out.stderr);
    assert_eq!(token_requests(&sb), 2, "tokens only for the two good runs");
}

/// Certificate service principals (`AZURE_CLIENT_CERTIFICATE_PATH`), with certificates made at test time
/// (`tests/support/certs.rs`).
#[path = "support/certs.rs"]
mod certs;

use certs::{CertSet, PASSWORD};

/// The environment of a certificate principal reading `path`.
fn cert_env(sb: &Sandbox, path: &str, password: Option<&str>) -> Vec<(String, String)> {
    let mut env = with(
        base_env(sb),
        &[("AZURE_CLIENT_ID", CLIENT_ID), ("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_CERTIFICATE_PATH", path)],
    );
    if let Some(p) = password {
        env.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD".into(), p.into()));
    }
    env
}

/// A sandbox where CLIENT_ID has `set`'s certificate registered (and its client secret, as every sandbox here).
fn cert_sandbox(set: &CertSet) -> Sandbox {
    let sb = sandbox();
    sb.add_certificate_credential(TENANT, CLIENT_ID, &set.der).expect("an RSA certificate");
    sb
}

/// The decoded header and claims of each `client_assertion` the sandbox received, in order.
fn sent_assertions(sb: &Sandbox) -> Vec<(serde_json::Value, serde_json::Value)> {
    use base64::Engine;
    let decode = |part: &str| -> serde_json::Value {
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    sb.requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .filter_map(|r| {
            let form: Vec<(String, String)> = url::form_urlencoded::parse(&r.body).into_owned().collect();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            assert_eq!(get("client_secret"), None, "a certificate principal sends no secret");
            let assertion = get("client_assertion")?;
            assert_eq!(
                get("client_assertion_type").as_deref(),
                Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            );
            let parts: Vec<&str> = assertion.split('.').collect();
            assert_eq!(parts.len(), 3, "{assertion}");
            Some((decode(parts[0]), decode(parts[1])))
        })
        .collect()
}

fn x5t_of(der: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der))
}

#[test]
fn certificate_pem_gets_a_token_and_auth_describe_names_the_certificate() {
    let set = CertSet::new();
    let sb = cert_sandbox(&set);
    let path = set.path("combined.pem");
    let out = describe(&cert_env(&sb, &path, None), &[]);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["details"]["source"], "certificate", "{r}");
    assert_eq!(r["details"]["tokenVerified"], true);
    assert_eq!(r["details"]["clientId"], CLIENT_ID);
    // The thumbprint is the one openssl computes, not just drift's own hashing agreeing with itself.
    assert_eq!(r["details"]["certificate"]["thumbprint"], set.sha1_hex.as_str(), "{r}");
    assert_eq!(r["details"]["certificate"]["path"], path.as_str());
    let text = drift(&["auth", "describe"], &cert_env(&sb, &path, None));
    text.assert_code(0);
    assert!(
        text.stdout
            .contains(&format!("certificate (AZURE_CLIENT_CERTIFICATE_PATH {path}; SHA-1 thumbprint {}", set.sha1_hex)),
        "{}",
        text.stdout
    );
    // The assertion: RS256 with x5t, aud = the URL it was posted to, iss = sub = client id, ten minutes.
    let sent = sent_assertions(&sb);
    assert_eq!(sent.len(), 2);
    let (header, claims) = &sent[0];
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5t"], x5t_of(&set.der));
    assert!(header.get("x5c").is_none(), "no chain unless AZURE_CLIENT_SEND_CERTIFICATE_CHAIN is set");
    assert_eq!(claims["aud"], format!("{}/aad/{TENANT}/oauth2/v2.0/token", sb.url()));
    assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some(CLIENT_ID), Some(CLIENT_ID)));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(), 600);
    assert_eq!(claims["iat"], claims["nbf"]);
    assert_ne!(sent[0].1["jti"], sent[1].1["jti"], "each run signs a new assertion");
}

#[test]
fn certificate_files_in_every_form_azure_identity_reads() {
    let set = CertSet::new();
    let sb = cert_sandbox(&set);
    for (file, password) in [
        ("cert-first.pem", None),
        ("pkcs1.pem", None),
        ("encrypted.pem", Some(PASSWORD)),
        ("aes.pfx", Some(PASSWORD)),
        ("tdes.pfx", Some(PASSWORD)),
        ("legacy.pfx", Some(PASSWORD)),
        ("nopass.pfx", None),
    ] {
        let out = describe(&cert_env(&sb, &set.path(file), password), &[]);
        assert_eq!(out.code, 0, "{file}: {}", out.stderr);
        assert_eq!(out.report()["details"]["certificate"]["thumbprint"], set.sha1_hex.as_str(), "{file}");
    }
    // A password set for an unencrypted PEM key is not needed, and not an error.
    describe(&cert_env(&sb, &set.path("combined.pem"), Some("unused")), &[]).assert_code(0);
}

#[tokio::test(flavor = "current_thread")]
async fn every_token_request_signs_a_fresh_assertion() {
    let set = CertSet::new();
    let sb = cert_sandbox(&set);
    let env = sb.env().into_iter().collect();
    let endpoints = Endpoints::resolve(CloudName::AzureCloud, &env).unwrap();
    let http = HttpClient::new(RetryPolicy { delay_scale: 0.0, ..RetryPolicy::default() }).unwrap();
    let certificate = drift::auth::ClientCertificate::load(
        std::path::Path::new(&set.path("aes.pfx")),
        Some(&drift::secret::Secret::new(PASSWORD)),
        false,
        std::time::SystemTime::now(),
    )
    .await
    .unwrap();
    let cred = Credential::new(
        TokenSource::ClientCertificate {
            authority_host: endpoints.authority_host.clone(),
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            certificate: Arc::new(certificate),
        },
        http,
    );
    cred.token("https://management.azure.com/.default").await.unwrap();
    cred.token("https://vault.azure.net/.default").await.unwrap();
    cred.token("https://storage.azure.com/.default").await.unwrap();
    let sent = sent_assertions(&sb);
    assert_eq!(sent.len(), 3);
    let jtis: std::collections::HashSet<String> =
        sent.iter().map(|(_, c)| c["jti"].as_str().unwrap().to_string()).collect();
    assert_eq!(jtis.len(), 3, "one jti per request: {jtis:?}");
}

#[test]
fn send_certificate_chain_puts_the_chain_in_x5c_signing_certificate_first() {
    use base64::Engine;
    let set = CertSet::basic();
    let (path, leaf, ca) = set.chain();
    let sb = sandbox();
    sb.add_certificate_credential(TENANT, CLIENT_ID, &leaf).unwrap();
    let mut env = cert_env(&sb, &path, None);
    env.push(("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN".into(), "true".into()));
    let out = describe(&env, &[]);
    out.assert_code(0);
    let (header, _) = &sent_assertions(&sb)[0];
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    // The file lists the CA first; the key's certificate still leads the chain (RFC 7515 §4.1.6).
    assert_eq!(header["x5c"], serde_json::json!([b64(&leaf), b64(&ca)]));
    assert_eq!(header["x5t"], x5t_of(&leaf));
}

#[test]
fn a_client_secret_takes_precedence_over_a_certificate() {
    let sb = sandbox();
    // The certificate variable names no file: it is not even read when a secret is there (azure-identity's order).
    let mut env = sp_env(&sb);
    env.push(("AZURE_CLIENT_CERTIFICATE_PATH".into(), "/nonexistent/cert.pem".into()));
    let out = describe(&env, &[]);
    out.assert_code(0);
    assert_eq!(out.report()["details"]["source"], "environment");
}

#[test]
fn unusable_certificate_files_are_exit_3_naming_the_file() {
    let set = CertSet::new();
    let other = CertSet::basic();
    let sb = cert_sandbox(&set);
    let missing = set.path("no-such-file.pem");
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        (missing.clone(), None, "cannot read the file"),
        (set.path("aes.pfx"), Some("wrong-password"), "wrong password for the PKCS#12 file"),
        (set.path("aes.pfx"), None, "wrong password for the PKCS#12 file"),
        (
            set.path("encrypted.pem"),
            None,
            "the private key is encrypted (ENCRYPTED PRIVATE KEY); set AZURE_CLIENT_CERTIFICATE_PASSWORD",
        ),
        (set.path("encrypted.pem"), Some("wrong-password"), "cannot decrypt the private key"),
        (set.path("legacy-encrypted.pem"), Some(PASSWORD), "legacy OpenSSL format"),
        (set.path("cert.pem"), None, "no private key in the file"),
        (set.path("key.pem"), None, "no certificate in the file"),
        (set.mismatched_with(&other), None, "none of the file's 1 certificate(s) belongs to its private key"),
        (set.expired().0, None, "expired on 2020-01-02T00:00:00Z"),
        (set.ec(), None, "not RSA"),
        (set.path("cert.der"), None, "neither PEM"),
    ];
    for (path, password, expected) in cases {
        let out = describe(&cert_env(&sb, &path, password), &[]);
        assert_eq!(out.code, 3, "{path}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("AZURE_CLIENT_CERTIFICATE_PATH {path}: ")), "{path}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{path}: expected {expected:?} in\n{}", out.stderr);
        assert!(!out.stderr.contains(PASSWORD) && !out.stderr.contains("wrong-password"), "{}", out.stderr);
        assert!(!out.stderr.contains(&set.key_base64[..40]), "the key leaked: {}", out.stderr);
        let report = out.report();
        assert_eq!(report["exit_code"], 3, "{report}");
    }
    assert_eq!(token_requests(&sb), 0, "a file that cannot be used is refused before any token request");
    // No tenant: as for a client secret.
    let env: Vec<_> =
        cert_env(&sb, &set.path("combined.pem"), None).into_iter().filter(|(k, _)| k != "AZURE_TENANT_ID").collect();
    let out = describe(&env, &[]);
    out.assert_code(3);
    assert!(out.stderr.contains("AZURE_CLIENT_CERTIFICATE_PATH are set but no tenant is"), "{}", out.stderr);
}

#[test]
fn a_certificate_entra_does_not_know_is_exit_3_with_its_answer() {
    let set = CertSet::new();
    let registered = CertSet::basic();
    // The sandbox knows another certificate for the client: Entra answers AADSTS700027.
    let sb = cert_sandbox(&registered);
    let out = describe(&cert_env(&sb, &set.path("combined.pem"), None), &[]);
    out.assert_code(3);
    assert!(out.stderr.contains("AADSTS700027") && out.stderr.contains("not registered"), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("certificate {}", set.sha1_hex)), "names the certificate: {}", out.stderr);
    assert_eq!(token_requests(&sb), 1);
}

/// The registrator writes the principal's client secret into the datastore; a certificate principal has none, so
/// it is refused before any write.
#[test]
fn the_registrator_refuses_a_certificate_principal_before_writing() {
    use common::ml::*;
    let set = CertSet::new();
    let (sb, _ws) = ml_sandbox();
    sb.add_certificate_credential(TENANT, CLIENT_ID, &set.der).unwrap();
    sb.add_storage_account("lakeacct", "c2VjcmV0LXN0b3JhZ2Uta2V5LXZhbHVlLTEyMzQ1Njc4");
    let table = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delta/small");
    sb.add_directory("lakeacct", "curated", "delta/t", table).unwrap();
    let (_d, config) = write_temp(
        "reg.yaml",
        &format!(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml: {{subscriptionId: {SUBSCRIPTION}, resourceGroup: {RG}, mlWorkspaceName: {WS}}}\n    storageAccountName: lakeacct\n    containerName: curated\n    containerDataPath: delta/t\n"
        ),
    );
    let out = drift(&["run", "--config", &config], &cert_env(&sb, &set.path("combined.pem"), None));
    out.assert_code(3);
    assert!(out.stderr.contains("set AZURE_CLIENT_SECRET for the registrator"), "{}", out.stderr);
    assert_eq!(arm_writes(&sb), Vec::<String>::new());
}

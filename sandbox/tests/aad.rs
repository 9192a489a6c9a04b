//! The AAD token endpoint through real HTTP: client secret and federated assertion success, and every rejection.

mod common;

use std::time::Duration;

use common::*;
use drift_sandbox::SandboxOptions;
use serde_json::Value;

/// The payload of a JWT, read without verifying (as azure-ai-ml reads the token it sends in x-azureml-token).
fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {token}");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url payload");
    serde_json::from_slice(&payload).expect("JSON claims")
}

fn secret_form(scope: &str) -> Vec<(&str, &str)> {
    vec![("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", SECRET), ("scope", scope)]
}

#[tokio::test]
async fn client_secret_grant_issues_a_jwt_shaped_bearer_token() {
    let sandbox = sandbox();
    let response = post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(headers["cache-control"].to_str().unwrap().contains("no-store"));
    assert!(headers.contains_key("x-ms-request-id"));
    let body: Value = response.json().await.unwrap();
    let fields: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields.len(), 4, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    // A JWT like Entra ID's (azure-ai-ml reads `aud` of the token it sends in x-azureml-token).
    let claims = jwt_claims(token);
    assert_eq!(claims["aud"], "https://vault.azure.net", "{claims}");
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["appid"], CLIENT);
    assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 3599);
}

#[tokio::test]
async fn federated_assertion_grant_issues_a_token() {
    let sandbox = sandbox();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", ASSERTION),
        ("scope", ARM_SCOPE),
    ];
    let (status, body) = status_json(post_token(&sandbox, TENANT, &form).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn token_lifetime_comes_from_the_options() {
    let sandbox = sandbox_with(SandboxOptions { token_lifetime: Duration::from_secs(2), ..Default::default() });
    let (_, body) = status_json(post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await).await;
    assert_eq!(body["expires_in"], 2);
    sandbox.set_token_lifetime(Duration::from_secs(30));
    let (_, body) = status_json(post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await).await;
    assert_eq!(body["expires_in"], 30);
}

#[tokio::test]
async fn tenant_ids_and_trailing_slash_resources_are_accepted_like_aad() {
    let sandbox = sandbox();
    let upper = TENANT.to_uppercase();
    let (status, body) =
        status_json(post_token(&sandbox, &upper, &secret_form("https://management.azure.com//.default")).await).await;
    assert_eq!(status, 200, "{body}");
    // The token's audience is ARM, so ARM accepts it (404: no provider route, but authenticated).
    let token = body["access_token"].as_str().unwrap();
    let response = get(&format!("{}/arm/subscriptions", sandbox.url()), Some(token), &[("api-version", ARM_API)]).await;
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn unknown_tenant_is_aadsts90002_with_the_full_error_body() {
    let sandbox = sandbox();
    let response = client()
        .post(token_url(&sandbox, "no-such-tenant"))
        .header("client-request-id", "c0ffee00-0000-4000-8000-000000000000")
        .form(&secret_form(KV_SCOPE))
        .send()
        .await
        .unwrap();
    let body = assert_aad_error(response, 400, "invalid_request", 90002).await;
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("AADSTS90002: Tenant 'no-such-tenant' not found."), "{description}");
    assert_eq!(body["correlation_id"], "c0ffee00-0000-4000-8000-000000000000", "AAD echoes client-request-id");
    assert_eq!(body["error_uri"], format!("{}/aad/error?code=90002", sandbox.url()));
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(timestamp.len() == 20 && timestamp.ends_with('Z'), "{timestamp}");
}

#[tokio::test]
async fn unknown_client_is_unauthorized_client_700016() {
    let sandbox = sandbox();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "99999999-0000-4000-8000-000000000000"),
        ("client_secret", SECRET),
        ("scope", KV_SCOPE),
    ];
    let body = assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "unauthorized_client", 700016).await;
    assert!(body["error_description"].as_str().unwrap().contains("was not found in the directory"));
}

#[tokio::test]
async fn client_registered_in_another_tenant_is_unknown_here() {
    let sandbox = sandbox();
    sandbox.add_tenant("other-tenant");
    let form = secret_form(KV_SCOPE);
    assert_aad_error(post_token(&sandbox, "other-tenant", &form).await, 400, "unauthorized_client", 700016).await;
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_7000215() {
    let sandbox = sandbox();
    let form =
        [("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", "nope"), ("scope", KV_SCOPE)];
    assert_aad_error(post_token(&sandbox, TENANT, &form).await, 401, "invalid_client", 7000215).await;
}

#[tokio::test]
async fn second_secret_is_also_valid() {
    let sandbox = sandbox();
    sandbox.add_service_principal(TENANT, CLIENT, "rotated");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", "rotated"),
        ("scope", KV_SCOPE),
    ];
    assert_eq!(post_token(&sandbox, TENANT, &form).await.status().as_u16(), 200);
    assert_eq!(post_token(&sandbox, TENANT, &secret_form(KV_SCOPE)).await.status().as_u16(), 200);
}

#[tokio::test]
async fn assertion_errors() {
    let sandbox = sandbox();
    let jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let wrong = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", jwt_bearer),
        ("client_assertion", "eyJ.other.assertion"),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &wrong).await, 401, "invalid_client", 700213).await;

    let bad_type = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", "jwt"),
        ("client_assertion", ASSERTION),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &bad_type).await, 400, "invalid_request", 7000216).await;

    let no_type = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion", ASSERTION),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &no_type).await, 400, "invalid_request", 900144).await;

    let both = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("client_assertion_type", jwt_bearer),
        ("client_assertion", ASSERTION),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &both).await, 400, "invalid_request", 9000411).await;

    // A federated-only client presenting a secret has no such secret.
    let secret_for_federated = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_secret", SECRET),
        ("scope", KV_SCOPE),
    ];
    assert_aad_error(post_token(&sandbox, TENANT, &secret_for_federated).await, 401, "invalid_client", 7000215).await;
}

#[tokio::test]
async fn no_client_credential_is_invalid_client_7000218() {
    let sandbox = sandbox();
    let form = [("grant_type", "client_credentials"), ("client_id", CLIENT), ("scope", KV_SCOPE)];
    assert_aad_error(post_token(&sandbox, TENANT, &form).await, 401, "invalid_client", 7000218).await;
}

#[tokio::test]
async fn scope_must_be_a_single_default_scope() {
    let sandbox = sandbox();
    for scope in [
        "https://vault.azure.net",
        "https://vault.azure.net/user_impersonation",
        "https://vault.azure.net/.default https://management.azure.com/.default",
        "/.default",
    ] {
        let response = post_token(&sandbox, TENANT, &secret_form(scope)).await;
        let body = assert_aad_error(response, 400, "invalid_scope", 70011).await;
        assert!(body["error_description"].as_str().unwrap().contains(scope), "{body}");
    }
}

#[tokio::test]
async fn unknown_resource_is_aadsts500011() {
    let sandbox = sandbox();
    let response = post_token(&sandbox, TENANT, &secret_form("https://vault.azure.com/.default")).await;
    assert_aad_error(response, 400, "invalid_resource", 500011).await;
}

#[tokio::test]
async fn missing_parameters_are_aadsts900144() {
    let sandbox = sandbox();
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        ("grant_type", vec![("client_id", CLIENT), ("client_secret", SECRET), ("scope", KV_SCOPE)]),
        ("client_id", vec![("grant_type", "client_credentials"), ("client_secret", SECRET), ("scope", KV_SCOPE)]),
        ("scope", vec![("grant_type", "client_credentials"), ("client_id", CLIENT), ("client_secret", SECRET)]),
    ];
    for (parameter, form) in cases {
        let body = assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "invalid_request", 900144).await;
        assert!(body["error_description"].as_str().unwrap().contains(&format!("'{parameter}'")), "{body}");
    }
}

#[tokio::test]
async fn other_grant_types_are_unsupported() {
    let sandbox = sandbox();
    let form = [("grant_type", "password"), ("client_id", CLIENT), ("client_secret", SECRET), ("scope", KV_SCOPE)];
    assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "unsupported_grant_type", 70003).await;
}

#[tokio::test]
async fn duplicated_parameters_are_rejected() {
    let sandbox = sandbox();
    let mut form = secret_form(KV_SCOPE);
    form.push(("scope", ARM_SCOPE));
    let body = assert_aad_error(post_token(&sandbox, TENANT, &form).await, 400, "invalid_request", 9000411).await;
    assert!(body["error_description"].as_str().unwrap().contains("'scope' is duplicated"));
}

#[tokio::test]
async fn body_must_be_form_encoded() {
    let sandbox = sandbox();
    let json_body = serde_json::json!({"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET, "scope": KV_SCOPE});
    let response = client().post(token_url(&sandbox, TENANT)).json(&json_body).send().await.unwrap();
    let body = assert_aad_error(response, 400, "invalid_request", 900144).await;
    assert!(body["error_description"].as_str().unwrap().contains("application/json"), "{body}");
}

#[tokio::test]
async fn only_post_is_accepted() {
    let sandbox = sandbox();
    let response = client().get(token_url(&sandbox, TENANT)).send().await.unwrap();
    let body = assert_aad_error(response, 400, "invalid_request", 900561).await;
    assert!(body["error_description"].as_str().unwrap().contains("Received a GET request"));
}

#[path = "../../tests/support/certs.rs"]
mod certs;

/// Certificate credentials: throwaway RSA keys and certificates made with the `openssl` command at test time (no
/// private key is committed; `tests/support/certs.rs` of the drift crate), and client assertions signed here with
/// ring, the way a client would sign them.
mod certificate {
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use ring::signature::{RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair};
    use serde_json::{Value, json};

    use super::*;

    /// A key pair and its certificate.
    pub struct TestCert {
        pub key: RsaKeyPair,
        pub der: Vec<u8>,
        pub set: certs::CertSet,
    }

    impl TestCert {
        pub fn pem(&self) -> String {
            std::fs::read_to_string(self.set.path("cert.pem")).unwrap()
        }
    }

    /// A 2048-bit RSA key and a certificate valid for 30 days, or (`expired`) only on 1 January 2020.
    pub fn make(expired: bool) -> TestCert {
        let set = certs::CertSet::basic();
        let key = RsaKeyPair::from_pkcs8(&set.pkcs8_der()).unwrap();
        let der = if expired { set.expired().1 } else { set.der.clone() };
        TestCert { key, der, set }
    }

    pub fn now() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
    }

    /// Base64url without padding, as JWS segments and thumbprints are written.
    pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn sha1(der: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der))
    }

    pub fn sha256(der: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, der))
    }

    /// The claims a client sends to `sandbox`'s token endpoint of TENANT.
    pub fn claims(sandbox: &drift_sandbox::Sandbox) -> Value {
        let now = now();
        json!({
            "aud": token_url(sandbox, TENANT),
            "iss": CERT_CLIENT,
            "sub": CERT_CLIENT,
            "jti": "3f1d1a2e-5b6c-4d7e-8f90-a1b2c3d4e5f6",
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        })
    }

    /// A signed compact JWS with `header` and `claims`, signed by `key` (PSS when `alg` is PS256).
    pub fn sign(key: &RsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64url(header.to_string()), b64url(claims.to_string()));
        let padding: &dyn ring::signature::RsaEncoding =
            if header["alg"] == "PS256" { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(padding, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    pub fn rs256(cert: &TestCert) -> Value {
        json!({"alg": "RS256", "typ": "JWT", "x5t": sha1(&cert.der)})
    }

    pub fn form(assertion: &str) -> Vec<(&'static str, String)> {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", CERT_CLIENT.to_string()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string()),
            ("client_assertion", assertion.to_string()),
            ("scope", ARM_SCOPE.to_string()),
        ]
    }

    pub async fn post(sandbox: &drift_sandbox::Sandbox, assertion: &str) -> reqwest::Response {
        client().post(token_url(sandbox, TENANT)).form(&form(assertion)).send().await.expect("token request")
    }

    pub fn encode_der(der: &[u8]) -> String {
        STANDARD.encode(der)
    }

    pub const CERT_CLIENT: &str = "c0c0c0c0-1111-4222-8333-444444444444";
}

use certificate::{CERT_CLIENT, claims, make, post, rs256, sign};

/// A sandbox whose CERT_CLIENT has one registered certificate; returns it with its key.
fn certificate_sandbox() -> (drift_sandbox::Sandbox, certificate::TestCert) {
    let sandbox = sandbox();
    let cert = make(false);
    sandbox.add_certificate_credential(TENANT, CERT_CLIENT, &cert.der).expect("an RSA certificate");
    (sandbox, cert)
}

#[tokio::test]
async fn certificate_assertions_rs256_x5t_and_ps256_x5t_s256_are_accepted() {
    let (sandbox, cert) = certificate_sandbox();
    let assertion = sign(&cert.key, &rs256(&cert), &claims(&sandbox));
    let (status, body) = status_json(post(&sandbox, &assertion).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwt_claims(body["access_token"].as_str().unwrap())["appid"], CERT_CLIENT);
    // The current Learn page's form: PS256 with the SHA-256 thumbprint.
    let header = serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": certificate::sha256(&cert.der)});
    let (status, body) = status_json(post(&sandbox, &sign(&cert.key, &header, &claims(&sandbox))).await).await;
    assert_eq!(status, 200, "{body}");
    // With the chain in x5c, the signing certificate first.
    let mut header = rs256(&cert);
    header["x5c"] = serde_json::json!([certificate::encode_der(&cert.der)]);
    let (status, body) = status_json(post(&sandbox, &sign(&cert.key, &header, &claims(&sandbox))).await).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn certificate_assertion_with_a_bad_signature_is_700027() {
    let (sandbox, cert) = certificate_sandbox();
    let other = make(false);
    // Signed by another key while naming the registered certificate.
    let forged = sign(&other.key, &rs256(&cert), &claims(&sandbox));
    let body = assert_aad_error(post(&sandbox, &forged).await, 401, "invalid_client", 700027).await;
    assert!(body["error_description"].as_str().unwrap().contains("did not match the expected signature"), "{body}");
    // A valid assertion whose payload was changed after signing.
    let good = sign(&cert.key, &rs256(&cert), &claims(&sandbox));
    let parts: Vec<&str> = good.split('.').collect();
    let mut changed = claims(&sandbox);
    changed["exp"] = serde_json::json!(certificate::now() + 99_999);
    let tampered = format!("{}.{}.{}", parts[0], certificate::b64url(changed.to_string()), parts[2]);
    assert_aad_error(post(&sandbox, &tampered).await, 401, "invalid_client", 700027).await;
    // PS256 declared over a PKCS#1 v1.5 signature.
    let mut header = rs256(&cert);
    let pkcs1 = sign(&cert.key, &header, &claims(&sandbox));
    header["alg"] = "PS256".into();
    let relabelled = format!("{}.{}", certificate::b64url(header.to_string()), pkcs1.split_once('.').unwrap().1);
    assert_aad_error(post(&sandbox, &relabelled).await, 401, "invalid_client", 700027).await;
}

#[tokio::test]
async fn certificate_not_registered_for_the_client_is_700027_key_not_found() {
    let (sandbox, _cert) = certificate_sandbox();
    let unregistered = make(false);
    let assertion = sign(&unregistered.key, &rs256(&unregistered), &claims(&sandbox));
    let body = assert_aad_error(post(&sandbox, &assertion).await, 401, "invalid_client", 700027).await;
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("is not registered on application") && description.contains("The key was not found"));
    // No thumbprint at all names no key either.
    let assertion = sign(&unregistered.key, &serde_json::json!({"alg": "RS256", "typ": "JWT"}), &claims(&sandbox));
    assert_aad_error(post(&sandbox, &assertion).await, 401, "invalid_client", 700027).await;
}

#[tokio::test]
async fn certificate_assertion_for_another_audience_is_700023() {
    let (sandbox, cert) = certificate_sandbox();
    for aud in [
        // The public cloud's endpoint is not this one: a client must address the authority it uses.
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
        format!("{}/aad/{TENANT}/oauth2/token", sandbox.url()),
        format!("{}/aad/other-tenant/oauth2/v2.0/token", sandbox.url()),
    ] {
        let mut c = claims(&sandbox);
        c["aud"] = aud.clone().into();
        let body =
            assert_aad_error(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await, 401, "invalid_client", 700023)
                .await;
        assert!(body["error_description"].as_str().unwrap().contains(&aud), "{body}");
    }
}

#[tokio::test]
async fn expired_or_not_yet_valid_certificate_assertion_is_700024() {
    let (sandbox, cert) = certificate_sandbox();
    let mut c = claims(&sandbox);
    c["exp"] = (certificate::now() - 1).into();
    let body =
        assert_aad_error(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await, 401, "invalid_client", 700024)
            .await;
    assert!(body["error_description"].as_str().unwrap().contains("not within its valid time range"), "{body}");
    let mut c = claims(&sandbox);
    c["nbf"] = (certificate::now() + 300).into();
    assert_aad_error(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await, 401, "invalid_client", 700024).await;
    // Without `nbf` (MSAL Python sends none) an assertion is fine.
    let mut c = claims(&sandbox);
    c.as_object_mut().unwrap().remove("nbf");
    assert_eq!(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await.status().as_u16(), 200);
    // Without `exp` it is not.
    let mut c = claims(&sandbox);
    c.as_object_mut().unwrap().remove("exp");
    assert_aad_error(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await, 401, "invalid_client", 50027).await;
}

#[tokio::test]
async fn certificate_assertion_claims_jti_sub_and_alg_are_checked() {
    let (sandbox, cert) = certificate_sandbox();
    let mut c = claims(&sandbox);
    c.as_object_mut().unwrap().remove("jti");
    let body =
        assert_aad_error(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await, 401, "invalid_client", 50027).await;
    assert!(body["error_description"].as_str().unwrap().contains("'jti'"), "{body}");
    let mut c = claims(&sandbox);
    c["sub"] = "someone-else".into();
    assert_aad_error(post(&sandbox, &sign(&cert.key, &rs256(&cert), &c)).await, 401, "invalid_client", 50048).await;
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "x5t": certificate::sha1(&cert.der)});
    assert_aad_error(
        post(&sandbox, &sign(&cert.key, &header, &claims(&sandbox))).await,
        401,
        "invalid_client",
        5002738,
    )
    .await;
    // An x5c chain must start with the signing certificate (RFC 7515 §4.1.6).
    let other = make(false);
    let mut header = rs256(&cert);
    header["x5c"] = serde_json::json!([certificate::encode_der(&other.der), certificate::encode_der(&cert.der)]);
    assert_aad_error(post(&sandbox, &sign(&cert.key, &header, &claims(&sandbox))).await, 401, "invalid_client", 700027)
        .await;
}

#[tokio::test]
async fn expired_registered_certificate_is_refused() {
    let sandbox = sandbox();
    let expired = make(true);
    sandbox.add_certificate_credential(TENANT, CERT_CLIENT, &expired.der).unwrap();
    let assertion = sign(&expired.key, &rs256(&expired), &claims(&sandbox));
    let body = assert_aad_error(post(&sandbox, &assertion).await, 401, "invalid_client", 700027).await;
    assert!(body["error_description"].as_str().unwrap().contains("expired"), "{body}");
}

#[tokio::test]
async fn federated_assertions_keep_working_beside_certificates() {
    let (sandbox, cert) = certificate_sandbox();
    // The federated client still gets its token by exact match.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", FED_CLIENT),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", ASSERTION),
        ("scope", ARM_SCOPE),
    ];
    assert_eq!(post_token(&sandbox, TENANT, &form).await.status().as_u16(), 200);
    // A token from another issuer presented by the certificate client is a federated assertion without a record.
    let mut c = claims(&sandbox);
    c["iss"] = "https://token.actions.githubusercontent.com".into();
    let foreign = sign(&cert.key, &rs256(&cert), &c);
    assert_aad_error(post(&sandbox, &foreign).await, 401, "invalid_client", 700213).await;
    // And a federated assertion can be registered for the certificate client too.
    sandbox.add_federated_credential(TENANT, CERT_CLIENT, &foreign);
    assert_eq!(post(&sandbox, &foreign).await.status().as_u16(), 200);
}

#[tokio::test]
async fn certificate_credentials_from_the_seed_file() {
    let sandbox = sandbox();
    let cert = make(false);
    let seed = serde_json::json!({"certificateCredentials": [{"tenantId": TENANT, "clientId": CERT_CLIENT, "certificate": cert.pem()}]});
    sandbox.load_seed(&seed).unwrap();
    assert_eq!(post(&sandbox, &sign(&cert.key, &rs256(&cert), &claims(&sandbox))).await.status().as_u16(), 200);
    // A file relative to the seed file's folder, DER this time.
    let second = make(false);
    let seed_file = cert.set.dir.path().join("seed.json");
    let entry = serde_json::json!({"tenantId": TENANT, "clientId": CERT_CLIENT, "certificateFile": second.set.path("cert.der")});
    std::fs::write(&seed_file, serde_json::json!({"certificateCredentials": [entry]}).to_string()).unwrap();
    sandbox.load_seed_file(&seed_file).unwrap();
    assert_eq!(post(&sandbox, &sign(&second.key, &rs256(&second), &claims(&sandbox))).await.status().as_u16(), 200);
    // Bad entries are refused before anything is applied.
    for bad in [
        serde_json::json!([{"tenantId": TENANT, "clientId": CERT_CLIENT}]),
        serde_json::json!([{"tenantId": TENANT, "clientId": CERT_CLIENT, "certificate": "not a certificate"}]),
        serde_json::json!([{"tenantId": TENANT, "clientId": CERT_CLIENT, "certificate": cert.pem(), "certificateFile": "x"}]),
    ] {
        let err = sandbox.load_seed(&serde_json::json!({"certificateCredentials": bad})).unwrap_err();
        assert!(err.contains("certificateCredentials"), "{err}");
    }
}

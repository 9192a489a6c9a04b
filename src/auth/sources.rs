//! Where tokens come from: a service principal's client secret or certificate (`certificate.rs` signs the
//! assertion), workload identity (federated token file), managed identity (App Service style `IDENTITY_ENDPOINT`,
//! or IMDS), and the Azure CLI. Each fetch is one call.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::cache::AccessToken;
use super::certificate::{CERTIFICATE_PATH_ENV, ClientCertificate};
use crate::error::{AuthError, Error};
use crate::http::{HttpClient, HttpError, HttpErrorKind};
use crate::secret::Secret;

/// How long a managed-identity probe may take before drift concludes there is no IMDS here. Azure's IMDS
/// answers in milliseconds; on a laptop the link-local address is black-holed and would hang for the full
/// connect timeout.
pub const IMDS_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The Azure CLI can be slow to start (Python); a hung CLI must not hang drift.
pub const AZURE_CLI_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub enum TokenSource {
    /// OAuth2 client credentials with a client secret.
    ClientSecret { authority_host: String, tenant_id: String, client_id: String, secret: Secret },
    /// OAuth2 client credentials with a certificate: a client assertion signed with its key for each request.
    ClientCertificate {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        certificate: Arc<ClientCertificate>,
    },
    /// OAuth2 client credentials with a federated token read from a file (AKS workload identity, GitHub OIDC).
    WorkloadIdentity { authority_host: String, tenant_id: String, client_id: String, token_file: PathBuf },
    /// App Service / Functions / Container Apps / Azure ML compute style managed identity endpoint.
    AppServiceIdentity { endpoint: String, header: Secret, client_id: Option<String> },
    /// The VM's Instance Metadata Service.
    Imds { endpoint: String, client_id: Option<String> },
    /// `az account get-access-token`, with `az` looked up on this PATH.
    AzureCli { tenant_id: Option<String>, path: Option<String> },
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl TokenSource {
    /// What this source is, for `drift auth describe` and debug logs; never a secret.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::ClientSecret { tenant_id, client_id, .. } => {
                format!("service principal {client_id} (client secret) in tenant {tenant_id}")
            }
            TokenSource::ClientCertificate { tenant_id, client_id, certificate, .. } => format!(
                "service principal {client_id} (certificate {} from {CERTIFICATE_PATH_ENV}) in tenant {tenant_id}",
                certificate.thumbprint_hex()
            ),
            TokenSource::WorkloadIdentity { tenant_id, client_id, token_file, .. } => format!(
                "workload identity {client_id} in tenant {tenant_id} (federated token file {})",
                token_file.display()
            ),
            TokenSource::AppServiceIdentity { client_id, .. } => match client_id {
                Some(id) => format!("managed identity {id} (IDENTITY_ENDPOINT)"),
                None => "managed identity (IDENTITY_ENDPOINT)".to_string(),
            },
            TokenSource::Imds { client_id, .. } => match client_id {
                Some(id) => format!("managed identity {id} (IMDS)"),
                None => "managed identity (IMDS)".to_string(),
            },
            TokenSource::AzureCli { .. } => "Azure CLI (az account get-access-token)".to_string(),
        }
    }

    /// Obtains a token for `scope` (`https://…/.default`).
    pub async fn fetch(&self, http: &HttpClient, scope: &str) -> Result<AccessToken, Error> {
        match self {
            TokenSource::ClientSecret { authority_host, tenant_id, client_id, secret } => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.expose()),
                    ("scope", scope),
                ];
                aad_token(http, authority_host, tenant_id, &form, &self.describe()).await
            }
            TokenSource::ClientCertificate { authority_host, tenant_id, client_id, certificate } => {
                // A new assertion per request (fresh `jti`, `exp` ten minutes out), addressed to the very URL the
                // request goes to: Entra compares `aud` with its token endpoint (AADSTS700023 otherwise).
                let audience = token_endpoint(authority_host, tenant_id);
                let assertion =
                    certificate.assertion(client_id, &audience, SystemTime::now()).map_err(AuthError::new)?;
                let form = assertion_form(client_id, assertion.expose(), scope);
                aad_token(http, authority_host, tenant_id, &form, &self.describe()).await
            }
            TokenSource::WorkloadIdentity { authority_host, tenant_id, client_id, token_file } => {
                // Re-read on every fetch: the platform rotates the file while a long wait is under way.
                let assertion = tokio::fs::read_to_string(token_file).await.map_err(|e| {
                    AuthError::new(format!(
                        "cannot read the federated token file {} (AZURE_FEDERATED_TOKEN_FILE): {e}",
                        token_file.display()
                    ))
                })?;
                let form = assertion_form(client_id, assertion.trim(), scope);
                aad_token(http, authority_host, tenant_id, &form, &self.describe()).await
            }
            TokenSource::AppServiceIdentity { endpoint, header, client_id } => {
                let request = ManagedIdentityRequest {
                    url: endpoint.clone(),
                    api_version: "2019-08-01",
                    header: ("x-identity-header", header.expose()),
                    client_id: client_id.as_deref(),
                    imds: false,
                };
                request.fetch(http, scope, &self.describe()).await
            }
            TokenSource::Imds { endpoint, client_id } => {
                let request = ManagedIdentityRequest {
                    url: format!("{endpoint}/metadata/identity/oauth2/token"),
                    api_version: "2018-02-01",
                    header: ("metadata", "true"),
                    client_id: client_id.as_deref(),
                    imds: true,
                };
                request.fetch(http, scope, &self.describe()).await
            }
            TokenSource::AzureCli { tenant_id, path } => {
                azure_cli_token(scope, tenant_id.as_deref(), path.as_deref()).await
            }
        }
    }
}

/// The client-credentials form that authenticates with a `client_assertion` (RFC 7523 §2.2; a certificate's signed
/// JWT or a federated token).
fn assertion_form<'a>(client_id: &'a str, assertion: &'a str, scope: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
        ("scope", scope),
    ]
}

/// The tenant's v2.0 token endpoint under `authority_host` (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`
/// in the public cloud): where token requests go, and the `aud` of a certificate's client assertion.
pub fn token_endpoint(authority_host: &str, tenant_id: &str) -> String {
    format!("{}/{}/oauth2/v2.0/token", authority_host.trim_end_matches('/'), tenant_id)
}

/// `https://vault.azure.net/.default` → `https://vault.azure.net` (managed identity endpoints take a resource).
pub fn resource_of(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

#[derive(Deserialize)]
struct AadToken {
    access_token: String,
    expires_in: NumberOrString,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    Text(String),
}

impl NumberOrString {
    fn as_u64(&self) -> Option<u64> {
        match self {
            NumberOrString::Number(n) => Some(*n),
            NumberOrString::Text(s) => s.trim().parse().ok(),
        }
    }
}

async fn aad_token(
    http: &HttpClient,
    authority_host: &str,
    tenant_id: &str,
    form: &[(&str, &str)],
    who: &str,
) -> Result<AccessToken, Error> {
    // The tenant is a path segment of the URL the client secret or assertion is posted to: whatever resolved it,
    // a value that is not a tenant never gets that far (`..` or `x/y?` would move the request elsewhere).
    super::ids::tenant(tenant_id).map_err(|rule| Error::Usage(format!("{who}: not a valid tenant: {rule}")))?;
    let url = token_endpoint(authority_host, tenant_id);
    // Token requests have no side effects, so retrying them is safe.
    let response =
        http.request(reqwest::Method::POST, &url)?.form(form).retry_safe().send().await.map_err(|mut h| {
            if matches!(h.status, Some(400 | 401 | 403)) {
                return Error::Auth(AuthError::new(format!(
                    "Azure AD rejected {who}: {}{}",
                    h.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
                    h.message
                )));
            }
            // Say which service failed: this error may surface in the middle of a storage or ARM call.
            if matches!(h.kind, HttpErrorKind::Connect | HttpErrorKind::Timeout | HttpErrorKind::Transport) {
                h.message = format!("{}; Microsoft Entra ID (the token endpoint for {who}) is unreachable", h.message);
            }
            Error::from(h)
        })?;
    let body: AadToken = response.json()?;
    let lifetime = body.expires_in.as_u64().unwrap_or(0);
    if lifetime == 0 {
        return Err(AuthError::new(format!("Azure AD returned a token for {who} without a valid expires_in")).into());
    }
    Ok(AccessToken::new(Secret::new(body.access_token), Duration::from_secs(lifetime)))
}

/// One managed-identity token GET; the two flavours differ in URL, api-version and the header that proves the
/// caller runs on the host.
struct ManagedIdentityRequest<'a> {
    url: String,
    api_version: &'static str,
    header: (&'static str, &'a str),
    /// A user-assigned identity's client id.
    client_id: Option<&'a str>,
    /// IMDS: plain http to 169.254.169.254 allowed, never through a proxy (`HttpClient::metadata_get`).
    imds: bool,
}

impl ManagedIdentityRequest<'_> {
    async fn fetch(&self, http: &HttpClient, scope: &str, who: &str) -> Result<AccessToken, Error> {
        let mut query = vec![("api-version", self.api_version), ("resource", resource_of(scope))];
        if let Some(id) = self.client_id {
            query.push(("client_id", id));
        }
        let request = if self.imds { http.metadata_get(&self.url)? } else { http.get(&self.url)? };
        let response = request
            .query(&query)
            .header(self.header.0, self.header.1)?
            .send()
            .await
            .map_err(|e| identity_error(e, who))?;
        let body: ManagedIdentityToken = response.json()?;
        body.into_access_token()
            .ok_or_else(|| AuthError::new(format!("{who}: the token response has no expiry")).into())
    }
}

/// Both managed identity flavours; IMDS sends `expires_in`, App Service only `expires_on` (Unix seconds).
#[derive(Deserialize)]
struct ManagedIdentityToken {
    access_token: String,
    #[serde(default)]
    expires_in: Option<NumberOrString>,
    #[serde(default)]
    expires_on: Option<NumberOrString>,
}

impl ManagedIdentityToken {
    fn into_access_token(self) -> Option<AccessToken> {
        let lifetime = match (self.expires_in.and_then(|v| v.as_u64()), self.expires_on.and_then(|v| v.as_u64())) {
            (Some(secs), _) => Duration::from_secs(secs),
            (None, Some(on)) => seconds_until(on)?,
            (None, None) => return None,
        };
        Some(AccessToken::new(Secret::new(self.access_token), lifetime))
    }
}

fn seconds_until(unix_secs: u64) -> Option<Duration> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(unix_secs.saturating_sub(now)))
}

fn identity_error(h: HttpError, who: &str) -> Error {
    if h.kind == HttpErrorKind::Status && matches!(h.status, Some(400 | 401 | 403 | 404)) {
        return Error::Auth(AuthError::new(format!("{who} refused to issue a token: {}", h.message)));
    }
    Error::from(h)
}

#[derive(Deserialize)]
struct CliToken {
    #[serde(rename = "accessToken")]
    access_token: String,
    #[serde(default)]
    expires_on: Option<NumberOrString>,
    #[serde(rename = "expiresOn", default)]
    expires_on_local: Option<String>,
}

/// Finds an executable named `name` on `path` (the PATH of the invocation, which tests control).
pub fn find_on_path(name: &str, path: Option<&str>) -> Option<PathBuf> {
    let path = path?;
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

async fn azure_cli_token(scope: &str, tenant: Option<&str>, path: Option<&str>) -> Result<AccessToken, Error> {
    let az =
        find_on_path("az", path).ok_or_else(|| AuthError::new("the Azure CLI (az) is not installed or not on PATH"))?;
    let mut command = tokio::process::Command::new(&az);
    command.args(["account", "get-access-token", "--output", "json", "--scope", scope]);
    if let Some(tenant) = tenant {
        command.args(["--tenant", tenant]);
    }
    command.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(AZURE_CLI_TIMEOUT, command.output())
        .await
        .map_err(|_| AuthError::new(format!("the Azure CLI did not answer within {} s", AZURE_CLI_TIMEOUT.as_secs())))?
        .map_err(|e| AuthError::new(format!("cannot run the Azure CLI at {}: {e}", az.display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no error output");
        return Err(AuthError::new(format!("the Azure CLI could not get a token ({first}); run `az login`")).into());
    }
    let parsed: CliToken = serde_json::from_slice(&output.stdout)
        .map_err(|e| AuthError::new(format!("unexpected output from `az account get-access-token`: {e}")))?;
    let lifetime = match parsed.expires_on.and_then(|v| v.as_u64()) {
        Some(on) => seconds_until(on),
        // Older CLIs print only a local-time `expiresOn` such as "2026-11-28 14:05:03.000000".
        None => parsed.expires_on_local.as_deref().and_then(local_time_until),
    }
    .ok_or_else(|| AuthError::new("the Azure CLI returned a token without an expiry"))?;
    Ok(AccessToken::new(Secret::new(parsed.access_token), lifetime))
}

fn local_time_until(text: &str) -> Option<Duration> {
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let local = naive.and_local_timezone(chrono::Local).earliest()?;
    let secs = (local.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// The process environment variables a source is chosen from, by name (see `resolve`).
pub type Env = HashMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_from_scope() {
        assert_eq!(resource_of("https://vault.azure.net/.default"), "https://vault.azure.net");
        assert_eq!(resource_of("https://storage.azure.com"), "https://storage.azure.com");
    }

    #[test]
    fn managed_identity_expiry_forms() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let imds = ManagedIdentityToken {
            access_token: "a".into(),
            expires_in: Some(NumberOrString::Text("3599".into())),
            expires_on: None,
        };
        assert_eq!(imds.into_access_token().unwrap().lifetime, Duration::from_secs(3599));
        let app = ManagedIdentityToken {
            access_token: "a".into(),
            expires_in: None,
            expires_on: Some(NumberOrString::Text((now + 100).to_string())),
        };
        let lifetime = app.into_access_token().unwrap().lifetime;
        assert!(lifetime <= Duration::from_secs(100) && lifetime >= Duration::from_secs(98));
        let none = ManagedIdentityToken { access_token: "a".into(), expires_in: None, expires_on: None };
        assert!(none.into_access_token().is_none());
    }

    #[test]
    fn descriptions_never_contain_secrets() {
        let s = TokenSource::ClientSecret {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            secret: Secret::new("very-secret"),
        };
        assert!(!format!("{s:?} {}", s.describe()).contains("very-secret"));
        let m = TokenSource::AppServiceIdentity {
            endpoint: "http://x".into(),
            header: Secret::new("hdr"),
            client_id: None,
        };
        assert!(!format!("{m:?}").contains("hdr"));
    }
}

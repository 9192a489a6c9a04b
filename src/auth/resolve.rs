//! Finds the service principal drift acts as: `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` from the environment, else
//! `AZURE_CLIENT_ID` + `AZURE_CLIENT_CERTIFICATE_PATH` (a certificate, `certificate.rs`), else the `ApplicationID` /
//! `ApplicationPassword` / `TenantID` secrets of the Key Vault named by `--vault_name`, read with the ambient
//! identity (managed identity, workload identity or the Azure CLI).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;

use super::certificate::{
    CERTIFICATE_PASSWORD_ENV, CERTIFICATE_PATH_ENV, ClientCertificate, SEND_CHAIN_ENV, send_chain_enabled,
};
use super::sources::{IMDS_PROBE_TIMEOUT, TokenSource, find_on_path};
use super::{Credential, ids};
use crate::azure::keyvault::{KeyVault, check_vault_name};
use crate::cloud::Endpoints;
use crate::config::SecretsEncoding;
use crate::error::{AuthError, Error};
use crate::http::{CredentialError, HttpClient, HttpErrorKind, TokenProvider};
use crate::secret::Secret;

/// Key Vault secret names, as the Python tool stored them.
pub const SECRET_CLIENT_ID: &str = "ApplicationID";
pub const SECRET_CLIENT_SECRET: &str = "ApplicationPassword";
pub const SECRET_TENANT_ID: &str = "TenantID";

/// Set by drift's Databricks wrapper (`python/drift/_databricks.py`) when it filled `AZURE_*` variables from a
/// Databricks secret scope: the scope, `:`, and the variables it set, such as
/// `kv-prod:AZURE_CLIENT_ID,AZURE_CLIENT_SECRET,AZURE_TENANT_ID` (scope names cannot hold `:`). Those values were
/// read from a secret store, so `secretsEncoding` applies to them as to Key Vault secrets and their errors name the
/// scope and the key; every other variable, and every flag, is taken as it is.
pub const SECRET_SCOPE_ENV: &str = "DRIFT_SECRET_SCOPE";

/// The variables a secret scope filled, per [`SECRET_SCOPE_ENV`].
struct ScopeValues<'a> {
    scope: &'a str,
    vars: Vec<&'a str>,
}

impl<'a> ScopeValues<'a> {
    fn from_env(inputs: &'a AuthInputs<'_>) -> Option<ScopeValues<'a>> {
        let (scope, vars) = inputs.env(SECRET_SCOPE_ENV)?.split_once(':')?;
        Some(ScopeValues { scope: scope.trim(), vars: vars.split(',').map(str::trim).collect() })
    }

    /// Where variable `var` came from, for messages (`Databricks secret scope kv-prod: key TenantID
    /// (AZURE_TENANT_ID)`), when the scope filled it.
    fn source_of(&self, var: &str) -> Option<String> {
        let key = match var {
            "AZURE_CLIENT_ID" => SECRET_CLIENT_ID,
            "AZURE_CLIENT_SECRET" => SECRET_CLIENT_SECRET,
            "AZURE_TENANT_ID" => SECRET_TENANT_ID,
            _ => return None,
        };
        self.vars.contains(&var).then(|| format!("Databricks secret scope {}: key {key} ({var})", self.scope))
    }
}

/// What resolution starts from: the environment, the legacy flags, and config settings.
pub struct AuthInputs<'a> {
    pub env: &'a HashMap<String, String>,
    pub endpoints: &'a Endpoints,
    pub http: &'a HttpClient,
    pub tenant_flag: Option<&'a str>,
    pub vault_flag: Option<&'a str>,
    pub encoding: SecretsEncoding,
}

impl AuthInputs<'_> {
    fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// Where the service principal's credential came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSource {
    Environment,
    /// `AZURE_CLIENT_CERTIFICATE_PATH`: the file, the certificate's SHA-1 thumbprint and the end of its validity.
    Certificate {
        path: String,
        thumbprint: String,
        not_after: String,
    },
    KeyVault {
        vault: String,
        read_with: String,
    },
}

impl std::fmt::Display for PrincipalSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrincipalSource::Environment => f.write_str("environment (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)"),
            PrincipalSource::Certificate { path, thumbprint, not_after } => write!(
                f,
                "certificate ({CERTIFICATE_PATH_ENV} {path}; SHA-1 thumbprint {thumbprint}; valid until {not_after})"
            ),
            PrincipalSource::KeyVault { vault, read_with } => write!(f, "Key Vault {vault} (read with {read_with})"),
        }
    }
}

/// How the principal proves who it is.
#[derive(Debug, Clone)]
pub enum PrincipalCredential {
    /// A client secret: from the environment or Key Vault. Kept because the registrator writes it into the
    /// datastore.
    Secret(Secret),
    /// A certificate with its private key (`AZURE_CLIENT_CERTIFICATE_PATH`), loaded once.
    Certificate(Arc<ClientCertificate>),
}

/// The identity drift acts as.
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    pub tenant_id: String,
    pub client_id: String,
    pub credential: PrincipalCredential,
    pub source: PrincipalSource,
}

impl ServicePrincipal {
    /// The cached credential that signs requests as this principal.
    pub fn credential(&self, endpoints: &Endpoints, http: &HttpClient) -> Arc<Credential> {
        let authority_host = endpoints.authority_host.clone();
        let (tenant_id, client_id) = (self.tenant_id.clone(), self.client_id.clone());
        let source = match &self.credential {
            PrincipalCredential::Secret(secret) => {
                TokenSource::ClientSecret { authority_host, tenant_id, client_id, secret: secret.clone() }
            }
            PrincipalCredential::Certificate(certificate) => TokenSource::ClientCertificate {
                authority_host,
                tenant_id,
                client_id,
                certificate: certificate.clone(),
            },
        };
        Credential::new(source, http.clone())
    }

    /// The client secret, when the principal has one (not a certificate principal).
    pub fn client_secret(&self) -> Option<&Secret> {
        match &self.credential {
            PrincipalCredential::Secret(secret) => Some(secret),
            PrincipalCredential::Certificate(_) => None,
        }
    }
}

/// Resolves the service principal in the documented order: a client secret from the environment, a certificate
/// from the environment, the Key Vault. Secret before certificate is azure-identity's `EnvironmentCredential` order
/// (Python: "Configuration is attempted in this order": secret, certificate, username/password; Go
/// `NewEnvironmentCredential` and Java's constructor check `AZURE_CLIENT_SECRET` first as well).
pub async fn resolve_service_principal(inputs: &AuthInputs<'_>) -> Result<ServicePrincipal, Error> {
    check_inputs(inputs)?;
    if let (Some(client_id), Some(secret)) = (inputs.env("AZURE_CLIENT_ID"), inputs.env("AZURE_CLIENT_SECRET")) {
        let (tenant_id, client_id) = environment_identity(inputs, client_id, "AZURE_CLIENT_SECRET")?;
        if inputs.env(CERTIFICATE_PATH_ENV).is_some() {
            tracing::debug!(
                target: "drift::auth",
                "AZURE_CLIENT_SECRET and {CERTIFICATE_PATH_ENV} are both set; the client secret is used, as \
                 azure-identity's EnvironmentCredential does"
            );
        }
        let secret = stored_value(inputs, "AZURE_CLIENT_SECRET", None)?.unwrap_or_else(|| Secret::new(secret));
        return Ok(ServicePrincipal {
            tenant_id,
            client_id,
            credential: PrincipalCredential::Secret(secret),
            source: PrincipalSource::Environment,
        });
    }
    if let (Some(client_id), Some(path)) = (inputs.env("AZURE_CLIENT_ID"), inputs.env(CERTIFICATE_PATH_ENV)) {
        let (tenant_id, client_id) = environment_identity(inputs, client_id, CERTIFICATE_PATH_ENV)?;
        // Taken byte for byte (not trimmed): a password may begin or end with a space.
        let password =
            inputs.env.get(CERTIFICATE_PASSWORD_ENV).filter(|p| !p.is_empty()).map(|p| Secret::new(p.as_str()));
        let send_chain = send_chain_enabled(inputs.env(SEND_CHAIN_ENV));
        let certificate = ClientCertificate::load(Path::new(path), password.as_ref(), send_chain, SystemTime::now())
            .await
            .map_err(AuthError::new)?;
        return Ok(ServicePrincipal {
            tenant_id,
            client_id,
            source: PrincipalSource::Certificate {
                path: path.to_string(),
                thumbprint: certificate.thumbprint_hex(),
                not_after: certificate.not_after(),
            },
            credential: PrincipalCredential::Certificate(Arc::new(certificate)),
        });
    }
    let Some(vault) = inputs.vault_flag.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(AuthError::new(
            "no service principal credentials: set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or \
             AZURE_CLIENT_CERTIFICATE_PATH (and AZURE_TENANT_ID or --tenant), or pass --vault_name with a Key Vault \
             holding ApplicationID and ApplicationPassword",
        )
        .into());
    };
    // The vault name becomes the host the Key Vault token goes to: refuse a name that is not one before the first
    // request (the flag layer admits Databricks secret scope names too, which are fine when the environment
    // already holds the principal, as drift's Databricks wrapper arranges).
    check_vault_name(vault).map_err(|rule| {
        Error::Usage(format!(
            "--vault_name {}: not a Key Vault name, and drift reads the service principal from that Key Vault because \
             AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not both set; {rule}",
            quoted(vault)
        ))
    })?;
    let ambient = ambient_credential(inputs).await?;
    let keyvault = KeyVault::new(inputs.http.clone(), inputs.endpoints.clone(), ambient.clone());
    let read = |name: &'static str| keyvault.get_secret(vault, name);
    let client_id = read(SECRET_CLIENT_ID).await?;
    let secret = read(SECRET_CLIENT_SECRET).await?;
    let tenant = read(SECRET_TENANT_ID).await?;
    let missing: Vec<&str> = [(SECRET_CLIENT_ID, client_id.is_none()), (SECRET_CLIENT_SECRET, secret.is_none())]
        .iter()
        .filter(|(_, absent)| *absent)
        .map(|(n, _)| *n)
        .collect();
    let (Some(client_id), Some(secret)) = (client_id, secret) else {
        return Err(AuthError::new(format!(
            "Key Vault {vault} has no secret named {} (drift reads ApplicationID, ApplicationPassword and optionally TenantID)",
            missing.join(" or ")
        ))
        .into());
    };
    let source = |name: &str| format!("Key Vault {vault}: secret {name}");
    let decode = |name: &str, value: &Secret| decode_secret(inputs.encoding, &source(name), value.expose());
    let tenant_id = match tenant {
        Some(t) => {
            let tenant = decode(SECRET_TENANT_ID, &t)?.expose().trim().to_string();
            check_stored_value(&source(SECRET_TENANT_ID), &tenant, ids::tenant)?;
            tenant
        }
        None => inputs.tenant_flag.map(str::to_string).ok_or_else(|| {
            AuthError::new(format!("no tenant: Key Vault {vault} has no TenantID secret; pass --tenant"))
        })?,
    };
    let client_id = decode(SECRET_CLIENT_ID, &client_id)?.expose().trim().to_string();
    check_stored_value(&source(SECRET_CLIENT_ID), &client_id, ids::client_id)?;
    Ok(ServicePrincipal {
        tenant_id,
        client_id,
        credential: PrincipalCredential::Secret(decode(SECRET_CLIENT_SECRET, &secret)?),
        source: PrincipalSource::KeyVault { vault: vault.to_string(), read_with: ambient.describe() },
    })
}

/// The tenant and client id of an environment principal whose credential is in `credential_var`. Taken as they
/// are — `secretsEncoding` describes how a secret store keeps its secrets, and a flag or an environment variable is
/// not one — unless drift's Databricks wrapper read the variable from a scope.
fn environment_identity(
    inputs: &AuthInputs<'_>,
    client_id: &str,
    credential_var: &str,
) -> Result<(String, String), Error> {
    if inputs.env("AZURE_TENANT_ID").or(inputs.tenant_flag).is_none() {
        return Err(AuthError::new(format!(
            "AZURE_CLIENT_ID and {credential_var} are set but no tenant is: set AZURE_TENANT_ID or pass --tenant"
        ))
        .into());
    }
    let tenant = match stored_value(inputs, "AZURE_TENANT_ID", Some(ids::tenant))? {
        Some(t) => t.expose().trim().to_string(),
        None => inputs.env("AZURE_TENANT_ID").or(inputs.tenant_flag).unwrap_or_default().to_string(),
    };
    let client_id = match stored_value(inputs, "AZURE_CLIENT_ID", Some(ids::client_id))? {
        Some(c) => c.expose().trim().to_string(),
        None => client_id.to_string(),
    };
    Ok((tenant, client_id))
}

/// Variable `var` decoded per `secretsEncoding` (and checked with `rule`) when a Databricks secret scope filled
/// it; `None` when it is unset or was not filled by a scope.
fn stored_value(inputs: &AuthInputs<'_>, var: &str, rule: Option<Rule>) -> Result<Option<Secret>, Error> {
    let scope = ScopeValues::from_env(inputs);
    let (Some(value), Some(source)) = (inputs.env(var), scope.as_ref().and_then(|s| s.source_of(var))) else {
        return Ok(None);
    };
    let decoded = decode_secret(inputs.encoding, &source, value)?;
    if let Some(rule) = rule {
        check_stored_value(&source, decoded.expose().trim(), rule)?;
    }
    Ok(Some(decoded))
}

/// A naming rule: `Err` holds the rule in words.
type Rule = fn(&str) -> Result<(), String>;

/// Checks the identifiers the flags and the environment give before any of them reaches a request: the tenant
/// (a token URL path segment), the client id (a form field, an IMDS query value). A bad value is the caller's
/// input, so exit 2. Values are described by length only: a client id variable that holds a secret by mistake
/// must not end up in a log.
fn check_inputs(inputs: &AuthInputs<'_>) -> Result<(), Error> {
    if let Some(tenant) = inputs.tenant_flag {
        ids::tenant(tenant).map_err(|rule| Error::Usage(format!("--tenant {}: {rule}", quoted(tenant))))?;
    }
    // A variable a secret scope filled is checked once decoded, as a stored value.
    let scope = ScopeValues::from_env(inputs);
    let checks: [(&str, Rule); 2] = [("AZURE_TENANT_ID", ids::tenant), ("AZURE_CLIENT_ID", ids::client_id)];
    for (name, rule) in checks {
        if scope.as_ref().is_some_and(|s| s.source_of(name).is_some()) {
            continue;
        }
        if let Some(value) = inputs.env(name) {
            rule(value).map_err(|rule| {
                Error::Usage(format!(
                    "environment variable {name} is not valid ({} characters): {rule}",
                    value.chars().count()
                ))
            })?;
        }
    }
    Ok(())
}

/// A secret-store value that does not hold what its name says: a credentials problem (exit 3) naming the store and
/// the secret (`source`), never the value (the secrets may have been swapped).
fn check_stored_value(source: &str, value: &str, rule: Rule) -> Result<(), Error> {
    rule(value).map_err(|rule| {
        AuthError::new(format!("{source} is not valid ({} characters): {rule}", value.chars().count())).into()
    })
}

/// `secretsEncoding: base64` stores each secret base64-encoded, as the Python tool's docs described. Only values
/// read from a secret store come here (`source` names it and the secret, as `Key Vault kv1: secret TenantID`);
/// messages never hold the value.
fn decode_secret(encoding: SecretsEncoding, source: &str, value: &str) -> Result<Secret, Error> {
    match encoding {
        SecretsEncoding::Plain => Ok(Secret::new(value)),
        SecretsEncoding::Base64 => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| {
                AuthError::new(format!(
                    "{source} is not valid base64 (secretsEncoding: base64 says the secrets are stored \
                     base64-encoded)"
                ))
            })?;
            let text = String::from_utf8(bytes).map_err(|_| {
                AuthError::new(format!("{source} decodes from base64 to bytes that are not UTF-8 text"))
            })?;
            Ok(Secret::new(text))
        }
    }
}

/// A flag value quoted for a message, cut short so a huge one cannot flood the terminal.
fn quoted(v: &str) -> String {
    const MAX: usize = 80;
    if v.chars().count() > MAX { format!("{:?}…", v.chars().take(MAX).collect::<String>()) } else { format!("{v:?}") }
}

/// The identity of the machine or session drift runs in, used to read the Key Vault. Explicit settings win:
/// `IDENTITY_ENDPOINT` (managed identity on App Service, Container Apps, Azure ML compute), then
/// `AZURE_FEDERATED_TOKEN_FILE` (workload identity), then a probe of IMDS (VM managed identity), then the Azure
/// CLI. Each candidate is tried by actually fetching a Key Vault token, so the first that works is kept.
pub async fn ambient_credential(inputs: &AuthInputs<'_>) -> Result<Arc<Credential>, Error> {
    check_inputs(inputs)?;
    let scope = Endpoints::scope(inputs.endpoints.cloud.keyvault_audience);
    let user_assigned = inputs.env("AZURE_CLIENT_ID").map(str::to_string);
    if let (Some(endpoint), Some(header)) = (inputs.env("IDENTITY_ENDPOINT"), inputs.env("IDENTITY_HEADER")) {
        crate::cloud::check_transport(endpoint)
            .map_err(|reason| AuthError::new(format!("IDENTITY_ENDPOINT {endpoint} cannot be used: {reason}")))?;
        let source = TokenSource::AppServiceIdentity {
            endpoint: endpoint.to_string(),
            header: Secret::new(header),
            client_id: user_assigned,
        };
        return Ok(Credential::new(source, inputs.http.clone()));
    }
    if let Some(file) = inputs.env("AZURE_FEDERATED_TOKEN_FILE") {
        let client_id = user_assigned.clone().ok_or_else(|| {
            AuthError::new(
                "AZURE_FEDERATED_TOKEN_FILE is set but AZURE_CLIENT_ID is not (workload identity needs both)",
            )
        })?;
        let tenant_id = inputs.env("AZURE_TENANT_ID").or(inputs.tenant_flag).ok_or_else(|| {
            AuthError::new("AZURE_FEDERATED_TOKEN_FILE is set but no tenant is: set AZURE_TENANT_ID or pass --tenant")
        })?;
        let source = TokenSource::WorkloadIdentity {
            authority_host: inputs.endpoints.authority_host.clone(),
            tenant_id: tenant_id.to_string(),
            client_id,
            token_file: PathBuf::from(file),
        };
        return Ok(Credential::new(source, inputs.http.clone()));
    }
    let mut tried = Vec::new();
    let imds = Credential::new(
        TokenSource::Imds { endpoint: inputs.endpoints.imds.clone(), client_id: user_assigned },
        inputs.http.clone(),
    );
    match probe_imds(&imds, &scope).await {
        Ok(()) => return Ok(imds),
        Err(reason) => tried.push(format!("managed identity (IMDS at {}): {reason}", inputs.endpoints.imds)),
    }
    let path = inputs.env("PATH").map(str::to_string);
    if find_on_path("az", path.as_deref()).is_some() {
        let cli = Credential::new(
            TokenSource::AzureCli { tenant_id: inputs.tenant_flag.map(str::to_string), path },
            inputs.http.clone(),
        );
        return Ok(cli);
    }
    tried.push("Azure CLI: `az` is not on PATH".to_string());
    Err(AuthError::new(format!(
        "no identity to read Key Vault with; tried: {}. Set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET instead, or run \
         where a managed or workload identity is available",
        tried.join("; ")
    ))
    .into())
}

/// Fetches one Key Vault token from IMDS quickly; on success the token stays cached for the real read.
async fn probe_imds(credential: &Arc<Credential>, scope: &str) -> Result<(), String> {
    let attempt = tokio::time::timeout(IMDS_PROBE_TIMEOUT, credential.token(scope)).await;
    match attempt {
        Err(_) => Err(format!("no answer within {} s", IMDS_PROBE_TIMEOUT.as_secs())),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(CredentialError::Http(h))) if matches!(h.kind, HttpErrorKind::Connect | HttpErrorKind::Timeout) => {
            Err("not reachable".to_string())
        }
        Ok(Err(e)) => Err(e.to_string()),
    }
}

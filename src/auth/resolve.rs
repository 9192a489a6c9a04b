//! Finds the service principal drift acts as: `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` from the environment,
//! else the `ApplicationID` / `ApplicationPassword` / `TenantID` secrets of the Key Vault named by `--vault_name`,
//! read with the ambient identity (managed identity, workload identity or the Azure CLI).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;

use super::Credential;
use super::sources::{IMDS_PROBE_TIMEOUT, TokenSource, find_on_path};
use crate::azure::keyvault::KeyVault;
use crate::cloud::Endpoints;
use crate::config::SecretsEncoding;
use crate::error::{AuthError, Error};
use crate::http::{HttpClient, HttpErrorKind, TokenProvider};
use crate::secret::Secret;

/// Key Vault secret names, as the Python tool stored them.
pub const SECRET_CLIENT_ID: &str = "ApplicationID";
pub const SECRET_CLIENT_SECRET: &str = "ApplicationPassword";
pub const SECRET_TENANT_ID: &str = "TenantID";

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

/// Where the service principal's secret came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSource {
    Environment,
    KeyVault { vault: String, read_with: String },
}

impl std::fmt::Display for PrincipalSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrincipalSource::Environment => f.write_str("environment (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)"),
            PrincipalSource::KeyVault { vault, read_with } => write!(f, "Key Vault {vault} (read with {read_with})"),
        }
    }
}

/// The identity drift acts as. The secret is kept because the registrator writes it into the datastore.
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub source: PrincipalSource,
}

impl ServicePrincipal {
    /// The cached credential that signs requests as this principal.
    pub fn credential(&self, endpoints: &Endpoints, http: &HttpClient) -> Arc<Credential> {
        Credential::new(
            TokenSource::ClientSecret {
                authority_host: endpoints.authority_host.clone(),
                tenant_id: self.tenant_id.clone(),
                client_id: self.client_id.clone(),
                secret: self.client_secret.clone(),
            },
            http.clone(),
        )
    }
}

/// Resolves the service principal in the documented order.
pub async fn resolve_service_principal(inputs: &AuthInputs<'_>) -> Result<ServicePrincipal, Error> {
    if let (Some(client_id), Some(secret)) = (inputs.env("AZURE_CLIENT_ID"), inputs.env("AZURE_CLIENT_SECRET")) {
        let tenant = inputs.env("AZURE_TENANT_ID").or(inputs.tenant_flag).ok_or_else(|| {
            AuthError::new("AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set but no tenant is: set AZURE_TENANT_ID or pass --tenant")
        })?;
        let decode = |what: &str, v: &str| decode_value(inputs.encoding, what, v);
        return Ok(ServicePrincipal {
            tenant_id: decode("AZURE_TENANT_ID", tenant)?.expose().trim().to_string(),
            client_id: decode("AZURE_CLIENT_ID", client_id)?.expose().trim().to_string(),
            client_secret: decode("AZURE_CLIENT_SECRET", secret)?,
            source: PrincipalSource::Environment,
        });
    }
    let Some(vault) = inputs.vault_flag.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(AuthError::new(
            "no service principal credentials: set AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (and AZURE_TENANT_ID or \
             --tenant), or pass --vault_name with a Key Vault holding ApplicationID and ApplicationPassword",
        )
        .into());
    };
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
    let tenant_id = match tenant {
        Some(t) => decode_value(inputs.encoding, SECRET_TENANT_ID, t.expose())?.expose().trim().to_string(),
        None => inputs.tenant_flag.map(str::to_string).ok_or_else(|| {
            AuthError::new(format!("no tenant: Key Vault {vault} has no TenantID secret; pass --tenant"))
        })?,
    };
    Ok(ServicePrincipal {
        tenant_id,
        client_id: decode_value(inputs.encoding, SECRET_CLIENT_ID, client_id.expose())?.expose().trim().to_string(),
        client_secret: decode_value(inputs.encoding, SECRET_CLIENT_SECRET, secret.expose())?,
        source: PrincipalSource::KeyVault { vault: vault.to_string(), read_with: ambient.describe() },
    })
}

/// `secretsEncoding: base64` stores each value base64-encoded, as the Python tool's docs described.
fn decode_value(encoding: SecretsEncoding, what: &str, value: &str) -> Result<Secret, Error> {
    match encoding {
        SecretsEncoding::Plain => Ok(Secret::new(value)),
        SecretsEncoding::Base64 => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| {
                AuthError::new(format!("{what} is not valid base64 (the config says secretsEncoding: base64)"))
            })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| AuthError::new(format!("{what} decodes from base64 to bytes that are not UTF-8 text")))?;
            Ok(Secret::new(text))
        }
    }
}

/// The identity of the machine or session drift runs in, used to read the Key Vault. Explicit settings win:
/// `IDENTITY_ENDPOINT` (managed identity on App Service, Container Apps, Azure ML compute), then
/// `AZURE_FEDERATED_TOKEN_FILE` (workload identity), then a probe of IMDS (VM managed identity), then the Azure
/// CLI. Each candidate is tried by actually fetching a Key Vault token, so the first that works is kept.
pub async fn ambient_credential(inputs: &AuthInputs<'_>) -> Result<Arc<Credential>, Error> {
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
        Ok(Err(Error::Http(h))) if matches!(h.kind, HttpErrorKind::Connect | HttpErrorKind::Timeout) => {
            Err("not reachable".to_string())
        }
        Ok(Err(e)) => Err(e.to_string()),
    }
}

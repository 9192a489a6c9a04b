//! The identity sections of the seed file: `tenants`, `servicePrincipals`, `federatedCredentials`,
//! `certificateCredentials`, `managedIdentity` and `grants`.

use serde::Deserialize;
use serde_json::Value;

use super::RegisteredCertificate;
use crate::seed::{Apply, Context, parse, parse_list, require_text};
use crate::state::lock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServicePrincipal {
    tenant_id: String,
    client_id: String,
    client_secret: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FederatedCredential {
    tenant_id: String,
    client_id: String,
    /// The exact `client_assertion` string accepted for the client.
    assertion: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CertificateCredential {
    tenant_id: String,
    client_id: String,
    /// The certificate as PEM text.
    #[serde(default)]
    certificate: Option<String>,
    /// A PEM or DER certificate file, relative to the seed file's folder.
    #[serde(default)]
    certificate_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ManagedIdentity {
    principal_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Grant {
    principal: String,
    resource_prefix: String,
}

/// `"tenants": ["<tenant id>", ...]`
pub(crate) fn tenants(value: &Value, _context: &Context) -> Result<Apply, String> {
    let tenants: Vec<String> = parse_list(value)?;
    for (i, tenant) in tenants.iter().enumerate() {
        require_text(&format!("entry {i}"), tenant)?;
    }
    Ok(Box::new(move |state| {
        let mut directory = lock(&state.identity.directory);
        for tenant in &tenants {
            directory.add_tenant(tenant);
        }
    }))
}

/// `"servicePrincipals": [{"tenantId", "clientId", "clientSecret"}, ...]`
pub(crate) fn service_principals(value: &Value, _context: &Context) -> Result<Apply, String> {
    let principals: Vec<ServicePrincipal> = parse_list(value)?;
    for (i, sp) in principals.iter().enumerate() {
        require_text(&format!("entry {i}: tenantId"), &sp.tenant_id)?;
        require_text(&format!("entry {i}: clientId"), &sp.client_id)?;
        require_text(&format!("entry {i}: clientSecret"), &sp.client_secret)?;
    }
    Ok(Box::new(move |state| {
        let mut directory = lock(&state.identity.directory);
        for sp in &principals {
            directory.add_secret(&sp.tenant_id, &sp.client_id, &sp.client_secret);
        }
    }))
}

/// `"federatedCredentials": [{"tenantId", "clientId", "assertion"}, ...]`
pub(crate) fn federated_credentials(value: &Value, _context: &Context) -> Result<Apply, String> {
    let credentials: Vec<FederatedCredential> = parse_list(value)?;
    for (i, fc) in credentials.iter().enumerate() {
        require_text(&format!("entry {i}: tenantId"), &fc.tenant_id)?;
        require_text(&format!("entry {i}: clientId"), &fc.client_id)?;
        require_text(&format!("entry {i}: assertion"), &fc.assertion)?;
    }
    Ok(Box::new(move |state| {
        let mut directory = lock(&state.identity.directory);
        for fc in &credentials {
            directory.add_assertion(&fc.tenant_id, &fc.client_id, &fc.assertion);
        }
    }))
}

/// `"certificateCredentials": [{"tenantId", "clientId", "certificate" (PEM text) | "certificateFile"}, ...]`
pub(crate) fn certificate_credentials(value: &Value, context: &Context) -> Result<Apply, String> {
    let entries: Vec<CertificateCredential> = parse_list(value)?;
    let mut checked = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        require_text(&format!("entry {i}: tenantId"), &entry.tenant_id)?;
        require_text(&format!("entry {i}: clientId"), &entry.client_id)?;
        let bytes = match (&entry.certificate, &entry.certificate_file) {
            (Some(pem), None) => pem.as_bytes().to_vec(),
            (None, Some(file)) => {
                let path = context.resolve(file);
                std::fs::read(&path).map_err(|e| format!("entry {i}: certificateFile {}: {e}", path.display()))?
            }
            _ => return Err(format!("entry {i}: give exactly one of certificate and certificateFile")),
        };
        let certificate = RegisteredCertificate::parse(&bytes).map_err(|e| format!("entry {i}: {e}"))?;
        checked.push((entry.tenant_id.clone(), entry.client_id.clone(), certificate));
    }
    Ok(Box::new(move |state| {
        let mut directory = lock(&state.identity.directory);
        for (tenant, client, certificate) in checked {
            directory.add_certificate(&tenant, &client, certificate);
        }
    }))
}

/// `"managedIdentity": {"principalId"}`, or `null` for none.
pub(crate) fn managed_identity(value: &Value, _context: &Context) -> Result<Apply, String> {
    let identity: Option<ManagedIdentity> = parse(value)?;
    if let Some(identity) = &identity {
        require_text("principalId", &identity.principal_id)?;
    }
    Ok(Box::new(move |state| {
        lock(&state.identity.directory).set_managed_identity(identity.as_ref().map(|i| i.principal_id.as_str()));
    }))
}

/// `"grants": [{"principal", "resourcePrefix"}, ...]`
pub(crate) fn grants(value: &Value, _context: &Context) -> Result<Apply, String> {
    let grants: Vec<Grant> = parse_list(value)?;
    for (i, grant) in grants.iter().enumerate() {
        require_text(&format!("entry {i}: principal"), &grant.principal)?;
    }
    Ok(Box::new(move |state| {
        let mut table = lock(&state.identity.grants);
        for grant in &grants {
            table.grant(&grant.principal, &grant.resource_prefix);
        }
    }))
}

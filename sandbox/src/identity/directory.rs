//! The directory: which tenants exist, which app registrations (service principals) each holds with their client
//! secrets, accepted federated assertions and certificate credentials, and the single managed identity of the
//! "machine" the sandbox plays.

use std::time::SystemTime;

pub(crate) use super::certificates::RegisteredCertificate;
use super::certificates::{ClientAssertion, Rejection};

/// How a client proves who it is on the token endpoint.
pub(crate) enum ClientCredential<'a> {
    Secret(&'a str),
    /// A `client_assertion`: federated (matched as a string) or signed with a registered certificate (verified
    /// for a request to `token_endpoint` at `now`).
    Assertion {
        assertion: &'a str,
        token_endpoint: &'a str,
        now: SystemTime,
    },
}

/// The directory's verdict on a client-credentials attempt, in the order AAD checks.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DirectoryAnswer {
    UnknownTenant,
    UnknownClient,
    WrongSecret,
    NoMatchingAssertion,
    /// A self-issued assertion that fails verification against the application's certificates.
    BadCertificateAssertion(Rejection),
    /// Authenticated; tokens go to this principal (the client id as registered).
    Principal(String),
}

#[derive(Default)]
pub(crate) struct Directory {
    /// In the order added: the first tenant is the one Key Vault challenges name.
    tenants: Vec<Tenant>,
    managed_identity: Option<String>,
}

struct Tenant {
    id: String,
    apps: Vec<App>,
}

struct App {
    client_id: String,
    secrets: Vec<String>,
    assertions: Vec<String>,
    certificates: Vec<RegisteredCertificate>,
}

impl Directory {
    /// Adds a tenant; adding one twice is harmless. Tenant ids compare case-insensitively (they are GUIDs).
    pub fn add_tenant(&mut self, tenant_id: &str) {
        if self.tenant(tenant_id).is_none() {
            self.tenants.push(Tenant { id: tenant_id.to_string(), apps: Vec::new() });
        }
    }

    /// Registers `client_id` in the tenant (creating both if needed) with one more valid secret.
    pub fn add_secret(&mut self, tenant_id: &str, client_id: &str, secret: &str) {
        let app = self.app_mut(tenant_id, client_id);
        if !app.secrets.iter().any(|s| s == secret) {
            app.secrets.push(secret.to_string());
        }
    }

    /// Registers `client_id` in the tenant (creating both if needed) and accepts exactly `assertion` as its
    /// `client_assertion` (workload identity federation; the sandbox compares the string, it does not parse a JWT).
    pub fn add_assertion(&mut self, tenant_id: &str, client_id: &str, assertion: &str) {
        let app = self.app_mut(tenant_id, client_id);
        if !app.assertions.iter().any(|a| a == assertion) {
            app.assertions.push(assertion.to_string());
        }
    }

    /// Registers `client_id` in the tenant (creating both if needed) with one more certificate credential.
    pub fn add_certificate(&mut self, tenant_id: &str, client_id: &str, certificate: RegisteredCertificate) {
        let app = self.app_mut(tenant_id, client_id);
        if !app.certificates.iter().any(|c| c.same_as(&certificate)) {
            app.certificates.push(certificate);
        }
    }

    pub fn set_managed_identity(&mut self, principal_id: Option<&str>) {
        self.managed_identity = principal_id.map(str::to_string);
    }

    pub fn managed_identity(&self) -> Option<&str> {
        self.managed_identity.as_deref()
    }

    pub fn has_tenant(&self, tenant_id: &str) -> bool {
        self.tenant(tenant_id).is_some()
    }

    /// The tenant Key Vault names in its challenge.
    pub fn first_tenant(&self) -> Option<&str> {
        self.tenants.first().map(|t| t.id.as_str())
    }

    /// Authenticates a client the way AAD does: tenant, then application, then the credential.
    pub fn authenticate(&self, tenant_id: &str, client_id: &str, credential: &ClientCredential<'_>) -> DirectoryAnswer {
        let Some(tenant) = self.tenant(tenant_id) else {
            return DirectoryAnswer::UnknownTenant;
        };
        let Some(app) = tenant.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(client_id)) else {
            return DirectoryAnswer::UnknownClient;
        };
        match credential {
            ClientCredential::Secret(secret) if !app.secrets.iter().any(|s| s == secret) => {
                DirectoryAnswer::WrongSecret
            }
            ClientCredential::Assertion { assertion, token_endpoint, now }
                if !app.assertions.iter().any(|a| a == assertion) =>
            {
                // An assertion the client issued itself (`iss` = its client id) is a certificate credential's;
                // any other is a federated one and has no matching federated identity record.
                match ClientAssertion::parse(assertion).filter(|a| a.is_self_issued(&app.client_id)) {
                    Some(signed) => match signed.verify(&app.certificates, token_endpoint, *now) {
                        Ok(()) => DirectoryAnswer::Principal(app.client_id.clone()),
                        Err(rejection) => DirectoryAnswer::BadCertificateAssertion(rejection),
                    },
                    None => DirectoryAnswer::NoMatchingAssertion,
                }
            }
            _ => DirectoryAnswer::Principal(app.client_id.clone()),
        }
    }

    fn tenant(&self, tenant_id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id.eq_ignore_ascii_case(tenant_id))
    }

    fn app_mut(&mut self, tenant_id: &str, client_id: &str) -> &mut App {
        self.add_tenant(tenant_id);
        let index = self.tenants.iter().position(|t| t.id.eq_ignore_ascii_case(tenant_id)).unwrap_or(0);
        let apps = &mut self.tenants[index].apps;
        let at = match apps.iter().position(|a| a.client_id.eq_ignore_ascii_case(client_id)) {
            Some(at) => at,
            None => {
                apps.push(App {
                    client_id: client_id.to_string(),
                    secrets: Vec::new(),
                    assertions: Vec::new(),
                    certificates: Vec::new(),
                });
                apps.len() - 1
            }
        };
        &mut apps[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion(a: &str) -> ClientCredential<'_> {
        ClientCredential::Assertion {
            assertion: a,
            token_endpoint: "http://x/aad/t1/oauth2/v2.0/token",
            now: SystemTime::now(),
        }
    }

    #[test]
    fn authentication_order() {
        let mut dir = Directory::default();
        dir.add_secret("T1", "app", "s3cret");
        dir.add_assertion("t1", "fed", "eyJ.assertion");
        assert_eq!(dir.first_tenant(), Some("T1"));
        let secret = ClientCredential::Secret("s3cret");
        assert_eq!(dir.authenticate("t2", "app", &secret), DirectoryAnswer::UnknownTenant);
        assert_eq!(dir.authenticate("t1", "nope", &secret), DirectoryAnswer::UnknownClient);
        assert_eq!(dir.authenticate("t1", "APP", &secret), DirectoryAnswer::Principal("app".into()));
        assert_eq!(dir.authenticate("t1", "app", &ClientCredential::Secret("x")), DirectoryAnswer::WrongSecret);
        assert_eq!(dir.authenticate("t1", "app", &assertion("eyJ.assertion")), DirectoryAnswer::NoMatchingAssertion);
        assert_eq!(
            dir.authenticate("t1", "fed", &assertion("eyJ.assertion")),
            DirectoryAnswer::Principal("fed".into())
        );
        assert_eq!(dir.authenticate("t1", "fed", &secret), DirectoryAnswer::WrongSecret);
    }
}

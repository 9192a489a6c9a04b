//! Key Vault: read one secret (`GET {vault}/secrets/{name}/?api-version=…`).

use std::sync::Arc;

use serde::Deserialize;

use crate::cloud::Endpoints;
use crate::error::{AuthError, Error};
use crate::http::{Auth, HttpClient, TokenProvider};
use crate::secret::Secret;

/// The Key Vault data-plane version drift speaks.
pub const KEYVAULT_API_VERSION: &str = "2025-07-01";

pub struct KeyVault {
    http: HttpClient,
    endpoints: Endpoints,
    credential: Arc<dyn TokenProvider>,
}

#[derive(Deserialize)]
struct SecretBundle {
    value: Option<String>,
}

impl KeyVault {
    pub fn new<C: TokenProvider + 'static>(http: HttpClient, endpoints: Endpoints, credential: Arc<C>) -> KeyVault {
        KeyVault { http, endpoints, credential }
    }

    /// The current version of secret `name`, or `None` when the vault has no such secret.
    pub async fn get_secret(&self, vault: &str, name: &str) -> Result<Option<Secret>, Error> {
        let url = format!("{}/secrets/{}/", self.endpoints.keyvault_url(vault), name);
        let scope = Endpoints::scope(self.endpoints.cloud.keyvault_audience);
        let response = self
            .http
            .get(&url)?
            .query(&[("api-version", KEYVAULT_API_VERSION)])
            .auth(Auth::Bearer { provider: self.credential.clone(), scope })
            .accept(&[404])
            .send()
            .await
            .map_err(|e| match e {
                Error::Http(h) if h.status == Some(403) => Error::Auth(AuthError::new(format!(
                    "the identity reading Key Vault {vault} may not read secret {name}: grant it the \"Key Vault \
                     Secrets User\" role (or a get-secret access policy). {h}"
                ))),
                other => other,
            })?;
        if response.status == 404 {
            let err = response.into_status_error();
            // A 404 without SecretNotFound means the vault itself (or the endpoint) is wrong, not the name.
            if err.code.as_deref() == Some("SecretNotFound") {
                return Ok(None);
            }
            return Err(err.into());
        }
        let bundle: SecretBundle = response.json()?;
        Ok(bundle.value.map(Secret::new))
    }
}

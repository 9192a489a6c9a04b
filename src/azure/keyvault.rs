//! Key Vault: read one secret (`GET {vault}/secrets/{name}/?api-version=…`), and the naming rules that keep a vault
//! name a vault name: it becomes the host the Key Vault token is sent to (`https://{vault}.vault.azure.net`), so a
//! name such as `127.0.0.1:8080/steal#` would hand the token to another host.

use std::sync::Arc;

use serde::Deserialize;

use crate::cloud::Endpoints;
use crate::error::{AuthError, Error};
use crate::http::{Auth, HttpClient, TokenProvider};
use crate::secret::Secret;

/// The Key Vault data-plane version drift speaks.
pub const KEYVAULT_API_VERSION: &str = "2025-07-01";

/// A Key Vault name: 3-24 characters, letters, digits and `-`, starting with a letter, ending with a letter or
/// digit, no two `-` in a row. Sources (Microsoft Learn): "Azure Key Vault keys, secrets and certificates overview"
/// (learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates): "Vault name and Managed HSM pool
/// name must be a 3-24 character string, containing only 0-9, a-z, A-Z, and not consecutive -"; and "Naming rules
/// and restrictions for Azure resources" (learn.microsoft.com/azure/azure-resource-manager/management/
/// resource-name-rules), Microsoft.KeyVault/vaults: start with a letter, end with a letter or digit (that row was not
/// in the excerpt the search returned; third-party copies of the table agree).
pub fn check_vault_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let chars_ok = bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-');
    let first_ok = bytes.first().is_some_and(u8::is_ascii_alphabetic);
    let last_ok = bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    if (3..=24).contains(&bytes.len()) && chars_ok && first_ok && last_ok && !name.contains("--") {
        Ok(())
    } else {
        Err("a Key Vault name is 3-24 characters: letters, digits and '-', starting with a letter, ending with a \
             letter or digit, without '--'"
            .to_string())
    }
}

/// A secret name: 1-127 characters, letters, digits and `-` (same "keys, secrets and certificates overview" page:
/// "The name must be a 1-127 character string, containing only 0-9, a-z, A-Z, and -").
pub fn check_secret_name(name: &str) -> Result<(), String> {
    if (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(())
    } else {
        Err("a Key Vault secret name is 1-127 characters: letters, digits and '-'".to_string())
    }
}

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

    /// The current version of secret `name`, or `None` when the vault has no such secret. Names that break the
    /// rules are refused before any request, whoever the caller is: the flag layer checks `--vault_name` too, but
    /// the host a token goes to must not depend on every caller remembering to.
    pub async fn get_secret(&self, vault: &str, name: &str) -> Result<Option<Secret>, Error> {
        check_vault_name(vault)
            .map_err(|rule| Error::Usage(format!("Key Vault name {:?} is not valid: {rule}", shorten(vault))))?;
        check_secret_name(name)
            .map_err(|rule| Error::Usage(format!("Key Vault secret name {:?} is not valid: {rule}", shorten(name))))?;
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
            .map_err(|h| {
                if h.status == Some(403) {
                    return Error::Auth(AuthError::caused_by(
                        format!(
                            "the identity reading Key Vault {vault} may not read secret {name}: grant it the \
                             \"Key Vault Secrets User\" role (or a get-secret access policy)"
                        ),
                        h,
                    ));
                }
                Error::from(h)
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

/// A value quoted in a message, cut short so a huge one cannot flood the terminal.
fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() > MAX { format!("{}…", s.chars().take(MAX).collect::<String>()) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names() {
        for good in ["kv1", "drift-test-kv", "A1-b2-C3", &format!("k{}", "v".repeat(23))] {
            assert!(check_vault_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "kv",
            "1kv",
            "-kv",
            "kv-",
            "x--y",
            "kv_prod",
            "a.evil.com",
            "kv/../x",
            "127.0.0.1:P/steal#",
            "kv?x",
            "kv#",
            "kv x",
            "kvé",
            &format!("k{}", "v".repeat(24)),
        ] {
            assert!(check_vault_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secret_names() {
        assert!(check_secret_name("ApplicationID").is_ok());
        for bad in ["", "a/b", "a_b", "../x", &"s".repeat(128)] {
            assert!(check_secret_name(bad).is_err(), "{bad:?}");
        }
    }
}

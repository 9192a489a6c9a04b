//! Key Vault contents: vaults holding secrets, each secret a list of versions (the last one is "latest"), plus the
//! naming rules Key Vault enforces and the `vaults` section of the seed file.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::Value;

use crate::ids;
use crate::seed::{Apply, Context, parse};
use crate::state::lock;
use crate::wire::unix_secs;

#[derive(Default)]
pub(crate) struct KeyVaultState {
    vaults: Mutex<Vec<Vault>>,
}

struct Vault {
    name: String,
    secrets: Vec<Secret>,
}

struct Secret {
    name: String,
    versions: Vec<SecretVersion>,
}

#[derive(Debug, Clone)]
pub(crate) struct SecretVersion {
    /// 32 lower-case hex digits, like the real service's.
    pub version: String,
    pub value: String,
    /// Unix seconds.
    pub created: u64,
    pub updated: u64,
}

/// A secret version found by [`KeyVaultState::get`], with the names as they were seeded.
pub(crate) struct Found {
    pub vault: String,
    pub name: String,
    pub version: SecretVersion,
}

impl KeyVaultState {
    /// Stores `value` as a new version of the secret (creating vault and secret as needed), like SetSecret; the
    /// new version becomes the latest. Returns the version id.
    pub fn add_secret(&self, vault: &str, name: &str, value: &str) -> String {
        let now = unix_secs(SystemTime::now());
        let version = SecretVersion { version: ids::hex32(), value: value.to_string(), created: now, updated: now };
        let id = version.version.clone();
        let mut vaults = lock(&self.vaults);
        let vault_at = match vaults.iter().position(|v| v.name.eq_ignore_ascii_case(vault)) {
            Some(at) => at,
            None => {
                vaults.push(Vault { name: vault.to_string(), secrets: Vec::new() });
                vaults.len() - 1
            }
        };
        let secrets = &mut vaults[vault_at].secrets;
        match secrets.iter_mut().find(|s| s.name.eq_ignore_ascii_case(name)) {
            Some(secret) => secret.versions.push(version),
            None => secrets.push(Secret { name: name.to_string(), versions: vec![version] }),
        }
        id
    }

    /// A secret version; the latest when `version` is `None`. Vault and secret names are case-insensitive in Key
    /// Vault (they are DNS and URL segments it folds).
    pub fn get(&self, vault: &str, name: &str, version: Option<&str>) -> Option<Found> {
        let vaults = lock(&self.vaults);
        let vault = vaults.iter().find(|v| v.name.eq_ignore_ascii_case(vault))?;
        let secret = vault.secrets.iter().find(|s| s.name.eq_ignore_ascii_case(name))?;
        let found = match version {
            None => secret.versions.last()?,
            Some(wanted) => secret.versions.iter().find(|v| v.version.eq_ignore_ascii_case(wanted))?,
        };
        Some(Found { vault: vault.name.clone(), name: secret.name.clone(), version: found.clone() })
    }
}

/// Key Vault's secret-name rule: 1–127 characters of `0-9`, `a-z`, `A-Z` and `-`.
pub(crate) fn is_valid_secret_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Key Vault's vault-name rule: 3–24 characters of letters, digits and `-`, starting with a letter, ending with a
/// letter or digit, without `--`.
pub(crate) fn is_valid_vault_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=24).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && !name.contains("--")
}

/// Why a vault or secret name cannot be stored, if it cannot.
pub(crate) fn check_names(vault: &str, name: &str) -> Result<(), String> {
    if !is_valid_vault_name(vault) {
        return Err(format!(
            "vault name {vault:?} is not a valid Key Vault name (3-24 letters, digits and '-', starting with a \
             letter, ending with a letter or digit, no '--')"
        ));
    }
    if !is_valid_secret_name(name) {
        return Err(format!(
            "vault {vault:?}: secret name {name:?} is not a valid Key Vault secret name (1-127 characters of 0-9, \
             a-z, A-Z and '-')"
        ));
    }
    Ok(())
}

/// `"vaults": {"<vault name>": {"<secret name>": "<value>", ...}, ...}`
pub(crate) fn seed_vaults(value: &Value, _context: &Context) -> Result<Apply, String> {
    let vaults: BTreeMap<String, BTreeMap<String, String>> = parse(value)?;
    for (vault, secrets) in &vaults {
        if secrets.is_empty() {
            check_names(vault, "x")?;
        }
        for name in secrets.keys() {
            check_names(vault, name)?;
        }
    }
    Ok(Box::new(move |state| {
        for (vault, secrets) in &vaults {
            for (name, value) in secrets {
                state.keyvault.add_secret(vault, name, value);
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_secret_name("db-password-2"));
        assert!(!is_valid_secret_name("db_password"));
        assert!(!is_valid_secret_name(""));
        assert!(!is_valid_secret_name(&"a".repeat(128)));
        assert!(is_valid_vault_name("my-vault1"));
        assert!(!is_valid_vault_name("kv"));
        assert!(!is_valid_vault_name("1vault"));
        assert!(!is_valid_vault_name("my--vault"));
        assert!(!is_valid_vault_name("vault-"));
    }

    #[test]
    fn versions_and_lookup() {
        let store = KeyVaultState::default();
        let v1 = store.add_secret("Vault1", "Pw", "one");
        let v2 = store.add_secret("vault1", "pw", "two");
        assert_eq!(store.get("VAULT1", "PW", None).map(|f| f.version.value), Some("two".into()));
        assert_eq!(store.get("vault1", "pw", Some(&v1)).map(|f| f.version.value), Some("one".into()));
        assert_eq!(store.get("vault1", "pw", Some(&v2.to_uppercase())).map(|f| f.name), Some("Pw".into()));
        assert!(store.get("vault1", "pw", Some("0123")).is_none());
        assert!(store.get("vault2", "pw", None).is_none());
    }
}

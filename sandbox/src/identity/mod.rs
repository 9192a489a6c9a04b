//! The fake Entra ID behind the token endpoints: the directory (tenants, app registrations, the managed identity),
//! certificate credentials and the verification of their client assertions (`certificates.rs`), the table of issued
//! tokens, and the grants that protected services consult.

mod certificates;
mod directory;
mod grants;
pub(crate) mod seed;
mod tokens;

use std::sync::Mutex;
use std::time::Duration;

pub(crate) use directory::{ClientCredential, Directory, DirectoryAnswer, RegisteredCertificate};
pub(crate) use grants::Grants;
pub(crate) use tokens::{TokenProblem, TokenTable};

/// The tenant named in Key Vault challenges while no tenant has been added.
pub const DEFAULT_TENANT_ID: &str = "5a4db0c5-0000-4000-8000-00000000d71f";

/// Token audiences of the services the sandbox serves (public cloud), without trailing slash.
pub mod audiences {
    pub const ARM: &str = "https://management.azure.com";
    /// The older ARM audience; ARM still accepts tokens issued for it.
    pub const ARM_LEGACY: &str = "https://management.core.windows.net";
    pub const KEY_VAULT: &str = "https://vault.azure.net";
    pub const STORAGE: &str = "https://storage.azure.com";
    /// Azure ML data plane, the audience of the `x-azureml-token` that pipeline-job submissions carry.
    pub const ML: &str = "https://ml.azure.com";

    /// Resources the fake directory will issue tokens for. Anything else gets AADSTS500011, as a typo in a scope
    /// would against the real service.
    pub const KNOWN: &[&str] = &[ARM, ARM_LEGACY, KEY_VAULT, STORAGE, ML];
}

/// A token's audience as services compare it: the resource without trailing slashes. AAD issues
/// `https://vault.azure.net` for the scope `https://vault.azure.net/.default` and keeps a trailing slash when the
/// resource had one (`https://management.azure.com//.default`, IMDS `resource=https://management.azure.com/`); the
/// services accept both spellings, so the sandbox stores the normalised form.
pub(crate) fn normalize_audience(resource: &str) -> String {
    resource.trim_end_matches('/').to_string()
}

/// Whether the directory knows the resource (compared case-insensitively, as AAD does for URIs).
pub(crate) fn is_known_audience(audience: &str) -> bool {
    audiences::KNOWN.iter().any(|known| known.eq_ignore_ascii_case(audience))
}

/// Identity sub-state. Three locks because the token endpoint and the guard of every protected request touch them
/// independently; none is ever held while taking another.
pub(crate) struct IdentityState {
    pub directory: Mutex<Directory>,
    pub tokens: Mutex<TokenTable>,
    pub grants: Mutex<Grants>,
}

impl IdentityState {
    pub fn new(token_lifetime: Duration) -> IdentityState {
        IdentityState {
            directory: Mutex::new(Directory::default()),
            tokens: Mutex::new(TokenTable::new(token_lifetime)),
            grants: Mutex::new(Grants::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_normalise_and_match() {
        assert_eq!(normalize_audience("https://management.azure.com/"), "https://management.azure.com");
        assert_eq!(normalize_audience("https://vault.azure.net"), "https://vault.azure.net");
        assert!(is_known_audience("https://Vault.azure.net"));
        assert!(!is_known_audience("https://vault.azure.com"));
    }
}

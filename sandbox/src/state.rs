//! The state every handler shares: fixed facts about this sandbox instance plus one sub-state per service, each
//! behind its own lock so services never contend with each other.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::identity::IdentityState;
use crate::services::keyvault::KeyVaultState;
use crate::services::ml::MlState;
use crate::services::storage::StorageState;
use crate::traffic::TrafficState;

/// What axum hands to every handler and middleware.
pub(crate) type AppState = Arc<SandboxState>;

pub(crate) struct SandboxState {
    /// `http://127.0.0.1:PORT`; known before the state is built because the listener is bound first.
    pub base_url: String,
    /// The secret that App Service-style managed identity callers must send back in `X-IDENTITY-HEADER`.
    pub identity_header: String,
    pub traffic: TrafficState,
    pub identity: IdentityState,
    pub keyvault: KeyVaultState,
    pub ml: MlState,
    pub storage: StorageState,
}

impl SandboxState {
    /// Fails only when the options name a traffic file that cannot be opened.
    pub fn new(
        base_url: String,
        identity_header: String,
        options: &crate::SandboxOptions,
    ) -> std::io::Result<SandboxState> {
        let mut traffic = TrafficState::new(options.latency, options.log_requests);
        if let Some(path) = &options.traffic_file {
            traffic = traffic.with_file(path)?;
        }
        Ok(SandboxState {
            base_url,
            identity_header,
            traffic,
            identity: IdentityState::new(options.token_lifetime),
            keyvault: KeyVaultState::default(),
            ml: MlState::default(),
            storage: StorageState::default(),
        })
    }

    /// What `AZURE_AUTHORITY_HOST` points at; also used in AAD `error_uri`s and the Key Vault challenge.
    pub fn authority_host(&self) -> String {
        format!("{}/aad", self.base_url)
    }
}

/// Locks a mutex, ignoring poisoning: a panic in one handler (a sandbox bug) must not turn every later request of a
/// test run into a second, misleading failure. All guarded data stays consistent between statements.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

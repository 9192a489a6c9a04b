//! The public facade: start a sandbox, point drift at it, seed it, script failures, read what it received.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use crate::identity::DEFAULT_TENANT_ID;
use crate::server::{self, Server};
use crate::services::{self, keyvault};
use crate::state::{AppState, SandboxState, lock};
use crate::traffic::{Fault, RecordedRequest};
use crate::{ids, seed};

/// How to start a [`Sandbox`]. Build it with `..Default::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Added before answering every request (benchmarks use 20 ms to resemble a cloud round trip).
    pub latency: Duration,
    /// Lifetime of every issued access token (tests set a few seconds to exercise refresh).
    pub token_lifetime: Duration,
    /// Print one line per request to stderr (the binary's `--log-requests`).
    pub log_requests: bool,
}

impl Default for SandboxOptions {
    fn default() -> SandboxOptions {
        SandboxOptions {
            port: 0,
            latency: Duration::ZERO,
            // What AAD answers for client credentials (`expires_in: 3599`).
            token_lifetime: Duration::from_secs(3599),
            log_requests: false,
        }
    }
}

/// A running sandbox. Every method takes `&self` and is safe to call from any thread while it serves; dropping
/// it stops the server.
pub struct Sandbox {
    state: AppState,
    addr: SocketAddr,
    // Dropped last, after nothing can reach the state through `self` any more.
    _server: Server,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("url", &self.url()).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds `127.0.0.1:port` and starts serving on a thread of its own; returns once it accepts connections.
    /// Synchronous, so it works from plain code and from inside any tokio runtime.
    pub fn start(options: SandboxOptions) -> io::Result<Sandbox> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(SandboxState::new(format!("http://{addr}"), ids::uuid(), &options));
        let server = server::spawn(listener, services::router(state.clone()))?;
        Ok(Sandbox { state, addr, _server: server })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The endpoint overrides a drift process needs to talk to this sandbox instead of Azure. Key Vault, Blob and
    /// DFS values are templates with a literal `{vault}` / `{account}` placeholder, which drift fills in.
    /// Managed identity variables are not included: see [`Sandbox::managed_identity_env`].
    pub fn env(&self) -> Vec<(String, String)> {
        let url = self.url();
        [
            ("AZURE_AUTHORITY_HOST", format!("{url}/aad")),
            ("DRIFT_ARM_ENDPOINT", format!("{url}/arm")),
            ("DRIFT_KEYVAULT_ENDPOINT", format!("{url}/kv/{{vault}}")),
            ("DRIFT_BLOB_ENDPOINT", format!("{url}/blob/{{account}}")),
            ("DRIFT_DFS_ENDPOINT", format!("{url}/dfs/{{account}}")),
            ("DRIFT_IMDS_ENDPOINT", format!("{url}/imds")),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }

    /// `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` of the App Service-style managed identity endpoint. Separate from
    /// [`Sandbox::env`] because their mere presence makes credential chains pick managed identity.
    pub fn managed_identity_env(&self) -> Vec<(String, String)> {
        vec![
            ("IDENTITY_ENDPOINT".to_string(), format!("{}/msi/token", self.url())),
            ("IDENTITY_HEADER".to_string(), self.state.identity_header.clone()),
        ]
    }

    /// The secret that the App Service endpoint expects in `X-IDENTITY-HEADER`.
    pub fn identity_header(&self) -> String {
        self.state.identity_header.clone()
    }

    /// Every request received so far (since the last [`Sandbox::clear_requests`]), in arrival order, including
    /// rejected ones and faults.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.traffic.requests()
    }

    pub fn clear_requests(&self) {
        self.state.traffic.clear_requests();
    }

    /// Delay added before answering every request, from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.state.traffic.set_latency(latency);
    }

    /// Scripts a failure; faults are matched oldest first.
    ///
    /// # Panics
    /// If the status is not an HTTP status or a header is not a valid header: a mistake in the test itself.
    pub fn push_fault(&self, fault: Fault) {
        if let Err(problem) = fault.validate() {
            panic!("drift-sandbox: {problem}");
        }
        self.state.traffic.push_fault(fault);
    }

    /// Adds a tenant to the directory (idempotent). Tenant ids compare case-insensitively.
    pub fn add_tenant(&self, tenant_id: &str) {
        lock(&self.state.identity.directory).add_tenant(tenant_id);
    }

    /// Registers an application in the tenant (adding the tenant if needed) with a client secret. Calling it again
    /// adds another valid secret.
    pub fn add_service_principal(&self, tenant_id: &str, client_id: &str, client_secret: &str) {
        lock(&self.state.identity.directory).add_secret(tenant_id, client_id, client_secret);
    }

    /// Workload identity: this exact `client_assertion` string is accepted for `client_id` (the application and
    /// tenant are added if needed). The assertion is compared, not parsed.
    pub fn add_federated_credential(&self, tenant_id: &str, client_id: &str, assertion: &str) {
        lock(&self.state.identity.directory).add_assertion(tenant_id, client_id, assertion);
    }

    /// Enables the IMDS and App Service managed identity endpoints; their tokens go to this principal, which is
    /// also the identity's client id in their answers.
    pub fn set_managed_identity(&self, principal_id: &str) {
        lock(&self.state.identity.directory).set_managed_identity(Some(principal_id));
    }

    /// Disables managed identity again ("Identity not found").
    pub fn clear_managed_identity(&self) {
        lock(&self.state.identity.directory).set_managed_identity(None);
    }

    /// Stores `value` as a new version of the secret (creating the vault as needed); the newest version is what
    /// GetSecret without a version returns. Returns the new version id (32 hex digits).
    ///
    /// # Panics
    /// If the vault or secret name breaks Key Vault's naming rules: the real service could never hold it.
    pub fn add_vault_secret(&self, vault: &str, name: &str, value: &str) -> String {
        if let Err(problem) = keyvault::check_names(vault, name) {
            panic!("drift-sandbox: {problem}");
        }
        self.state.keyvault.add_secret(vault, name, value)
    }

    /// Lets `principal` (a client id or managed identity principal id) act on every resource path under
    /// `resource_prefix`, e.g. `kv/myvault` or `arm/subscriptions/s1/resourceGroups/rg` (whole segments,
    /// case-insensitive). Until the first grant, every valid token is allowed everything.
    pub fn grant(&self, principal: &str, resource_prefix: &str) {
        lock(&self.state.identity.grants).grant(principal, resource_prefix);
    }

    /// Makes every token issued so far expired, so the next protected request answers 401 and drift must refresh.
    pub fn expire_all_tokens(&self) {
        lock(&self.state.identity.tokens).expire_all();
    }

    /// Lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state.identity.tokens).set_lifetime(lifetime);
    }

    /// The tenant Key Vault challenges name: the first tenant added, else [`DEFAULT_TENANT_ID`].
    pub fn challenge_tenant(&self) -> String {
        lock(&self.state.identity.directory).first_tenant().unwrap_or(DEFAULT_TENANT_ID).to_string()
    }

    /// Applies a seed document (the `--seed` file's content). All sections are checked first; on error nothing is
    /// applied and the message names the section and entry.
    pub fn load_seed(&self, seed: &serde_json::Value) -> Result<(), String> {
        seed::load(&self.state, seed)
    }
}

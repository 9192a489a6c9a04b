//! The public facade: start a sandbox, point drift at it, seed it, script failures, read what it received.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;

use crate::identity::DEFAULT_TENANT_ID;
use crate::server::{self, Server};
use crate::services::ml::datastores::BlobstoreCredential;
use crate::services::ml::jobs::generate::{GenerateSpec, GeneratedJobs};
use crate::services::ml::jobs::lifecycle::JobScript;
use crate::services::ml::library::{self, JobSeed};
use crate::services::ml::store::WorkspaceRef;
use crate::services::storage::seed::{join_blob_name, read_tree};
use crate::services::storage::store::StoredBlob;
use crate::services::{self, keyvault};
use crate::state::{AppState, SandboxState, lock};
use crate::traffic::{Fault, RecordedRequest};
use crate::wire::unix_nanos;
use crate::{ids, seed};

/// Panics with the sandbox's prefix: library calls that cannot be carried out are mistakes in the test itself.
fn must<T>(result: Result<T, String>) -> T {
    result.unwrap_or_else(|problem| panic!("drift-sandbox: {problem}"))
}

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
    /// Append every request (method, path, query, headers, body, status) as a JSON line to this file (the
    /// binary's `--traffic-file`), for tools outside the process such as the oracle suite (`tests/oracle/`).
    pub traffic_file: Option<PathBuf>,
}

impl Default for SandboxOptions {
    fn default() -> SandboxOptions {
        SandboxOptions {
            port: 0,
            latency: Duration::ZERO,
            // What AAD answers for client credentials (`expires_in: 3599`).
            token_lifetime: Duration::from_secs(3599),
            log_requests: false,
            traffic_file: None,
        }
    }
}

/// A running sandbox. Every method takes `&self` and is safe to call from any thread while it serves; dropping
/// it stops the server.
pub struct Sandbox {
    state: AppState,
    addr: SocketAddr,
    /// Listeners added after start ([`Sandbox::serve_imds_at`]); stopped before the main server.
    extra: std::sync::Mutex<Vec<Server>>,
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
        let state = Arc::new(SandboxState::new(format!("http://{addr}"), ids::uuid(), &options)?);
        let server = server::spawn(listener, services::router(state.clone()))?;
        Ok(Sandbox { state, addr, extra: std::sync::Mutex::new(Vec::new()), _server: server })
    }

    /// Also serves the IMDS token endpoint at `addr` with IMDS's own path (`/metadata/identity/oauth2/token`), so
    /// a client using the default `http://169.254.169.254` can be tested: bind `169.254.169.254:80` inside a
    /// network namespace where that address is on the loopback device (`tests/imds_netns.rs` in drift). Requests
    /// are recorded like all others. Returns the bound address.
    pub fn serve_imds_at(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr)?;
        let bound = listener.local_addr()?;
        let server = server::spawn(listener, services::imds_router(self.state.clone()))?;
        lock(&self.extra).push(server);
        Ok(bound)
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

    /// Requests that have arrived so far, answered or not (a hung request counts as soon as it arrives).
    pub fn arrivals(&self) -> u64 {
        self.state.traffic.arrivals()
    }

    /// Faults not used up yet (0 once every pushed fault has struck as often as it was told to).
    pub fn faults_left(&self) -> usize {
        self.state.traffic.faults_left()
    }

    /// Drops every fault not used up yet.
    pub fn clear_faults(&self) {
        self.state.traffic.clear_faults();
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

    /// Registers a certificate credential for `client_id` (the application and tenant are added if needed), as an
    /// upload under "Certificates & secrets" does: `certificate` is the certificate (DER, or PEM text), without a
    /// key. The token endpoint then accepts client assertions signed with its key (RS256 with `x5t`, or PS256 with
    /// `x5t#S256`) and verifies them as Entra does (`identity/certificates.rs`). Fails when it is not an RSA
    /// certificate.
    pub fn add_certificate_credential(
        &self,
        tenant_id: &str,
        client_id: &str,
        certificate: &[u8],
    ) -> Result<(), String> {
        let certificate = crate::identity::RegisteredCertificate::parse(certificate)?;
        lock(&self.state.identity.directory).add_certificate(tenant_id, client_id, certificate);
        Ok(())
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
    /// applied and the message names the section and entry. Relative `localDir`s are resolved against the
    /// working directory; [`Sandbox::load_seed_file`] resolves them against the file's folder.
    pub fn load_seed(&self, seed: &serde_json::Value) -> Result<(), String> {
        seed::load(&self.state, seed, &seed::Context { base_dir: None })
    }

    /// Reads and applies a seed file.
    pub fn load_seed_file(&self, path: &Path) -> Result<(), String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
        let value =
            serde_json::from_str(&text).map_err(|e| format!("seed file {} is not valid JSON: {e}", path.display()))?;
        let base_dir = path.parent().map(Path::to_path_buf);
        seed::load(&self.state, &value, &seed::Context { base_dir })
    }

    // ---- Azure ML ----

    /// Adds a workspace (idempotent) with its default datastore `workspaceblobstore`: an AzureBlob datastore with
    /// `AccountKey` credentials on a storage account named after the workspace (`{letters and digits}store`,
    /// created with a random key when missing) and a new `azureml-blobstore-{guid}` container.
    ///
    /// # Panics
    /// If the names break ARM's or Azure ML's rules.
    pub fn add_workspace(&self, subscription_id: &str, resource_group: &str, name: &str) -> WorkspaceRef {
        must(library::add_workspace(&self.state, subscription_id, resource_group, name))
    }

    /// Points the workspace's `workspaceblobstore` at `account`/`container` (created when missing; a new account
    /// gets a random key) with AccountKey credentials (the account's key), a SAS the sandbox issues, or none.
    pub fn set_workspace_blobstore(
        &self,
        workspace: &WorkspaceRef,
        account: &str,
        container: &str,
        credential: BlobstoreCredential,
    ) {
        must(library::set_blobstore(&self.state, workspace, account, container, credential));
    }

    /// Adds (or replaces) a datastore from the `properties` of a PUT body, secrets included; validated like a PUT.
    pub fn add_datastore(&self, workspace: &WorkspaceRef, name: &str, properties: serde_json::Value) {
        must(library::add_datastore(&self.state, workspace, name, &properties));
    }

    /// Adds a data version from the `properties` of a PUT body; validated and normalised like a PUT, created now.
    /// Adds a compute cluster that `GET .../computes/{name}` answers (as an idle AmlCompute): the Azure ML SDK
    /// looks a job's compute up before it submits the job. Idempotent.
    pub fn add_compute(&self, workspace: &WorkspaceRef, name: &str) {
        must(library::add_compute(&self.state, workspace, name));
    }

    pub fn add_data_version(&self, workspace: &WorkspaceRef, name: &str, version: &str, properties: serde_json::Value) {
        must(library::add_data_version(&self.state, workspace, name, version, &properties, None));
    }

    /// Adds a data version with a chosen creation time (for `$orderBy=createdtime` tests).
    pub fn add_data_version_at(
        &self,
        workspace: &WorkspaceRef,
        name: &str,
        version: &str,
        properties: serde_json::Value,
        created_at: SystemTime,
    ) {
        must(library::add_data_version(
            &self.state,
            workspace,
            name,
            version,
            &properties,
            Some(unix_nanos(created_at)),
        ));
    }

    /// Adds a job as it would exist in the workspace (inputs stored as given). It keeps its status unless a
    /// script matches it.
    pub fn add_job(&self, workspace: &WorkspaceRef, job: JobSeed) {
        must(library::add_job(&self.state, workspace, job));
    }

    /// Generates a large job table (see [`GenerateSpec`]); the asset's versions are created when missing.
    pub fn generate_jobs(&self, workspace: &WorkspaceRef, spec: GenerateSpec) -> GeneratedJobs {
        must(library::generate_jobs(&self.state, workspace, &spec))
    }

    /// Jobs per page of the jobs list (default 100).
    pub fn set_jobs_page_size(&self, size: usize) {
        must(library::set_jobs_page_size(&self.state, size));
    }

    /// The status walk of submitted jobs without a script (default `NotStarted, Queued, Running, Completed`),
    /// one step per GET of the job.
    pub fn set_job_steps(&self, steps: &[&str]) {
        let steps: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
        must(library::set_job_steps(&self.state, &steps));
    }

    /// Scripts the outcome of jobs whose id equals `display_name_prefix_or_id` or whose display name starts with
    /// it: jobs submitted later walk the script's steps; existing jobs continue from their current status when the
    /// walk contains it, else take its last step at once. The latest matching script wins.
    pub fn script_job(&self, display_name_prefix_or_id: &str, script: JobScript) {
        must(library::script_job(&self.state, display_name_prefix_or_id, script));
    }

    /// A job as GET shows it, without advancing its lifecycle.
    pub fn job(&self, workspace: &WorkspaceRef, id: &str) -> Option<serde_json::Value> {
        library::job(&self.state, workspace, id)
    }

    pub fn data_version(&self, workspace: &WorkspaceRef, name: &str, version: &str) -> Option<serde_json::Value> {
        library::data_version(&self.state, workspace, name, version)
    }

    /// A datastore as GET shows it (no secrets).
    pub fn datastore(&self, workspace: &WorkspaceRef, name: &str) -> Option<serde_json::Value> {
        library::datastore(&self.state, workspace, name)
    }

    // ---- Storage ----

    /// Adds a storage account (or sets the key of an existing one). Its Blob and DFS endpoints are
    /// `{url}/blob/{name}` and `{url}/dfs/{name}`.
    ///
    /// # Panics
    /// If the name is not 3-24 lower-case letters and digits or the key is not base64.
    pub fn add_storage_account(&self, name: &str, key_base64: &str) {
        must(lock(&self.state.storage.inner).add_account(name, key_base64));
    }

    /// The account's key (base64), e.g. of the account `add_workspace` made.
    pub fn storage_account_key(&self, account: &str) -> Option<String> {
        lock(&self.state.storage.inner).account(account).map(|a| a.key_b64.clone())
    }

    /// Creates a container (filesystem) in an existing account; existing ones are kept.
    pub fn add_container(&self, account: &str, container: &str) {
        must(lock(&self.state.storage.inner).ensure_container(account, container).map(|_| ()));
    }

    /// Stores a blob (creating the container), as an upload would.
    pub fn add_blob(&self, account: &str, container: &str, path: &str, bytes: impl Into<Vec<u8>>) {
        let data = Bytes::from(bytes.into());
        must(lock(&self.state.storage.inner).put_blob(
            account,
            container,
            path,
            data,
            "application/octet-stream",
            Default::default(),
        ));
    }

    /// Copies a local folder tree under `prefix` (e.g. a Delta table with its `_delta_log`); returns the number of
    /// files copied.
    pub fn add_directory(
        &self,
        account: &str,
        container: &str,
        prefix: &str,
        local_dir: impl AsRef<Path>,
    ) -> io::Result<usize> {
        let files = read_tree(local_dir.as_ref())?;
        let count = files.len();
        let mut storage = lock(&self.state.storage.inner);
        for (relative, data) in files {
            let name = join_blob_name(prefix, &relative);
            storage
                .put_blob(account, container, &name, Bytes::from(data), "application/octet-stream", Default::default())
                .map_err(io::Error::other)?;
        }
        Ok(count)
    }

    /// A stored blob, for assertions on what was uploaded.
    pub fn blob(&self, account: &str, container: &str, path: &str) -> Option<StoredBlob> {
        let storage = lock(&self.state.storage.inner);
        storage.account(account)?.containers.get(container)?.blobs.get(path).map(|b| b.to_public())
    }

    /// Issues a SAS the sandbox will accept: for one container (or the whole account when `None`), with permission
    /// letters such as `rl` or `racwdl`, valid from five minutes ago until `expiry` (a past `expiry` makes an
    /// expired one). Returns the query string without `?`.
    pub fn issue_sas(&self, account: &str, container: Option<&str>, permissions: &str, expiry: SystemTime) -> String {
        must(lock(&self.state.storage.inner).issue_sas(account, container, permissions, unix_nanos(expiry)))
    }
}

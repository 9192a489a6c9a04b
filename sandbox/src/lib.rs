//! drift-sandbox: a strict, stateful local fake of the Azure services drift talks to, served on one loopback port
//! with a path prefix per "host" (`/aad`, `/msi`, `/imds`, `/kv`, `/arm` with Azure ML, `/blob`, `/dfs`).
//!
//! Integration tests, benchmarks and `drift demo` start it with [`Sandbox::start`], seed it (tenants, service
//! principals, secrets, grants, storage accounts with Delta tables, Azure ML workspaces with datastores, data
//! versions and jobs) and point a drift process at it with [`Sandbox::env`]. It validates requests the way
//! the real services do and answers in their JSON shapes, so a client that works against it has met the real
//! contracts, not a lenient mock.
//!
//! ```
//! use drift_sandbox::{Fault, Sandbox, SandboxOptions};
//!
//! let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
//! sandbox.add_service_principal("tenant-1", "client-1", "secret-1");
//! sandbox.add_vault_secret("myvault", "db-password", "hunter2");
//! sandbox.push_fault(Fault::throttled("/kv/", 1)); // the first Key Vault call is throttled
//! let env = sandbox.env(); // AZURE_AUTHORITY_HOST, DRIFT_ARM_ENDPOINT, DRIFT_KEYVAULT_ENDPOINT, ...
//! assert!(env.iter().any(|(name, _)| name == "DRIFT_KEYVAULT_ENDPOINT"));
//! // ... run drift with `env`, then inspect `sandbox.requests()`.
//! ```
//!
//! Layout: `sandbox` is the public facade, `server` owns the OS thread and runtime, `traffic` records requests and
//! injects latency and faults, `identity` is the fake directory and token table, `auth` guards protected services,
//! `seed` loads seed files section by section, and `services` holds one module per Azure service (`aad`,
//! `managed_identity`, `keyvault`, `arm` with the Azure ML provider `ml`, `storage` for Blob and DFS), each
//! contributing a Router fragment to the route table in `services/mod.rs`.

mod auth;
mod identity;
mod ids;
mod sandbox;
mod seed;
mod server;
mod services;
mod state;
mod traffic;
mod wire;

pub use identity::DEFAULT_TENANT_ID;
pub use identity::audiences;
pub use sandbox::{Sandbox, SandboxOptions};
pub use services::ml::datastores::BlobstoreCredential;
pub use services::ml::jobs::generate::{GenerateSpec, GeneratedJobs};
pub use services::ml::jobs::lifecycle::JobScript;
pub use services::ml::library::JobSeed;
pub use services::ml::store::WorkspaceRef;
pub use services::storage::store::StoredBlob;
pub use traffic::{Fault, RecordedRequest};

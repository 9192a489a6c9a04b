//! The route table. Every service is a module that contributes a Router fragment under its own path prefix (its
//! "host"); this is the one place they are merged and wrapped in the shared traffic middleware.
//!
//! | prefix | service | module |
//! |---|---|---|
//! | `/aad/{tenant}/oauth2/v2.0/token` | Entra ID token endpoint | [`aad`] |
//! | `/msi/token`, `/imds/metadata/identity/oauth2/token` | managed identity | [`managed_identity`] |
//! | `/kv/{vault}/...` | Key Vault | [`keyvault`] |
//! | `/arm/...` | Azure Resource Manager | [`arm`], with the Azure ML provider [`ml`] |
//! | `/blob/{account}/...`, `/dfs/{account}/...` | Blob and Data Lake storage | [`storage`] |

pub(crate) mod aad;
pub(crate) mod arm;
pub(crate) mod keyvault;
pub(crate) mod managed_identity;
pub(crate) mod ml;
pub(crate) mod storage;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use serde_json::json;

use crate::state::AppState;
use crate::traffic;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(aad::routes())
        .merge(managed_identity::routes())
        .merge(keyvault::routes(&state))
        .merge(arm::routes(&state, ml::routes()))
        // Storage authenticates per request (SAS, bearer or Shared Key), so it is not wrapped in `auth::protect`.
        .merge(storage::routes())
        .fallback(no_route)
        // The traffic middleware has already buffered the body under its own (larger) cap.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(state.clone(), traffic::middleware))
        .with_state(state)
}

/// The router of a listener that plays IMDS at its real address: only the IMDS token route, at the root, recorded
/// like every other request.
pub(crate) fn imds_router(state: AppState) -> Router {
    Router::new()
        .merge(managed_identity::imds_at_root())
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(state.clone(), traffic::middleware))
        .with_state(state)
}

/// Paths outside every service's prefix: a drift bug (or a service not faked yet), so say so plainly.
async fn no_route(method: Method, uri: Uri) -> Response {
    crate::wire::json(
        StatusCode::NOT_FOUND,
        &json!({"error": {
            "code": "NotFound",
            "message": format!("drift-sandbox has no service at {method} {}", uri.path()),
        }}),
    )
}

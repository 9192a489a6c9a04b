//! Azure ML workspaces behind the ARM front door (`/arm/subscriptions/.../workspaces/{ws}/...`): datastores, data
//! assets and versions, jobs with a scripted lifecycle. `store` holds the state, `api` the HTTP handlers,
//! `library` and `seed` what tests and seed files do to the state, the rest are the rules of each resource.

pub(crate) mod api;
mod assets;
pub(crate) mod data;
pub(crate) mod datastores;
pub(crate) mod errors;
pub(crate) mod jobs;
pub(crate) mod library;
mod path;
pub(crate) mod schema;
pub(crate) mod seed;
pub(crate) mod store;

use axum::Router;
use axum::routing::any;

use crate::state::AppState;

pub(crate) use store::MlState;

/// The provider's fragment for `arm::routes`: everything under `/arm/subscriptions/`, parsed by hand because ARM
/// matches its literal segments case-insensitively.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/arm/subscriptions/{*rest}", any(api::dispatch))
}

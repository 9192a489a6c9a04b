//! Storage data planes, path-style on the sandbox's port: Blob under `/blob/{account}/...` and Data Lake (DFS)
//! under `/dfs/{account}/...`, both over the same accounts, containers (= filesystems) and blobs. drift's endpoint
//! templates `DRIFT_BLOB_ENDPOINT={url}/blob/{account}` and `DRIFT_DFS_ENDPOINT={url}/dfs/{account}` lead here.
//!
//! Every request passes the same steps: `x-ms-version`, the account, the operation (from method and query), then
//! authorization (SAS, bearer or Shared Key, see `auth`), then the operation itself.

mod auth;
mod blob;
pub(crate) mod crypto;
mod dfs;
mod errors;
mod list;
mod sas;
pub(crate) mod seed;
pub(crate) mod store;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::any;

pub(crate) use sas::Permission;
pub(crate) use store::StorageState;

use crate::state::AppState;
use crate::wire::decode_segment;
use errors::StorageError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/blob/{account}", any(blob::handle))
        .route("/blob/{account}/{*rest}", any(blob::handle))
        .route("/dfs/{account}", any(dfs::handle))
        .route("/dfs/{account}/{*rest}", any(dfs::handle))
}

/// A storage URL split into account, container and the path inside it (all percent-decoded).
#[derive(Debug, PartialEq, Eq)]
struct Location {
    account: String,
    container: Option<String>,
    /// The blob name or DFS path; may contain `/` (also when sent encoded as `%2F`).
    path: Option<String>,
}

/// Splits `/{service}/{account}[/{container}[/{path}]]`.
fn locate(raw_path: &str, service_prefix: &str) -> Result<Location, StorageError> {
    let bad = || {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        )
    };
    let rest = raw_path.strip_prefix(service_prefix).ok_or_else(bad)?;
    let (account, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let account = decode_segment(account).ok_or_else(bad)?;
    let (container, path) = rest.split_once('/').unwrap_or((rest, ""));
    let container = if container.is_empty() { None } else { Some(decode_segment(container).ok_or_else(bad)?) };
    let path = if path.is_empty() { None } else { Some(decode_segment(path).ok_or_else(bad)?) };
    Ok(Location { account, container, path })
}

/// The answer when the URL names an account the sandbox does not hold (in Azure, a host name that does not
/// resolve).
fn no_account(account: &str) -> StorageError {
    StorageError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The specified resource does not exist. (drift-sandbox has no storage account '{account}'.)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let l = locate("/blob/acct/data/a%2Fb/c%20d.json", "/blob/").unwrap();
        assert_eq!(
            l,
            Location { account: "acct".into(), container: Some("data".into()), path: Some("a/b/c d.json".into()) }
        );
        assert_eq!(locate("/dfs/acct", "/dfs/").unwrap().container, None);
        assert_eq!(locate("/dfs/acct/fs/", "/dfs/").unwrap().path, None);
        assert!(locate("/blob/acct/%FF", "/blob/").is_err());
    }
}

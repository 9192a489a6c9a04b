//! Azure Storage data plane: thin typed Blob and DFS (ADLS Gen2) clients on `crate::http`, how they
//! authenticate (bearer token, Shared Key, SAS), and how storage errors become drift errors with exit codes.

mod blob;
mod dfs;
mod paging;
mod shared_key;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use blob::{BlobClient, BlobItem, BlobPage, BlobProperties, MAX_BLOB_READ_BYTES, MAX_LIST_RESULTS, PutOutcome};
pub use dfs::{DfsClient, PathItem};
pub use shared_key::SharedKeySigner;

use crate::cloud::{Endpoints, STORAGE_AUDIENCE};
use crate::error::{AuthError, Error};
use crate::http::{Auth, HttpErrorKind, TokenProvider, encode};
use crate::secret::Secret;

/// The storage REST version sent as `x-ms-version` on every request. Both the Blob and the DataLake specs have a
/// stable `2025-05-05`; Azurite accepts it when started with `--skipApiVersionCheck`.
pub const STORAGE_API_VERSION: &str = "2025-05-05";

/// How storage requests authenticate.
#[derive(Clone)]
pub enum StorageAuth {
    /// An Entra ID token for `https://storage.azure.com/.default` (RBAC: "Storage Blob Data …" roles).
    Bearer(Arc<dyn TokenProvider>),
    /// The storage account key (base64, as the portal and `listSecrets` show it); signs every request.
    SharedKey { account: String, key: Secret },
    /// A SAS query string (`sv=…&sig=…`, with or without a leading `?`), appended to every request URL.
    Sas(Secret),
}

impl std::fmt::Debug for StorageAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key or the SAS: only which kind of credential it is.
        match self {
            StorageAuth::Bearer(_) => f.write_str("StorageAuth::Bearer"),
            StorageAuth::SharedKey { account, .. } => write!(f, "StorageAuth::SharedKey {{ account: {account:?} }}"),
            StorageAuth::Sas(_) => f.write_str("StorageAuth::Sas"),
        }
    }
}

impl StorageAuth {
    /// The HTTP layer's view of this credential. SAS is not an HTTP auth: it travels in the URL (see [`Target`]).
    fn http_auth(&self) -> Auth {
        match self {
            StorageAuth::Bearer(provider) => Auth::bearer(provider.clone(), Endpoints::scope(STORAGE_AUDIENCE)),
            StorageAuth::SharedKey { account, key } => {
                Auth::Signed(Arc::new(SharedKeySigner::new(account.clone(), key.clone())))
            }
            StorageAuth::Sas(_) => Auth::None,
        }
    }

    fn kind(&self) -> CredentialKind {
        match self {
            StorageAuth::Bearer(_) => CredentialKind::Bearer,
            StorageAuth::SharedKey { .. } => CredentialKind::SharedKey,
            StorageAuth::Sas(_) => CredentialKind::Sas,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CredentialKind {
    Bearer,
    SharedKey,
    Sas,
}

/// What a request does, for the role an authorization error asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Access {
    /// The least built-in Azure role that allows it (data plane, scoped to the account or container).
    fn role(self) -> &'static str {
        match self {
            Access::Read => "Storage Blob Data Reader",
            Access::Write => "Storage Blob Data Contributor",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// One account's endpoint plus its credential: builds request URLs and maps errors. Shared by both clients.
#[derive(Clone)]
pub(crate) struct Target {
    /// `https://{account}.blob.core.windows.net` or a path-style emulator URL (`http://127.0.0.1:P/{account}`),
    /// without trailing slash.
    base: String,
    account: String,
    auth: StorageAuth,
    http_auth: Auth,
    /// The service in messages ("container" for Blob, "filesystem" for DFS).
    noun: &'static str,
}

impl Target {
    fn new(base: String, account: &str, auth: StorageAuth, noun: &'static str) -> Target {
        let http_auth = auth.http_auth();
        Target { base, account: account.to_string(), auth, http_auth, noun }
    }

    /// `{base}/{container}[/{path}]?{query}[&{sas}]`, every segment and query value percent-encoded here (the
    /// HTTP builder's form encoding would turn spaces into `+`, which storage does not read as a space).
    fn url(&self, container: &str, path: Option<&str>, query: &[(&str, &str)]) -> String {
        let mut url = format!("{}/{}", self.base, encode::component(container));
        if let Some(path) = path {
            url.push('/');
            url.push_str(&encode::path(path));
        }
        let mut separator = '?';
        for (name, value) in query {
            url.push(separator);
            url.push_str(&encode::component(name));
            url.push('=');
            url.push_str(&encode::component(value));
            separator = '&';
        }
        if let StorageAuth::Sas(sas) = &self.auth {
            let sas = sas.expose().trim_start_matches('?');
            if !sas.is_empty() {
                url.push(separator);
                url.push_str(sas);
            }
        }
        url
    }

    /// Turns a storage failure into the error a user can act on:
    /// - 401/403 → [`Error::Auth`] (exit 3) naming the account and what to fix for this kind of credential;
    /// - 404 `ContainerNotFound`/`FilesystemNotFound` → [`Error::Usage`] (exit 2) naming container and account;
    /// - no connection → still [`Error::Http`] (exit 4), with a hint that the account name may be wrong.
    fn map_error(&self, e: Error, container: &str, access: Access) -> Error {
        let Error::Http(mut h) = e else {
            return e;
        };
        // Only a failure of the storage request itself gets storage advice: a token request to Entra ID that
        // failed on the way says so on its own (its URL is the token endpoint's).
        if !h.url.starts_with(&self.base) {
            return Error::Http(h);
        }
        let account = &self.account;
        let noun = self.noun;
        match (h.status, h.code.as_deref()) {
            (Some(404), Some("ContainerNotFound" | "FilesystemNotFound")) => Error::Rejected {
                message: format!(
                    "{noun} {container:?} not found in storage account {account} (check containerName and \
                     storageAccountName)"
                ),
                cause: h,
            },
            (Some(401 | 403), code) => {
                let advice = match (self.auth.kind(), code) {
                    (CredentialKind::Bearer, Some("AuthorizationPermissionMismatch" | "AuthorizationFailure"))
                    | (CredentialKind::Bearer, None) => format!(
                        "the identity may not {verb} {noun} {container:?} of storage account {account}: grant it \
                         the \"{role}\" role on the account or the {noun} (for AuthorizationFailure also check \
                         the account's network rules)",
                        verb = access.verb(),
                        role = access.role()
                    ),
                    (CredentialKind::Bearer, Some(_)) => {
                        format!("storage account {account} rejected the access token (wrong tenant or expired)")
                    }
                    (CredentialKind::SharedKey, _) => format!(
                        "storage account {account} rejected the account key: check that the key belongs to this \
                         account and was not rotated"
                    ),
                    (CredentialKind::Sas, _) => format!(
                        "storage account {account} rejected the SAS: it may have expired, lack the {verb} \
                         permission, or be for another account or {noun}",
                        verb = access.verb()
                    ),
                };
                Error::Auth(AuthError::caused_by(advice, *h))
            }
            (None, _) if h.kind == HttpErrorKind::Connect => {
                h.message = format!(
                    "{}; the storage account {account} may not exist (check storageAccountName) or its endpoint \
                     is unreachable from here",
                    h.message
                );
                Error::Http(h)
            }
            _ => Error::Http(h),
        }
    }
}

/// Parses the RFC 1123 dates storage uses (`Last-Modified`, list `<Last-Modified>`, DFS `lastModified`).
fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim()).ok().map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpError;

    fn target(auth: StorageAuth) -> Target {
        Target::new("https://acct.blob.core.windows.net".into(), "acct", auth, "container")
    }

    fn http(status: Option<u16>, code: Option<&str>, kind: HttpErrorKind) -> Error {
        let url = "https://acct.blob.core.windows.net/c?restype=container&comp=list&sig=REDACTED";
        let mut e = HttpError::new("GET", url, kind, "boom");
        e.status = status;
        e.code = code.map(str::to_string);
        Error::from(e)
    }

    #[test]
    fn urls_encode_segments_and_append_the_sas() {
        let t = target(StorageAuth::SharedKey { account: "acct".into(), key: Secret::new("a2V5") });
        assert_eq!(
            t.url("c", Some("dir a/b+c/ü.json"), &[("prefix", "x y/+"), ("comp", "list")]),
            "https://acct.blob.core.windows.net/c/dir%20a/b%2Bc/%C3%BC.json?prefix=x%20y%2F%2B&comp=list"
        );
        let sas = target(StorageAuth::Sas(Secret::new("?sv=2022-11-02&sig=abc%2B")));
        assert_eq!(sas.url("c", Some("b"), &[]), "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc%2B");
        assert_eq!(
            sas.url("c", None, &[("restype", "container")]),
            "https://acct.blob.core.windows.net/c?restype=container&sv=2022-11-02&sig=abc%2B"
        );
    }

    #[test]
    fn credentials_never_print() {
        let auth = StorageAuth::SharedKey { account: "acct".into(), key: Secret::new("c2VjcmV0LWtleQ==") };
        assert_eq!(format!("{auth:?}"), "StorageAuth::SharedKey { account: \"acct\" }");
        assert_eq!(format!("{:?}", StorageAuth::Sas(Secret::new("sig=x"))), "StorageAuth::Sas");
    }

    #[test]
    fn errors_map_to_documented_exit_codes() {
        let bearer = target(StorageAuth::Bearer(Arc::new(NoTokens)));
        let cases = [
            (
                http(Some(403), Some("AuthorizationPermissionMismatch"), HttpErrorKind::Status),
                Access::Read,
                3,
                "Storage Blob Data Reader",
            ),
            (
                http(Some(403), Some("AuthorizationPermissionMismatch"), HttpErrorKind::Status),
                Access::Write,
                3,
                "Storage Blob Data Contributor",
            ),
            (http(Some(403), Some("AuthorizationFailure"), HttpErrorKind::Status), Access::Read, 3, "network rules"),
            (
                http(Some(401), Some("InvalidAuthenticationInfo"), HttpErrorKind::Status),
                Access::Read,
                3,
                "rejected the access token",
            ),
            (
                http(Some(404), Some("ContainerNotFound"), HttpErrorKind::Status),
                Access::Read,
                2,
                "container \"c\" not found in storage account acct",
            ),
            (http(Some(404), Some("BlobNotFound"), HttpErrorKind::Status), Access::Read, 2, "boom"),
            (http(None, None, HttpErrorKind::Connect), Access::Read, 4, "storage account acct may not exist"),
            (http(Some(500), None, HttpErrorKind::Status), Access::Read, 4, "boom"),
        ];
        // Entra ID unreachable while getting the storage token: no storage-account hint.
        let mut aad = http(None, None, HttpErrorKind::Connect);
        if let Error::Http(h) = &mut aad {
            h.url = "https://login.microsoftonline.com/t/oauth2/v2.0/token".into();
        }
        let mapped = bearer.map_error(aad, "c", Access::Read);
        assert!(!mapped.to_string().contains("may not exist"), "{mapped}");
        assert!(mapped.to_string().contains("login.microsoftonline.com"), "{mapped}");
        for (err, access, code, text) in cases {
            let mapped = bearer.map_error(err, "c", access);
            assert_eq!(mapped.exit_status().code(), code, "{mapped}");
            assert!(mapped.to_string().contains(text), "{mapped}");
            assert!(mapped.to_string().contains("acct"), "{mapped}");
        }
        let key = target(StorageAuth::SharedKey { account: "acct".into(), key: Secret::new("a2V5") });
        let e = key.map_error(http(Some(403), Some("AuthenticationFailed"), HttpErrorKind::Status), "c", Access::Read);
        assert_eq!(e.exit_status().code(), 3);
        assert!(e.to_string().contains("rejected the account key"), "{e}");
        let sas = target(StorageAuth::Sas(Secret::new("sig=x")));
        let e = sas.map_error(http(Some(403), Some("AuthorizationFailure"), HttpErrorKind::Status), "c", Access::Write);
        assert!(e.to_string().contains("rejected the SAS") && e.to_string().contains("write"), "{e}");
    }

    #[test]
    fn http_dates() {
        let d = parse_http_date("Wed, 09 Sep 2009 09:20:02 GMT").unwrap();
        assert_eq!(d.to_rfc3339(), "2009-09-09T09:20:02+00:00");
        assert_eq!(parse_http_date("yesterday"), None);
    }

    struct NoTokens;
    impl TokenProvider for NoTokens {
        fn token<'a>(&'a self, _scope: &'a str) -> crate::http::TokenFuture<'a> {
            Box::pin(async { Err(crate::http::CredentialError::Rejected("no tokens in this test".into())) })
        }
        fn invalidate(&self, _scope: &str, _token: &Secret) {}
    }
}

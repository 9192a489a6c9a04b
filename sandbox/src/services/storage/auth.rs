//! Who may touch storage, checked the way the service does: `x-ms-version` first, then exactly one of three
//! schemes — a SAS in the query (`sig`), `Authorization: Bearer` (audience `https://storage.azure.com`, grants
//! apply), or `Authorization: SharedKey {account}:{signature}` verified by recomputing the Blob/DFS
//! string-to-sign. Path-style URLs are signed like Azurite signs them: the canonicalized resource is `/{account}`
//! followed by the request's whole (still encoded) path, here `/{account}/blob/{account}/{container}/...`. The
//! form the real service verifies, `/{account}/{container}/...` (the path on `{account}.blob.core.windows.net`), is
//! accepted too: a client that signs for the public host and whose URL is moved to the sandbox below its signing
//! layer (the oracle suite's transport, a rewriting proxy) sends that one.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, StatusCode, Uri};

use super::crypto;
use super::errors::StorageError;
use super::sas::{self, Permission};
use super::store::Storage;
use crate::auth::{Rejection, bearer_token, check_token};
use crate::identity::{DEFAULT_TENANT_ID, audiences};
use crate::state::{SandboxState, lock};
use crate::wire::{header_str, http_date, now_nanos};

/// The oldest `x-ms-version` accepted: the first that works with bearer tokens (older ones only matter to clients
/// drift will never be).
const OLDEST_VERSION: &str = "2017-11-09";

/// How far `x-ms-date` may be from the server clock (the service's limit).
const MAX_CLOCK_SKEW_NANOS: i64 = 15 * 60 * 1_000_000_000;

/// The resource and operation a request wants, for the checks.
pub(crate) struct Target<'a> {
    pub account: &'a str,
    pub container: Option<&'a str>,
    pub permission: Permission,
}

/// `x-ms-version` is required (the brief's rule; the service itself falls back to an ancient version for Shared
/// Key and refuses bearer tokens without it) and must be a date no older than [`OLDEST_VERSION`].
pub(crate) fn check_version(headers: &HeaderMap) -> Result<(), StorageError> {
    let Some(version) = header_str(headers, "x-ms-version") else {
        return Err(StorageError::missing_header("x-ms-version"));
    };
    let shaped = version.len() == 10
        && version.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shaped || version < OLDEST_VERSION {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
        )
        .with("HeaderName", "x-ms-version")
        .with("HeaderValue", version));
    }
    Ok(())
}

pub(crate) fn authorize(
    state: &SandboxState,
    target: &Target<'_>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<(), StorageError> {
    if sas::is_sas(pairs) {
        return lock(&state.storage.inner).check_sas(target.account, target.container, target.permission, pairs);
    }
    let Some(authorization) = header_str(headers, "authorization") else {
        return Err(StorageError::new(
            StatusCode::UNAUTHORIZED,
            "NoAuthenticationInformation",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate \
             header.",
        )
        .challenge(challenge(state)));
    };
    if let Some(rest) = authorization.strip_prefix("SharedKey ") {
        return shared_key(&lock(&state.storage.inner), target.account, rest, method, uri, headers, pairs);
    }
    if authorization.split_whitespace().next().is_some_and(|s| s.eq_ignore_ascii_case("bearer")) {
        return bearer(state, authorization, method, uri.path());
    }
    Err(StorageError::new(
        StatusCode::BAD_REQUEST,
        "InvalidAuthenticationInfo",
        "Authentication information is not given in the correct format. Check the value of Authorization header.",
    ))
}

/// The challenge storage sends with 401s: where to get a token and for which resource.
fn challenge(state: &SandboxState) -> String {
    let tenant = lock(&state.identity.directory).first_tenant().unwrap_or(DEFAULT_TENANT_ID).to_string();
    format!(
        "Bearer authorization_uri={}/{tenant}/oauth2/authorize resource_id={}",
        state.authority_host(),
        audiences::STORAGE
    )
}

fn bearer(state: &SandboxState, header: &str, method: &Method, path: &str) -> Result<(), StorageError> {
    let Some(token) = bearer_token(header) else {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAuthenticationInfo",
            "Authentication information is not given in the correct format. Check the value of Authorization header.",
        ));
    };
    // Blob and DFS are two doors to the same data, and role assignments cover the data, not the door: a grant on
    // `blob/{account}/...` also covers `dfs/{account}/...` and the other way round.
    let other_door = match path.strip_prefix("/blob/") {
        Some(rest) => format!("/dfs/{rest}"),
        None => format!("/blob/{}", path.trim_start_matches("/dfs/")),
    };
    let result = match check_token(state, &[audiences::STORAGE], method, path, token) {
        Err(Rejection::Forbidden { .. })
            if check_token(state, &[audiences::STORAGE], method, &other_door, token).is_ok() =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    };
    let unauthorized = |detail: String| {
        StorageError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationInfo",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate \
             header.",
        )
        .with("AuthenticationErrorDetail", detail)
        .challenge(challenge(state))
    };
    match result {
        Ok(_) => Ok(()),
        Err(Rejection::MissingHeader | Rejection::MalformedHeader) => Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAuthenticationInfo",
            "Authentication information is not given in the correct format. Check the value of Authorization header.",
        )),
        Err(Rejection::UnknownToken) => {
            Err(unauthorized("Signature validation failed. (drift-sandbox never issued this token)".into()))
        }
        Err(Rejection::Expired { .. }) => Err(unauthorized("Lifetime validation failed. The token is expired.".into())),
        Err(Rejection::WrongAudience { found }) => {
            Err(unauthorized(format!("Audience validation failed. Audience did not match. (token audience: {found})")))
        }
        Err(Rejection::Forbidden { .. }) => Err(StorageError::new(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        )),
    }
}

fn auth_failed(detail: impl Into<String>) -> StorageError {
    StorageError::new(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly \
         including the signature.",
    )
    .with("AuthenticationErrorDetail", detail)
}

fn shared_key(
    storage: &Storage,
    account: &str,
    credential: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<(), StorageError> {
    let Some((name, signature)) = credential.trim().split_once(':') else {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAuthenticationInfo",
            "Authentication information is not given in the correct format. Check the value of Authorization header.",
        ));
    };
    if !name.eq_ignore_ascii_case(account) {
        return Err(auth_failed(format!(
            "The account name '{name}' in the Authorization header does not match the account '{account}' of the URL."
        )));
    }
    let Some(key) = storage.account(account).map(|a| a.key.clone()) else {
        return Err(auth_failed(format!("drift-sandbox has no storage account '{account}'.")));
    };
    let date = header_str(headers, "x-ms-date").or_else(|| header_str(headers, "date"));
    let Some(date) = date else {
        return Err(auth_failed("Request date header not specified: send x-ms-date (or Date) with Shared Key."));
    };
    let Some(sent_at) = chrono::DateTime::parse_from_rfc2822(date).ok().and_then(|t| t.timestamp_nanos_opt()) else {
        return Err(auth_failed(format!("The date header '{date}' is not an RFC 1123 date.")));
    };
    let now = now_nanos();
    if (now - sent_at).abs() > MAX_CLOCK_SKEW_NANOS {
        return Err(auth_failed(format!(
            "Request date header too old or too far in the future: '{date}' (server time {}).",
            http_date(now)
        )));
    }
    let to_sign = string_to_sign(method, headers, account, uri.path(), pairs);
    let expected = crypto::b64(&crypto::hmac_sha256(&key, to_sign.as_bytes()));
    // The public host's form: the Shared Key doc's canonicalized resource is "/" + account + the encoded URI path
    // of `https://{account}.blob.core.windows.net/{container}/{blob}`, i.e. our path without `/{blob|dfs}/{account}`
    // (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key, "Shared Key format for 2009-09-19
    // and later"). azure-storage-blob signs `/{account}` + its URL path before any transport runs.
    let public_path = public_host_path(uri.path(), account);
    let public_matches = public_path.is_some_and(|path| {
        let to_sign = string_to_sign(method, headers, account, path, pairs);
        crypto::b64(&crypto::hmac_sha256(&key, to_sign.as_bytes())) == signature
    });
    if expected != signature && !public_matches {
        return Err(auth_failed(format!(
            "The MAC signature found in the HTTP request '{signature}' is not the same as any computed signature. \
             Server used following string to sign: '{}'.",
            to_sign.escape_debug()
        )));
    }
    Ok(())
}

/// `/blob/{account}/c/b` → `/c/b` (and `/blob/{account}` → ``): the path the request would have on the account's
/// own host. `None` when the path does not start with a service prefix and this account.
fn public_host_path<'p>(raw_path: &'p str, account: &str) -> Option<&'p str> {
    let rest = raw_path.strip_prefix("/blob/").or_else(|| raw_path.strip_prefix("/dfs/"))?;
    let after = rest.strip_prefix(account)?;
    (after.is_empty() || after.starts_with('/')).then_some(after)
}

/// The Shared Key string-to-sign of the Blob, Queue, File and Data Lake services (version 2009-09-19 and later).
pub(crate) fn string_to_sign(
    method: &Method,
    headers: &HeaderMap,
    account: &str,
    raw_path: &str,
    pairs: &[(String, String)],
) -> String {
    let value = |name: &str| -> String {
        let joined = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
        // Since 2015-02-21 a zero Content-Length signs as empty.
        if name == "content-length" && joined == "0" { String::new() } else { joined }
    };
    let mut out = method.as_str().to_string();
    for name in [
        "content-encoding",
        "content-language",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "if-modified-since",
        "if-match",
        "if-none-match",
        "if-unmodified-since",
        "range",
    ] {
        out.push('\n');
        out.push_str(&value(name));
    }
    out.push('\n');
    let mut ms_headers: BTreeMap<String, String> = BTreeMap::new();
    for name in headers.keys() {
        let lower = name.as_str().to_ascii_lowercase();
        if lower.starts_with("x-ms-") {
            ms_headers.insert(lower.clone(), value(&lower).trim().to_string());
        }
    }
    for (name, value) in &ms_headers {
        out.push_str(&format!("{name}:{value}\n"));
    }
    out.push('/');
    out.push_str(account);
    out.push_str(if raw_path.is_empty() { "/" } else { raw_path });
    let mut params: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in pairs {
        params.entry(name.to_ascii_lowercase()).or_default().push(value);
    }
    for (name, mut values) in params {
        values.sort_unstable();
        out.push_str(&format!("\n{name}:{}", values.join(",")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn string_to_sign_follows_the_documented_layout() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ms-version", HeaderValue::from_static("2026-02-06"));
        headers.insert("x-ms-date", HeaderValue::from_static("Fri, 26 Jun 2015 23:39:12 GMT"));
        headers.insert("content-length", HeaderValue::from_static("0"));
        let pairs = vec![
            ("restype".to_string(), "container".to_string()),
            ("comp".to_string(), "list".to_string()),
            ("prefix".to_string(), "".to_string()),
        ];
        let text = string_to_sign(&Method::GET, &headers, "acct", "/blob/acct/data", &pairs);
        assert_eq!(
            text,
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2026-02-06\n\
             /acct/blob/acct/data\ncomp:list\nprefix:\nrestype:container"
        );
    }

    #[test]
    fn public_host_paths() {
        assert_eq!(public_host_path("/blob/acct/c/b%20x", "acct"), Some("/c/b%20x"));
        assert_eq!(public_host_path("/dfs/acct/fs", "acct"), Some("/fs"));
        assert_eq!(public_host_path("/blob/acct", "acct"), Some(""));
        assert_eq!(public_host_path("/blob/acctx/c", "acct"), None);
        assert_eq!(public_host_path("/kv/acct/c", "acct"), None);
    }

    #[test]
    fn versions() {
        let mut headers = HeaderMap::new();
        assert_eq!(check_version(&headers).unwrap_err().code, "MissingRequiredHeader");
        headers.insert("x-ms-version", HeaderValue::from_static("2015-02-21"));
        assert_eq!(check_version(&headers).unwrap_err().code, "InvalidHeaderValue");
        headers.insert("x-ms-version", HeaderValue::from_static("latest"));
        assert_eq!(check_version(&headers).unwrap_err().code, "InvalidHeaderValue");
        headers.insert("x-ms-version", HeaderValue::from_static("2026-02-06"));
        assert!(check_version(&headers).is_ok());
    }
}

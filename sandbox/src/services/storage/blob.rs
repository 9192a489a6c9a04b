//! The Blob front end: containers (create, properties; listing is in `list`), block blobs uploaded in one PUT
//! (with `If-None-Match`/`If-Match`, `Content-MD5` and `x-ms-meta-*`), reads with ranges, properties, metadata
//! and deletes. Errors are XML.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::auth::{Target, authorize, check_version};
use super::crypto;
use super::errors::{Service, StorageError, stamp};
use super::sas::Permission;
use super::store::{Blob, Container, Storage};
use super::{locate, no_account};
use crate::state::{AppState, SandboxState, lock};
use crate::wire::{Query, header_str, http_date};

enum Op {
    CreateContainer,
    ContainerProperties,
    List,
    Upload,
    SetMetadata,
    GetMetadata,
    Read,
    Properties,
    Delete,
}

impl Op {
    fn permission(&self) -> Permission {
        match self {
            Op::CreateContainer | Op::Upload | Op::SetMetadata => Permission::Write,
            Op::List => Permission::List,
            Op::Delete => Permission::Delete,
            Op::ContainerProperties | Op::GetMetadata | Op::Read | Op::Properties => Permission::Read,
        }
    }
}

pub(crate) async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match serve(&state, &method, &uri, &headers, body) {
        Ok(mut response) => {
            stamp(Service::Blob, &headers, response.headers_mut());
            response
        }
        Err(error) => error.render(Service::Blob, method == Method::HEAD, &headers),
    }
}

fn verb_not_allowed() -> StorageError {
    StorageError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "UnsupportedHttpVerb",
        "The resource doesn't support specified Http Verb.",
    )
}

fn classify(method: &Method, has_path: bool, query: &Query) -> Result<Op, StorageError> {
    let restype = query.get_raw("restype");
    let comp = query.get_raw("comp");
    if !has_path {
        return match (restype, comp) {
            (Some("container"), None) => match *method {
                Method::PUT => Ok(Op::CreateContainer),
                Method::GET | Method::HEAD => Ok(Op::ContainerProperties),
                _ => Err(verb_not_allowed()),
            },
            (Some("container"), Some("list")) if *method == Method::GET => Ok(Op::List),
            (Some("container"), Some("list")) => Err(verb_not_allowed()),
            (Some("container"), Some(other)) => Err(StorageError::unsupported(&format!("comp={other} on containers"))),
            (Some(other), _) => Err(StorageError::invalid_query("restype", other, "restype must be container here.")),
            (None, _) => Err(StorageError::invalid_query(
                "restype",
                "",
                "A container URL needs restype=container (blobs in the $root container are not faked).",
            )),
        };
    }
    match comp {
        None => match *method {
            Method::PUT => Ok(Op::Upload),
            Method::GET => Ok(Op::Read),
            Method::HEAD => Ok(Op::Properties),
            Method::DELETE => Ok(Op::Delete),
            _ => Err(verb_not_allowed()),
        },
        Some("metadata") => match *method {
            Method::PUT => Ok(Op::SetMetadata),
            Method::GET | Method::HEAD => Ok(Op::GetMetadata),
            _ => Err(verb_not_allowed()),
        },
        Some(other) => Err(StorageError::unsupported(&format!(
            "comp={other} on blobs (it fakes single-PUT BlockBlob uploads, metadata, reads and deletes)"
        ))),
    }
}

fn serve(
    state: &SandboxState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, StorageError> {
    check_version(headers)?;
    let location = locate(uri.path(), "/blob/")?;
    let account = location.account.as_str();
    if lock(&state.storage.inner).account(account).is_none() {
        return Err(no_account(account));
    }
    let query = Query::parse(uri.query());
    let Some(container) = location.container.as_deref() else {
        return Err(StorageError::unsupported("account-level Blob operations (list containers, service properties)"));
    };
    let op = classify(method, location.path.is_some(), &query)?;
    let target = Target { account, container: Some(container), permission: op.permission() };
    authorize(state, &target, method, uri, headers, query.pairs())?;

    let mut storage = lock(&state.storage.inner);
    if let Op::CreateContainer = op {
        return create_container(&mut storage, account, container);
    }
    let path = location.path.unwrap_or_default();
    match op {
        Op::Upload => upload(&mut storage, account, container, &path, headers, body),
        Op::SetMetadata => set_metadata(&mut storage, account, container, &path, headers),
        Op::Delete => {
            let target = existing_container_mut(&mut storage, account, container)?;
            target.blobs.remove(&path).ok_or_else(StorageError::blob_not_found)?;
            let mut response = StatusCode::ACCEPTED.into_response();
            response.headers_mut().insert("x-ms-delete-type-permanent", HeaderValue::from_static("true"));
            Ok(response)
        }
        _ => {
            let target = storage
                .account(account)
                .and_then(|a| a.containers.get(container))
                .ok_or_else(StorageError::container_not_found)?;
            match op {
                Op::ContainerProperties => Ok(container_properties(target)),
                Op::List => super::list::list(&state.base_url, account, container, target, &query),
                Op::Read | Op::Properties | Op::GetMetadata => {
                    let blob = target.blobs.get(&path).ok_or_else(StorageError::blob_not_found)?;
                    match op {
                        Op::Read => read(blob, headers),
                        Op::Properties => Ok(properties(blob)),
                        _ => Ok(metadata_only(blob)),
                    }
                }
                _ => Err(verb_not_allowed()),
            }
        }
    }
}

fn existing_container_mut<'a>(
    storage: &'a mut Storage,
    account: &str,
    container: &str,
) -> Result<&'a mut Container, StorageError> {
    storage
        .account_mut(account)
        .and_then(|a| a.containers.get_mut(container))
        .ok_or_else(StorageError::container_not_found)
}

fn create_container(storage: &mut Storage, account: &str, container: &str) -> Result<Response, StorageError> {
    if let Err(reason) = super::store::check_container_name(container) {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            format!("The specifed resource name contains invalid characters. ({reason})"),
        ));
    }
    if storage.account(account).is_some_and(|a| a.containers.contains_key(container)) {
        return Err(StorageError::new(
            StatusCode::CONFLICT,
            "ContainerAlreadyExists",
            "The specified container already exists.",
        ));
    }
    let created = storage
        .ensure_container(account, container)
        .map_err(|e| StorageError::new(StatusCode::BAD_REQUEST, "InvalidResourceName", e))?;
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    insert(headers, header::ETAG, format!("\"{}\"", created.etag));
    insert(headers, header::LAST_MODIFIED, http_date(created.created));
    Ok(response)
}

fn container_properties(container: &Container) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    insert(headers, header::ETAG, format!("\"{}\"", container.etag));
    insert(headers, header::LAST_MODIFIED, http_date(container.created));
    for (name, value) in [
        ("x-ms-lease-status", "unlocked"),
        ("x-ms-lease-state", "available"),
        ("x-ms-has-immutability-policy", "false"),
        ("x-ms-has-legal-hold", "false"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `x-ms-meta-*` headers; names must be C# identifiers, as the service requires.
fn metadata_from(headers: &HeaderMap) -> Result<BTreeMap<String, String>, StorageError> {
    let mut metadata = BTreeMap::new();
    for (name, value) in headers {
        let Some(key) = name.as_str().strip_prefix("x-ms-meta-") else { continue };
        let identifier = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let value = value.to_str().ok().filter(|_| identifier).ok_or_else(|| {
            StorageError::new(
                StatusCode::BAD_REQUEST,
                "InvalidMetadata",
                "The metadata specified is invalid. It has characters that are not permitted.",
            )
        })?;
        metadata.insert(key.to_string(), value.to_string());
    }
    Ok(metadata)
}

fn condition_not_met() -> StorageError {
    StorageError::new(
        StatusCode::PRECONDITION_FAILED,
        "ConditionNotMet",
        "The condition specified using HTTP conditional header(s) is not met.",
    )
}

/// `If-Match` / `If-None-Match` against the current blob (`None` when it does not exist).
fn check_conditions(headers: &HeaderMap, current: Option<&Blob>) -> Result<(), StorageError> {
    if let Some(wanted) = header_str(headers, "if-none-match") {
        match current {
            Some(_) if wanted.trim() == "*" => {
                return Err(StorageError::new(
                    StatusCode::CONFLICT,
                    "BlobAlreadyExists",
                    "The specified blob already exists.",
                ));
            }
            Some(blob) if wanted.split(',').any(|e| e.trim() == blob.quoted_etag()) => return Err(condition_not_met()),
            _ => {}
        }
    }
    if let Some(wanted) = header_str(headers, "if-match") {
        let matches = current
            .is_some_and(|blob| wanted.trim() == "*" || wanted.split(',').any(|e| e.trim() == blob.quoted_etag()));
        if !matches {
            return Err(condition_not_met());
        }
    }
    Ok(())
}

fn upload(
    storage: &mut Storage,
    account: &str,
    container: &str,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, StorageError> {
    match header_str(headers, "x-ms-blob-type") {
        None => return Err(StorageError::missing_header("x-ms-blob-type")),
        Some("BlockBlob") => {}
        Some(other) => {
            return Err(StorageError::new(
                StatusCode::BAD_REQUEST,
                "InvalidHeaderValue",
                format!("The value for one of the HTTP headers is not in the correct format. (drift-sandbox fakes BlockBlob only, got {other}.)"),
            )
            .with("HeaderName", "x-ms-blob-type")
            .with("HeaderValue", other));
        }
    }
    let existing = existing_container_mut(storage, account, container)?.blobs.get(path).cloned();
    check_conditions(headers, existing.as_ref())?;
    if let Err(reason) = super::store::check_blob_name(path) {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            format!("The specifed resource name contains invalid characters. ({reason})"),
        ));
    }
    if let Some(sent) = header_str(headers, "content-md5")
        && crypto::unb64(sent).as_deref() != Some(&crypto::md5(&body)[..])
    {
        return Err(StorageError::new(
            StatusCode::BAD_REQUEST,
            "Md5Mismatch",
            "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
        )
        .with("UserSpecifiedMd5", sent)
        .with("ServerCalculatedMd5", crypto::b64(&crypto::md5(&body))));
    }
    let metadata = metadata_from(headers)?;
    let content_type = header_str(headers, "x-ms-blob-content-type")
        .or_else(|| header_str(headers, "content-type"))
        .unwrap_or("application/octet-stream")
        .to_string();
    storage
        .put_blob(account, container, path, body, &content_type, metadata)
        .map_err(|e| StorageError::new(StatusCode::BAD_REQUEST, "InvalidResourceName", e))?;
    let blob = storage
        .account(account)
        .and_then(|a| a.containers.get(container))
        .and_then(|c| c.blobs.get(path))
        .ok_or_else(StorageError::blob_not_found)?;
    let mut response = StatusCode::CREATED.into_response();
    write_change_headers(response.headers_mut(), blob);
    insert(response.headers_mut(), HeaderName::from_static("content-md5"), crypto::b64(&blob.md5));
    Ok(response)
}

fn set_metadata(
    storage: &mut Storage,
    account: &str,
    container: &str,
    path: &str,
    headers: &HeaderMap,
) -> Result<Response, StorageError> {
    let metadata = metadata_from(headers)?;
    let etag = storage.etag();
    let target = existing_container_mut(storage, account, container)?;
    let blob = target.blobs.get_mut(path).ok_or_else(StorageError::blob_not_found)?;
    check_conditions(headers, Some(blob))?;
    blob.metadata = metadata;
    blob.etag = etag;
    blob.modified = crate::wire::now_nanos();
    let mut response = StatusCode::OK.into_response();
    write_change_headers(response.headers_mut(), blob);
    Ok(response)
}

fn write_change_headers(headers: &mut HeaderMap, blob: &Blob) {
    insert(headers, header::ETAG, blob.quoted_etag());
    insert(headers, header::LAST_MODIFIED, http_date(blob.modified));
    headers.insert("x-ms-request-server-encrypted", HeaderValue::from_static("true"));
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

/// The headers Get Blob and Get Blob Properties share.
fn blob_headers(headers: &mut HeaderMap, blob: &Blob) {
    insert(headers, header::CONTENT_TYPE, blob.content_type.clone());
    insert(headers, header::ETAG, blob.quoted_etag());
    insert(headers, header::LAST_MODIFIED, http_date(blob.modified));
    insert(headers, HeaderName::from_static("x-ms-creation-time"), http_date(blob.created));
    for (name, value) in [
        ("x-ms-blob-type", "BlockBlob"),
        ("x-ms-lease-status", "unlocked"),
        ("x-ms-lease-state", "available"),
        ("x-ms-server-encrypted", "true"),
        ("accept-ranges", "bytes"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    meta_headers(headers, blob);
}

fn meta_headers(headers: &mut HeaderMap, blob: &Blob) {
    for (name, value) in &blob.metadata {
        if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(format!("x-ms-meta-{name}")), HeaderValue::try_from(value.as_str()))
        {
            headers.insert(name, value);
        }
    }
}

fn properties(blob: &Blob) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    blob_headers(headers, blob);
    insert(headers, header::CONTENT_LENGTH, blob.data.len().to_string());
    insert(headers, HeaderName::from_static("content-md5"), crypto::b64(&blob.md5));
    response
}

fn metadata_only(blob: &Blob) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    insert(headers, header::ETAG, blob.quoted_etag());
    insert(headers, header::LAST_MODIFIED, http_date(blob.modified));
    meta_headers(headers, blob);
    response
}

/// `Range` / `x-ms-range` (`bytes=a-b` or `bytes=a-`), resolved against the blob length; `x-ms-range` wins.
pub(crate) fn requested_range(headers: &HeaderMap, len: usize) -> Result<Option<(usize, usize)>, StorageError> {
    let Some(spec) = header_str(headers, "x-ms-range").or_else(|| header_str(headers, "range")) else {
        return Ok(None);
    };
    let invalid = || {
        StorageError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The range specified is invalid for the current size of the resource.",
        )
    };
    let (start, end) = spec.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(invalid)?;
    let start: usize = start.trim().parse().map_err(|_| invalid())?;
    let end: usize = match end.trim() {
        "" => len.saturating_sub(1),
        e => e.parse::<usize>().map_err(|_| invalid())?.min(len.saturating_sub(1)),
    };
    if start >= len || end < start {
        return Err(invalid());
    }
    Ok(Some((start, end)))
}

fn read(blob: &Blob, headers: &HeaderMap) -> Result<Response, StorageError> {
    let range = requested_range(headers, blob.data.len())?;
    let (status, body) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, blob.data.slice(start..=end)),
        None => (StatusCode::OK, blob.data.clone()),
    };
    let mut response = (status, Body::from(body)).into_response();
    let out = response.headers_mut();
    blob_headers(out, blob);
    match range {
        Some((start, end)) => {
            insert(out, header::CONTENT_RANGE, format!("bytes {start}-{end}/{}", blob.data.len()));
        }
        None => insert(out, HeaderName::from_static("content-md5"), crypto::b64(&blob.md5)),
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let mut headers = HeaderMap::new();
        assert_eq!(requested_range(&headers, 10).unwrap(), None);
        headers.insert("range", HeaderValue::from_static("bytes=2-"));
        assert_eq!(requested_range(&headers, 10).unwrap(), Some((2, 9)));
        headers.insert("x-ms-range", HeaderValue::from_static("bytes=0-99"));
        assert_eq!(requested_range(&headers, 10).unwrap(), Some((0, 9)));
        headers.insert("x-ms-range", HeaderValue::from_static("bytes=10-"));
        assert!(requested_range(&headers, 10).is_err());
    }
}

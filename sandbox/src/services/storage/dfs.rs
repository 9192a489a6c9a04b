//! The Data Lake (DFS) front end of hierarchical-namespace accounts: List Paths (`?resource=filesystem`,
//! `recursive`, `directory`, `continuation`, `maxResults`, `beginFrom`), Read and Get Properties of a path. It reads
//! the same blobs as the Blob front end; directories are the `/`-separated prefixes of blob names. Answers are
//! shaped like the service's, including its habit of sending `contentLength` and `isDirectory` as strings.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{Target, authorize, check_version};
use super::blob::requested_range;
use super::crypto;
use super::errors::{Service, StorageError, stamp};
use super::sas::Permission;
use super::store::{Blob, Container};
use super::{locate, no_account};
use crate::state::{AppState, SandboxState, lock};
use crate::wire::{JSON_CONTENT_TYPE, Query, http_date};

const MAX_RESULTS: usize = 5000;

/// Windows FILETIME of the Unix epoch: DFS prints `creationTime` in 100 ns ticks since 1601.
const FILETIME_UNIX_EPOCH: i64 = 116_444_736_000_000_000;

pub(crate) async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> Response {
    match serve(&state, &method, &uri, &headers) {
        Ok(mut response) => {
            stamp(Service::Dfs, &headers, response.headers_mut());
            response
        }
        Err(error) => error.render(Service::Dfs, method == Method::HEAD, &headers),
    }
}

fn filesystem_not_found() -> StorageError {
    StorageError::new(StatusCode::NOT_FOUND, "FilesystemNotFound", "The specified filesystem does not exist.")
}

fn path_not_found() -> StorageError {
    StorageError::new(StatusCode::NOT_FOUND, "PathNotFound", "The specified path does not exist.")
}

fn serve(state: &SandboxState, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Response, StorageError> {
    check_version(headers)?;
    let location = locate(uri.path(), "/dfs/")?;
    let account = location.account.as_str();
    if lock(&state.storage.inner).account(account).is_none() {
        return Err(no_account(account));
    }
    let query = Query::parse(uri.query());
    let Some(filesystem) = location.container.as_deref() else {
        return Err(StorageError::unsupported("account-level DFS operations (list filesystems)"));
    };
    let permission = match (&location.path, method) {
        (None, &Method::GET) => {
            match query.get_raw("resource") {
                Some("filesystem") => {}
                Some(other) => {
                    return Err(StorageError::invalid_query("resource", other, "resource must be filesystem."));
                }
                None => return Err(StorageError::missing_query("resource")),
            }
            Permission::List
        }
        (Some(_), &Method::GET | &Method::HEAD) => Permission::Read,
        _ => {
            return Err(StorageError::unsupported(&format!(
                "{method} on this DFS URL (it fakes List Paths, Read and Get Properties)"
            )));
        }
    };
    let target = Target { account, container: Some(filesystem), permission };
    authorize(state, &target, method, uri, headers, query.pairs())?;

    let storage = lock(&state.storage.inner);
    let container =
        storage.account(account).and_then(|a| a.containers.get(filesystem)).ok_or_else(filesystem_not_found)?;
    match &location.path {
        None => list_paths(container, &query),
        Some(path) => {
            let path = path.trim_end_matches('/');
            match container.blobs.get(path) {
                Some(blob) if *method == Method::HEAD => Ok(file_properties(blob)),
                Some(blob) => read(blob, headers),
                None if is_directory(container, path) => Ok(directory_answer(container, path, method)),
                None => Err(path_not_found()),
            }
        }
    }
}

fn is_directory(container: &Container, path: &str) -> bool {
    let prefix = format!("{path}/");
    container.blobs.range(prefix.clone()..).next().is_some_and(|(name, _)| name.starts_with(&prefix))
}

/// Every path of the filesystem: the files and the directories their names imply, newest change per directory.
fn all_paths(container: &Container) -> BTreeMap<String, Option<&Blob>> {
    let mut paths: BTreeMap<String, Option<&Blob>> = BTreeMap::new();
    let mut directories = BTreeSet::new();
    for (name, blob) in &container.blobs {
        paths.insert(name.clone(), Some(blob));
        let mut at = 0;
        while let Some(i) = name[at..].find('/') {
            directories.insert(name[..at + i].to_string());
            at += i + 1;
        }
    }
    for directory in directories {
        paths.entry(directory).or_insert(None);
    }
    paths
}

/// The newest modification under a directory: what the service shows as the directory's time and ETag source.
fn directory_stamp(container: &Container, path: &str) -> (i64, String) {
    let prefix = format!("{path}/");
    container
        .blobs
        .range(prefix.clone()..)
        .take_while(|(name, _)| name.starts_with(&prefix))
        .map(|(_, b)| (b.modified, b.etag.clone()))
        .max()
        .unwrap_or((container.created, container.etag.clone()))
}

fn continuation_token(name: &str) -> String {
    crypto::b64(name.as_bytes())
}

fn list_paths(container: &Container, query: &Query) -> Result<Response, StorageError> {
    let recursive = match query.get_raw("recursive") {
        None => return Err(StorageError::missing_query("recursive")),
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => return Err(StorageError::invalid_query("recursive", v, "recursive must be true or false.")),
    };
    let max = match query.get_raw("maxResults") {
        None => MAX_RESULTS,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_RESULTS),
            _ => return Err(StorageError::invalid_query("maxResults", raw, "maxResults must be a positive integer.")),
        },
    };
    let directory = query.get_raw("directory").unwrap_or("").trim_matches('/').to_string();
    if !directory.is_empty() && !is_directory(container, &directory) {
        return Err(path_not_found());
    }
    let after =
        match query.get_raw("continuation").filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(crypto::unb64(raw).and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
                StorageError::invalid_query("continuation", raw, "The continuation token is not valid.")
            })?),
        };
    let begin_from = query.get_raw("beginFrom").filter(|b| !b.is_empty());
    let prefix = if directory.is_empty() { String::new() } else { format!("{directory}/") };

    // Hierarchical order: a directory comes right before its contents, siblings by name.
    let mut selected: Vec<(Vec<String>, String, Option<&Blob>)> = all_paths(container)
        .into_iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .filter(|(name, _)| recursive || !name[prefix.len()..].contains('/'))
        .map(|(name, blob)| (name.split('/').map(str::to_string).collect(), name, blob))
        .collect();
    selected.sort_by(|a, b| a.0.cmp(&b.0));
    let key = |name: &str| name.split('/').map(str::to_string).collect::<Vec<_>>();
    let after_key = after.as_deref().map(key);
    let begin_key = begin_from.map(key);
    let mut page = Vec::new();
    let mut next = None;
    for (sort_key, name, blob) in &selected {
        if after_key.as_ref().is_some_and(|a| sort_key <= a) || begin_key.as_ref().is_some_and(|b| sort_key < b) {
            continue;
        }
        if page.len() == max {
            next = page.last().map(|(n, _): &(&String, Value)| continuation_token(n));
            break;
        }
        page.push((name, path_json(container, name, *blob)));
    }
    let body = json!({"paths": page.into_iter().map(|(_, v)| v).collect::<Vec<_>>()});
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    if let Some(token) = next.and_then(|t| HeaderValue::try_from(t).ok()) {
        headers.insert("x-ms-continuation", token);
    }
    Ok(response)
}

fn path_json(container: &Container, name: &str, blob: Option<&Blob>) -> Value {
    let (length, modified, created, etag, directory) = match blob {
        Some(b) => (b.data.len(), b.modified, b.created, b.etag.clone(), false),
        None => {
            let (modified, etag) = directory_stamp(container, name);
            (0, modified, container.created, etag, true)
        }
    };
    let mut entry = json!({
        "contentLength": length.to_string(),
        "creationTime": (created / 100 + FILETIME_UNIX_EPOCH).to_string(),
        "etag": etag,
        "expiryTime": "0",
        "group": "$superuser",
        "lastModified": http_date(modified),
        "name": name,
        "owner": "$superuser",
        "permissions": if directory { "rwxr-x---" } else { "rw-r-----" },
    });
    if directory {
        entry["isDirectory"] = Value::String("true".into());
    }
    entry
}

fn common_headers(headers: &mut HeaderMap, etag: &str, modified: i64, kind: &'static str) {
    for (name, value) in [(header::ETAG, format!("\"{etag}\"")), (header::LAST_MODIFIED, http_date(modified))] {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    }
    headers.insert("x-ms-resource-type", HeaderValue::from_static(kind));
    headers.insert("accept-ranges", HeaderValue::from_static("bytes"));
}

fn file_properties(blob: &Blob) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    common_headers(headers, &blob.etag, blob.modified, "file");
    if let Ok(value) = HeaderValue::try_from(blob.content_type.as_str()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.data.len()));
    response
}

/// A directory read or HEAD: the service answers for the directory's own (empty) object.
fn directory_answer(container: &Container, path: &str, method: &Method) -> Response {
    let (modified, etag) = directory_stamp(container, path);
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    common_headers(headers, &etag, modified, "directory");
    if *method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    }
    response
}

fn read(blob: &Blob, headers: &HeaderMap) -> Result<Response, StorageError> {
    let range = requested_range(headers, blob.data.len())?;
    let (status, body) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, blob.data.slice(start..=end)),
        None => (StatusCode::OK, blob.data.clone()),
    };
    let mut response = (status, Body::from(body)).into_response();
    let out = response.headers_mut();
    common_headers(out, &blob.etag, blob.modified, "file");
    if let Ok(value) = HeaderValue::try_from(blob.content_type.as_str()) {
        out.insert(header::CONTENT_TYPE, value);
    }
    if let Some((start, end)) = range
        && let Ok(value) = HeaderValue::try_from(format!("bytes {start}-{end}/{}", blob.data.len()))
    {
        out.insert(HeaderName::from_static("content-range"), value);
    }
    Ok(response)
}

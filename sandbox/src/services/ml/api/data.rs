//! `data`, `data/{name}`, `data/{name}/versions` (`$orderBy=createdtime desc|asc`, `$top`, `$skip`,
//! `listViewType`) and `data/{name}/versions/{version}` (GET, PUT). A version PUT creates its container.

use axum::http::StatusCode;
use axum::response::Response;

use super::{Call, check_name, decode_offset, encode_offset, list_view, page};
use crate::services::ml::data::{self, DataAsset, DataVersion};
use crate::services::ml::errors::{MlError, MlResult};
use crate::services::ml::schema::is_version;
use crate::state::lock;
use crate::wire::{json, now_nanos};

/// Items per page when `$top` is not given.
const PAGE_SIZE: usize = 100;

pub(crate) fn list_containers(call: &Call<'_>) -> MlResult<Response> {
    let offset = decode_offset(call)?;
    let view = list_view(call)?;
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let id = ws.arm_id();
    // Containers themselves are never archived here.
    let assets: Vec<&DataAsset> = ws.data.values().filter(|_| view != Some(true)).collect();
    let items = assets.iter().skip(offset).take(PAGE_SIZE).map(|a| a.to_json(&id)).collect();
    let next = (offset + PAGE_SIZE < assets.len()).then(|| call.next_link(&encode_offset(offset + PAGE_SIZE)));
    Ok(page(items, next))
}

pub(crate) fn get_container(call: &Call<'_>, name: &str) -> MlResult<Response> {
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let asset = ws
        .data
        .get(name)
        .ok_or_else(|| MlError::not_found(format!("Data asset '{name}' was not found in workspace '{}'.", ws.name)))?;
    Ok(json(StatusCode::OK, &asset.to_json(&ws.arm_id())))
}

/// `createdtime desc` (also the default) or `createdtime asc`; `true` for descending.
fn order(call: &Call<'_>) -> MlResult<bool> {
    let Some(raw) = call.query.get("$orderBy") else { return Ok(true) };
    let words: Vec<String> = raw.split_whitespace().map(str::to_ascii_lowercase).collect();
    match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["createdtime"] | ["createdtime", "asc"] => Ok(false),
        ["createdtime", "desc"] => Ok(true),
        _ => Err(MlError::user(format!(
            "The $orderBy value '{raw}' is not supported; use 'createdtime desc' or 'createdtime asc'."
        ))),
    }
}

pub(crate) fn list_versions(call: &Call<'_>, name: &str) -> MlResult<Response> {
    let descending = order(call)?;
    let size =
        match call.query.get("$top") {
            None => PAGE_SIZE,
            Some(raw) => raw.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                MlError::user(format!("The value '{raw}' is not valid for $top (a positive integer)."))
            })?,
        };
    let offset = decode_offset(call)?;
    let view = list_view(call)?;
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let id = ws.arm_id();
    // An asset without versions lists as empty, not 404.
    let mut versions: Vec<&DataVersion> = ws
        .data
        .get(name)
        .map(|a| a.versions.iter().filter(|v| view.is_none_or(|archived| v.is_archived == archived)).collect())
        .unwrap_or_default();
    versions.sort_by_key(|v| (v.created, v.seq));
    if descending {
        versions.reverse();
    }
    let items = versions.iter().skip(offset).take(size).map(|v| v.to_json(&id, name)).collect();
    let next = (offset + size < versions.len()).then(|| call.next_link(&encode_offset(offset + size)));
    Ok(page(items, next))
}

pub(crate) fn get_version(call: &Call<'_>, name: &str, version: &str) -> MlResult<Response> {
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let found = ws.data.get(name).and_then(|a| a.versions.iter().find(|v| v.version == version)).ok_or_else(|| {
        MlError::not_found(format!("Data asset '{name}' version '{version}' was not found in workspace '{}'.", ws.name))
    })?;
    Ok(json(StatusCode::OK, &found.to_json(&ws.arm_id(), name)))
}

pub(crate) fn put_version(call: &Call<'_>, name: &str, version: &str) -> MlResult<Response> {
    check_name("data asset name", name)?;
    if !is_version(version) {
        return Err(MlError::user(format!(
            "The data version '{version}' is not valid: use letters, digits, '-', '_' and '.', starting with a letter \
             or digit."
        )));
    }
    let body = call.json_body()?;
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let valid = data::validate(&body, &ml.workspaces[at])?;
    let seq = ml.next_seq();
    let now = now_nanos();
    let ws = &mut ml.workspaces[at];
    let id = ws.arm_id();
    let asset = ws.data.entry(name.to_string()).or_insert_with(|| DataAsset {
        name: name.to_string(),
        created: now,
        versions: Vec::new(),
    });
    let created = data::upsert(asset, version, valid, now, seq, &call.caller);
    // A failed first version must not leave an empty container behind.
    if asset.versions.is_empty() {
        ws.data.remove(name);
    }
    let created = created?;
    let shown = ws
        .data
        .get(name)
        .and_then(|a| a.versions.iter().find(|v| v.version == version))
        .map(|v| v.to_json(&id, name))
        .unwrap_or_default();
    Ok(json(if created { StatusCode::CREATED } else { StatusCode::OK }, &shown))
}

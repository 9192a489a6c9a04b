//! `datastores`, `datastores/{name}` (GET, PUT with `skipValidation`) and `datastores/{name}/listSecrets`.

use axum::http::StatusCode;
use axum::response::Response;

use super::{Call, check_name, decode_offset, encode_offset, page};
use crate::services::ml::datastores::{self, Datastore, Secrets, Validated};
use crate::services::ml::errors::{MlError, MlResult};
use crate::services::storage::Permission;
use crate::state::lock;
use crate::wire::{json, now_nanos};

/// The page size when the caller gives no `count` (the spec's default).
const DEFAULT_COUNT: usize = 30;

fn not_found(name: &str, workspace: &str) -> MlError {
    MlError::not_found(format!("Datastore '{name}' was not found in workspace '{workspace}'."))
}

pub(crate) fn list(call: &Call<'_>) -> MlResult<Response> {
    let is_default = match call.query.get("isDefault") {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        Some(v) => return Err(MlError::user(format!("The value '{v}' is not valid for isDefault (true or false)."))),
    };
    let count =
        match call.query.get("count") {
            None => DEFAULT_COUNT,
            Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                MlError::user(format!("The value '{v}' is not valid for count (a positive integer)."))
            })?,
        };
    let offset = decode_offset(call)?;
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let mut stores: Vec<&Datastore> =
        ws.datastores.iter().filter(|d| is_default.is_none_or(|want| d.is_default == want)).collect();
    stores.sort_by_key(|d| d.name.to_ascii_lowercase());
    let id = ws.arm_id();
    let items = stores.iter().skip(offset).take(count).map(|d| d.to_json(&id)).collect();
    let next = (offset + count < stores.len()).then(|| call.next_link(&encode_offset(offset + count)));
    Ok(page(items, next))
}

pub(crate) fn get(call: &Call<'_>, name: &str) -> MlResult<Response> {
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let store = ws.datastore(name).ok_or_else(|| not_found(name, &ws.name))?;
    Ok(json(StatusCode::OK, &store.to_json(&ws.arm_id())))
}

pub(crate) fn put(call: &Call<'_>, name: &str) -> MlResult<Response> {
    check_name("datastore name", name)?;
    let skip_validation = match call.query.get("skipValidation") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(MlError::user(format!("The value '{v}' is not valid for skipValidation (true or false).")));
        }
    };
    let body = call.json_body()?;
    let valid = {
        let ml = lock(&call.state.ml.inner);
        let ws = &ml.workspaces[ml.resolve(&call.path)?];
        datastores::validate(&body, ws.datastore(name))?
    };
    if !skip_validation {
        check_reachable(call, &valid)?;
    }
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let ws = &mut ml.workspaces[at];
    let now = now_nanos();
    let id = ws.arm_id();
    let (status, store) = match ws.datastores.iter_mut().position(|d| d.name.eq_ignore_ascii_case(name)) {
        Some(i) => {
            let store = &mut ws.datastores[i];
            store.properties = valid.properties;
            if valid.secrets.is_some() || store.credentials_type() == "None" {
                store.secrets = valid.secrets;
            }
            store.modified = now;
            store.modified_by = call.caller.clone();
            (StatusCode::OK, store.to_json(&id))
        }
        None => {
            let store = Datastore {
                name: name.to_string(),
                properties: valid.properties,
                secrets: valid.secrets,
                is_default: false,
                created: now,
                modified: now,
                created_by: call.caller.clone(),
                modified_by: call.caller.clone(),
            };
            let shown = store.to_json(&id);
            ws.datastores.push(store);
            (StatusCode::CREATED, shown)
        }
    };
    Ok(json(status, &store))
}

/// What the service checks without `skipValidation=true`: the storage account and container exist and the
/// credentials open them. Only accounts the sandbox holds can pass.
fn check_reachable(call: &Call<'_>, valid: &Validated) -> MlResult<()> {
    let storage = lock(&call.state.storage.inner);
    let fail = |why: String| {
        MlError::user(format!(
            "Datastore validation failed: {why} (send skipValidation=true to register it without the check)."
        ))
    };
    let account = storage
        .account(&valid.account)
        .ok_or_else(|| fail(format!("storage account '{}' is not reachable", valid.account)))?;
    if !account.containers.contains_key(&valid.container) {
        return Err(fail(format!("container '{}' does not exist in '{}'", valid.container, valid.account)));
    }
    match &valid.secrets {
        Some(Secrets::AccountKey(key)) if key.as_deref().map(str::trim) != Some(account.key_b64.as_str()) => {
            Err(fail(format!("the account key does not open '{}'", valid.account)))
        }
        Some(Secrets::Sas(Some(token))) => {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(token.trim_start_matches('?').as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            storage
                .check_sas(&valid.account, Some(&valid.container), Permission::List, &pairs)
                .map_err(|_| fail(format!("the SAS token does not open '{}/{}'", valid.account, valid.container)))
        }
        _ => Ok(()),
    }
}

pub(crate) fn list_secrets(call: &Call<'_>, name: &str) -> MlResult<Response> {
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let store = ws.datastore(name).ok_or_else(|| not_found(name, &ws.name))?;
    match &store.secrets {
        Some(secrets) => Ok(json(StatusCode::OK, &secrets.to_json())),
        None => Err(MlError::user(format!(
            "Datastore '{}' uses identity-based access (credentialsType None) and has no secrets to list.",
            store.name
        ))),
    }
}

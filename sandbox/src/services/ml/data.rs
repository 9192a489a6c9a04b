//! Data assets: validation of `DataVersionBaseResource` bodies (mltable, uri_folder, uri_file), the service's
//! `dataUri` normalisation to the long `azureml://subscriptions/.../datastores/{ds}/paths/{p}` form (folders keep a
//! trailing `/`), the "Asset paths cannot be updated." rule, version and container JSON, and version ordering.

use serde_json::{Value, json};

use super::datastores::RESOURCE_READ_ONLY;
use super::errors::{MlError, MlResult};
use super::schema::{Obj, allow, enum_str, join, missing, object, opt_bool, opt_str, req_str, string_map};
use super::store::{Workspace, system_data};

const DATA_TYPES: &[&str] = &["uri_file", "uri_folder", "mltable"];

pub(crate) struct DataAsset {
    pub name: String,
    pub created: i64,
    pub versions: Vec<DataVersion>,
}

pub(crate) struct DataVersion {
    pub version: String,
    pub data_type: String,
    /// Normalised.
    pub data_uri: String,
    pub description: Value,
    pub tags: Obj,
    pub properties: Obj,
    pub is_anonymous: bool,
    pub is_archived: bool,
    pub referenced_uris: Option<Value>,
    pub created: i64,
    pub modified: i64,
    /// Creation order, the tie-breaker of `createdtime` ordering.
    pub seq: u64,
    pub created_by: String,
    pub modified_by: String,
}

/// A checked body, before it meets the stored version (if any).
#[derive(Debug)]
pub(crate) struct ValidVersion {
    pub data_type: String,
    pub data_uri: String,
    pub description: Value,
    pub tags: Obj,
    pub properties: Obj,
    pub is_anonymous: bool,
    pub is_archived: bool,
    pub referenced_uris: Option<Value>,
}

/// Splits `azureml://datastores/{ds}/paths/{p}` and the long form of this workspace into (datastore, path);
/// `None` for anything else (https, abfss, other workspaces), which is kept as sent.
fn datastore_uri<'a>(uri: &'a str, workspace: &Workspace) -> Option<(&'a str, &'a str)> {
    let rest = uri.strip_prefix("azureml://")?;
    let rest = if let Some(short) = rest.strip_prefix("datastores/") {
        short
    } else {
        let parts: Vec<&str> = rest.splitn(8, '/').collect();
        let long = parts.len() == 8
            && parts[0].eq_ignore_ascii_case("subscriptions")
            && parts[2].eq_ignore_ascii_case("resourcegroups")
            && parts[4].eq_ignore_ascii_case("workspaces")
            && parts[6].eq_ignore_ascii_case("datastores")
            && workspace.is(parts[1], parts[3], parts[5]);
        if !long {
            return None;
        }
        parts[7]
    };
    let (datastore, path) = rest.split_once('/')?;
    let path = path.strip_prefix("paths/").or_else(|| (path == "paths").then_some(""))?;
    Some((datastore, path))
}

/// The service's normal form of a `dataUri`; errors when it names a datastore the workspace does not have.
pub(crate) fn normalise_data_uri(uri: &str, data_type: &str, workspace: &Workspace) -> MlResult<String> {
    let Some((datastore, path)) = datastore_uri(uri, workspace) else { return Ok(uri.to_string()) };
    let Some(found) = workspace.datastore(datastore) else {
        return Err(MlError::user(format!(
            "Datastore '{datastore}' named in dataUri '{uri}' does not exist in workspace '{}'.",
            workspace.name
        )));
    };
    let mut path = path.trim_start_matches('/').to_string();
    if data_type != "uri_file" && !path.is_empty() && !path.ends_with('/') {
        path.push('/');
    }
    Ok(format!(
        "azureml://subscriptions/{}/resourcegroups/{}/workspaces/{}/datastores/{}/paths/{path}",
        workspace.subscription, workspace.resource_group, workspace.name, found.name
    ))
}

/// Checks a `DataVersionBaseResource` body against the workspace (whose datastores the `dataUri` may name).
pub(crate) fn validate(body: &Value, workspace: &Workspace) -> MlResult<ValidVersion> {
    let top = object(body, "body")?;
    allow(top, &["properties"], RESOURCE_READ_ONLY, "DataVersionBaseResource", "")?;
    let path = "properties";
    let props = object(top.get("properties").ok_or_else(|| missing("", "properties"))?, path)?;
    let data_type = enum_str(props, "dataType", DATA_TYPES, path)?.ok_or_else(|| missing(path, "dataType"))?;
    let (type_name, allowed): (&str, &[&str]) = match data_type {
        "mltable" => (
            "MLTableData",
            &[
                "description",
                "properties",
                "tags",
                "isAnonymous",
                "isArchived",
                "dataType",
                "dataUri",
                "referencedUris",
            ],
        ),
        "uri_folder" => (
            "UriFolderDataVersion",
            &["description", "properties", "tags", "isAnonymous", "isArchived", "dataType", "dataUri"],
        ),
        _ => (
            "UriFileDataVersion",
            &["description", "properties", "tags", "isAnonymous", "isArchived", "dataType", "dataUri"],
        ),
    };
    allow(props, allowed, &[], type_name, path)?;
    let data_uri = req_str(props, "dataUri", path)?;
    if !data_uri.chars().any(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(MlError::user("The request is invalid: 'properties.dataUri' must not be empty."));
    }
    let referenced_uris = match props.get("referencedUris") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(Value::Array(items.clone())),
        Some(_) => {
            return Err(MlError::user(format!(
                "The request is invalid: '{}' must be an array of strings.",
                join(path, "referencedUris")
            )));
        }
    };
    Ok(ValidVersion {
        data_type: data_type.to_string(),
        data_uri: normalise_data_uri(data_uri, data_type, workspace)?,
        description: opt_str(props, "description", path)?.map_or(Value::Null, |d| Value::String(d.into())),
        tags: string_map(props, "tags", path)?,
        properties: string_map(props, "properties", path)?,
        is_anonymous: opt_bool(props, "isAnonymous", path)?.unwrap_or(false),
        is_archived: opt_bool(props, "isArchived", path)?.unwrap_or(false),
        referenced_uris,
    })
}

/// Applies a checked body to the stored version: `dataUri` and `dataType` cannot change; the rest is replaced.
/// Returns whether the version is new.
pub(crate) fn upsert(
    asset: &mut DataAsset,
    version: &str,
    valid: ValidVersion,
    now: i64,
    seq: u64,
    caller: &str,
) -> MlResult<bool> {
    if let Some(existing) = asset.versions.iter_mut().find(|v| v.version == version) {
        if existing.data_uri != valid.data_uri {
            return Err(MlError::user("Asset paths cannot be updated."));
        }
        if existing.data_type != valid.data_type {
            return Err(MlError::user(format!(
                "The dataType of an existing data version cannot be updated (it is '{}').",
                existing.data_type
            )));
        }
        existing.description = valid.description;
        existing.tags = valid.tags;
        existing.properties = valid.properties;
        existing.is_archived = valid.is_archived;
        existing.modified = now;
        existing.modified_by = caller.to_string();
        return Ok(false);
    }
    asset.versions.push(DataVersion {
        version: version.to_string(),
        data_type: valid.data_type,
        data_uri: valid.data_uri,
        description: valid.description,
        tags: valid.tags,
        properties: valid.properties,
        is_anonymous: valid.is_anonymous,
        is_archived: valid.is_archived,
        referenced_uris: valid.referenced_uris,
        created: now,
        modified: now,
        seq,
        created_by: caller.to_string(),
        modified_by: caller.to_string(),
    });
    Ok(true)
}

impl DataVersion {
    pub fn to_json(&self, workspace_id: &str, name: &str) -> Value {
        let mut properties = json!({
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "isArchived": self.is_archived,
            "isAnonymous": self.is_anonymous,
            "dataType": self.data_type,
            "dataUri": self.data_uri,
        });
        if self.data_type == "mltable" {
            properties["referencedUris"] = self.referenced_uris.clone().unwrap_or(Value::Null);
        }
        json!({
            "id": format!("{workspace_id}/data/{name}/versions/{}", self.version),
            "name": self.version,
            "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
            "properties": properties,
            "systemData": system_data(self.created, &self.created_by, self.modified, &self.modified_by),
        })
    }
}

impl DataAsset {
    /// The most recently created version.
    pub fn latest(&self) -> Option<&DataVersion> {
        self.versions.iter().max_by_key(|v| (v.created, v.seq))
    }

    pub fn to_json(&self, workspace_id: &str) -> Value {
        let latest = self.latest();
        // The next integer after the largest integer version, as the service offers for auto-versioning.
        let next = self.versions.iter().filter_map(|v| v.version.parse::<u64>().ok()).max().map_or(1, |n| n + 1);
        let (modified, by) = latest.map_or((self.created, "drift-sandbox"), |v| (v.created, v.created_by.as_str()));
        json!({
            "id": format!("{workspace_id}/data/{}", self.name),
            "name": self.name,
            "type": "Microsoft.MachineLearningServices/workspaces/data",
            "properties": {
                "description": null,
                "tags": {},
                "properties": {},
                "isArchived": false,
                "latestVersion": latest.map(|v| v.version.clone()),
                "nextVersion": next.to_string(),
                "dataType": latest.map_or("uri_folder", |v| v.data_type.as_str()),
            },
            "systemData": system_data(self.created, by, modified, by),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::ml::datastores::blobstore;

    fn workspace() -> Workspace {
        let mut ws = Workspace::new("sub", "rg", "ws1", 0);
        ws.datastores.push(blobstore("acct", "c", None, 0));
        ws
    }

    #[test]
    fn data_uris_are_normalised() {
        let ws = workspace();
        let long = "azureml://subscriptions/sub/resourcegroups/rg/workspaces/ws1/datastores/workspaceblobstore/paths/";
        assert_eq!(
            normalise_data_uri("azureml://datastores/WorkspaceBlobStore/paths/LocalUpload/abc/t", "mltable", &ws)
                .unwrap(),
            format!("{long}LocalUpload/abc/t/")
        );
        assert_eq!(normalise_data_uri(&format!("{long}x/y.csv"), "uri_file", &ws).unwrap(), format!("{long}x/y.csv"));
        assert_eq!(normalise_data_uri("https://a/b", "uri_folder", &ws).unwrap(), "https://a/b");
        let other = "azureml://subscriptions/sub/resourcegroups/rg/workspaces/other/datastores/x/paths/p";
        assert_eq!(normalise_data_uri(other, "uri_folder", &ws).unwrap(), other);
        assert!(normalise_data_uri("azureml://datastores/nope/paths/p", "uri_folder", &ws).is_err());
    }

    #[test]
    fn bodies_and_updates() {
        let ws = workspace();
        let body = json!({"properties": {"dataType": "uri_folder", "dataUri": "azureml://datastores/workspaceblobstore/paths/p",
            "tags": {"a": "1"}, "isAnonymous": false}});
        let valid = validate(&body, &ws).unwrap();
        let mut asset = DataAsset { name: "d".into(), created: 0, versions: Vec::new() };
        assert!(upsert(&mut asset, "1", valid, 1, 1, "me").unwrap());
        assert!(!upsert(&mut asset, "1", validate(&body, &ws).unwrap(), 2, 2, "me").unwrap());
        let moved = json!({"properties": {"dataType": "uri_folder", "dataUri": "azureml://datastores/workspaceblobstore/paths/q"}});
        assert_eq!(
            upsert(&mut asset, "1", validate(&moved, &ws).unwrap(), 3, 3, "me").unwrap_err().message,
            "Asset paths cannot be updated."
        );
        let referenced = json!({"properties": {"dataType": "uri_folder", "dataUri": "x", "referencedUris": ["a"]}});
        assert!(validate(&referenced, &ws).unwrap_err().message.contains("referencedUris"));
        assert!(validate(&json!({"properties": {"dataType": "csv", "dataUri": "x"}}), &ws).is_err());
        assert!(
            validate(&json!({"properties": {"dataType": "mltable"}}), &ws).unwrap_err().message.contains("dataUri")
        );
    }
}

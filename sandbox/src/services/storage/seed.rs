//! The `storageAccounts` seed section and the directory copy behind `Sandbox::add_directory`: accounts with keys,
//! containers, inline blobs (text or base64) and local folder trees (e.g. a Delta table's `_delta_log`), all read
//! and checked before anything is applied.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::crypto;
use super::store::{check_account_name, check_blob_name, check_container_name};
use crate::seed::{Apply, Context, parse_list};
use crate::state::lock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AccountSeed {
    name: String,
    /// Base64, like a real account key.
    key: String,
    #[serde(default)]
    containers: BTreeMap<String, ContainerSeed>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ContainerSeed {
    #[serde(default)]
    blobs: BTreeMap<String, BlobSeed>,
    #[serde(default)]
    directories: Vec<DirectorySeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BlobSeed {
    text: Option<String>,
    base64: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    content_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DirectorySeed {
    /// Blob-name prefix the folder's files land under (`tables/sales` → `tables/sales/_delta_log/...`).
    prefix: String,
    /// A local folder; relative paths are resolved against the seed file's folder (or the working directory).
    local_dir: String,
}

/// One blob ready to store.
pub(crate) struct SeedBlob {
    pub container: String,
    pub name: String,
    pub data: Bytes,
    pub content_type: String,
    pub metadata: BTreeMap<String, String>,
}

/// Every file under `dir` as (path relative to `dir` with `/` separators, bytes), sorted by path.
pub(crate) fn read_tree(dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in std::fs::read_dir(dir.join(&relative))? {
            let entry = entry?;
            let name = entry
                .file_name()
                .into_string()
                .map_err(|n| io::Error::new(io::ErrorKind::InvalidData, format!("file name {n:?} is not UTF-8")))?;
            let child = relative.join(&name);
            if entry.file_type()?.is_dir() {
                pending.push(child);
            } else {
                let key = child.iter().map(|c| c.to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
                files.push((key, std::fs::read(entry.path())?));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Joins a blob-name prefix and a relative path without doubled or leading slashes.
pub(crate) fn join_blob_name(prefix: &str, relative: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() { relative.to_string() } else { format!("{prefix}/{relative}") }
}

/// `"storageAccounts": [{"name", "key", "containers": {"<name>": {"blobs": {"<path>": {"text" | "base64",
/// "metadata", "contentType"}}, "directories": [{"prefix", "localDir"}]}}}]`
pub(crate) fn storage_accounts(value: &Value, context: &Context) -> Result<Apply, String> {
    let accounts: Vec<AccountSeed> = parse_list(value)?;
    let mut ready: Vec<(String, String, Vec<SeedBlob>)> = Vec::new();
    for (i, account) in accounts.into_iter().enumerate() {
        let at = |what: String| format!("entry {i} ({}): {what}", account.name);
        check_account_name(&account.name).map_err(at)?;
        if crypto::unb64(&account.key).is_none_or(|k| k.is_empty()) {
            return Err(at("key must be non-empty base64".into()));
        }
        let mut blobs = Vec::new();
        for (container, seed) in &account.containers {
            check_container_name(container).map_err(at)?;
            for (name, blob) in &seed.blobs {
                check_blob_name(name).map_err(at)?;
                let data = match (&blob.text, &blob.base64) {
                    (Some(text), None) => text.clone().into_bytes(),
                    (None, Some(b64)) => {
                        crypto::unb64(b64).ok_or_else(|| at(format!("blob {name:?}: base64 is not valid")))?
                    }
                    _ => return Err(at(format!("blob {name:?}: give exactly one of text and base64"))),
                };
                blobs.push(SeedBlob {
                    container: container.clone(),
                    name: name.clone(),
                    data: Bytes::from(data),
                    content_type: blob.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                    metadata: blob.metadata.clone(),
                });
            }
            for directory in &seed.directories {
                let dir = context.resolve(&directory.local_dir);
                let files =
                    read_tree(&dir).map_err(|e| at(format!("directory {}: cannot read it: {e}", dir.display())))?;
                for (relative, data) in files {
                    let name = join_blob_name(&directory.prefix, &relative);
                    check_blob_name(&name).map_err(at)?;
                    blobs.push(SeedBlob {
                        container: container.clone(),
                        name,
                        data: Bytes::from(data),
                        content_type: "application/octet-stream".into(),
                        metadata: BTreeMap::new(),
                    });
                }
            }
        }
        ready.push((account.name, account.key, blobs));
    }
    Ok(Box::new(move |state| {
        let mut storage = lock(&state.storage.inner);
        for (name, key, blobs) in ready {
            // Checked above, so these cannot fail.
            let _ = storage.add_account(&name, &key);
            for blob in blobs {
                let _ =
                    storage.put_blob(&name, &blob.container, &blob.name, blob.data, &blob.content_type, blob.metadata);
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_names_join() {
        assert_eq!(join_blob_name("/tables/sales/", "_delta_log/0.json"), "tables/sales/_delta_log/0.json");
        assert_eq!(join_blob_name("", "a"), "a");
    }

    #[test]
    fn trees_are_read_sorted_with_slashes() {
        let dir = std::env::temp_dir().join(format!("drift-sandbox-tree-{}", crate::ids::hex32()));
        std::fs::create_dir_all(dir.join("_delta_log")).unwrap();
        std::fs::write(dir.join("_delta_log/1.json"), b"b").unwrap();
        std::fs::write(dir.join("a.txt"), b"a").unwrap();
        let files = read_tree(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(files, vec![("_delta_log/1.json".to_string(), b"b".to_vec()), ("a.txt".to_string(), b"a".to_vec())]);
        assert!(read_tree(Path::new("/nonexistent/drift")).is_err());
    }
}

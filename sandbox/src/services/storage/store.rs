//! Storage contents: accounts (name, key) holding containers (= DFS filesystems) holding blobs with bytes,
//! metadata, content type, times and ETags, plus the naming rules storage enforces. Blob and DFS read the same
//! data; DFS directories are implied by the `/`-separated blob names (a hierarchical-namespace account).

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::body::Bytes;

use super::crypto;
use super::sas::SasGrant;
use crate::wire::now_nanos;

#[derive(Default)]
pub(crate) struct StorageState {
    pub inner: Mutex<Storage>,
}

#[derive(Default)]
pub(crate) struct Storage {
    /// By lower-case name: account names are lower case on the wire, but a seed may spell them otherwise.
    pub accounts: BTreeMap<String, Account>,
    pub sas: Vec<SasGrant>,
    /// Makes every ETag unique, even for writes within one clock tick.
    etag_counter: u64,
}

pub(crate) struct Account {
    pub key: Vec<u8>,
    pub key_b64: String,
    pub containers: BTreeMap<String, Container>,
}

pub(crate) struct Container {
    pub created: i64,
    pub etag: String,
    pub blobs: BTreeMap<String, Blob>,
}

#[derive(Clone)]
pub(crate) struct Blob {
    pub data: Bytes,
    pub content_type: String,
    /// Names as received (HTTP/1 lower-cases header names, so in practice lower case).
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
    pub modified: i64,
    /// Bare `0x8D…` form; quoted in `ETag` headers, bare in list results, as the service does.
    pub etag: String,
    pub md5: [u8; 16],
}

/// A blob as [`crate::Sandbox::blob`] hands it to tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub metadata: BTreeMap<String, String>,
    /// As the `ETag` header shows it (quoted).
    pub etag: String,
}

impl Storage {
    /// A fresh ETag in the service's format.
    pub fn etag(&mut self) -> String {
        self.etag_counter += 1;
        // The service's ETags are a hex FILETIME-like counter; time-based so they also differ across restarts.
        format!("0x8D{:X}", (now_nanos() / 100) as u64 + self.etag_counter)
    }

    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.get(&name.to_ascii_lowercase())
    }

    pub fn account_mut(&mut self, name: &str) -> Option<&mut Account> {
        self.accounts.get_mut(&name.to_ascii_lowercase())
    }

    /// Adds an account, or replaces the key of an existing one (keeping its data).
    pub fn add_account(&mut self, name: &str, key_b64: &str) -> Result<(), String> {
        check_account_name(name)?;
        let key = crypto::unb64(key_b64).ok_or_else(|| format!("storage account {name:?}: key is not base64"))?;
        if key.is_empty() {
            return Err(format!("storage account {name:?}: key must not be empty"));
        }
        let entry = self.accounts.entry(name.to_ascii_lowercase()).or_insert_with(|| Account {
            key: Vec::new(),
            key_b64: String::new(),
            containers: BTreeMap::new(),
        });
        entry.key = key;
        entry.key_b64 = key_b64.trim().to_string();
        Ok(())
    }

    /// Creates the container if needed; errors when the account does not exist or the name is invalid.
    pub fn ensure_container(&mut self, account: &str, container: &str) -> Result<&mut Container, String> {
        check_container_name(container)?;
        let etag = self.etag();
        let account = self.account_mut(account).ok_or_else(|| format!("storage account {account:?} does not exist"))?;
        Ok(account.containers.entry(container.to_string()).or_insert_with(|| Container {
            created: now_nanos(),
            etag,
            blobs: BTreeMap::new(),
        }))
    }

    /// Stores a blob (creating its container), as an upload would.
    pub fn put_blob(
        &mut self,
        account: &str,
        container: &str,
        name: &str,
        data: Bytes,
        content_type: &str,
        metadata: BTreeMap<String, String>,
    ) -> Result<(), String> {
        check_blob_name(name)?;
        let etag = self.etag();
        let target = self.ensure_container(account, container)?;
        let now = now_nanos();
        let created = target.blobs.get(name).map_or(now, |b| b.created);
        let md5 = crypto::md5(&data);
        target.blobs.insert(
            name.to_string(),
            Blob { data, content_type: content_type.to_string(), metadata, created, modified: now, etag, md5 },
        );
        Ok(())
    }
}

impl Blob {
    pub fn quoted_etag(&self) -> String {
        format!("\"{}\"", self.etag)
    }

    pub fn to_public(&self) -> StoredBlob {
        StoredBlob {
            bytes: self.data.to_vec(),
            content_type: self.content_type.clone(),
            metadata: self.metadata.clone(),
            etag: self.quoted_etag(),
        }
    }
}

/// Storage account names: 3-24 lower-case letters and digits.
pub(crate) fn check_account_name(name: &str) -> Result<(), String> {
    let ok = (3..=24).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid storage account name (3-24 lower-case letters and digits)"))
    }
}

/// Container (filesystem) names: 3-63 of lower-case letters, digits and single `-`, starting and ending with a
/// letter or digit.
pub(crate) fn check_container_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let ok = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid container name (3-63 lower-case letters, digits and single '-', starting and \
             ending with a letter or digit)"
        ))
    }
}

/// Blob names: 1-1024 characters, not ending in `/` or `.` on hierarchical accounts, no empty segments (which
/// a hierarchical namespace cannot represent).
pub(crate) fn check_blob_name(name: &str) -> Result<(), String> {
    let ok = (1..=1024).contains(&name.chars().count())
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.contains("//");
    if ok { Ok(()) } else { Err(format!("{name:?} is not a valid blob path")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_account_name("datalake01").is_ok());
        assert!(check_account_name("Data").is_err());
        assert!(check_account_name("ab").is_err());
        assert!(check_container_name("azureml-blobstore-1").is_ok());
        assert!(check_container_name("a--b").is_err());
        assert!(check_container_name("-ab").is_err());
        assert!(check_container_name("AB1").is_err());
        assert!(check_blob_name("tables/sales/_delta_log/00000000000000000000.json").is_ok());
        assert!(check_blob_name("a//b").is_err());
        assert!(check_blob_name("").is_err());
    }

    #[test]
    fn accounts_containers_blobs() {
        let mut storage = Storage::default();
        assert!(storage.add_account("acct01", "not base64!").is_err());
        storage.add_account("acct01", "a2V5").unwrap();
        assert!(storage.put_blob("nope01", "c01", "x", Bytes::new(), "t", BTreeMap::new()).is_err());
        storage.put_blob("acct01", "c01", "a/b", Bytes::from_static(b"hi"), "text/plain", BTreeMap::new()).unwrap();
        let first = storage.account("ACCT01").unwrap().containers["c01"].blobs["a/b"].clone();
        storage.put_blob("acct01", "c01", "a/b", Bytes::from_static(b"ho"), "text/plain", BTreeMap::new()).unwrap();
        let second = storage.account("acct01").unwrap().containers["c01"].blobs["a/b"].clone();
        assert_ne!(first.etag, second.etag);
        assert_eq!(first.created, second.created);
        assert_eq!(second.to_public().bytes, b"ho");
    }
}

//! The MLTable file for a Delta table (what `mltable.from_delta_lake(...).save()` writes) and the content hash the
//! Azure ML SDK uses to name local-folder uploads. Pure: text and bytes in, text and hashes out.

use chrono::{DateTime, SecondsFormat, Utc};
use md5::{Digest, Md5};

/// The file name `save()` writes.
pub const MLTABLE_FILE: &str = "MLTable";

/// What the SDK feeds its upload hash before any content (a fixed seed, kept for compatibility).
const HASH_SEED: &[u8] = b"Initialize for october 2021 AML CLI version";

/// How the table is pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    Version(u64),
    Timestamp(DateTime<Utc>),
}

/// The MLTable text: keys sorted, 2-space block style, LF, trailing newline — byte-for-byte what PyYAML's
/// `safe_dump` produces for `from_delta_lake(folder, version_as_of=…)` / `timestamp_as_of=…`.
pub fn delta_mltable(folder: &str, pin: &Pin) -> String {
    let pin_line = match pin {
        Pin::Version(v) => format!("    version_as_of: {v}\n"),
        // PyYAML quotes timestamp-looking strings so they stay strings.
        Pin::Timestamp(t) => format!("    timestamp_as_of: '{}'\n", t.to_rfc3339_opts(SecondsFormat::Secs, true)),
    };
    format!(
        "paths:\n- folder: {}\ntransformations:\n- read_delta_lake:\n    include_path_column: false\n{pin_line}type: mltable\n",
        yaml_scalar(folder)
    )
}

/// A YAML scalar as PyYAML would write it: plain when unambiguous, else single-quoted with `''` escaping.
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | ':' | '.' | '_' | '-' | '=' | '+' | '~' | '@'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '.' || c == '_')
        && !s.contains(": ")
        && !s.ends_with(':');
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', "''")) }
}

/// One file of a folder to upload: its name relative to the folder, and its bytes.
pub struct UploadFile<'a> {
    pub name: &'a str,
    pub content: &'a [u8],
}

/// The SDK's folder hash (`azure.ai.ml._utils._asset_utils.get_object_hash`): MD5 over the seed, then for each
/// entry sorted by lower-cased path, its name bytes followed by its content, as 32 hex digits. Same folder content
/// → same `LocalUpload/{hash}/{folder}/…` path → the upload is skipped, by drift and by the SDK alike. (drift's
/// design notes said SHA-256; the SDK uses MD5 here — as a content address, not for security — and matching it is
/// what makes the paths interchangeable.)
pub fn folder_hash(files: &[UploadFile<'_>]) -> String {
    let mut sorted: Vec<&UploadFile<'_>> = files.iter().collect();
    sorted.sort_by_key(|f| f.name.to_lowercase());
    let mut hasher = Md5::new();
    hasher.update(HASH_SEED);
    for f in sorted {
        hasher.update(f.name.as_bytes());
        hasher.update(f.content);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN_MD5: &str = "e3a38ccfa234fb61f3f7ab554106a293";
    const FOLDER: &str = "azureml://subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/my-rg/workspaces/my-ws/datastores/my_adls/paths/delta/tables/sales";

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/contracts/mltable/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn matches_what_the_mltable_package_writes() {
        // The package's own output, pinned by timestamp.
        let ts = DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(delta_mltable(FOLDER, &Pin::Timestamp(ts)), fixture("MLTable.timestamp_as_of.yaml"));
        // By version: the package's file with include_path_column false (drift never adds the path column).
        let by_version = fixture("MLTable.version_as_of.include_path_column.yaml")
            .replace("include_path_column: true", "include_path_column: false");
        assert_eq!(delta_mltable(FOLDER, &Pin::Version(3)), by_version);
        // Unpinned output shows the key layout without a pin line.
        let latest = fixture("MLTable.latest.yaml");
        assert!(delta_mltable(FOLDER, &Pin::Version(3)).starts_with(latest.trim_end_matches("type: mltable\n")));
    }

    #[test]
    fn unusual_paths_are_quoted() {
        assert_eq!(yaml_scalar("azureml://x/paths/a b"), "'azureml://x/paths/a b'");
        assert_eq!(yaml_scalar("it's"), "'it''s'");
        assert_eq!(yaml_scalar("a: b"), "'a: b'");
        assert_eq!(yaml_scalar(FOLDER), FOLDER);
    }

    #[test]
    fn folder_hash_follows_the_sdk_recipe() {
        // A known value, computed with Python: hashlib.md5(b"Initialize for october 2021 AML CLI version" +
        // b"MLTable" + b"paths: []\n").hexdigest()
        assert_eq!(folder_hash(&[UploadFile { name: "MLTable", content: b"paths: []\n" }]), KNOWN_MD5);
        let content = b"paths: []\n";
        let expected: String = {
            let mut h = Md5::new();
            h.update(b"Initialize for october 2021 AML CLI version");
            h.update(b"MLTable");
            h.update(content);
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        };
        assert_eq!(folder_hash(&[UploadFile { name: "MLTable", content }]), expected);
        // Order is by lower-cased name, whatever order the files come in.
        let a = folder_hash(&[UploadFile { name: "b", content: b"1" }, UploadFile { name: "A", content: b"2" }]);
        let b = folder_hash(&[UploadFile { name: "A", content: b"2" }, UploadFile { name: "b", content: b"1" }]);
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert_ne!(
            folder_hash(&[UploadFile { name: "MLTable", content: b"x" }]),
            folder_hash(&[UploadFile { name: "MLTable", content: b"y" }])
        );
    }
}

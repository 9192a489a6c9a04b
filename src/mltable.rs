//! The MLTable file for a Delta table (what `mltable.from_delta_lake(...).save()` writes) and the content hash the
//! Azure ML SDK uses to name local-folder uploads. Pure: text and bytes in, text and hashes out.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

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

/// The SDK's folder hash, as azure-ai-ml 1.35.2 computes it (`azure/ai/ml/_utils/_asset_utils.py`:
/// `get_object_hash` starts `hashlib.sha256(b"Initialize for october 2021 AML CLI version")`, then `_get_dir_hash`
/// walks the entries sorted by `str(path).lower()`, feeding each entry's `path.name` bytes and then its content).
/// 64 hex digits. Same folder content → same `LocalUpload/{hash}/{folder}/…` path → the upload is skipped, by drift
/// and by the SDK alike. Older SDKs (the v1-era CLI) used MD5 with the same seed and walk; drift follows the
/// current SDK, and the oracle suite (`tests/oracle/`) compares this with the installed SDK's own function.
pub fn folder_hash(files: &[UploadFile<'_>]) -> String {
    let mut sorted: Vec<&UploadFile<'_>> = files.iter().collect();
    sorted.sort_by_key(|f| f.name.to_lowercase());
    let mut hasher = Sha256::new();
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

    /// Computed outside drift, with Python's hashlib:
    /// `hashlib.sha256(b"Initialize for october 2021 AML CLI version" + b"MLTable" + b"paths: []\n").hexdigest()`.
    const KNOWN_ONE_FILE: &str = "b2a92f7f244399f26eed73aec157088b3a88e7afb56fc9a50719673760790a56";
    /// `hashlib.sha256(seed + b"A" + b"2" + b"b" + b"1").hexdigest()`: "A" sorts before "b" once lower-cased.
    const KNOWN_TWO_FILES: &str = "0297d563e4e49cc50bc349a1513929f32a5bb24d5f072d8dde8537f0959994e0";

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
        assert_eq!(folder_hash(&[UploadFile { name: "MLTable", content: b"paths: []\n" }]), KNOWN_ONE_FILE);
        // Order is by lower-cased name, whatever order the files come in.
        let a = folder_hash(&[UploadFile { name: "b", content: b"1" }, UploadFile { name: "A", content: b"2" }]);
        let b = folder_hash(&[UploadFile { name: "A", content: b"2" }, UploadFile { name: "b", content: b"1" }]);
        assert_eq!(a, KNOWN_TWO_FILES);
        assert_eq!(b, KNOWN_TWO_FILES);
        assert_ne!(
            folder_hash(&[UploadFile { name: "MLTable", content: b"x" }]),
            folder_hash(&[UploadFile { name: "MLTable", content: b"y" }])
        );
    }
}

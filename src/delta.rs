//! Delta Lake transaction-log rules drift needs, without I/O: which `_delta_log/` entries are commits, the
//! newest version in a listing, and when the newest commit happened (from its `commitInfo`).

pub mod changes;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Digits of a zero-padded version in log file names (`%020d`).
pub const VERSION_DIGITS: usize = 20;

/// Suffix of a commit file.
const COMMIT_SUFFIX: &str = ".json";

/// Where a commit time came from, best first. Serialised as a snake_case code (`deltaTimeSource` in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// `commitInfo.inCommitTimestamp`: set by writers of tables with in-commit timestamps; monotonic and kept
    /// when the table is copied.
    InCommitTimestamp,
    /// `commitInfo.timestamp`: the writer's clock when it committed (milliseconds).
    CommitInfoTimestamp,
    /// The commit file's Last-Modified: what the protocol defines without in-commit timestamps, but it changes
    /// when a table is copied.
    LastModified,
}

impl TimeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::InCommitTimestamp => "inCommitTimestamp",
            TimeSource::CommitInfoTimestamp => "commitInfo.timestamp",
            TimeSource::LastModified => "lastModified",
        }
    }
}

impl fmt::Display for TimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The current state of a Delta table: its newest version and when that version was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableState {
    pub version: u64,
    pub commit_time: DateTime<Utc>,
    pub time_source: TimeSource,
}

/// A commit file that cannot be read as newline-delimited JSON actions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct DeltaError {
    /// The file as the caller named it (usually the blob name).
    pub file: String,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<usize>,
    pub message: String,
}

/// The version of a commit file, given its name relative to `_delta_log/`: exactly 20 digits + `.json`.
/// Everything else is not a commit: checkpoints (`N.checkpoint.parquet`, multi-part `N.checkpoint.i.n.parquet`,
/// v2 `N.checkpoint.<uuid>.json`), checksums (`N.crc`), log compactions (`x.y.compacted.json`),
/// `_last_checkpoint`, temporary files (`.N.json.tmp`, `N.json.<uuid>.tmp`), and entries of subdirectories
/// such as `_commits/` (unbackfilled commits of coordinated tables, valid only through their coordinator).
pub fn commit_version(relative_name: &str) -> Option<u64> {
    let digits = relative_name.strip_suffix(COMMIT_SUFFIX)?;
    if digits.len() != VERSION_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Twenty nines exceed u64; no writer gets there (versions are Java longs), so such a name is not a commit.
    digits.parse().ok()
}

/// The newest commit among `names` (relative to `_delta_log/`): its version and name.
pub fn latest_commit<'a, I>(names: I) -> Option<(u64, &'a str)>
where
    I: IntoIterator<Item = &'a str>,
{
    names.into_iter().filter_map(|n| commit_version(n).map(|v| (v, n))).max_by_key(|(v, _)| *v)
}

/// What drift reads from a commit's `commitInfo` action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitInfo {
    /// Milliseconds since the epoch.
    pub in_commit_timestamp: Option<i64>,
    /// Milliseconds since the epoch (writer clock).
    pub timestamp: Option<i64>,
    pub operation: Option<String>,
}

/// One action line. Only `commitInfo` is decoded; every other action is checked to be JSON and skipped.
#[derive(Deserialize)]
struct ActionLine {
    #[serde(rename = "commitInfo")]
    commit_info: Option<RawCommitInfo>,
}

#[derive(Deserialize)]
struct RawCommitInfo {
    #[serde(rename = "inCommitTimestamp")]
    in_commit_timestamp: Option<i64>,
    timestamp: Option<i64>,
    operation: Option<String>,
}

/// The first `commitInfo` of a commit file (writers put it first; with in-commit timestamps it must be first),
/// or `None` when the commit has none. Every line must be a JSON object: a broken line is an error naming
/// `file` and the line, because a half-written or foreign file must not pass as a commit.
pub fn parse_commit_info(file: &str, bytes: &[u8]) -> Result<Option<CommitInfo>, DeltaError> {
    let mut found = None;
    for_each_action(file, bytes, |action: ActionLine| {
        if found.is_none()
            && let Some(info) = action.commit_info
        {
            found = Some(CommitInfo {
                in_commit_timestamp: info.in_commit_timestamp,
                timestamp: info.timestamp,
                operation: info.operation,
            });
        }
    })?;
    Ok(found)
}

/// Reads a commit file's actions, one JSON object a line (blank lines and `\r\n` endings allowed), into `T` and
/// hands each to `f` in order. Text that is not UTF-8 or a line that is not a `T` is an error naming `file` and the
/// line: a half-written or foreign file must not pass as a commit.
pub(crate) fn for_each_action<T: serde::de::DeserializeOwned>(
    file: &str,
    bytes: &[u8],
    mut f: impl FnMut(T),
) -> Result<(), DeltaError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DeltaError {
        file: file.to_string(),
        line: Some(bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1),
        message: "not UTF-8 text".to_string(),
    })?;
    for (index, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let action: T = serde_json::from_str(line).map_err(|e| DeltaError {
            file: file.to_string(),
            line: Some(index + 1),
            message: format!("not a valid JSON action ({e})"),
        })?;
        f(action);
    }
    Ok(())
}

/// The state of a table whose newest commit is `version`, read from `file` with content `bytes` and
/// Last-Modified `last_modified`. The commit time is the in-commit timestamp, else the commitInfo timestamp,
/// else `last_modified`.
pub fn table_state(
    version: u64,
    file: &str,
    bytes: &[u8],
    last_modified: DateTime<Utc>,
) -> Result<TableState, DeltaError> {
    let info = parse_commit_info(file, bytes)?.unwrap_or_default();
    let millis = |ms: i64, field: &str| {
        DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| DeltaError {
            file: file.to_string(),
            line: None,
            message: format!("commitInfo.{field} {ms} is not a valid time in milliseconds"),
        })
    };
    let (commit_time, time_source) = if let Some(ms) = info.in_commit_timestamp {
        (millis(ms, "inCommitTimestamp")?, TimeSource::InCommitTimestamp)
    } else if let Some(ms) = info.timestamp {
        (millis(ms, "timestamp")?, TimeSource::CommitInfoTimestamp)
    } else {
        (last_modified, TimeSource::LastModified)
    };
    Ok(TableState { version, commit_time, time_source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delta")
    }

    fn expected() -> serde_json::Value {
        let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn epoch() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(0, 0).unwrap()
    }

    #[test]
    fn which_names_are_commits() {
        let cases: &[(&str, Option<u64>)] = &[
            ("00000000000000000000.json", Some(0)),
            ("00000000000000000012.json", Some(12)),
            ("00000000000000001036.json", Some(1036)),
            ("09223372036854775807.json", Some(9_223_372_036_854_775_807)),
            ("99999999999999999999.json", None),
            ("0000000000000000001.json", None),
            ("000000000000000000012.json", None),
            ("0000000000000000001a.json", None),
            ("-0000000000000000001.json", None),
            ("+0000000000000000001.json", None),
            ("00000000000000000012.JSON", None),
            ("00000000000000000012.json.tmp", None),
            (".00000000000000000012.json.3f2a7c1e-0b9d-4e8b-a0f1-9b6c3d2e1f00.tmp", None),
            ("00000000000000000012.json.3f2a7c1e-0b9d-4e8b-a0f1-9b6c3d2e1f00.tmp", None),
            ("00000000000000000010.checkpoint.parquet", None),
            ("00000000000000000010.checkpoint.0000000001.0000000003.parquet", None),
            ("00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json", None),
            ("00000000000000000010.crc", None),
            ("00000000000000000004.00000000000000000006.compacted.json", None),
            ("_last_checkpoint", None),
            ("_commits/00000000000000000013.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json", None),
            ("_commits/00000000000000000013.json", None),
            ("_sidecars/016ae953-37a9-438e-8683-9a9a4a79a395.parquet", None),
            ("", None),
            (".json", None),
        ];
        for (name, want) in cases {
            assert_eq!(commit_version(name), *want, "{name}");
        }
    }

    #[test]
    fn latest_commit_ignores_everything_else() {
        let names = [
            "00000000000000000003.json",
            "00000000000000000010.checkpoint.parquet",
            "00000000000000000009.json",
            "00000000000000000011.crc",
            "00000000000000000009.00000000000000000012.compacted.json",
            "_last_checkpoint",
            "00000000000000000010.json",
            "_commits/00000000000000000011.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json",
        ];
        assert_eq!(latest_commit(names), Some((10, "00000000000000000010.json")));
        assert_eq!(latest_commit(["_last_checkpoint", "00000000000000000010.checkpoint.parquet"]), None);
        assert_eq!(latest_commit(Vec::<&str>::new()), None);
    }

    #[test]
    fn commit_time_prefers_in_commit_timestamp() {
        let lm = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        // In-commit timestamps per the protocol: commitInfo first, inCommitTimestamp beside the writer clock.
        let ict = concat!(
            r#"{"commitInfo":{"inCommitTimestamp":1764300000123,"timestamp":1764300000999,"operation":"WRITE"}}"#,
            "\n",
            r#"{"add":{"path":"a.parquet","size":1,"modificationTime":1,"dataChange":true}}"#,
            "\n"
        );
        let s = table_state(7, "t/_delta_log/00000000000000000007.json", ict.as_bytes(), lm).unwrap();
        assert_eq!(s.version, 7);
        assert_eq!(s.time_source, TimeSource::InCommitTimestamp);
        assert_eq!(s.commit_time.timestamp_millis(), 1_764_300_000_123);

        let plain = "{\"commitInfo\":{\"timestamp\":1764300000999}}\r\n{\"remove\":{\"path\":\"a\"}}";
        let s = table_state(8, "x", plain.as_bytes(), lm).unwrap();
        assert_eq!(
            (s.time_source, s.commit_time.timestamp_millis()),
            (TimeSource::CommitInfoTimestamp, 1_764_300_000_999)
        );

        // No commitInfo (some writers omit it), or one without times: the file's Last-Modified.
        for text in ["{\"add\":{\"path\":\"a\"}}\n", "{\"commitInfo\":{\"operation\":\"WRITE\"}}\n", "", "\n\n"] {
            let s = table_state(9, "x", text.as_bytes(), lm).unwrap();
            assert_eq!((s.time_source, s.commit_time), (TimeSource::LastModified, lm), "{text:?}");
        }

        // The first commitInfo counts.
        let two = "{\"commitInfo\":{\"timestamp\":1}}\n{\"commitInfo\":{\"timestamp\":2}}\n";
        assert_eq!(table_state(1, "x", two.as_bytes(), lm).unwrap().commit_time.timestamp_millis(), 1);
    }

    #[test]
    fn broken_commits_name_file_and_line() {
        let lm = epoch();
        let cases: &[(&[u8], &str)] = &[
            (b"{\"commitInfo\":{\"timestamp\":1}}\n{\"add\":{\"path\":\n", "f.json, line 2: not a valid JSON action"),
            (b"\n\n[1,2]\n", "f.json, line 3: not a valid JSON action"),
            (b"{\"commitInfo\":{\"timestamp\":\"yesterday\"}}", "f.json, line 1: not a valid JSON action"),
            (b"{\"a\":1}\n\xff\xfe", "f.json, line 2: not UTF-8 text"),
            (
                b"{\"commitInfo\":{\"timestamp\":9223372036854775807}}",
                "f.json: commitInfo.timestamp 9223372036854775807 is not a valid time",
            ),
        ];
        for (bytes, want) in cases {
            let err = table_state(1, "f.json", bytes, lm).unwrap_err();
            assert!(err.to_string().starts_with(want), "{err}");
        }
    }

    #[test]
    fn real_writer_log_with_checkpoint_and_compaction() {
        let want = &expected()["small"];
        let dir = fixtures().join("small/_delta_log");
        let names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert!(names.iter().any(|n| n.ends_with(".checkpoint.parquet")), "{names:?}");
        assert!(names.iter().any(|n| n.ends_with(".compacted.json")), "{names:?}");
        let (version, name) = latest_commit(names.iter().map(String::as_str)).unwrap();
        assert_eq!(version, want["version"].as_u64().unwrap());
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let state = table_state(version, name, &bytes, epoch()).unwrap();
        assert_eq!(state.time_source, TimeSource::CommitInfoTimestamp);
        assert_eq!(state.commit_time.timestamp_millis(), want["newest_commit_timestamp_ms"].as_i64().unwrap());
        let info = parse_commit_info(name, &bytes).unwrap().unwrap();
        assert_eq!(info.operation.as_deref(), want["newest_commit_operation"].as_str());
        // Every commit of a real writer parses and has a commitInfo.
        for n in names.iter().filter(|n| commit_version(n).is_some()) {
            let bytes = std::fs::read(dir.join(n)).unwrap();
            assert!(parse_commit_info(n, &bytes).unwrap().is_some(), "{n}");
        }
    }

    #[test]
    fn real_writer_log_with_a_thousand_commits() {
        let want = &expected()["many"];
        let tarball = std::fs::File::open(fixtures().join("many.tar.gz")).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
        let mut names = Vec::new();
        let mut contents = std::collections::HashMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().into_owned();
            let Ok(relative) = path.strip_prefix("many/_delta_log") else { continue };
            let Some(name) = relative.to_str().filter(|n| !n.is_empty()).map(str::to_string) else { continue };
            if commit_version(&name).is_some() {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
                contents.insert(name.clone(), bytes);
            }
            names.push(name);
        }
        assert_eq!(names.len() as u64, want["log_files"].as_u64().unwrap());
        assert!(contents.len() > 1000, "{} commits", contents.len());
        let checkpoints = names.iter().filter(|n| n.contains(".checkpoint.")).count();
        assert_eq!(checkpoints, want["checkpoints"].as_array().unwrap().len());
        let (version, name) = latest_commit(names.iter().map(String::as_str)).unwrap();
        assert_eq!(version, want["version"].as_u64().unwrap());
        let state = table_state(version, name, &contents[name], epoch()).unwrap();
        assert_eq!(state.commit_time.timestamp_millis(), want["newest_commit_timestamp_ms"].as_i64().unwrap());
        assert_eq!(state.time_source, TimeSource::CommitInfoTimestamp);
    }
}

//! What changed since the previously registered data version: reads the Delta commits in
//! (previous `drift.deltaVersion`, new version] — one GET each, a bounded number at a time — summarises them with
//! `crate::delta::changes`, and turns the result into the `drift.*` change tags. Whatever cannot be read (a range
//! over [`MAX_RANGE_COMMITS`], commits removed by log retention, a failed read) yields `unknown` values: the
//! registration itself never fails because of it.

use std::collections::BTreeMap;

use futures_util::StreamExt;

use super::table::TableLog;
use crate::azure::ml::models::DataVersion;
use crate::azure::storage::BlobClient;
use crate::delta::changes::{self, CommitChange, PriorSchema, RangeSummary};

/// Longest range read: 10,000 commits is 10,000 GETs (about 13 s at 20 ms each, 16 at a time). A table that
/// committed more between two registrations is recorded as `unknown` rather than slowing the registration further.
pub const MAX_RANGE_COMMITS: u64 = 10_000;

/// Commit reads in flight at once: enough to hide per-request latency, few enough to stay far below storage's
/// per-account request limits and not to flood a small runner.
pub const CONCURRENT_READS: usize = 16;

/// Tags on both data versions (strings, as Azure ML tags are). `unknown` where a value could not be read.
pub const TAG_PREVIOUS_VERSION: &str = "drift.previousVersion";
pub const TAG_PREVIOUS_DELTA_VERSION: &str = "drift.previousDeltaVersion";
pub const TAG_COMMITS: &str = "drift.commits";
pub const TAG_ROWS_INSERTED: &str = "drift.rowsInserted";
pub const TAG_ROWS_UPDATED: &str = "drift.rowsUpdated";
pub const TAG_ROWS_DELETED: &str = "drift.rowsDeleted";
pub const TAG_ROWS_EXACT: &str = "drift.rowsExact";
pub const TAG_OPERATIONS: &str = "drift.operations";
pub const TAG_SCHEMA_CHANGED: &str = "drift.schemaChanged";
/// The schema fingerprint after this version (`crate::delta::changes::schema_hash`), so the next registration can
/// tell whether a `metaData` action changed the schema. Absent when unknown.
pub const TAG_SCHEMA_HASH: &str = "drift.schemaHash";

/// Every change tag, in the order `docs/report.md` lists them.
pub const CHANGE_TAGS: [&str; 10] = [
    TAG_PREVIOUS_VERSION,
    TAG_PREVIOUS_DELTA_VERSION,
    TAG_COMMITS,
    TAG_ROWS_INSERTED,
    TAG_ROWS_UPDATED,
    TAG_ROWS_DELETED,
    TAG_ROWS_EXACT,
    TAG_OPERATIONS,
    TAG_SCHEMA_CHANGED,
    TAG_SCHEMA_HASH,
];

/// A tag value that could not be determined.
pub const UNKNOWN: &str = "unknown";
/// `drift.previousVersion` / `drift.previousDeltaVersion` of the first registration.
pub const NONE: &str = "none";

/// The range to read, decided from the previous version's tags and the log listing alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// Read commits `from..=to`.
    Read { from: u64, to: u64, prior: PriorSchema },
    /// Nothing to read; the values are unknown for this reason.
    Unknown { commits: Option<u64>, why: String },
}

/// What the registration records about the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub previous_version: Option<String>,
    /// `None` with a previous version: it has no readable `drift.deltaVersion`.
    pub previous_delta_version: Option<u64>,
    pub commits: Option<u64>,
    /// `None`: unknown, see `why_unknown`.
    pub summary: Option<RangeSummary>,
    pub why_unknown: Option<String>,
}

/// The range from the previous version (the newest registered one) to the table's newest commit. Pure.
pub fn plan_range(previous: Option<&DataVersion>, log: &TableLog) -> Range {
    let new = log.state.version;
    let (from, prior) = match previous {
        None => (0, PriorSchema::TableStart),
        Some(p) => {
            let Some(prev) = p.properties.tags.get(super::TAG_DELTA_VERSION).and_then(|v| v.parse::<u64>().ok()) else {
                return Range::Unknown {
                    commits: None,
                    why: format!("version {} has no drift.deltaVersion tag", p.name),
                };
            };
            if prev >= new {
                return Range::Unknown {
                    commits: None,
                    why: format!(
                        "the table is at Delta version {new}, not after version {}'s {prev}: replaced or restored?",
                        p.name
                    ),
                };
            }
            let prior = match p.properties.tags.get(TAG_SCHEMA_HASH) {
                Some(h) => PriorSchema::Known(h.clone()),
                None => PriorSchema::Unknown,
            };
            (prev + 1, prior)
        }
    };
    let commits = new - from + 1;
    if commits > MAX_RANGE_COMMITS {
        return Range::Unknown {
            commits: Some(commits),
            why: format!("{commits} commits since the previous version, more than the {MAX_RANGE_COMMITS} drift reads"),
        };
    }
    if log.oldest_commit > from {
        return Range::Unknown {
            commits: Some(commits),
            why: format!(
                "commits before Delta version {} were removed by log retention (needed from {from})",
                log.oldest_commit
            ),
        };
    }
    Range::Read { from, to: new, prior }
}

/// Reads and summarises the range. Never fails: a commit that is gone, unreadable or not JSON makes the values
/// unknown, with the reason logged and returned.
pub async fn read_changes(
    blob: &BlobClient,
    container: &str,
    log: &TableLog,
    previous: Option<&DataVersion>,
) -> Changes {
    let previous_version = previous.map(|p| p.name.clone());
    let previous_delta_version =
        previous.and_then(|p| p.properties.tags.get(super::TAG_DELTA_VERSION)).and_then(|v| v.parse().ok());
    let unknown = |commits, why: String| {
        tracing::warn!(target: "drift::registrator", "changes since the previous version unknown: {why}");
        Changes {
            previous_version: previous_version.clone(),
            previous_delta_version,
            commits,
            summary: None,
            why_unknown: Some(why),
        }
    };
    let (from, to, prior) = match plan_range(previous, log) {
        Range::Read { from, to, prior } => (from, to, prior),
        Range::Unknown { commits, why } => return unknown(commits, why),
    };
    let commits = to - from + 1;
    let started = std::time::Instant::now();
    match read_range(blob, container, log, from, to).await {
        Ok(changes) => {
            tracing::debug!(
                target: "drift::registrator",
                commits,
                ms = started.elapsed().as_millis() as u64,
                "read the commits since the previous version"
            );
            Changes {
                previous_version,
                previous_delta_version,
                commits: Some(commits),
                summary: Some(changes::summarize(&changes, &prior)),
                why_unknown: None,
            }
        }
        Err(why) => unknown(Some(commits), why),
    }
}

/// The commits `from..=to`, in order; the newest from the bytes already read. `Err` says why not.
async fn read_range(
    blob: &BlobClient,
    container: &str,
    log: &TableLog,
    from: u64,
    to: u64,
) -> Result<Vec<CommitChange>, String> {
    let mut out = Vec::with_capacity(usize::try_from(to - from + 1).unwrap_or(0));
    // `buffered` keeps version order while reading CONCURRENT_READS at a time; leaving the loop early drops the
    // stream, which cancels the reads still in flight.
    let mut reads = futures_util::stream::iter(from..to)
        .map(|v| async move {
            let name = format!("{}{v:020}.json", log.log_prefix);
            let got = blob.get(container, &name).await;
            (v, name, got)
        })
        .buffered(CONCURRENT_READS);
    while let Some((v, name, got)) = reads.next().await {
        let bytes = match got {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(format!("commit {name} is gone (removed by log retention while reading?)")),
            Err(e) => return Err(format!("commit {name} could not be read: {}", e.chain())),
        };
        out.push(changes::commit_change(v, &name, &bytes).map_err(|e| e.to_string())?);
    }
    let newest = format!("{}{to:020}.json", log.log_prefix);
    out.push(changes::commit_change(to, &newest, &log.newest_commit).map_err(|e| e.to_string())?);
    Ok(out)
}

/// The change tags of a registration (every key of [`CHANGE_TAGS`] but a schema hash that is unknown).
pub fn tags(c: &Changes) -> BTreeMap<String, String> {
    let num = |n: Option<u64>| n.map_or_else(|| UNKNOWN.to_string(), |n| n.to_string());
    let s = c.summary.as_ref();
    let mut tags = BTreeMap::from([
        (TAG_PREVIOUS_VERSION, c.previous_version.clone().unwrap_or_else(|| NONE.to_string())),
        (
            TAG_PREVIOUS_DELTA_VERSION,
            match (&c.previous_version, c.previous_delta_version) {
                (None, _) => NONE.to_string(),
                (Some(_), v) => num(v),
            },
        ),
        (TAG_COMMITS, num(c.commits)),
        (TAG_ROWS_INSERTED, num(s.map(|s| s.rows.inserted))),
        (TAG_ROWS_UPDATED, num(s.map(|s| s.rows.updated))),
        (TAG_ROWS_DELETED, num(s.map(|s| s.rows.deleted))),
        (TAG_ROWS_EXACT, s.is_some_and(|s| s.exact).to_string()),
        (TAG_OPERATIONS, s.map_or_else(|| UNKNOWN.to_string(), |s| s.operations.clone())),
        (TAG_SCHEMA_CHANGED, s.and_then(|s| s.schema_changed).map_or_else(|| UNKNOWN.to_string(), |b| b.to_string())),
    ]);
    if let Some(h) = s.and_then(|s| s.schema.clone()) {
        tags.insert(TAG_SCHEMA_HASH, h);
    }
    tags.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::{TableState, TimeSource};
    use crate::pipeline::registrator::TAG_DELTA_VERSION;

    fn log(version: u64, oldest: u64) -> TableLog {
        TableLog {
            state: TableState {
                version,
                commit_time: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
                time_source: TimeSource::CommitInfoTimestamp,
            },
            log_prefix: "t/_delta_log/".into(),
            oldest_commit: oldest,
            newest_commit: bytes::Bytes::new(),
        }
    }

    fn previous(tags: &[(&str, &str)]) -> DataVersion {
        let tags: serde_json::Map<String, serde_json::Value> =
            tags.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
        serde_json::from_value(serde_json::json!({
            "name": "20261201000000",
            "properties": {"dataType": "mltable", "dataUri": "x", "tags": tags}
        }))
        .unwrap()
    }

    #[test]
    fn the_range_follows_the_previous_version_the_cap_and_retention() {
        let p = previous(&[(TAG_DELTA_VERSION, "4"), (TAG_SCHEMA_HASH, "abc")]);
        let read = |from, to, prior| Range::Read { from, to, prior };
        assert_eq!(plan_range(Some(&p), &log(5, 0)), read(5, 5, PriorSchema::Known("abc".into())));
        assert_eq!(plan_range(Some(&p), &log(104, 5)), read(5, 104, PriorSchema::Known("abc".into())));
        assert_eq!(plan_range(None, &log(3, 0)), read(0, 3, PriorSchema::TableStart));
        let legacy = previous(&[(TAG_DELTA_VERSION, "4")]);
        assert_eq!(plan_range(Some(&legacy), &log(6, 0)), read(5, 6, PriorSchema::Unknown));
        // Exactly the cap is read; one more is not.
        assert_eq!(
            plan_range(Some(&p), &log(4 + MAX_RANGE_COMMITS, 0)),
            read(5, 4 + MAX_RANGE_COMMITS, PriorSchema::Known("abc".into()))
        );
        let over = plan_range(Some(&p), &log(5 + MAX_RANGE_COMMITS, 0));
        assert!(
            matches!(&over, Range::Unknown { commits: Some(10_001), why } if why.contains("more than the 10000")),
            "{over:?}"
        );
        let retained = plan_range(Some(&p), &log(30, 10));
        assert!(
            matches!(&retained, Range::Unknown { commits: Some(26), why } if why.contains("log retention")),
            "{retained:?}"
        );
        assert!(matches!(plan_range(None, &log(30, 10)), Range::Unknown { commits: Some(31), .. }));
        for bad in [previous(&[]), previous(&[(TAG_DELTA_VERSION, "x")]), previous(&[(TAG_DELTA_VERSION, "9")])] {
            assert!(matches!(plan_range(Some(&bad), &log(9, 0)), Range::Unknown { commits: None, .. }), "{bad:?}");
        }
    }

    #[test]
    fn tags_are_strings_and_unknown_where_unknown() {
        let unknown = Changes {
            previous_version: Some("20261201000000".into()),
            previous_delta_version: Some(4),
            commits: Some(20_000),
            summary: None,
            why_unknown: Some("too many".into()),
        };
        let t = tags(&unknown);
        assert_eq!(t[TAG_COMMITS], "20000");
        assert_eq!(t[TAG_PREVIOUS_DELTA_VERSION], "4");
        for k in [TAG_ROWS_INSERTED, TAG_ROWS_UPDATED, TAG_ROWS_DELETED, TAG_OPERATIONS, TAG_SCHEMA_CHANGED] {
            assert_eq!(t[k], UNKNOWN, "{k}");
        }
        assert_eq!(t[TAG_ROWS_EXACT], "false");
        assert!(!t.contains_key(TAG_SCHEMA_HASH));
        let first = Changes {
            previous_version: None,
            previous_delta_version: None,
            commits: Some(1),
            summary: Some(changes::summarize(&[], &PriorSchema::TableStart)),
            why_unknown: None,
        };
        let t = tags(&first);
        assert_eq!((t[TAG_PREVIOUS_VERSION].as_str(), t[TAG_PREVIOUS_DELTA_VERSION].as_str()), (NONE, NONE));
        assert_eq!((t[TAG_ROWS_EXACT].as_str(), t[TAG_SCHEMA_CHANGED].as_str()), ("true", "false"));
    }
}

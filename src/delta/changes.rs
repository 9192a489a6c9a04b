//! What changed in a Delta table over a range of commits, from the commits alone (no I/O): per commit its
//! operation, whether it changed data, the rows it inserted, updated and deleted (from `commitInfo.operationMetrics`)
//! and its schema (from a `metaData` action); over a range, the sums, whether they are exact, the operations and
//! whether the schema changed.
//!
//! Writers name their metrics differently. Every name below cites where it comes from:
//! - Spark / Databricks Delta: `DeltaOperationMetrics` in delta-io/delta
//!   `spark/src/main/scala/org/apache/spark/sql/delta/DeltaOperations.scala` (the `WRITE`, `STREAMING_UPDATE`,
//!   `WRITE_REPLACE_WHERE`, `DELETE`, `UPDATE` and `MERGE` sets). Spark writes the values as JSON strings
//!   (`"numOutputRows":"250"`).
//! - delta-rs (PyPI `deltalake`): the metrics structs serialised into `operationMetrics` (`WriteMetrics`,
//!   `MergeMetrics`, `DeleteMetrics`, `UpdateMetrics` in delta-io/delta-rs `crates/core/src/operations/`), checked
//!   against the logs deltalake 1.6.6 wrote in `tests/fixtures/delta/changes/`. delta-rs writes JSON numbers.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::DeltaError;

/// Rows a commit (or a range) inserted, updated and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rows {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

impl Rows {
    /// Inserted + updated + deleted (saturating: a hostile metric cannot wrap the sum).
    pub fn total(&self) -> u64 {
        self.inserted.saturating_add(self.updated).saturating_add(self.deleted)
    }

    fn add(&mut self, other: &Rows) {
        self.inserted = self.inserted.saturating_add(other.inserted);
        self.updated = self.updated.saturating_add(other.updated);
        self.deleted = self.deleted.saturating_add(other.deleted);
    }
}

/// What one commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitChange {
    pub version: u64,
    /// `commitInfo.operation`, or `UNKNOWN` for a commit without one.
    pub operation: String,
    /// Whether any `add`/`remove` action has `dataChange` other than `false`. OPTIMIZE and other compactions
    /// rewrite files with `dataChange: false` and change no rows.
    pub data_change: bool,
    /// The rows it changed; a lower bound when `exact` is false.
    pub rows: Rows,
    /// False when the commit changed data but its metrics do not say (all) the rows it changed.
    pub exact: bool,
    /// [`schema_hash`] of its last `metaData` action's schema, when it has one.
    pub schema: Option<String>,
}

/// The operation name drift records for a commit without `commitInfo.operation`.
pub const UNKNOWN_OPERATION: &str = "UNKNOWN";

/// How the metrics of an operation are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Appends and overwrites (and CTAS/RTAS, which Spark records with the WRITE metric set).
    Write,
    Merge,
    Delete,
    Update,
    /// Any other operation: with a data change, its rows are unknown.
    Other,
}

fn kind(operation: &str) -> Kind {
    match operation {
        // `WRITE`, `STREAMING UPDATE`: DeltaOperations.scala (`Write`, `StreamingUpdate` operations) and delta-rs.
        // The CTAS/RTAS names are those of Spark's `CreateTable`/`ReplaceTable` operations with `asSelect`; that
        // they carry the WRITE metric set (`numOutputRows`) is inferred from the write path they share, not
        // documented.
        "WRITE"
        | "STREAMING UPDATE"
        | "CREATE TABLE AS SELECT"
        | "REPLACE TABLE AS SELECT"
        | "CREATE OR REPLACE TABLE AS SELECT" => Kind::Write,
        "MERGE" => Kind::Merge,
        "DELETE" => Kind::Delete,
        "UPDATE" => Kind::Update,
        _ => Kind::Other,
    }
}

/// Rows written by a WRITE: Spark `numOutputRows` (`DeltaOperationMetrics.WRITE`); delta-rs `num_added_rows`
/// (`WriteMetrics`).
const WRITE_INSERTED: &[&str] = &["numOutputRows", "num_added_rows"];
/// Rows a WRITE removed: Spark `numDeletedRows` (`DeltaOperationMetrics.WRITE_REPLACE_WHERE`, replaceWhere only).
/// delta-rs writes no such metric for an overwrite (its `WriteMetrics` has none), so an overwrite that removes
/// files is inexact.
const WRITE_DELETED: &[&str] = &["numDeletedRows"];
/// MERGE: Spark `numTargetRowsInserted/Updated/Deleted` (`DeltaOperationMetrics.MERGE`); delta-rs
/// `num_target_rows_inserted/updated/deleted` (`MergeMetrics`).
const MERGE_INSERTED: &[&str] = &["numTargetRowsInserted", "num_target_rows_inserted"];
const MERGE_UPDATED: &[&str] = &["numTargetRowsUpdated", "num_target_rows_updated"];
const MERGE_DELETED: &[&str] = &["numTargetRowsDeleted", "num_target_rows_deleted"];
/// DELETE: Spark `numDeletedRows` (`DeltaOperationMetrics.DELETE`; absent for a whole-table or partition delete
/// unless DML metrics from metadata are on, `DELETE_PARTITIONS`); delta-rs `num_deleted_rows` (`DeleteMetrics`).
const DELETE_DELETED: &[&str] = &["numDeletedRows", "num_deleted_rows"];
/// UPDATE: Spark `numUpdatedRows` (`DeltaOperationMetrics.UPDATE`); delta-rs `num_updated_rows` (`UpdateMetrics`).
const UPDATE_UPDATED: &[&str] = &["numUpdatedRows", "num_updated_rows"];

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "commitInfo")]
    commit_info: Option<Info>,
    add: Option<FileAction>,
    remove: Option<FileAction>,
    #[serde(rename = "metaData")]
    meta_data: Option<Meta>,
}

#[derive(Deserialize)]
struct Info {
    operation: Option<String>,
    #[serde(rename = "operationMetrics")]
    operation_metrics: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
struct FileAction {
    /// Required by the protocol; a writer that leaves it out is taken to change data (the conservative reading).
    #[serde(rename = "dataChange")]
    data_change: Option<bool>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "schemaString")]
    schema_string: Option<String>,
}

/// A metric as a count: a JSON number (delta-rs) or a string of digits (Spark). Anything else is unusable.
fn count(metrics: &BTreeMap<String, Value>, names: &[&str]) -> Option<u64> {
    names.iter().find_map(|name| match metrics.get(*name)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// What commit `version` (file `file`, content `bytes`) changed. Every line must be a JSON object; a broken line
/// is an error naming the file and line.
pub fn commit_change(version: u64, file: &str, bytes: &[u8]) -> Result<CommitChange, DeltaError> {
    let mut info: Option<Info> = None;
    let mut data_change = false;
    let mut removes_data = false;
    let mut schema = None;
    super::for_each_action(file, bytes, |action: Line| {
        if info.is_none() {
            info = action.commit_info;
        }
        if action.add.is_some_and(|a| a.data_change != Some(false)) {
            data_change = true;
        }
        if action.remove.is_some_and(|r| r.data_change != Some(false)) {
            data_change = true;
            removes_data = true;
        }
        if let Some(s) = action.meta_data.and_then(|m| m.schema_string) {
            schema = Some(schema_hash(&s));
        }
    })?;
    let operation = info.as_ref().and_then(|i| i.operation.clone()).unwrap_or_else(|| UNKNOWN_OPERATION.to_string());
    let (rows, exact) = if data_change {
        let empty = BTreeMap::new();
        let metrics = info.as_ref().and_then(|i| i.operation_metrics.as_ref()).unwrap_or(&empty);
        rows_of(kind(&operation), metrics, removes_data)
    } else {
        (Rows::default(), true)
    };
    Ok(CommitChange { version, operation, data_change, rows, exact, schema })
}

/// The rows a data-changing commit of `kind` changed, and whether the metrics said all of them.
fn rows_of(kind: Kind, metrics: &BTreeMap<String, Value>, removes_data: bool) -> (Rows, bool) {
    let get = |names: &[&str]| count(metrics, names);
    match kind {
        Kind::Write => {
            let inserted = get(WRITE_INSERTED);
            // An overwrite (or replaceWhere) removes rows: exact only when the writer counted them.
            let deleted = if removes_data { get(WRITE_DELETED) } else { Some(0) };
            let exact = inserted.is_some() && deleted.is_some();
            (Rows { inserted: inserted.unwrap_or(0), updated: 0, deleted: deleted.unwrap_or(0) }, exact)
        }
        Kind::Merge => {
            let (i, u, d) = (get(MERGE_INSERTED), get(MERGE_UPDATED), get(MERGE_DELETED));
            let exact = i.is_some() && u.is_some() && d.is_some();
            (Rows { inserted: i.unwrap_or(0), updated: u.unwrap_or(0), deleted: d.unwrap_or(0) }, exact)
        }
        Kind::Delete => {
            let d = get(DELETE_DELETED);
            (Rows { deleted: d.unwrap_or(0), ..Rows::default() }, d.is_some())
        }
        Kind::Update => {
            let u = get(UPDATE_UPDATED);
            (Rows { updated: u.unwrap_or(0), ..Rows::default() }, u.is_some())
        }
        Kind::Other => (Rows::default(), false),
    }
}

/// A short, stable fingerprint of a Delta schema (`metaData.schemaString`): the first 16 hex digits of the SHA-256
/// of its JSON with object keys sorted, so two writers' spellings of one schema (key order, spacing) agree. A string
/// that is not JSON is hashed as written.
pub fn schema_hash(schema_string: &str) -> String {
    let canonical = match serde_json::from_str::<Value>(schema_string) {
        Ok(v) => canonical_json(&v),
        Err(_) => schema_string.to_string(),
    };
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// JSON text with every object's keys in sorted order, whatever map type serde_json was built with.
fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical_json(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The schema in force before a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorSchema {
    /// The range starts at version 0: its first `metaData` creates the table, which is not a change.
    TableStart,
    /// The schema hash recorded for the version before the range.
    Known(String),
    /// Not recorded (a version registered before drift recorded schemas).
    Unknown,
}

/// What a range of commits changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSummary {
    pub commits: u64,
    /// Sums over the range; lower bounds when `exact` is false.
    pub rows: Rows,
    pub exact: bool,
    /// `OPERATION:count` pairs, most frequent first, then by name (`WRITE:3,MERGE:1`).
    pub operations: String,
    /// `None`: unknown (a `metaData` action in the range, and no schema recorded before it).
    pub schema_changed: Option<bool>,
    /// The schema hash after the range: the last one in it, else the prior one; `None` when unknown.
    pub schema: Option<String>,
}

/// Sums `changes` (the commits of one range, in version order).
pub fn summarize(changes: &[CommitChange], prior: &PriorSchema) -> RangeSummary {
    let mut rows = Rows::default();
    let mut exact = true;
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut current, mut start) = match prior {
        PriorSchema::TableStart => (None, true),
        PriorSchema::Known(h) => (Some(h.clone()), false),
        PriorSchema::Unknown => (None, false),
    };
    let (mut changed, mut unknown) = (false, false);
    for c in changes {
        rows.add(&c.rows);
        exact &= c.exact;
        *counts.entry(c.operation.as_str()).or_default() += 1;
        if let Some(h) = &c.schema {
            match &current {
                Some(before) if before != h => changed = true,
                Some(_) => {}
                // The table's creation sets the first schema; without a prior schema, a metaData is a question.
                None if start => {}
                None => unknown = true,
            }
            current = Some(h.clone());
        }
        start = false;
    }
    let mut ops: Vec<(&str, u64)> = counts.into_iter().collect();
    ops.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let operations =
        ops.iter().map(|(op, n)| format!("{}:{n}", op.replace([',', ':'], " "))).collect::<Vec<_>>().join(",");
    RangeSummary {
        commits: changes.len() as u64,
        rows,
        exact,
        operations,
        schema_changed: if changed {
            Some(true)
        } else if unknown {
            None
        } else {
            Some(false)
        },
        schema: current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delta").join(name).join("_delta_log")
    }

    fn read(name: &str, version: u64) -> CommitChange {
        let file = format!("{version:020}.json");
        let bytes = std::fs::read(fixture(name).join(&file)).unwrap();
        commit_change(version, &file, &bytes).unwrap()
    }

    fn rows(inserted: u64, updated: u64, deleted: u64) -> Rows {
        Rows { inserted, updated, deleted }
    }

    /// (version, operation, data change, rows, exact, has a metaData schema)
    type Case = (u64, &'static str, bool, Rows, bool, bool);

    fn check(name: &str, cases: &[Case]) {
        for &(v, op, data_change, want_rows, exact, has_schema) in cases {
            let c = read(name, v);
            assert_eq!(
                (c.operation.as_str(), c.data_change, c.rows, c.exact, c.schema.is_some()),
                (op, data_change, want_rows, exact, has_schema),
                "{name} v{v}"
            );
        }
    }

    #[test]
    fn spark_shaped_commits() {
        check(
            "spark",
            &[
                (0, "CREATE TABLE AS SELECT", true, rows(1000, 0, 0), true, true),
                (1, "WRITE", true, rows(250, 0, 0), true, false),
                (2, "MERGE", true, rows(40, 25, 5), true, false),
                (3, "DELETE", true, rows(0, 0, 12), true, false),
                (4, "UPDATE", true, rows(0, 30, 0), true, false),
                // OPTIMIZE: every add/remove has dataChange false.
                (5, "OPTIMIZE", false, rows(0, 0, 0), true, false),
                // mergeSchema append: a new column in a metaData action.
                (6, "WRITE", true, rows(10, 0, 0), true, true),
                // A whole-table delete records no numDeletedRows (DELETE_PARTITIONS without DML metrics).
                (7, "DELETE", true, rows(0, 0, 0), false, false),
                // A property change rewrites metaData with the same schema and no data.
                (8, "SET TBLPROPERTIES", false, rows(0, 0, 0), true, true),
            ],
        );
    }

    #[test]
    fn delta_rs_written_commits() {
        // Counts as the generator's comments say, and as deltalake's own history() reports (expected.json).
        check(
            "changes",
            &[
                (0, "WRITE", true, rows(3, 0, 0), true, true),
                (1, "WRITE", true, rows(2, 0, 0), true, false),
                (2, "MERGE", true, rows(2, 1, 1), true, false),
                (3, "UPDATE", true, rows(0, 1, 0), true, false),
                (4, "DELETE", true, rows(0, 0, 1), true, false),
                (5, "OPTIMIZE", false, rows(0, 0, 0), true, false),
                (6, "WRITE", true, rows(1, 0, 0), true, true),
                // Overwrite: delta-rs counts the rows it adds, not those it removes.
                (7, "WRITE", true, rows(1, 0, 0), false, false),
            ],
        );
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delta/expected.json"))
                .unwrap();
        let expected: Value = serde_json::from_str(&text).unwrap();
        for commit in expected["changes"]["commits"].as_array().unwrap() {
            let v = commit["version"].as_u64().unwrap();
            assert_eq!(read("changes", v).operation, commit["operation"].as_str().unwrap(), "v{v}");
        }
        // The older fixture: its v4 DELETE and v6 OPTIMIZE read the same way.
        check(
            "small",
            &[(4, "DELETE", true, rows(0, 0, 1), true, false), (6, "OPTIMIZE", false, rows(0, 0, 0), true, false)],
        );
    }

    fn range(name: &str, versions: std::ops::RangeInclusive<u64>) -> Vec<CommitChange> {
        versions.map(|v| read(name, v)).collect()
    }

    #[test]
    fn ranges_sum_and_say_whether_they_are_exact() {
        let start = PriorSchema::TableStart;
        let created = read("spark", 0).schema.unwrap();
        let evolved = read("spark", 6).schema.unwrap();
        let known = |h: &str| PriorSchema::Known(h.to_string());
        // (fixture, versions, prior schema, rows, exact, operations, schema changed)
        type RangeCase =
            (&'static str, std::ops::RangeInclusive<u64>, PriorSchema, Rows, bool, &'static str, Option<bool>);
        let cases: &[RangeCase] = &[
            (
                "spark",
                1..=4,
                known(&created),
                rows(290, 55, 17),
                true,
                "DELETE:1,MERGE:1,UPDATE:1,WRITE:1",
                Some(false),
            ),
            ("spark", 5..=5, known(&created), rows(0, 0, 0), true, "OPTIMIZE:1", Some(false)),
            ("spark", 5..=6, known(&created), rows(10, 0, 0), true, "OPTIMIZE:1,WRITE:1", Some(true)),
            ("spark", 6..=6, PriorSchema::Unknown, rows(10, 0, 0), true, "WRITE:1", None),
            // Same schema again (a property change): not a schema change.
            ("spark", 7..=8, known(&evolved), rows(0, 0, 0), false, "DELETE:1,SET TBLPROPERTIES:1", Some(false)),
            (
                "spark",
                0..=8,
                start.clone(),
                rows(1300, 55, 17),
                false,
                "DELETE:2,WRITE:2,CREATE TABLE AS SELECT:1,MERGE:1,OPTIMIZE:1,SET TBLPROPERTIES:1,UPDATE:1",
                Some(true),
            ),
            (
                "changes",
                0..=5,
                start.clone(),
                rows(7, 2, 2),
                true,
                "WRITE:2,DELETE:1,MERGE:1,OPTIMIZE:1,UPDATE:1",
                Some(false),
            ),
            (
                "changes",
                1..=7,
                PriorSchema::Unknown,
                rows(6, 2, 2),
                false,
                "WRITE:3,DELETE:1,MERGE:1,OPTIMIZE:1,UPDATE:1",
                None,
            ),
        ];
        for (name, versions, prior, want_rows, exact, ops, schema_changed) in cases {
            let s = summarize(&range(name, versions.clone()), prior);
            assert_eq!(s.commits, versions.clone().count() as u64);
            assert_eq!(
                (s.rows, s.exact, s.operations.as_str(), s.schema_changed),
                (*want_rows, *exact, *ops, *schema_changed),
                "{name} {versions:?}"
            );
        }
        // The schema after a range: the last metaData's, else the prior one.
        assert_eq!(summarize(&range("spark", 1..=4), &known(&created)).schema, Some(created.clone()));
        assert_eq!(summarize(&range("spark", 1..=7), &known(&created)).schema, Some(evolved.clone()));
        assert_eq!(
            summarize(&[], &PriorSchema::Unknown),
            RangeSummary {
                commits: 0,
                rows: Rows::default(),
                exact: true,
                operations: String::new(),
                schema_changed: Some(false),
                schema: None,
            }
        );
    }

    #[test]
    fn metric_values_and_odd_commits() {
        let one = |text: &str| commit_change(1, "f.json", text.as_bytes()).unwrap();
        // Spark strings and delta-rs numbers; garbage is unusable (inexact), never a panic.
        let cases: &[(&str, Rows, bool)] = &[
            (
                r#"{"commitInfo":{"operation":"WRITE","operationMetrics":{"numOutputRows":" 7 "}}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(7, 0, 0),
                true,
            ),
            (
                r#"{"commitInfo":{"operation":"WRITE","operationMetrics":{"numOutputRows":"-1"}}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(0, 0, 0),
                false,
            ),
            (
                r#"{"commitInfo":{"operation":"WRITE","operationMetrics":{"num_added_rows":1.5}}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(0, 0, 0),
                false,
            ),
            (
                r#"{"commitInfo":{"operation":"WRITE","operationMetrics":{"num_added_rows":18446744073709551615}}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(u64::MAX, 0, 0),
                true,
            ),
            // replaceWhere counts the rows it removes.
            (
                r#"{"commitInfo":{"operation":"WRITE","operationMetrics":{"numOutputRows":"5","numDeletedRows":"3"}}}
{"remove":{"path":"b","dataChange":true}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(5, 0, 3),
                true,
            ),
            // MERGE missing one of its three counts.
            (
                r#"{"commitInfo":{"operation":"MERGE","operationMetrics":{"numTargetRowsInserted":"5","numTargetRowsUpdated":"1"}}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(5, 1, 0),
                false,
            ),
            // No commitInfo at all; dataChange left out counts as a change.
            (r#"{"add":{"path":"a"}}"#, rows(0, 0, 0), false),
            // An operation drift does not know (RESTORE) that changes data.
            (
                r#"{"commitInfo":{"operation":"RESTORE","operationMetrics":{"numRestoredFiles":"2"}}}
{"add":{"path":"a","dataChange":true}}"#,
                rows(0, 0, 0),
                false,
            ),
            // No add/remove at all (a protocol upgrade): no change.
            (
                r#"{"commitInfo":{"operation":"UPGRADE PROTOCOL"}}
{"protocol":{"minReaderVersion":3,"minWriterVersion":7}}"#,
                rows(0, 0, 0),
                true,
            ),
        ];
        for (text, want, exact) in cases {
            let c = one(text);
            assert_eq!((c.rows, c.exact), (*want, *exact), "{text}");
        }
        assert_eq!(one(r#"{"add":{"path":"a"}}"#).operation, UNKNOWN_OPERATION);
        let err = commit_change(3, "x.json", b"{\"commitInfo\":{}}\n{\"add\":").unwrap_err();
        assert!(err.to_string().starts_with("x.json, line 2: not a valid JSON action"), "{err}");
        assert!(commit_change(3, "x.json", b"\xff").is_err());
        // Huge sums saturate.
        let big =
            one(r#"{"commitInfo":{"operation":"WRITE","operationMetrics":{"num_added_rows":18446744073709551615}}}
{"add":{"path":"a","dataChange":true}}"#);
        let s = summarize(&[big.clone(), big], &PriorSchema::Unknown);
        assert_eq!(s.rows.total(), u64::MAX);
    }

    #[test]
    fn schema_hash_ignores_key_order_and_spacing() {
        let a = r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}"#;
        let b = r#"{ "fields": [ {"metadata":{}, "nullable":true, "type":"long", "name":"id"} ], "type": "struct" }"#;
        let c = r#"{"type":"struct","fields":[{"name":"id","type":"string","nullable":true,"metadata":{}}]}"#;
        assert_eq!(schema_hash(a), schema_hash(b));
        assert_ne!(schema_hash(a), schema_hash(c));
        assert_eq!(schema_hash(a).len(), 16);
        assert_eq!(schema_hash("not json"), schema_hash("not json"));
    }
}

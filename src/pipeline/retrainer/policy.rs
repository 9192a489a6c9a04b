//! The retrain policy (`retrainPolicy`), pure: sums the change tags the registrator wrote on every data version
//! after the one a group trained on, up to the target, and decides retrain, skip or fail with a reason. `mod.rs`
//! lists the versions (one paged list) and applies the decisions.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::config::{OnSchemaChange, RetrainPolicy};
use crate::pipeline::registrator::TAG_DELTA_VERSION;
use crate::pipeline::registrator::changes as tags;

/// One registered data version, as far as the policy reads it: its name and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredVersion {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

impl RegisteredVersion {
    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.tag(key).and_then(|v| v.parse().ok())
    }

    fn delta_version(&self) -> Option<u64> {
        self.number(TAG_DELTA_VERSION)
    }
}

/// The changes between the version a group trained on and the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSum {
    /// The registered versions after the trained one, up to the target, oldest first.
    pub versions: Vec<String>,
    /// Rows inserted + updated + deleted; `None` when unknown. A lower bound when `exact` is false.
    pub rows: Option<u64>,
    pub exact: bool,
    /// `None`: unknown.
    pub schema_changed: Option<bool>,
    /// Why `rows` (or the schema flag) is unknown or inexact, in words.
    pub note: Option<String>,
}

impl ChangeSum {
    fn unknown(note: String) -> ChangeSum {
        ChangeSum { versions: Vec::new(), rows: None, exact: false, schema_changed: None, note: Some(note) }
    }
}

/// Sums the change tags of the versions in (trained, target] of one asset, ordered by `drift.deltaVersion`.
/// Versions registered before drift recorded changes, a trained version that is not among `all`, or a chain with a
/// gap (a version whose `drift.previousDeltaVersion` is not its predecessor's) make the sum unknown or a lower bound.
pub fn sum_changes(all: &[RegisteredVersion], trained: Option<&str>, target: &str) -> ChangeSum {
    let Some(trained) = trained else {
        return ChangeSum::unknown("the group's newest job reads no fixed version".into());
    };
    let find = |name: &str| all.iter().find(|v| v.name == name);
    let Some(from) = find(trained).and_then(RegisteredVersion::delta_version) else {
        return ChangeSum::unknown(format!("version {trained} it trained on has no drift.deltaVersion (or is gone)"));
    };
    let Some(to) = find(target).and_then(RegisteredVersion::delta_version) else {
        return ChangeSum::unknown(format!("target version {target} has no drift.deltaVersion"));
    };
    let mut range: Vec<&RegisteredVersion> =
        all.iter().filter(|v| v.delta_version().is_some_and(|d| d > from && d <= to)).collect();
    range.sort_by_key(|v| v.delta_version());
    let versions: Vec<String> = range.iter().map(|v| v.name.clone()).collect();
    let mut rows: u64 = 0;
    let mut exact = true;
    let mut notes = Vec::new();
    let (mut schema_changed, mut schema_unknown) = (false, false);
    let mut previous = from;
    for v in &range {
        let counts = [tags::TAG_ROWS_INSERTED, tags::TAG_ROWS_UPDATED, tags::TAG_ROWS_DELETED].map(|k| v.number(k));
        if counts.iter().any(Option::is_none) {
            let why = if v.tag(tags::TAG_COMMITS).is_none() {
                format!("version {} has no recorded changes", v.name)
            } else {
                format!("version {}'s changes are unknown", v.name)
            };
            return ChangeSum { versions, schema_changed: None, ..ChangeSum::unknown(why) };
        }
        rows = counts.iter().flatten().fold(rows, |sum, n| sum.saturating_add(*n));
        if v.tag(tags::TAG_ROWS_EXACT) != Some("true") {
            exact = false;
            notes.push(format!("version {} counts a lower bound", v.name));
        }
        if v.number(tags::TAG_PREVIOUS_DELTA_VERSION) != Some(previous) {
            exact = false;
            notes.push(format!("version {} does not follow Delta version {previous}", v.name));
        }
        match v.tag(tags::TAG_SCHEMA_CHANGED) {
            Some("true") => schema_changed = true,
            Some("false") => {}
            _ => schema_unknown = true,
        }
        previous = v.delta_version().unwrap_or(previous);
    }
    ChangeSum {
        versions,
        rows: Some(rows),
        exact,
        schema_changed: if schema_changed {
            Some(true)
        } else if schema_unknown {
            None
        } else {
            Some(false)
        },
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// What the policy decided for a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyDecision {
    Retrain,
    Skip,
    Fail,
}

/// Why: a stable code (the group's `reasonCode` in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyReason {
    /// At least `minRowsChanged` rows changed.
    RowsChanged,
    /// Fewer rows than `minRowsChanged` changed.
    BelowThreshold,
    /// The schema changed (retrained, skipped or failed as `onSchemaChange` says).
    SchemaChanged,
    /// The newest training is older than `maxModelAge`.
    ModelTooOld,
    /// The changes could not be counted: retrained, to be safe.
    UnknownChanges,
}

impl PolicyReason {
    pub const ALL: [PolicyReason; 5] = [
        PolicyReason::RowsChanged,
        PolicyReason::BelowThreshold,
        PolicyReason::SchemaChanged,
        PolicyReason::ModelTooOld,
        PolicyReason::UnknownChanges,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PolicyReason::RowsChanged => "rows_changed",
            PolicyReason::BelowThreshold => "below_threshold",
            PolicyReason::SchemaChanged => "schema_changed",
            PolicyReason::ModelTooOld => "model_too_old",
            PolicyReason::UnknownChanges => "unknown_changes",
        }
    }
}

/// The decision with its reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOutcome {
    pub decision: PolicyDecision,
    pub reason: PolicyReason,
    pub words: String,
}

/// `1d02h`, `3h05m`, `12m` — a model age for people.
pub fn human_age(d: Duration) -> String {
    let m = d.as_secs() / 60;
    let (days, hours, minutes) = (m / 1440, (m % 1440) / 60, m % 60);
    if days > 0 {
        format!("{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{hours}h{minutes:02}m")
    } else {
        format!("{minutes}m")
    }
}

/// The decision for a group whose data moved on: schema rules first (`fail` must never be outvoted), then the
/// model's age, then unknown counts (retrain, conservatively), then the threshold. `age` is `None` when the
/// training time is unknown (then `maxModelAge` cannot apply).
pub fn decide(policy: &RetrainPolicy, sum: &ChangeSum, age: Option<Duration>) -> PolicyOutcome {
    let out = |decision, reason, words: String| PolicyOutcome { decision, reason, words };
    let rows_words = |rows: u64| {
        if sum.exact { format!("{rows} rows changed") } else { format!("at least {rows} rows changed") }
    };
    let note = sum.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    if sum.schema_changed == Some(true) {
        return match policy.on_schema_change {
            OnSchemaChange::Fail => out(
                PolicyDecision::Fail,
                PolicyReason::SchemaChanged,
                "the schema changed and onSchemaChange is fail".into(),
            ),
            OnSchemaChange::Skip => out(
                PolicyDecision::Skip,
                PolicyReason::SchemaChanged,
                "the schema changed and onSchemaChange is skip".into(),
            ),
            OnSchemaChange::Retrain => {
                out(PolicyDecision::Retrain, PolicyReason::SchemaChanged, "the schema changed".into())
            }
        };
    }
    if let (Some(max), Some(age)) = (policy.max_model_age, age)
        && age > max
    {
        return out(
            PolicyDecision::Retrain,
            PolicyReason::ModelTooOld,
            format!("the newest training is {} old, more than maxModelAge {}", human_age(age), human_age(max)),
        );
    }
    // An unknown schema flag may hide a change that `onSchemaChange` would act on; whatever that setting, the
    // conservative answer to not knowing is to retrain (issue 10: unknown numbers retrain, and say why).
    if sum.schema_changed.is_none() {
        return out(
            PolicyDecision::Retrain,
            PolicyReason::UnknownChanges,
            format!("whether the schema changed is unknown{note}; retraining to be safe"),
        );
    }
    match sum.rows {
        None => out(
            PolicyDecision::Retrain,
            PolicyReason::UnknownChanges,
            format!("the rows changed are unknown{note}; retraining to be safe"),
        ),
        Some(rows) if rows >= policy.min_rows_changed => out(
            PolicyDecision::Retrain,
            PolicyReason::RowsChanged,
            format!("{}, minRowsChanged is {}{note}", rows_words(rows), policy.min_rows_changed),
        ),
        Some(rows) if !sum.exact => out(
            PolicyDecision::Retrain,
            PolicyReason::UnknownChanges,
            format!(
                "{}, below minRowsChanged {}, but the count is only a lower bound{note}; retraining to be safe",
                rows_words(rows),
                policy.min_rows_changed
            ),
        ),
        Some(rows) => out(
            PolicyDecision::Skip,
            PolicyReason::BelowThreshold,
            format!("{}, below minRowsChanged {}", rows_words(rows), policy.min_rows_changed),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str, delta: u64, change: Option<(u64, &str, &str, &str)>) -> RegisteredVersion {
        let mut tags = BTreeMap::from([(TAG_DELTA_VERSION.to_string(), delta.to_string())]);
        if let Some((prev, rows, exact, schema)) = change {
            for (k, v) in [
                (tags::TAG_PREVIOUS_DELTA_VERSION, prev.to_string()),
                (tags::TAG_COMMITS, (delta - prev).to_string()),
                (tags::TAG_ROWS_INSERTED, rows.to_string()),
                (tags::TAG_ROWS_UPDATED, if rows == "unknown" { rows.to_string() } else { "1".to_string() }),
                (tags::TAG_ROWS_DELETED, if rows == "unknown" { rows.to_string() } else { "0".to_string() }),
                (tags::TAG_ROWS_EXACT, exact.to_string()),
                (tags::TAG_SCHEMA_CHANGED, schema.to_string()),
            ] {
                tags.insert(k.to_string(), v);
            }
        }
        RegisteredVersion { name: name.into(), tags }
    }

    fn registered() -> Vec<RegisteredVersion> {
        vec![
            version("v1", 3, None),
            version("v2", 5, Some((3, "99", "true", "false"))),
            version("v4", 9, Some((7, "1000", "true", "true"))),
            version("v3", 7, Some((5, "9", "false", "false"))),
            version("v5", 12, Some((9, "unknown", "false", "unknown"))),
            version("other", 100, Some((99, "1", "true", "false"))),
        ]
    }

    #[test]
    fn sums_follow_the_delta_versions_between_trained_and_target() {
        let all = registered();
        let s = sum_changes(&all, Some("v1"), "v2");
        assert_eq!(
            (s.versions, s.rows, s.exact, s.schema_changed),
            (vec!["v2".to_string()], Some(100), true, Some(false))
        );
        // v3 is a lower bound: the sum too.
        let s = sum_changes(&all, Some("v1"), "v3");
        assert_eq!((s.rows, s.exact, s.schema_changed), (Some(110), false, Some(false)));
        assert!(s.note.unwrap().contains("v3 counts a lower bound"));
        let s = sum_changes(&all, Some("v2"), "v4");
        assert_eq!((s.versions.len(), s.rows, s.schema_changed), (2, Some(1011), Some(true)));
        // Unknown counts anywhere in between: unknown.
        let s = sum_changes(&all, Some("v4"), "v5");
        assert_eq!((s.rows, s.schema_changed), (None, None));
        assert!(s.note.unwrap().contains("v5's changes are unknown"));
        // A legacy version (no change tags), a trained version not registered, no fixed version.
        assert_eq!(sum_changes(&all, Some("v0"), "v2").rows, None);
        assert!(
            sum_changes(&[version("a", 1, None), version("b", 2, None)], Some("a"), "b")
                .note
                .unwrap()
                .contains("no recorded changes")
        );
        assert_eq!(sum_changes(&all, None, "v2").rows, None);
        // A gap in the chain (v2 → other skips 6 versions' worth of Delta commits): a lower bound.
        let s = sum_changes(&all, Some("v5"), "other");
        assert_eq!((s.rows, s.exact), (Some(2), false));
        // Already on the target: nothing changed.
        let s = sum_changes(&all, Some("v2"), "v2");
        assert_eq!((s.versions.len(), s.rows, s.exact, s.schema_changed), (0, Some(0), true, Some(false)));
    }

    fn sum(rows: Option<u64>, exact: bool, schema: Option<bool>) -> ChangeSum {
        ChangeSum { versions: vec!["v".into()], rows, exact, schema_changed: schema, note: None }
    }

    #[test]
    fn the_decision_table() {
        use OnSchemaChange::{Fail, Retrain, Skip};
        use PolicyDecision as D;
        use PolicyReason as R;
        let day = Duration::from_secs(86_400);
        let policy = |min, on, age| RetrainPolicy { min_rows_changed: min, on_schema_change: on, max_model_age: age };
        let cases: &[(RetrainPolicy, ChangeSum, Option<Duration>, D, R)] = &[
            (policy(100, Retrain, None), sum(Some(100), true, Some(false)), None, D::Retrain, R::RowsChanged),
            (policy(100, Retrain, None), sum(Some(99), true, Some(false)), None, D::Skip, R::BelowThreshold),
            (policy(0, Retrain, None), sum(Some(0), true, Some(false)), None, D::Retrain, R::RowsChanged),
            // Unknown or lower-bound counts retrain.
            (policy(100, Retrain, None), sum(None, false, Some(false)), None, D::Retrain, R::UnknownChanges),
            (policy(100, Retrain, None), sum(Some(5), false, Some(false)), None, D::Retrain, R::UnknownChanges),
            (policy(100, Retrain, None), sum(Some(500), false, Some(false)), None, D::Retrain, R::RowsChanged),
            // Schema changes, each onSchemaChange; they win over the threshold and the age.
            (policy(100, Retrain, None), sum(Some(1), true, Some(true)), None, D::Retrain, R::SchemaChanged),
            (
                policy(100, Skip, Some(day)),
                sum(Some(1_000), true, Some(true)),
                Some(day * 9),
                D::Skip,
                R::SchemaChanged,
            ),
            (
                policy(100, Fail, Some(day)),
                sum(Some(1_000), true, Some(true)),
                Some(day * 9),
                D::Fail,
                R::SchemaChanged,
            ),
            // Unknown schema: retrain and say why, whatever onSchemaChange (a change it would act on may hide there).
            (policy(100, Retrain, None), sum(Some(1), true, None), None, D::Retrain, R::UnknownChanges),
            (policy(100, Fail, None), sum(Some(1), true, None), None, D::Retrain, R::UnknownChanges),
            // Too old: retrain below the threshold; not when younger or when the age is unknown.
            (
                policy(100, Retrain, Some(day * 30)),
                sum(Some(1), true, Some(false)),
                Some(day * 31),
                D::Retrain,
                R::ModelTooOld,
            ),
            (
                policy(100, Retrain, Some(day * 30)),
                sum(Some(1), true, Some(false)),
                Some(day * 30),
                D::Skip,
                R::BelowThreshold,
            ),
            (policy(100, Retrain, Some(day * 30)), sum(Some(1), true, Some(false)), None, D::Skip, R::BelowThreshold),
        ];
        for (i, (p, s, age, decision, reason)) in cases.iter().enumerate() {
            let got = decide(p, s, *age);
            assert_eq!((got.decision, got.reason), (*decision, *reason), "case {i}: {}", got.words);
            assert!(!got.words.is_empty());
        }
        let words = decide(&policy(10_000, Retrain, None), &sum(Some(42), true, Some(false)), None).words;
        assert_eq!(words, "42 rows changed, below minRowsChanged 10000");
        assert_eq!(human_age(day * 31 + Duration::from_secs(7200)), "31d02h");
        assert_eq!(human_age(Duration::from_secs(3 * 3600 + 300)), "3h05m");
    }
}

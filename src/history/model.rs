//! The history as data, pure: data versions from their `drift.*` tags, training runs from the retrainer's own
//! selection, and each group's state now (up to date, behind, running, failed last). No I/O: `mod.rs` lists, this
//! module decides, `render.rs` and `html.rs` draw. The JSON report is these structs serialised.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::azure::ml::models::{DataVersion, JobStatus, JobSummary};
use crate::pipeline::registrator::changes as tags;
use crate::pipeline::registrator::{TAG_DELTA_TIMESTAMP, TAG_DELTA_VERSION};
use crate::pipeline::retrainer::body::{TAG_BASE_JOB, TAG_DATA_VERSION};
use crate::pipeline::retrainer::policy::{self, RegisteredVersion};
use crate::pipeline::retrainer::select::Candidate;

/// One registered data version, as its tags record it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRow {
    pub version: String,
    /// When Azure ML registered it (`systemData.createdAt`).
    pub registered_at: Option<DateTime<Utc>>,
    /// `drift.deltaVersion`; `None` for versions drift did not register.
    pub delta_version: Option<u64>,
    /// `drift.deltaCommitTimestamp`: when the table's commit was made.
    pub commit_time: Option<DateTime<Utc>>,
    /// `drift.commits`: Delta commits since the previous version.
    pub commits: Option<u64>,
    /// Rows inserted + updated + deleted since the previous version; `None` where not recorded or unknown.
    pub rows_changed: Option<u64>,
    /// `drift.rowsExact`: whether `rowsChanged` is exact (else a lower bound).
    pub rows_exact: Option<bool>,
    /// `drift.schemaChanged`; `None` where not recorded or unknown.
    pub schema_changed: Option<bool>,
}

impl VersionRow {
    pub fn of(v: &DataVersion) -> VersionRow {
        let tags_of = &v.properties.tags;
        let tag = |k: &str| tags_of.get(k).map(String::as_str);
        let number = |k: &str| tag(k).and_then(|n| n.parse::<u64>().ok());
        let flag = |k: &str| match tag(k) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let counts = [tags::TAG_ROWS_INSERTED, tags::TAG_ROWS_UPDATED, tags::TAG_ROWS_DELETED].map(number);
        let rows_changed = counts.iter().all(Option::is_some).then(|| counts.iter().flatten().copied().sum());
        VersionRow {
            version: v.name.clone(),
            registered_at: v.system_data.as_ref().and_then(|s| time(s.created_at.as_deref())),
            delta_version: number(TAG_DELTA_VERSION),
            commit_time: time(tag(TAG_DELTA_TIMESTAMP)),
            commits: number(tags::TAG_COMMITS),
            rows_changed,
            rows_exact: flag(tags::TAG_ROWS_EXACT),
            schema_changed: flag(tags::TAG_SCHEMA_CHANGED),
        }
    }
}

fn time(t: Option<&str>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// One training run of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRow {
    pub job: String,
    pub display_name: String,
    /// The version its first configured input reads; `None` when it reads no fixed version.
    pub data_version: Option<String>,
    /// The job status as Azure ML reports it (`Completed`, `Failed`, `Running`, …); `Unknown` when absent.
    pub status: String,
    /// When it was submitted (`systemData.createdAt`, else its display name's timestamp read as UTC).
    pub submitted_at: Option<DateTime<Utc>>,
    /// `systemData.createdBy`: a user, or the client id of the application that submitted it.
    pub submitted_by: Option<String>,
    /// drift submitted it (it carries `drift.baseJob`).
    pub by_drift: bool,
    /// `drift.baseJob`: the job it is a copy of.
    pub base_job: Option<String>,
}

impl RunRow {
    pub fn of(candidate: &Candidate, job: &JobSummary) -> RunRow {
        let tag = |k: &str| job.properties.tags.get(k).cloned().flatten().filter(|v| !v.is_empty());
        let base_job = tag(TAG_BASE_JOB);
        RunRow {
            job: candidate.job_name.clone(),
            display_name: candidate.display_name.clone(),
            data_version: candidate.input_versions.first().cloned().flatten().or_else(|| tag(TAG_DATA_VERSION)),
            status: candidate.status.as_ref().map_or("Unknown", JobStatus::as_str).to_string(),
            submitted_at: submitted(candidate),
            submitted_by: job.system_data.as_ref().and_then(|s| s.created_by.clone()).filter(|b| !b.is_empty()),
            by_drift: base_job.is_some(),
            base_job,
        }
    }

    /// The job has not reached a final status.
    pub fn is_active(&self) -> bool {
        !status(&self.status).is_terminal()
    }
}

fn status(s: &str) -> JobStatus {
    serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or(JobStatus::Unknown)
}

/// `createdAt`, else the display name's `YYYYmmddHHMMSS` read as UTC (the retrainer's reading too).
fn submitted(c: &Candidate) -> Option<DateTime<Utc>> {
    c.created_at
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| chrono::NaiveDateTime::parse_from_str(&c.stamp, "%Y%m%d%H%M%S").ok().map(|t| t.and_utc()))
}

/// Where a group stands now, from its newest run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupState {
    /// The newest run completed on the newest data version.
    UpToDate,
    /// The newest run completed on an older version.
    Behind,
    /// The newest run has not finished.
    Running,
    /// The newest run failed or was canceled.
    FailedLast,
    /// Nothing to compare with: no version registered, or the newest run reads no fixed version.
    Unknown,
}

impl GroupState {
    pub const ALL: [GroupState; 5] =
        [GroupState::UpToDate, GroupState::Behind, GroupState::Running, GroupState::FailedLast, GroupState::Unknown];

    pub fn code(self) -> &'static str {
        match self {
            GroupState::UpToDate => "up_to_date",
            GroupState::Behind => "behind",
            GroupState::Running => "running",
            GroupState::FailedLast => "failed_last",
            GroupState::Unknown => "unknown",
        }
    }
}

/// One model group: its state and its runs in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    pub group: String,
    pub state: GroupState,
    /// The state in words (`behind by 2 versions, 1,250 rows changed since`).
    pub summary: String,
    /// The newest run, whether or not it falls in the window.
    pub latest_job: String,
    /// The version the newest run reads.
    pub trained_on: Option<String>,
    /// Versions registered after `trainedOn` (state `behind`); `None` where unknown.
    pub versions_behind: Option<usize>,
    /// Rows changed in those versions where every one recorded them; a lower bound unless `rowsExact`.
    pub rows_changed_since: Option<u64>,
    pub rows_exact: Option<bool>,
    /// Runs submitted in the window, newest first.
    pub runs: Vec<RunRow>,
}

/// Runs collected while the job list streams in: per group, those in the window only, so memory follows the window
/// rather than the workspace.
#[derive(Debug, Default)]
pub struct RunCollector {
    since: Option<DateTime<Utc>>,
    runs: BTreeMap<String, Vec<(Candidate, RunRow)>>,
}

impl RunCollector {
    pub fn new(since: DateTime<Utc>) -> RunCollector {
        RunCollector { since: Some(since), runs: BTreeMap::new() }
    }

    /// Keeps the run when it was submitted in the window (a run of unknown time is kept: it cannot be ruled out).
    pub fn see(&mut self, candidate: &Candidate, job: &JobSummary) {
        // Decided before building the row: most of a large workspace's runs fall outside the window.
        if submitted(candidate).zip(self.since).is_some_and(|(at, since)| at < since) {
            return;
        }
        self.runs.entry(candidate.group.clone()).or_default().push((candidate.clone(), RunRow::of(candidate, job)));
    }

    fn take(&mut self, group: &str) -> Vec<RunRow> {
        let mut runs = self.runs.remove(group).unwrap_or_default();
        // Newest first, in the order the retrainer picks its template by.
        runs.sort_by(|(a, _), (b, _)| {
            if a.newer_than(b) {
                std::cmp::Ordering::Less
            } else if b.newer_than(a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        runs.into_iter().map(|(_, row)| row).collect()
    }
}

/// Every group's row: `newest` is the selection's newest run of each group; `versions` every registered version of
/// the first configured asset, newest first.
pub fn groups(newest: &[Candidate], runs: &mut RunCollector, versions: &[DataVersion]) -> Vec<GroupRow> {
    let registered: Vec<RegisteredVersion> =
        versions.iter().map(|v| RegisteredVersion { name: v.name.clone(), tags: v.properties.tags.clone() }).collect();
    let latest = versions.first().map(|v| v.name.as_str());
    newest
        .iter()
        .map(|candidate| {
            let trained = candidate.input_versions.first().cloned().flatten();
            let mut row = GroupRow {
                group: candidate.group.clone(),
                state: GroupState::Unknown,
                summary: String::new(),
                latest_job: candidate.job_name.clone(),
                trained_on: trained.clone(),
                versions_behind: None,
                rows_changed_since: None,
                rows_exact: None,
                runs: runs.take(&candidate.group),
            };
            let state = candidate.status.clone().unwrap_or(JobStatus::Unknown);
            (row.state, row.summary) = if !state.is_terminal() {
                (GroupState::Running, format!("running ({}) on {}", state.as_str(), or_none(trained.as_deref())))
            } else if !state.is_success() {
                (GroupState::FailedLast, format!("failed last ({}) on {}", state.as_str(), or_none(trained.as_deref())))
            } else {
                match (trained.as_deref(), latest) {
                    (Some(t), Some(l)) if t == l => (GroupState::UpToDate, format!("up to date on {t}")),
                    (Some(t), Some(l)) => {
                        let sum = policy::sum_changes(&registered, Some(t), l);
                        // Versions drift did not tag have no Delta order: count by registration order instead.
                        let behind = if sum.versions.is_empty() {
                            versions.iter().position(|v| v.name == t)
                        } else {
                            Some(sum.versions.len())
                        };
                        row.versions_behind = behind;
                        row.rows_changed_since = sum.rows;
                        row.rows_exact = sum.rows.map(|_| sum.exact);
                        (GroupState::Behind, behind_words(t, behind, sum.rows, sum.exact))
                    }
                    (None, _) => (GroupState::Unknown, "its newest run reads no fixed data version".to_string()),
                    (Some(t), None) => {
                        (GroupState::Unknown, format!("trained on {t}; the data asset has no registered versions"))
                    }
                }
            };
            row
        })
        .collect()
}

fn or_none(v: Option<&str>) -> &str {
    v.unwrap_or("no fixed version")
}

fn behind_words(trained: &str, behind: Option<usize>, rows: Option<u64>, exact: bool) -> String {
    let count = match behind {
        Some(1) => "behind by 1 version".to_string(),
        Some(n) => format!("behind by {n} versions"),
        None => "behind (version count unknown)".to_string(),
    };
    let rows = match rows {
        Some(n) if exact => format!(", {} rows changed since", thousands(n)),
        Some(n) => format!(", at least {} rows changed since", thousands(n)),
        None => String::new(),
    };
    format!("{count}{rows} (trained on {trained})")
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The versions registered in the window, newest first.
pub fn versions_in_window(versions: &[DataVersion], since: DateTime<Utc>) -> Vec<VersionRow> {
    let mut rows: Vec<VersionRow> =
        versions.iter().map(VersionRow::of).filter(|v| v.registered_at.is_none_or(|at| at >= since)).collect();
    rows.sort_by_key(|v| std::cmp::Reverse((v.registered_at, v.delta_version)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::ml::models::{DataVersionProperties, SystemData};

    fn version(name: &str, minute: u32, delta: u64, rows: Option<u64>) -> DataVersion {
        let mut tags = BTreeMap::from([(TAG_DELTA_VERSION.to_string(), delta.to_string())]);
        if let Some(r) = rows {
            for (k, v) in [
                (tags::TAG_PREVIOUS_DELTA_VERSION, (delta - 1).to_string()),
                (tags::TAG_COMMITS, "1".to_string()),
                (tags::TAG_ROWS_INSERTED, r.to_string()),
                (tags::TAG_ROWS_UPDATED, "0".to_string()),
                (tags::TAG_ROWS_DELETED, "0".to_string()),
                (tags::TAG_ROWS_EXACT, "true".to_string()),
                (tags::TAG_SCHEMA_CHANGED, "false".to_string()),
            ] {
                tags.insert(k.to_string(), v);
            }
        }
        DataVersion {
            id: String::new(),
            name: name.into(),
            properties: DataVersionProperties { tags, ..Default::default() },
            system_data: Some(SystemData {
                created_at: Some(format!("2026-11-01T00:{minute:02}:00Z")),
                created_by: None,
            }),
        }
    }

    fn candidate(group: &str, job: &str, minute: u32, version: &str, status: JobStatus) -> Candidate {
        Candidate {
            group: group.into(),
            job_name: job.into(),
            display_name: format!("{group}_202611010000{minute:02}_x"),
            stamp: format!("202611010000{minute:02}"),
            created_at: DateTime::parse_from_rfc3339(&format!("2026-11-01T00:{minute:02}:00Z")).ok(),
            status: Some(status),
            input_versions: vec![Some(version.into())],
        }
    }

    #[test]
    fn states_follow_the_newest_run() {
        // Newest first, as the service lists them.
        let versions = [version("v3", 3, 3, Some(200)), version("v2", 2, 2, Some(50)), version("v1", 1, 1, None)];
        let newest = [
            candidate("aa", "a1", 9, "v3", JobStatus::Completed),
            candidate("bb", "b1", 9, "v1", JobStatus::Completed),
            candidate("cc", "c1", 9, "v2", JobStatus::Running),
            candidate("dd", "d1", 9, "v3", JobStatus::Failed),
            candidate("ee", "e1", 9, "v0", JobStatus::Canceled),
        ];
        let rows = groups(&newest, &mut RunCollector::default(), &versions);
        let states: Vec<GroupState> = rows.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [
                GroupState::UpToDate,
                GroupState::Behind,
                GroupState::Running,
                GroupState::FailedLast,
                GroupState::FailedLast
            ]
        );
        assert_eq!(
            (rows[1].versions_behind, rows[1].rows_changed_since, rows[1].rows_exact),
            (Some(2), Some(250), Some(true))
        );
        assert_eq!(rows[1].summary, "behind by 2 versions, 250 rows changed since (trained on v1)");
        assert!(rows[3].summary.starts_with("failed last (Failed)"), "{}", rows[3].summary);
    }

    #[test]
    fn untagged_versions_count_by_registration_order() {
        let mut untagged = [version("w3", 3, 3, None), version("w2", 2, 2, None), version("w1", 1, 1, None)];
        for v in &mut untagged {
            v.properties.tags.clear();
        }
        let rows =
            groups(&[candidate("aa", "a1", 9, "w1", JobStatus::Completed)], &mut RunCollector::default(), &untagged);
        assert_eq!(
            (rows[0].state, rows[0].versions_behind, rows[0].rows_changed_since),
            (GroupState::Behind, Some(2), None)
        );
        let none = groups(&[candidate("aa", "a1", 9, "w1", JobStatus::Completed)], &mut RunCollector::default(), &[]);
        assert_eq!(none[0].state, GroupState::Unknown);
    }

    #[test]
    fn the_window_keeps_recent_runs_newest_first() {
        let since = DateTime::parse_from_rfc3339("2026-11-01T00:05:00Z").unwrap().with_timezone(&Utc);
        let mut runs = RunCollector::new(since);
        let job = |name: &str| -> JobSummary {
            serde_json::from_value(serde_json::json!({
                "name": name, "properties": {}, "systemData": {"createdBy": "someone@example.com"}
            }))
            .unwrap()
        };
        for (name, minute) in [("old", 1), ("mid", 6), ("new", 8)] {
            runs.see(&candidate("aa", name, minute, "v1", JobStatus::Completed), &job(name));
        }
        let kept: Vec<String> = runs.take("aa").into_iter().map(|r| r.job).collect();
        assert_eq!(kept, ["new", "mid"]);
    }

    #[test]
    fn version_rows_read_the_change_tags() {
        let row = VersionRow::of(&version("v2", 2, 2, Some(7)));
        assert_eq!(
            (row.delta_version, row.rows_changed, row.rows_exact, row.schema_changed),
            (Some(2), Some(7), Some(true), Some(false))
        );
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}

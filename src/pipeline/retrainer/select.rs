//! Which jobs are in scope and which is the newest of each model group. Pure: jobs are offered one at a time
//! as pages stream in, and only one candidate per group is kept, so memory does not grow with the workspace.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::assets::{self, AssetRef, WorkspaceKey};
use crate::azure::ml::models::{JobStatus, JobSummary};

/// Length of the `YYYYmmddHHMMSS` part of a display name.
const STAMP_LEN: usize = 14;

/// How display names are read: `{group}_{YYYYmmddHHMMSS}_{anything}`.
#[derive(Debug, Clone, Default)]
pub struct NamePattern {
    /// `--model_name_prefix` values, matched literally; empty means any group of 2+ `[a-z0-9]`.
    prefixes: Vec<String>,
}

impl NamePattern {
    pub fn new(prefixes: Vec<String>) -> NamePattern {
        NamePattern { prefixes }
    }

    /// The group and timestamp of a display name, if it follows the convention.
    pub fn parse<'a>(&self, display_name: &'a str) -> Option<(&'a str, &'a str)> {
        if self.prefixes.is_empty() {
            let (group, rest) = display_name.split_once('_')?;
            let valid_group = group.len() >= 2 && group.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            return if valid_group { stamp(rest).map(|s| (group, s)) } else { None };
        }
        self.prefixes.iter().find_map(|prefix| {
            let rest = display_name.strip_prefix(prefix.as_str())?.strip_prefix('_')?;
            stamp(rest).map(|s| (&display_name[..prefix.len()], s))
        })
    }

    /// The convention in words, for messages.
    pub fn describe(&self) -> String {
        if self.prefixes.is_empty() {
            "{group}_{YYYYmmddHHMMSS}_{suffix} with a group of 2+ lowercase letters/digits".to_string()
        } else {
            format!("{{prefix}}_{{YYYYmmddHHMMSS}}_{{suffix}} with prefix one of: {}", self.prefixes.join(", "))
        }
    }
}

/// `YYYYmmddHHMMSS_…` → the 14 digits.
fn stamp(rest: &str) -> Option<&str> {
    let digits = rest.get(..STAMP_LEN)?;
    let after = rest.get(STAMP_LEN..)?;
    (digits.bytes().all(|b| b.is_ascii_digit()) && after.starts_with('_')).then_some(digits)
}

/// One configured input and the asset it must read.
#[derive(Debug, Clone)]
pub struct Binding {
    pub input_name: String,
    pub asset: AssetRef,
}

/// The newest in-scope job of a group so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub group: String,
    pub job_name: String,
    pub display_name: String,
    pub stamp: String,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub status: Option<JobStatus>,
    /// The version each binding's input currently reads (same order as the bindings).
    pub input_versions: Vec<Option<String>>,
}

impl Candidate {
    /// Newer means: later display-name timestamp, then later creation time, then (for a stable answer) name.
    pub fn newer_than(&self, other: &Candidate) -> bool {
        (&self.stamp, self.created_at, &self.job_name) > (&other.stamp, other.created_at, &other.job_name)
    }
}

/// Why a job was left out of the scan: a stable code (the keys of `scan.excluded` in the report);
/// [`Selection::reason`] words it for this run's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// `jobType` is not `Pipeline`.
    NotPipeline,
    NoDisplayName,
    /// The display name does not follow `{group}_{YYYYmmddHHMMSS}_{suffix}` (or the `--model_name_prefix`es).
    NameMismatch,
    /// A configured input is missing.
    MissingInput,
    /// A configured input is a literal, a path or anything but a data asset.
    InputNotAsset,
    /// A configured input reads another data asset (`sales_v2` for `sales`).
    OtherAsset,
}

impl Exclusion {
    pub const ALL: [Exclusion; 6] = [
        Exclusion::NotPipeline,
        Exclusion::NoDisplayName,
        Exclusion::NameMismatch,
        Exclusion::MissingInput,
        Exclusion::InputNotAsset,
        Exclusion::OtherAsset,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Exclusion::NotPipeline => "not_pipeline",
            Exclusion::NoDisplayName => "no_display_name",
            Exclusion::NameMismatch => "name_mismatch",
            Exclusion::MissingInput => "missing_input",
            Exclusion::InputNotAsset => "input_not_asset",
            Exclusion::OtherAsset => "other_asset",
        }
    }
}

/// Accumulates the scan of the job list.
#[derive(Debug)]
pub struct Selection {
    pattern: NamePattern,
    bindings: Vec<Binding>,
    here: WorkspaceKey,
    pub seen: usize,
    pub in_scope: usize,
    /// Jobs left out, counted by code.
    pub excluded: BTreeMap<Exclusion, usize>,
    groups: BTreeMap<String, Candidate>,
}

impl Selection {
    pub fn new(pattern: NamePattern, bindings: Vec<Binding>, here: WorkspaceKey) -> Selection {
        Selection { pattern, bindings, here, seen: 0, in_scope: 0, excluded: BTreeMap::new(), groups: BTreeMap::new() }
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// Considers one job from the list.
    pub fn offer(&mut self, job: &JobSummary) {
        self.offer_with(job, |_| {});
    }

    /// Considers one job from the list and shows `see` the job's candidate when it is in scope, before the
    /// group's newest is updated: `history` keeps every run this way, through the same rules the retrainer scans by.
    pub fn offer_with(&mut self, job: &JobSummary, see: impl FnOnce(&Candidate)) {
        self.seen += 1;
        match self.candidate(job) {
            Ok(candidate) => {
                see(&candidate);
                self.in_scope += 1;
                match self.groups.get(&candidate.group) {
                    Some(current) if !candidate.newer_than(current) => {}
                    _ => {
                        self.groups.insert(candidate.group.clone(), candidate);
                    }
                }
            }
            Err(why) => *self.excluded.entry(why).or_default() += 1,
        }
    }

    fn candidate(&self, job: &JobSummary) -> Result<Candidate, Exclusion> {
        let p = &job.properties;
        if p.job_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("Pipeline")) {
            return Err(Exclusion::NotPipeline);
        }
        let Some(display_name) = p.display_name.as_deref() else {
            return Err(Exclusion::NoDisplayName);
        };
        let Some((group, stamp)) = self.pattern.parse(display_name) else {
            return Err(Exclusion::NameMismatch);
        };
        let mut input_versions = Vec::with_capacity(self.bindings.len());
        for binding in &self.bindings {
            let Some(input) = p.inputs.get(&binding.input_name) else {
                return Err(Exclusion::MissingInput);
            };
            let Some(reference) = input.uri.as_deref().and_then(assets::parse) else {
                return Err(Exclusion::InputNotAsset);
            };
            if !reference.same_asset(&binding.asset, &self.here) {
                return Err(Exclusion::OtherAsset);
            }
            input_versions.push(reference.exact_version().map(str::to_string));
        }
        Ok(Candidate {
            group: group.to_string(),
            job_name: job.name.clone(),
            display_name: display_name.to_string(),
            stamp: stamp.to_string(),
            created_at: job
                .system_data
                .as_ref()
                .and_then(|s| s.created_at.as_deref())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
            status: p.status.clone(),
            input_versions,
        })
    }

    /// The newest candidate of every group, by group name.
    pub fn newest_per_group(&self) -> Vec<Candidate> {
        self.groups.values().cloned().collect()
    }

    /// An exclusion in words, for this config (its inputs, assets and name pattern); beside the code in the report.
    pub fn reason(&self, why: Exclusion) -> String {
        let inputs: Vec<&str> = self.bindings.iter().map(|b| b.input_name.as_str()).collect();
        let one = inputs.len() == 1;
        match why {
            Exclusion::NotPipeline => "not a pipeline job".to_string(),
            Exclusion::NoDisplayName => "no display name".to_string(),
            Exclusion::NameMismatch => format!("display name does not match {}", self.pattern.describe()),
            Exclusion::MissingInput if one => format!("no input named {}", inputs[0]),
            Exclusion::MissingInput => format!("lacks one of the inputs {}", inputs.join(", ")),
            Exclusion::InputNotAsset if one => format!("input {} is not a data asset", inputs[0]),
            Exclusion::InputNotAsset => format!("one of the inputs {} is not a data asset", inputs.join(", ")),
            Exclusion::OtherAsset => {
                let wanted: Vec<String> = self
                    .bindings
                    .iter()
                    .map(|b| format!("input {} reads another data asset than {}", b.input_name, b.asset.name))
                    .collect();
                wanted.join(", or ")
            }
        }
    }

    /// The sentence for each exclusion that occurred, keyed by code (`scan.exclusionReasons`).
    pub fn exclusion_reasons(&self) -> BTreeMap<Exclusion, String> {
        self.excluded.keys().map(|&why| (why, self.reason(why))).collect()
    }

    /// Why nothing (or some jobs) were left out, for the "no job in scope" message.
    pub fn explain(&self) -> String {
        let mut text = format!("{} pipeline jobs seen, {} in scope", self.seen, self.in_scope);
        if !self.excluded.is_empty() {
            let reasons: Vec<String> =
                self.excluded.iter().map(|(&why, n)| format!("{n} × {} ({})", self.reason(why), why.code())).collect();
            text.push_str("; left out: ");
            text.push_str(&reasons.join("; "));
        }
        text
    }
}

/// What to do with a group's newest job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It already reads the target version and completed.
    UpToDate,
    /// It already reads the target version and is still running: wait for it instead of submitting again.
    WatchExisting,
    /// Submit a copy on the target version.
    Resubmit(ResubmitReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResubmitReason {
    /// It reads an older (or another) version.
    NewVersion,
    /// `--force`.
    Forced,
    /// It reads the target version but ended without success (a rerun after a failed training retries it).
    PreviousFailed(String),
}

impl Decision {
    /// The decision as a stable code (`reasonCode` in the report).
    pub fn code(&self) -> &'static str {
        match self {
            Decision::UpToDate => "up_to_date",
            Decision::WatchExisting => "running",
            Decision::Resubmit(ResubmitReason::NewVersion) => "new_version",
            Decision::Resubmit(ResubmitReason::Forced) => "forced",
            Decision::Resubmit(ResubmitReason::PreviousFailed(_)) => "previous_failed",
        }
    }

    /// The decision in words (`reason` in the report).
    pub fn reason(&self) -> String {
        match self {
            Decision::UpToDate => "already on the target version and completed".to_string(),
            Decision::WatchExisting => "already on the target version and still running".to_string(),
            Decision::Resubmit(ResubmitReason::NewVersion) => "reads an older version".to_string(),
            Decision::Resubmit(ResubmitReason::Forced) => "--force".to_string(),
            Decision::Resubmit(ResubmitReason::PreviousFailed(s)) => {
                format!("already on the target version but ended {s}; retrying")
            }
        }
    }
}

pub fn decide(candidate: &Candidate, target: &str, force: bool) -> Decision {
    let on_target = candidate.input_versions.iter().all(|v| v.as_deref() == Some(target));
    if !on_target {
        return Decision::Resubmit(ResubmitReason::NewVersion);
    }
    if force {
        return Decision::Resubmit(ResubmitReason::Forced);
    }
    match &candidate.status {
        Some(s) if s.is_success() => Decision::UpToDate,
        Some(s) if s.is_terminal() => Decision::Resubmit(ResubmitReason::PreviousFailed(s.to_string())),
        _ => Decision::WatchExisting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::ml::models::{JobInput, JobSummaryProperties, SystemData};

    const SUB: &str = "00000000-1111-2222-3333-444444444444";

    fn arm(asset: &str, v: &str) -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/data/{asset}/versions/{v}"
        )
    }

    fn job(name: &str, display: &str, created: &str, inputs: &[(&str, &str)]) -> JobSummary {
        JobSummary {
            name: name.into(),
            properties: JobSummaryProperties {
                display_name: Some(display.into()),
                job_type: Some("Pipeline".into()),
                status: Some(JobStatus::Completed),
                inputs: inputs
                    .iter()
                    .map(|(k, uri)| {
                        (
                            k.to_string(),
                            JobInput { job_input_type: Some("mltable".into()), uri: Some(uri.to_string()), mode: None },
                        )
                    })
                    .collect(),
                tags: Default::default(),
            },
            system_data: Some(SystemData { created_at: Some(created.into()), created_by: None }),
        }
    }

    fn selection(prefixes: &[&str], bindings: &[(&str, &str)]) -> Selection {
        Selection::new(
            NamePattern::new(prefixes.iter().map(|p| p.to_string()).collect()),
            bindings
                .iter()
                .map(|(i, a)| Binding { input_name: i.to_string(), asset: assets::parse(a).unwrap() })
                .collect(),
            WorkspaceKey::new(SUB, "rg", "ws"),
        )
    }

    #[test]
    fn display_name_convention() {
        let default = NamePattern::default();
        let cases = [
            ("churn_20261128101500_ab12cd", Some(("churn", "20261128101500"))),
            ("c2_20261128101500_", Some(("c2", "20261128101500"))),
            ("churn_20261128101500", None),
            ("c_20261128101500_x", None),
            ("Churn_20261128101500_x", None),
            ("churn,x_20261128101500_x", None),
            ("churn_model_20261128101500_x", None),
            ("churn_2026112810150_x", None),
            ("churn_2026112810150a_x", None),
            ("", None),
        ];
        for (name, expected) in cases {
            assert_eq!(default.parse(name), expected, "{name}");
        }
        let prefixed = NamePattern::new(vec!["churn_model".into(), "a.b+(c)".into(), "x".into()]);
        assert_eq!(prefixed.parse("churn_model_20261128101500_q"), Some(("churn_model", "20261128101500")));
        assert_eq!(prefixed.parse("a.b+(c)_20261128101500_q"), Some(("a.b+(c)", "20261128101500")));
        assert_eq!(prefixed.parse("aXb+(c)_20261128101500_q"), None, "prefixes are literal, not regexes");
        assert_eq!(prefixed.parse("churn_20261128101500_q"), None);
        assert_eq!(prefixed.parse("x_20261128101500_q"), Some(("x", "20261128101500")));
    }

    #[test]
    fn newest_per_group_with_ties_and_reasons() {
        let mut s = selection(&[], &[("training_data", "sales")]);
        let jobs = [
            job("a1", "churn_20261101000000_a", "2026-11-01T00:00:00Z", &[("training_data", &arm("sales", "1"))]),
            job("a2", "churn_20261102000000_b", "2026-11-02T00:00:00Z", &[("training_data", &arm("sales", "2"))]),
            // Same stamp as a2, created later: wins the tie.
            job("a3", "churn_20261102000000_c", "2026-11-02T00:00:01.5+00:00", &[("training_data", "azureml:sales:3")]),
            job("b1", "fraud_20261001000000_a", "2026-10-01T00:00:00Z", &[("training_data", &arm("sales", "1"))]),
            job("x1", "fraud_20261201000000_a", "2026-12-01T00:00:00Z", &[("training_data", &arm("sales_v2", "9"))]),
            job("x2", "adhoc-run", "2026-12-01T00:00:00Z", &[("training_data", &arm("sales", "9"))]),
            job("x3", "churn_20261201000000_z", "2026-12-01T00:00:00Z", &[("other", &arm("sales", "9"))]),
            job(
                "x4",
                "churn_20261201000000_y",
                "2026-12-01T00:00:00Z",
                &[("training_data", "azureml://datastores/d/paths/p")],
            ),
        ];
        for j in &jobs {
            s.offer(j);
        }
        let newest = s.newest_per_group();
        assert_eq!(
            newest.iter().map(|c| (c.group.as_str(), c.job_name.as_str())).collect::<Vec<_>>(),
            vec![("churn", "a3"), ("fraud", "b1")]
        );
        assert_eq!(newest[0].input_versions, vec![Some("3".to_string())]);
        assert_eq!((s.seen, s.in_scope), (8, 4));
        let explained = s.explain();
        assert!(explained.starts_with("8 pipeline jobs seen, 4 in scope"), "{explained}");
        assert!(explained.contains("1 × input training_data reads another data asset than sales (other_asset)"));
        assert!(explained.contains("1 × display name does not match"));
        assert!(explained.contains("1 × no input named training_data (missing_input)"));
        assert!(explained.contains("1 × input training_data is not a data asset (input_not_asset)"));
        let counted: Vec<(Exclusion, usize)> = s.excluded.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(
            counted,
            vec![
                (Exclusion::NameMismatch, 1),
                (Exclusion::MissingInput, 1),
                (Exclusion::InputNotAsset, 1),
                (Exclusion::OtherAsset, 1)
            ]
        );
        // Codes are the keys on the wire; the sentences sit beside them under the same codes.
        assert_eq!(
            serde_json::to_value(&s.excluded).unwrap(),
            serde_json::json!({"name_mismatch": 1, "missing_input": 1, "input_not_asset": 1, "other_asset": 1})
        );
        let reasons = serde_json::to_value(s.exclusion_reasons()).unwrap();
        assert_eq!(reasons["other_asset"], "input training_data reads another data asset than sales");
        for why in Exclusion::ALL {
            assert_eq!(serde_json::to_value(why).unwrap(), why.code());
        }
    }

    #[test]
    fn every_binding_must_match() {
        let mut s = selection(&[], &[("train", "sales"), ("test", "sales-uri")]);
        s.offer(&job(
            "j1",
            "m1_20261101000000_a",
            "2026-11-01T00:00:00Z",
            &[("train", &arm("sales", "1")), ("test", &arm("sales-uri", "1"))],
        ));
        s.offer(&job(
            "j2",
            "m2_20261101000000_a",
            "2026-11-01T00:00:00Z",
            &[("train", &arm("sales", "1")), ("test", &arm("sales", "1"))],
        ));
        assert_eq!(s.newest_per_group().len(), 1);
        assert_eq!(s.excluded.values().sum::<usize>(), 1);
        assert_eq!(
            s.reason(Exclusion::OtherAsset),
            "input train reads another data asset than sales, or input test reads another data asset than sales-uri"
        );
        assert_eq!(s.reason(Exclusion::MissingInput), "lacks one of the inputs train, test");
    }

    #[test]
    fn decisions() {
        let c = |versions: &[&str], status: JobStatus| Candidate {
            group: "g".into(),
            job_name: "j".into(),
            display_name: "g_20261101000000_a".into(),
            stamp: "20261101000000".into(),
            created_at: None,
            status: Some(status),
            input_versions: versions.iter().map(|v| Some(v.to_string())).collect(),
        };
        assert_eq!(
            decide(&c(&["1"], JobStatus::Completed), "2", false),
            Decision::Resubmit(ResubmitReason::NewVersion)
        );
        assert_eq!(
            decide(&c(&["2", "1"], JobStatus::Completed), "2", false),
            Decision::Resubmit(ResubmitReason::NewVersion)
        );
        assert_eq!(decide(&c(&["2", "2"], JobStatus::Completed), "2", false), Decision::UpToDate);
        assert_eq!(decide(&c(&["2"], JobStatus::Completed), "2", true), Decision::Resubmit(ResubmitReason::Forced));
        assert_eq!(decide(&c(&["2"], JobStatus::Running), "2", false), Decision::WatchExisting);
        assert_eq!(decide(&c(&["2"], JobStatus::Other("New".into())), "2", false), Decision::WatchExisting);
        // Not final per the spec: a rerun watches them rather than submitting a second training.
        assert_eq!(decide(&c(&["2"], JobStatus::NotResponding), "2", false), Decision::WatchExisting);
        assert_eq!(decide(&c(&["2"], JobStatus::Paused), "2", false), Decision::WatchExisting);
        assert_eq!(
            decide(&c(&["2"], JobStatus::Failed), "2", false),
            Decision::Resubmit(ResubmitReason::PreviousFailed("Failed".into()))
        );
    }
}

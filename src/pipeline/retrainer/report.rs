//! The retrainer's decisions that need no I/O: what to do with each group before anything is sent, how the run
//! ended once the submissions and the wait are over, and the report that says so. `mod.rs` executes; this
//! module decides and describes, and is unit-tested without a workspace.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::policy::{ChangeSum, PolicyDecision, PolicyOutcome};
use super::select::{Candidate, Decision, Exclusion, Selection};
use super::wait::{WaitEnd, Watched};
use crate::azure::ml::models::JobStatus;
use crate::error::{Error, ExitStatus};
use crate::output::{CommandName, Outcome, PipelineName, Report};

/// What drift did (or, for plan, would do) for one group: the report's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupAction {
    Submitted,
    /// The job for this base and version already existed (an earlier attempt created it).
    Adopted,
    UpToDate,
    /// The newest job already reads the target version and is still running.
    Watching,
    WouldSubmit,
    WouldAdopt,
    SubmitFailed,
    /// Shutdown was requested before this group's turn.
    Skipped,
    /// `retrainPolicy` says not to retrain (below the threshold, or a schema change with `onSchemaChange: skip`).
    SkippedByPolicy,
    /// `retrainPolicy` says the run fails for this group (a schema change with `onSchemaChange: fail`).
    PolicyFailed,
}

impl GroupAction {
    pub const ALL: [GroupAction; 10] = [
        GroupAction::Submitted,
        GroupAction::Adopted,
        GroupAction::UpToDate,
        GroupAction::Watching,
        GroupAction::WouldSubmit,
        GroupAction::WouldAdopt,
        GroupAction::SubmitFailed,
        GroupAction::Skipped,
        GroupAction::SkippedByPolicy,
        GroupAction::PolicyFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupAction::Submitted => "submitted",
            GroupAction::Adopted => "adopted",
            GroupAction::UpToDate => "up_to_date",
            GroupAction::Watching => "watching",
            GroupAction::WouldSubmit => "would_submit",
            GroupAction::WouldAdopt => "would_adopt",
            GroupAction::SubmitFailed => "submit_failed",
            GroupAction::Skipped => "skipped",
            GroupAction::SkippedByPolicy => "skipped_by_policy",
            GroupAction::PolicyFailed => "policy_failed",
        }
    }
}

/// Where the target version came from (`targetSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSource {
    /// `--data_asset_version`.
    Flag,
    /// The configured assets' common latest version.
    Latest,
}

impl TargetSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetSource::Flag => "flag",
            TargetSource::Latest => "latest",
        }
    }
}

/// What happened to one group.
#[derive(Debug, Clone)]
pub struct GroupOutcome {
    pub candidate: Candidate,
    pub decision: Decision,
    /// `None` while a resubmission is decided but not yet attempted.
    pub action: Option<GroupAction>,
    pub job_id: Option<String>,
    pub display_name: Option<String>,
    /// The submission's error with its causes, said once here (the report's group `error`).
    pub error: Option<String>,
    /// Its status and Azure's code (`HTTP 400 UserError`), for the closing summary that names the groups.
    pub error_brief: Option<String>,
    pub error_exit: Option<ExitStatus>,
    pub watch: Option<Watched>,
    /// What `retrainPolicy` found and decided; `None` without a policy or when it did not apply (up to date,
    /// running, `--force`).
    pub policy: Option<GroupPolicy>,
}

/// The policy's view of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPolicy {
    pub sum: ChangeSum,
    /// How long ago the group's newest job was created (`None`: unknown).
    pub age: Option<Duration>,
    pub outcome: PolicyOutcome,
}

impl GroupOutcome {
    pub fn is_pending(&self) -> bool {
        self.action.is_none()
    }

    /// A submission that failed: its error is kept for the report, once; `brief` is its status and Azure's code.
    pub fn fail(&mut self, error: &Error, brief: Option<String>) {
        self.action = Some(GroupAction::SubmitFailed);
        self.error_exit = Some(error.exit_status());
        self.error = Some(error.chain());
        self.error_brief = brief;
    }

    fn finished_badly(&self) -> bool {
        self.watch.as_ref().is_some_and(|w| w.is_terminal() && !w.status.as_ref().is_some_and(JobStatus::is_success))
    }
}

/// Each group's decision, before any request: up to date, watch the running job, or resubmit (pending).
pub fn plan_groups(candidates: Vec<Candidate>, target: &str, force: bool, now: DateTime<Utc>) -> Vec<GroupOutcome> {
    candidates
        .into_iter()
        .map(|candidate| {
            let decision = super::select::decide(&candidate, target, force);
            let (action, watch) = match &decision {
                Decision::UpToDate => (Some(GroupAction::UpToDate), None),
                Decision::WatchExisting => (
                    Some(GroupAction::Watching),
                    Some(Watched::new(candidate.job_name.clone(), candidate.status.clone(), now)),
                ),
                Decision::Resubmit(_) => (None, None),
            };
            let job_id = matches!(decision, Decision::WatchExisting).then(|| candidate.job_name.clone());
            GroupOutcome {
                display_name: job_id.as_ref().map(|_| candidate.display_name.clone()),
                candidate,
                decision,
                action,
                job_id,
                error: None,
                error_brief: None,
                error_exit: None,
                watch,
                policy: None,
            }
        })
        .collect()
}

/// How the run ended: outcome, exit status and, when it did not succeed, the message said once on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub status: ExitStatus,
    pub message: Option<String>,
}

/// What the end of the run looked like: how the wait ended (`None`: not waited for) and what was canceled.
pub struct Ending<'a> {
    pub wait: Option<&'a WaitEnd>,
    /// Unfinished jobs are canceled on a timeout or signal (`--cancel-on-timeout`, `cancelOnTimeout`).
    pub cancel: bool,
    pub canceled: &'a [String],
    pub timeout: Duration,
}

/// The verdict of a run that submitted (and perhaps waited): a signal first, then a timeout, then refused
/// submissions, then failed jobs. Each group's own error stays with the group; the message names the groups, with
/// the status and Azure's code of each refusal, so a reader of stderr alone still knows whose fault it was.
pub fn conclude(groups: &[GroupOutcome], end: &Ending<'_>) -> Verdict {
    let verdict = |outcome, status, message| Verdict { outcome, status, message };
    let refused: Vec<&GroupOutcome> = groups.iter().filter(|o| o.error_exit.is_some()).collect();
    let policy_failed: Vec<&str> = groups
        .iter()
        .filter(|o| o.action == Some(GroupAction::PolicyFailed))
        .map(|o| o.candidate.group.as_str())
        .collect();
    let failed: Vec<&GroupOutcome> = groups.iter().filter(|o| o.finished_badly()).collect();
    match end.wait {
        Some(WaitEnd::Interrupted(why)) => verdict(
            Outcome::Interrupted,
            ExitStatus::for_signal(why),
            Some(format!("{why}: stopped waiting{}", cancel_note(end.canceled, end.cancel))),
        ),
        Some(WaitEnd::TimedOut) => verdict(
            Outcome::TimedOut,
            ExitStatus::Timeout,
            Some(format!(
                "timed out after {} s waiting for training jobs{}",
                end.timeout.as_secs(),
                cancel_note(end.canceled, end.cancel)
            )),
        ),
        _ if !refused.is_empty() => verdict(
            Outcome::Failed,
            // The first refusal decides whose fault it is (e.g. 2 for a request Azure rejected as invalid).
            refused[0].error_exit.unwrap_or(ExitStatus::Azure),
            Some(format!(
                "submission failed for {} of {} group(s): {}; each group's full error is in the report",
                refused.len(),
                groups.len(),
                refused
                    .iter()
                    .map(|o| match &o.error_brief {
                        Some(brief) => format!("{} ({brief})", o.candidate.group),
                        None => o.candidate.group.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ),
        _ if !policy_failed.is_empty() => verdict(
            Outcome::Failed,
            ExitStatus::Failed,
            Some(format!(
                "retrainPolicy: the data's schema changed for {} group(s) and onSchemaChange is fail: {}",
                policy_failed.len(),
                policy_failed.join(", ")
            )),
        ),
        _ if !failed.is_empty() => verdict(
            Outcome::Failed,
            ExitStatus::Failed,
            Some(format!(
                "{} training job(s) did not complete: {}",
                failed.len(),
                failed
                    .iter()
                    .map(|o| format!(
                        "{} {} {}",
                        o.candidate.group,
                        o.job_id.as_deref().unwrap_or(""),
                        o.watch.as_ref().and_then(|w| w.status.as_ref()).map(JobStatus::as_str).unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        ),
        // Not waited for: either --no-wait, or nothing to watch because every group is up to date.
        None if groups.iter().all(|o| o.watch.is_none()) => verdict(Outcome::UpToDate, ExitStatus::Success, None),
        None => verdict(Outcome::Submitted, ExitStatus::Success, None),
        Some(WaitEnd::AllTerminal) => verdict(Outcome::Completed, ExitStatus::Success, None),
    }
}

fn cancel_note(canceled: &[String], cancel: bool) -> String {
    if !cancel {
        "; unfinished jobs keep running (set cancelOnTimeout: true or --cancel-on-timeout to cancel them)".into()
    } else if canceled.is_empty() {
        String::new()
    } else {
        format!("; cancel requested for {}", canceled.join(", "))
    }
}

/// `details` of a retrainer report (docs/report.md, "Retrainer details").
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrainerDetails {
    pub target_version: String,
    pub target_source: TargetSource,
    pub scan: ScanDetails,
    pub groups: Vec<GroupDetails>,
    /// `None` when drift did not wait (plan, `--no-wait`, nothing in scope).
    pub canceled: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanDetails {
    pub jobs_seen: usize,
    pub jobs_in_scope: usize,
    pub pages: usize,
    /// Jobs left out, by stable code.
    pub excluded: BTreeMap<Exclusion, usize>,
    /// The sentence for each code in `excluded`.
    pub exclusion_reasons: BTreeMap<Exclusion, String>,
}

impl ScanDetails {
    pub fn of(selection: &Selection, pages: usize) -> ScanDetails {
        ScanDetails {
            jobs_seen: selection.seen,
            jobs_in_scope: selection.in_scope,
            pages,
            excluded: selection.excluded.clone(),
            exclusion_reasons: selection.exclusion_reasons(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDetails {
    pub group: String,
    pub action: GroupAction,
    pub reason_code: &'static str,
    pub reason: String,
    pub base_job: BaseJobDetails,
    /// `None` for groups with nothing submitted, adopted or watched (up to date).
    pub job: Option<JobDetails>,
    pub inputs: BTreeMap<String, InputDetails>,
    pub error: Option<String>,
    /// Present when a `retrainPolicy` decided for this group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyDetails>,
}

/// `policy` of a group (docs/report.md).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDetails {
    /// The registered versions after the one trained on, up to the target, oldest first.
    pub versions: Vec<String>,
    /// Rows inserted + updated + deleted over them; `null` when unknown.
    pub rows_changed: Option<u64>,
    pub rows_exact: bool,
    /// `true`, `false` or `unknown`.
    pub schema_changed: &'static str,
    pub model_age_seconds: Option<u64>,
    pub decision: PolicyDecision,
}

fn schema_flag(s: Option<bool>) -> &'static str {
    match s {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseJobDetails {
    pub id: String,
    pub display_name: String,
    pub status: Option<String>,
    pub studio_url: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDetails {
    pub id: String,
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub duration_seconds: Option<u64>,
    pub last_poll_error: Option<String>,
    pub studio_url: String,
}

#[derive(Debug, Serialize)]
pub struct InputDetails {
    pub asset: String,
    pub from: Option<String>,
    pub to: String,
}

/// Everything the report says besides the groups.
pub struct Summary<'a> {
    pub dry_run: bool,
    /// `(input name, asset name)` of each configured binding.
    pub inputs: &'a [(String, String)],
    pub target: &'a str,
    pub target_source: TargetSource,
    pub scan: ScanDetails,
    /// The studio link of a job id.
    pub studio_url: &'a dyn Fn(&str) -> String,
}

/// The report of a scan that found no job in scope (exit 1: nothing can be retrained).
pub fn no_jobs_report(summary: Summary<'_>, explanation: &str) -> Result<Report, Error> {
    let message = format!("no training job in scope: {explanation}");
    let verdict = Verdict { outcome: Outcome::NoJobs, status: ExitStatus::Failed, message: Some(message.clone()) };
    let mut report = build_report(&[], summary, verdict, None)?;
    report.text = vec![message];
    Ok(report)
}

/// The report: details from the groups, the verdict, and the text summary.
pub fn build_report(
    groups: &[GroupOutcome],
    summary: Summary<'_>,
    verdict: Verdict,
    canceled: Option<Vec<String>>,
) -> Result<Report, Error> {
    let Summary { dry_run, inputs, target, target_source, scan, studio_url } = summary;
    let mut report = Report::new(if dry_run { CommandName::Plan } else { CommandName::Run }, verdict.outcome);
    report.pipeline = Some(PipelineName::Retrainer);
    report.exit = verdict.status;
    report.error = verdict.message;
    let details = RetrainerDetails {
        target_version: target.to_string(),
        target_source,
        scan,
        groups: groups.iter().map(|o| group_details(o, inputs, target, studio_url)).collect(),
        canceled,
    };
    report.set_details(&details)?;
    report.text = text_summary(groups, &details, report.outcome, studio_url);
    Ok(report)
}

fn group_details(
    o: &GroupOutcome,
    inputs: &[(String, String)],
    target: &str,
    studio_url: &dyn Fn(&str) -> String,
) -> GroupDetails {
    let c = &o.candidate;
    let job = o.job_id.as_ref().map(|id| {
        let w = o.watch.as_ref();
        JobDetails {
            id: id.clone(),
            display_name: o.display_name.clone(),
            status: w.and_then(|w| w.status.as_ref()).map(|s| s.as_str().to_string()),
            duration_seconds: w.and_then(Watched::duration).map(|d| d.as_secs()),
            last_poll_error: w.and_then(|w| w.last_error.clone()),
            studio_url: studio_url(id),
        }
    });
    GroupDetails {
        group: c.group.clone(),
        // A pending group was never reached (shutdown before its turn).
        action: o.action.unwrap_or(GroupAction::Skipped),
        reason_code: o.policy.as_ref().map_or_else(|| o.decision.code(), |p| p.outcome.reason.code()),
        reason: o.policy.as_ref().map_or_else(|| o.decision.reason(), |p| p.outcome.words.clone()),
        base_job: BaseJobDetails {
            id: c.job_name.clone(),
            display_name: c.display_name.clone(),
            status: c.status.as_ref().map(|s| s.as_str().to_string()),
            studio_url: studio_url(&c.job_name),
        },
        job,
        inputs: inputs
            .iter()
            .zip(&c.input_versions)
            .map(|((input, asset), from)| {
                (input.clone(), InputDetails { asset: asset.clone(), from: from.clone(), to: target.to_string() })
            })
            .collect(),
        error: o.error.clone(),
        policy: o.policy.as_ref().map(|p| PolicyDetails {
            versions: p.sum.versions.clone(),
            rows_changed: p.sum.rows,
            rows_exact: p.sum.exact,
            schema_changed: schema_flag(p.sum.schema_changed),
            model_age_seconds: p.age.map(|a| a.as_secs()),
            decision: p.outcome.decision,
        }),
    }
}

/// `--output text`: a line per group, its error (once) below it, the outcome last.
fn text_summary(
    groups: &[GroupOutcome],
    details: &RetrainerDetails,
    outcome: Outcome,
    studio_url: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut text =
        vec![format!("retrainer: target data version {} ({})", details.target_version, details.target_source.as_str())];
    for o in groups {
        let status = o.watch.as_ref().and_then(|w| w.status.as_ref()).map(JobStatus::as_str).unwrap_or("-");
        let duration =
            o.watch.as_ref().and_then(Watched::duration).map(|d| format!(" in {}", human(d))).unwrap_or_default();
        let job = o.job_id.as_deref().unwrap_or(&o.candidate.job_name);
        text.push(format!(
            "  {:<20} {:<13} {} {}{}  {}",
            o.candidate.group,
            o.action.unwrap_or(GroupAction::Skipped).as_str(),
            job,
            status,
            duration,
            studio_url(job)
        ));
        if let Some(p) = &o.policy {
            text.push(policy_line(o, p));
        }
        if let Some(e) = &o.error {
            text.push(format!("      error: {e}"));
        }
    }
    text.push(format!("outcome: {outcome}"));
    text
}

/// `      policy: 1 → 20261203101500 (2 versions), 40000 rows changed (exact), schema changed false, model age
/// 3d04h: retrain, rows_changed: …`
fn policy_line(o: &GroupOutcome, p: &GroupPolicy) -> String {
    let from = o.candidate.input_versions.first().cloned().flatten().unwrap_or_else(|| "?".into());
    let to = p.sum.versions.last().cloned().unwrap_or_else(|| "?".into());
    let rows = match p.sum.rows {
        Some(n) => format!("{n} rows changed ({})", if p.sum.exact { "exact" } else { "lower bound" }),
        None => "rows changed unknown".to_string(),
    };
    format!(
        "      policy: {from} → {to} ({} version{}), {rows}, schema changed {}, model age {}: {} ({}: {})",
        p.sum.versions.len(),
        if p.sum.versions.len() == 1 { "" } else { "s" },
        schema_flag(p.sum.schema_changed),
        p.age.map(super::policy::human_age).unwrap_or_else(|| "unknown".into()),
        match p.outcome.decision {
            PolicyDecision::Retrain => "retrain",
            PolicyDecision::Skip => "skip",
            PolicyDecision::Fail => "fail",
        },
        p.outcome.reason.code(),
        p.outcome.words
    )
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 { format!("{}h{:02}m", s / 3600, (s % 3600) / 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::retrainer::select::ResubmitReason;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn candidate(group: &str, versions: &[&str], status: JobStatus) -> Candidate {
        Candidate {
            group: group.into(),
            job_name: format!("{group}-base"),
            display_name: format!("{group}_20261101000000_a"),
            stamp: "20261101000000".into(),
            created_at: None,
            status: Some(status),
            input_versions: versions.iter().map(|v| Some(v.to_string())).collect(),
        }
    }

    fn planned() -> Vec<GroupOutcome> {
        plan_groups(
            vec![
                candidate("churn", &["1"], JobStatus::Completed),
                candidate("fraud", &["2"], JobStatus::Completed),
                candidate("promo", &["2"], JobStatus::Running),
            ],
            "2",
            false,
            t("2026-12-01T00:00:00Z"),
        )
    }

    fn end(wait: Option<&WaitEnd>) -> Ending<'_> {
        Ending { wait, cancel: false, canceled: &[], timeout: Duration::from_secs(60) }
    }

    fn submitted(o: &mut GroupOutcome, status: JobStatus) {
        o.action = Some(GroupAction::Submitted);
        o.job_id = Some(format!("drift-{}-x", o.candidate.group));
        o.watch = Some(Watched::new(o.job_id.clone().unwrap(), Some(status), t("2026-12-01T00:00:00Z")));
    }

    #[test]
    fn groups_are_planned_before_any_request() {
        let groups = planned();
        let actions: Vec<_> = groups.iter().map(|o| (o.candidate.group.as_str(), o.action)).collect();
        assert_eq!(
            actions,
            vec![("churn", None), ("fraud", Some(GroupAction::UpToDate)), ("promo", Some(GroupAction::Watching))]
        );
        assert_eq!(groups[0].decision, Decision::Resubmit(ResubmitReason::NewVersion));
        assert_eq!(groups[2].job_id.as_deref(), Some("promo-base"), "the running job is watched, not resubmitted");
        assert_eq!(groups[2].display_name.as_deref(), Some("promo_20261101000000_a"));
        assert!(groups[1].watch.is_none() && groups[1].job_id.is_none());
    }

    #[test]
    fn the_verdict_puts_signals_first_then_timeouts_then_refusals_then_failures() {
        let mut groups = planned();
        submitted(&mut groups[0], JobStatus::Failed);
        let failed = conclude(&groups, &end(Some(&WaitEnd::AllTerminal)));
        assert_eq!((failed.outcome, failed.status), (Outcome::Failed, ExitStatus::Failed));
        assert_eq!(failed.message.as_deref(), Some("1 training job(s) did not complete: churn drift-churn-x Failed"));

        let http_400 =
            Error::Usage("PUT …/jobs/drift-fraud-x failed: HTTP 400 Bad Request — UserError: bad input".into());
        groups[1].fail(&http_400, Some("HTTP 400 UserError".into()));
        let refused = conclude(&groups, &end(Some(&WaitEnd::AllTerminal)));
        assert_eq!((refused.outcome, refused.status), (Outcome::Failed, ExitStatus::Usage));
        let message = refused.message.unwrap();
        assert_eq!(
            message,
            "submission failed for 1 of 3 group(s): fraud (HTTP 400 UserError); each group's full error is in the report"
        );
        assert!(
            !message.contains("bad input") && !message.contains("jobs/"),
            "the error itself is said once, with its group"
        );

        let timed_out = conclude(&groups, &end(Some(&WaitEnd::TimedOut)));
        assert_eq!((timed_out.outcome, timed_out.status), (Outcome::TimedOut, ExitStatus::Timeout));
        assert!(timed_out.message.unwrap().contains("unfinished jobs keep running"));
        let canceled = ["drift-churn-x".to_string()];
        let asked = Ending { cancel: true, canceled: &canceled, ..end(Some(&WaitEnd::Interrupted("SIGTERM"))) };
        let interrupted = conclude(&groups, &asked);
        assert_eq!((interrupted.outcome, interrupted.status), (Outcome::Interrupted, ExitStatus::Terminated));
        assert_eq!(
            interrupted.message.as_deref(),
            Some("SIGTERM: stopped waiting; cancel requested for drift-churn-x")
        );
    }

    #[test]
    fn without_a_wait_the_verdict_is_submitted_or_up_to_date() {
        let mut groups = planned();
        assert_eq!(conclude(&groups[1..2], &end(None)).outcome, Outcome::UpToDate);
        submitted(&mut groups[0], JobStatus::Queued);
        assert_eq!(conclude(&groups, &end(None)).outcome, Outcome::Submitted);
        assert_eq!(conclude(&groups, &end(Some(&WaitEnd::AllTerminal))).outcome, Outcome::Completed);
    }

    #[test]
    fn the_report_names_each_group_error_once() {
        let mut groups = planned();
        submitted(&mut groups[0], JobStatus::Completed);
        if let Some(w) = groups[0].watch.as_mut() {
            w.finished = Some(t("2026-12-01T01:02:03Z"));
        }
        groups[1].decision = Decision::Resubmit(ResubmitReason::Forced);
        groups[1].fail(&Error::Usage("PUT …/jobs/drift-fraud-x failed: HTTP 400 Bad Request".into()), None);
        let summary = Summary {
            dry_run: false,
            inputs: &[("training_data".to_string(), "sales".to_string())],
            target: "2",
            target_source: TargetSource::Flag,
            scan: ScanDetails {
                jobs_seen: 5,
                jobs_in_scope: 3,
                pages: 1,
                excluded: BTreeMap::from([(Exclusion::OtherAsset, 2)]),
                exclusion_reasons: BTreeMap::from([(Exclusion::OtherAsset, "reads sales_v2".to_string())]),
            },
            studio_url: &|id: &str| format!("https://ml.azure.com/runs/{id}"),
        };
        let verdict = conclude(&groups, &end(Some(&WaitEnd::AllTerminal)));
        let report = build_report(&groups, summary, verdict, Some(Vec::new())).unwrap();
        let d = &report.details;
        assert_eq!(d["scan"]["excluded"], serde_json::json!({"other_asset": 2}));
        assert_eq!(d["scan"]["exclusionReasons"], serde_json::json!({"other_asset": "reads sales_v2"}));
        assert_eq!(d["targetSource"], "flag");
        let churn = &d["groups"][0];
        assert_eq!((churn["action"].as_str(), churn["reasonCode"].as_str()), (Some("submitted"), Some("new_version")));
        assert_eq!(churn["job"]["durationSeconds"], 3723);
        assert_eq!(churn["inputs"]["training_data"], serde_json::json!({"asset": "sales", "from": "1", "to": "2"}));
        let fraud = &d["groups"][1];
        assert_eq!((fraud["action"].as_str(), fraud["reasonCode"].as_str()), (Some("submit_failed"), Some("forced")));
        assert_eq!(d["groups"][2]["job"]["id"], "promo-base");
        assert_eq!(report.exit, ExitStatus::Usage);
        let text = report.text.join("\n");
        assert_eq!(text.matches("HTTP 400").count(), 1, "{text}");
        assert!(text.contains("churn") && text.contains("1h02m"), "{text}");
    }
}

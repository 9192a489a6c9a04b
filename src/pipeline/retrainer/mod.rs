//! The retrainer: find the newest training job of every model group that reads the configured data assets,
//! resubmit it on the target version, wait for all, report. Selection, naming and bodies are pure (`select`,
//! `body`, `assets`); this module is the I/O around them.

pub mod body;
pub mod select;
pub mod wait;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use self::select::{Binding, Candidate, Decision, NamePattern, ResubmitReason, Selection};
use self::wait::{WaitEnd, Watched};
use super::Session;
use crate::assets::{self, AssetScope, WorkspaceKey};
use crate::azure::ml::MlClient;
use crate::azure::ml::data::Written;
use crate::azure::ml::models::JobStatus;
use crate::config::{ConfigError, RetrainerParams};
use crate::error::{Error, ExitStatus};
use crate::output::Report;

/// Polling interval while following a cancel's `Location`.
const CANCEL_POLL: Duration = Duration::from_secs(2);

/// Longest time spent cancelling unfinished jobs (after a timeout or a signal) before giving up on the answers:
/// the cancels themselves are sent at once; this bounds following their `Location`s. Orchestrators give a
/// terminated task a grace period of tens of seconds (Kubernetes: 30 s by default).
const CANCEL_DEADLINE: Duration = Duration::from_secs(20);

/// What drift did (or, for plan, would do) for one group; the report's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Decided to resubmit; not yet done.
    Pending,
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
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Pending => "pending",
            Action::Submitted => "submitted",
            Action::Adopted => "adopted",
            Action::UpToDate => "up_to_date",
            Action::Watching => "watching",
            Action::WouldSubmit => "would_submit",
            Action::WouldAdopt => "would_adopt",
            Action::SubmitFailed => "submit_failed",
            Action::Skipped => "skipped",
        }
    }
}

/// What happened to one group.
#[derive(Debug, Clone)]
struct GroupOutcome {
    candidate: Candidate,
    decision: Decision,
    action: Action,
    job_id: Option<String>,
    display_name: Option<String>,
    error: Option<String>,
    error_exit: Option<ExitStatus>,
    watch: Option<Watched>,
}

pub async fn run(session: &Session, params: &RetrainerParams) -> Result<Report, Error> {
    let config = &session.config;
    let ml = MlClient::new(
        session.http.clone(),
        session.credential.clone(),
        &session.endpoints,
        &config.workspace,
        &config.api_version,
    );
    let bindings = bindings(params, &config.origin)?;
    let (target, target_source) = match &session.options.data_asset_version {
        Some(v) => {
            require_version(&ml, &bindings, v).await?;
            (v.clone(), "flag")
        }
        None => (latest_common_version(&ml, &bindings).await?, "latest"),
    };
    tracing::info!(target: "drift::retrainer", version = %target, source = target_source, "target data version");

    let ws = &config.workspace;
    let here = WorkspaceKey::new(&ws.subscription_id, &ws.resource_group, &ws.workspace_name);
    let mut selection =
        Selection::new(NamePattern::new(session.options.model_name_prefixes.clone()), bindings.clone(), here);
    let scan_started = Instant::now();
    let mut pager = ml.list_pipeline_jobs()?;
    loop {
        // A signal aborts the page request itself (the session's HTTP client is bound to the shutdown).
        let Some(jobs) = pager.next_page().await? else { break };
        for job in &jobs {
            selection.offer(job);
        }
    }
    tracing::info!(
        target: "drift::retrainer",
        pages = pager.pages(),
        ms = scan_started.elapsed().as_millis() as u64,
        "{}",
        selection.explain()
    );
    let mut report = Report::new(if session.options.dry_run { "plan" } else { "run" }, "");
    report.pipeline = Some("retrainer".into());
    let scan = json!({
        "jobsSeen": selection.seen,
        "jobsInScope": selection.in_scope,
        "pages": pager.pages(),
        "excluded": selection.excluded,
    });
    let candidates = selection.newest_per_group();
    if candidates.is_empty() {
        let message = format!("no training job in scope: {}", selection.explain());
        report.outcome = "no_jobs".into();
        report.exit_code = ExitStatus::Failed.code();
        report.error = Some(message.clone());
        report.details = json!({"targetVersion": target, "targetSource": target_source, "scan": scan, "groups": []});
        report.text = vec![message];
        return Ok(report);
    }

    let mut outcomes: Vec<GroupOutcome> = candidates
        .into_iter()
        .map(|candidate| {
            let decision = select::decide(&candidate, &target, session.options.force);
            let (action, watch) = match &decision {
                Decision::UpToDate => (Action::UpToDate, None),
                Decision::WatchExisting => {
                    (Action::Watching, Some(Watched::new(candidate.job_name.clone(), candidate.status.clone())))
                }
                Decision::Resubmit(_) => (Action::Pending, None),
            };
            let job_id = matches!(decision, Decision::WatchExisting).then(|| candidate.job_name.clone());
            GroupOutcome {
                display_name: job_id.as_ref().map(|_| candidate.display_name.clone()),
                candidate,
                decision,
                action,
                job_id,
                error: None,
                error_exit: None,
                watch,
            }
        })
        .collect();

    // Submit (or, for plan, look up) every group that needs a new job, a bounded number at a time.
    let concurrency = params.max_concurrency.max(1);
    let input_names: Vec<(String, String)> =
        bindings.iter().map(|b| (b.input_name.clone(), b.asset.name.clone())).collect();
    let ctx = SubmitCtx { ml: &ml, session, target: &target, inputs: &input_names };
    let pending: Vec<usize> =
        outcomes.iter().enumerate().filter(|(_, o)| o.action == Action::Pending).map(|(i, _)| i).collect();
    let results: Vec<(usize, GroupOutcome)> = futures_util::stream::iter(pending)
        .map(|i| {
            let outcome = outcomes[i].clone();
            let ctx = &ctx;
            async move { (i, submit(ctx, outcome).await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (i, outcome) in results {
        outcomes[i] = outcome;
    }

    if session.options.dry_run {
        report.outcome = "planned".into();
        finish_report(
            &mut report,
            &outcomes,
            Summary { ml: &ml, inputs: &input_names, target: &target, target_source, scan, canceled: None },
        );
        return Ok(report);
    }

    let mut watched: Vec<(usize, Watched)> =
        outcomes.iter().enumerate().filter_map(|(i, o)| o.watch.clone().map(|w| (i, w))).collect();
    // A signal during the scan or the submissions already stopped every request; report it as an interruption
    // (not as failed submissions) and, if asked, cancel what did get submitted.
    let end = if let Some(why) = session.shutdown.requested() {
        Some(WaitEnd::Interrupted(why))
    } else if session.options.no_wait || watched.is_empty() {
        None
    } else {
        let mut jobs: Vec<Watched> = watched.iter().map(|(_, w)| w.clone()).collect();
        let bar = session.options.interactive.then(|| wait::progress_bar(jobs.len()));
        let show = |jobs: &[Watched]| {
            if let Some(bar) = &bar {
                wait::show_progress(bar, jobs);
            }
        };
        let end =
            wait::wait_all(&ml, &mut jobs, params.refresh_delay, params.refresh_timeout, &session.shutdown, &show)
                .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        for ((_, w), updated) in watched.iter_mut().zip(jobs) {
            *w = updated;
        }
        Some(end)
    };
    let cancel = session.options.cancel_on_timeout || params.cancel_on_timeout;
    let mut canceled = Vec::new();
    if cancel && matches!(end, Some(WaitEnd::TimedOut | WaitEnd::Interrupted(_))) {
        // After a signal the session's requests refuse to start, so the cancels go out on a detached client,
        // bounded by their own deadline; a second signal ends the process at once anyway.
        let detached = ml.detached();
        let cancels = cancel_unfinished(&detached, &watched);
        canceled = tokio::time::timeout(CANCEL_DEADLINE, cancels).await.unwrap_or_else(|_| {
            tracing::error!(
                target: "drift::retrainer",
                "cancel requests still unanswered after {} s; giving up on them",
                CANCEL_DEADLINE.as_secs()
            );
            Vec::new()
        });
    }
    let watched_any = !watched.is_empty();
    for (i, w) in watched {
        outcomes[i].watch = Some(w);
    }

    let failed: Vec<&GroupOutcome> = outcomes
        .iter()
        .filter(|o| {
            o.watch.as_ref().is_some_and(|w| w.is_terminal() && !w.status.as_ref().is_some_and(JobStatus::is_success))
        })
        .collect();
    let submit_errors: Vec<&GroupOutcome> = outcomes.iter().filter(|o| o.error_exit.is_some()).collect();
    let (outcome, status, message) = match &end {
        Some(WaitEnd::Interrupted(why)) => (
            "interrupted",
            ExitStatus::for_signal(why),
            Some(format!("{why}: stopped waiting{}", cancel_note(&canceled, cancel))),
        ),
        Some(WaitEnd::TimedOut) => (
            "timed_out",
            ExitStatus::Timeout,
            Some(format!(
                "timed out after {} s waiting for training jobs{}",
                params.refresh_timeout.as_secs(),
                cancel_note(&canceled, cancel)
            )),
        ),
        _ if !submit_errors.is_empty() => (
            "failed",
            submit_errors[0].error_exit.unwrap_or(ExitStatus::Azure),
            Some(format!(
                "{} group(s) could not be submitted: {}",
                submit_errors.len(),
                submit_errors
                    .iter()
                    .map(|o| format!("{}: {}", o.candidate.group, o.error.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        ),
        _ if !failed.is_empty() => (
            "failed",
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
        None if !watched_any => ("up_to_date", ExitStatus::Success, None),
        None => ("submitted", ExitStatus::Success, None),
        Some(WaitEnd::AllTerminal) => ("completed", ExitStatus::Success, None),
    };
    report.outcome = outcome.into();
    report.exit_code = status.code();
    report.error = message;
    let canceled = end.as_ref().map(|_| canceled);
    finish_report(
        &mut report,
        &outcomes,
        Summary { ml: &ml, inputs: &input_names, target: &target, target_source, scan, canceled },
    );
    Ok(report)
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

/// The configured `dataAssets`, parsed; a value that is not an asset reference is a config error.
fn bindings(params: &RetrainerParams, origin: &str) -> Result<Vec<Binding>, Error> {
    params
        .data_assets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let asset =
                assets::parse(&b.asset).filter(|a| matches!(a.scope, AssetScope::Workspace(_))).ok_or_else(|| {
                    ConfigError {
                        file: origin.to_string(),
                        key: Some(format!("Processing.parameters.dataAssets[{i}].value")),
                        message: format!(
                            "{:?} is not a workspace data asset; write its name (sales), azureml:sales, or its ARM id",
                            b.asset
                        ),
                        also: Vec::new(),
                    }
                })?;
            Ok(Binding { input_name: b.input_name.clone(), asset })
        })
        .collect()
}

/// The newest version every configured asset has in common; they must agree (the registrator writes them
/// together), otherwise retraining on one of them would mix data states.
/// The target version must exist for every configured asset before anything is planned or submitted: a
/// resubmission reading a missing version would be rejected per group by the service (or, worse, queued and
/// failed), and `plan` would promise work that cannot happen.
async fn require_version(ml: &MlClient, bindings: &[Binding], version: &str) -> Result<(), Error> {
    let mut names: Vec<&str> = bindings.iter().map(|b| b.asset.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut missing = Vec::new();
    for name in names {
        if ml.get_data_version(name, version).await?.is_none() {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "--data_asset_version {version}: no such version of data asset {} in workspace {}; check the value the \
         registrator published, or leave the flag out to use the assets' latest version",
        missing.join(", "),
        ml.workspace().workspace_name
    )))
}

async fn latest_common_version(ml: &MlClient, bindings: &[Binding]) -> Result<String, Error> {
    let mut names: Vec<&str> = bindings.iter().map(|b| b.asset.name.as_str()).collect();
    names.dedup();
    let mut found: Vec<(String, String)> = Vec::new();
    for name in names {
        match ml.latest_data_version(name).await? {
            Some(v) => found.push((name.to_string(), v.name)),
            None => {
                return Err(Error::Usage(format!(
                    "data asset {name} has no versions in workspace {}; register it first or pass --data_asset_version",
                    ml.workspace().workspace_name
                )));
            }
        }
    }
    let first = found[0].1.clone();
    if found.iter().any(|(_, v)| *v != first) {
        let listing: Vec<String> = found.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        return Err(Error::Usage(format!(
            "the configured data assets disagree on their latest version ({}); pass --data_asset_version",
            listing.join(", ")
        )));
    }
    Ok(first)
}

struct SubmitCtx<'a> {
    ml: &'a MlClient,
    session: &'a Session,
    target: &'a str,
    inputs: &'a [(String, String)],
}

/// Submits one group's new job, or adopts the one a previous run already created under the same id.
async fn submit(ctx: &SubmitCtx<'_>, mut outcome: GroupOutcome) -> GroupOutcome {
    let c = &outcome.candidate;
    let id = body::job_id(&c.group, &c.job_name, ctx.target);
    outcome.job_id = Some(id.clone());
    if ctx.session.shutdown.requested().is_some() {
        outcome.action = Action::Skipped;
        return outcome;
    }
    match submit_inner(ctx, &id, &c.group, &c.job_name).await {
        Ok((action, display_name, status)) => {
            outcome.action = action;
            outcome.display_name = display_name;
            if !ctx.session.options.dry_run {
                outcome.watch = Some(Watched::new(id, status));
            }
        }
        Err(e) => {
            tracing::error!(target: "drift::retrainer", group = %c.group, "submission failed: {e}");
            outcome.action = Action::SubmitFailed;
            outcome.error_exit = Some(e.exit_status());
            outcome.error = Some(e.to_string());
        }
    }
    outcome
}

async fn submit_inner(
    ctx: &SubmitCtx<'_>,
    id: &str,
    group: &str,
    base_job: &str,
) -> Result<(Action, Option<String>, Option<JobStatus>), Error> {
    if let Some(existing) = ctx.ml.get_job(id).await? {
        let action = if ctx.session.options.dry_run { Action::WouldAdopt } else { Action::Adopted };
        tracing::info!(target: "drift::retrainer", group, job = id, "{}: the job for this version already exists", action.as_str());
        return Ok((action, existing.display_name().map(str::to_string), existing.status()));
    }
    if ctx.session.options.dry_run {
        return Ok((Action::WouldSubmit, None, None));
    }
    let base = ctx
        .ml
        .get_job(base_job)
        .await?
        .ok_or_else(|| Error::Failed(format!("base job {base_job} disappeared before it could be copied")))?;
    // A pure function of (group, base job, target): a concurrent run that PUTs the same id sends the identical
    // body, so its PUT changes nothing and both reports name the job as it is.
    let display_name = body::resubmission_display_name(group, &base.0, ctx.target, id);
    let inputs: Vec<(&str, &str)> = ctx.inputs.iter().map(|(i, a)| (i.as_str(), a.as_str())).collect();
    let change = body::Resubmission {
        workspace: ctx.ml.workspace(),
        inputs,
        target: ctx.target,
        display_name: &display_name,
        base_job,
    };
    let new_body =
        body::build_body(&base.0, &change).map_err(|m| Error::Failed(format!("base job {base_job}: {m}")))?;
    let (written, job) = ctx.ml.put_job(id, &new_body).await?;
    let action = match written {
        Written::Created => Action::Submitted,
        // The id existed after all (a concurrent run won the race): same job, adopt it.
        Written::Updated => Action::Adopted,
    };
    tracing::info!(target: "drift::retrainer", group, job = id, display_name = %display_name, "{}", action.as_str());
    Ok((action, Some(display_name), job.status()))
}

/// Requests cancellation of every unfinished job; returns the ids asked.
async fn cancel_unfinished(ml: &MlClient, watched: &[(usize, Watched)]) -> Vec<String> {
    let ids: Vec<String> = watched.iter().filter(|(_, w)| !w.is_terminal()).map(|(_, w)| w.job_id.clone()).collect();
    let results: Vec<(String, Result<_, Error>)> = futures_util::stream::iter(ids)
        .map(|id| async move {
            let r = ml.cancel_job(&id, CANCEL_POLL).await;
            (id, r)
        })
        .buffer_unordered(wait::MAX_CONCURRENT_POLLS)
        .collect()
        .await;
    let mut asked = Vec::new();
    for (id, r) in results {
        match r {
            Ok(_) => {
                tracing::warn!(target: "drift::retrainer", job = %id, "cancel requested");
                asked.push(id);
            }
            Err(e) => tracing::error!(target: "drift::retrainer", job = %id, "cancel failed: {e}"),
        }
    }
    asked.sort();
    asked
}

/// What the report says besides the per-group outcomes.
struct Summary<'a> {
    ml: &'a MlClient,
    inputs: &'a [(String, String)],
    target: &'a str,
    target_source: &'a str,
    scan: Value,
    canceled: Option<Vec<String>>,
}

fn finish_report(report: &mut Report, outcomes: &[GroupOutcome], summary: Summary<'_>) {
    let Summary { ml, inputs, target, target_source, scan, canceled } = summary;
    let groups: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let c = &o.candidate;
            let job = o.job_id.as_ref().map(|id| {
                let w = o.watch.as_ref();
                json!({
                    "id": id,
                    "displayName": o.display_name,
                    "status": w.and_then(|w| w.status.as_ref()).map(JobStatus::as_str),
                    "durationSeconds": w.and_then(|w| w.finished.map(|f| f.duration_since(w.since).as_secs())),
                    "lastPollError": w.and_then(|w| w.last_error.clone()),
                    "studioUrl": ml.studio_job_url(id),
                })
            });
            let reason = match &o.decision {
                Decision::UpToDate => "already on the target version and completed".to_string(),
                Decision::WatchExisting => "already on the target version and still running".to_string(),
                Decision::Resubmit(ResubmitReason::NewVersion) => "reads an older version".to_string(),
                Decision::Resubmit(ResubmitReason::Forced) => "--force".to_string(),
                Decision::Resubmit(ResubmitReason::PreviousFailed(s)) => {
                    format!("already on the target version but ended {s}; retrying")
                }
            };
            let inputs = report_inputs(c, inputs, target);
            json!({
                "group": c.group,
                "action": o.action.as_str(),
                "reason": reason,
                "baseJob": {"id": c.job_name, "displayName": c.display_name, "status": c.status.as_ref().map(JobStatus::as_str), "studioUrl": ml.studio_job_url(&c.job_name)},
                "job": job,
                "inputs": inputs,
                "error": o.error,
            })
        })
        .collect();
    report.details = json!({
        "targetVersion": target,
        "targetSource": target_source,
        "scan": scan,
        "groups": groups,
        "canceled": canceled,
    });
    let mut text = vec![format!("retrainer: target data version {target} ({target_source})")];
    for o in outcomes {
        let status = o.watch.as_ref().and_then(|w| w.status.as_ref()).map(JobStatus::as_str).unwrap_or("-");
        let duration = o
            .watch
            .as_ref()
            .and_then(|w| w.finished.map(|f| f.duration_since(w.since)))
            .map(|d| format!(" in {}", human(d)))
            .unwrap_or_default();
        let job = o.job_id.as_deref().unwrap_or(&o.candidate.job_name);
        text.push(format!(
            "  {:<20} {:<13} {} {}{}  {}",
            o.candidate.group,
            o.action.as_str(),
            job,
            status,
            duration,
            ml.studio_job_url(job)
        ));
        if let Some(e) = &o.error {
            text.push(format!("      error: {e}"));
        }
    }
    text.push(format!("outcome: {}", report.outcome));
    report.text = text;
}

/// For each configured input: the asset, the version the base job reads, and the version the new job reads.
fn report_inputs(c: &Candidate, inputs: &[(String, String)], target: &str) -> serde_json::Map<String, Value> {
    inputs
        .iter()
        .zip(&c.input_versions)
        .map(|((input, asset), from)| (input.clone(), json!({"asset": asset, "from": from, "to": target})))
        .collect()
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 { format!("{}h{:02}m", s / 3600, (s % 3600) / 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

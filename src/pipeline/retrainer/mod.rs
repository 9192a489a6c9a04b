//! The retrainer: find the newest training job of every model group that reads the configured data assets,
//! resubmit it on the target version, wait for all, report. Selection, naming, bodies, the per-group plan, the
//! verdict and the report are pure (`select`, `body`, `report`, `assets`); this module is the I/O around them.

pub mod body;
pub mod policy;
pub mod report;
pub mod select;
pub mod wait;

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use chrono::{DateTime, Utc};

use self::policy::{PolicyDecision, RegisteredVersion};
use self::report::{Ending, GroupAction, GroupOutcome, GroupPolicy, ScanDetails, Summary, TargetSource, Verdict};
use self::select::{Binding, Candidate, Decision, NamePattern, ResubmitReason, Selection};
use self::wait::{WaitEnd, Watched};
use super::Session;
use crate::assets::{self, AssetScope, WorkspaceKey};
use crate::azure::ml::MlClient;
use crate::azure::ml::data::Written;
use crate::azure::ml::models::JobStatus;
use crate::config::{ConfigError, RetrainPolicy, RetrainerParams};
use crate::error::{Error, ExitStatus};
use crate::http::HttpErrorKind;
use crate::output::{Outcome, Report};

/// Polling interval while following a cancel's `Location`.
const CANCEL_POLL: Duration = Duration::from_secs(2);

/// Longest time spent cancelling unfinished jobs (after a timeout or a signal) before giving up on the answers:
/// the cancels themselves are sent at once; this bounds following their `Location`s. Orchestrators give a
/// terminated task a grace period of tens of seconds (Kubernetes: 30 s by default).
const CANCEL_DEADLINE: Duration = Duration::from_secs(20);

/// The run, phase by phase: target version, scan, plan (pure), submissions, wait, cancels, verdict (pure), report.
pub async fn run(session: &Session, params: &RetrainerParams) -> Result<Report, Error> {
    let config = &session.config;
    let ml = session.ml_client();
    let bindings = bindings(params, &config.origin)?;
    let (target, target_source) = target_version(&ml, &bindings, session.options.data_asset_version.as_deref()).await?;
    let (selection, pages) = scan(&ml, session, bindings.clone()).await?;
    let inputs: Vec<(String, String)> = bindings.iter().map(|b| (b.input_name.clone(), b.asset.name.clone())).collect();
    let studio_url = |id: &str| ml.studio_job_url(id);
    let summary = Summary {
        dry_run: session.options.dry_run,
        inputs: &inputs,
        target: &target,
        target_source,
        scan: ScanDetails::of(&selection, pages),
        studio_url: &studio_url,
    };
    let candidates = selection.newest_per_group();
    if candidates.is_empty() {
        return report::no_jobs_report(summary, &selection.explain());
    }

    let mut groups = report::plan_groups(candidates, &target, session.options.force, session.clock.now());
    if let Some(policy) = &params.retrain_policy {
        apply_policy(&ml, session, policy, &bindings, &target, &mut groups).await?;
    }
    let ctx = SubmitCtx { ml: &ml, session, target: &target, inputs: &inputs };
    submit_all(&ctx, params.max_concurrency.max(1), &mut groups).await;
    if session.options.dry_run {
        let planned = Verdict { outcome: Outcome::Planned, status: ExitStatus::Success, message: None };
        return report::build_report(&groups, summary, planned, None);
    }

    let end = wait_for(&ml, session, params, &mut groups).await;
    let cancel = session.options.cancel_on_timeout || params.cancel_on_timeout;
    let canceled = match &end {
        Some(WaitEnd::TimedOut | WaitEnd::Interrupted(_)) if cancel => cancel_unfinished(&ml, &groups).await,
        _ => Vec::new(),
    };
    let verdict = report::conclude(
        &groups,
        &Ending { wait: end.as_ref(), cancel, canceled: &canceled, timeout: params.refresh_timeout },
    );
    report::build_report(&groups, summary, verdict, end.as_ref().map(|_| canceled))
}

/// The version to retrain on: the flag's (which must exist for every asset), else the assets' common latest.
async fn target_version(
    ml: &MlClient,
    bindings: &[Binding],
    flag: Option<&str>,
) -> Result<(String, TargetSource), Error> {
    let (target, source) = match flag {
        Some(v) => {
            require_version(ml, bindings, v).await?;
            (v.to_string(), TargetSource::Flag)
        }
        None => (latest_common_version(ml, bindings).await?, TargetSource::Latest),
    };
    tracing::info!(target: "drift::retrainer", version = %target, source = source.as_str(), "target data version");
    Ok((target, source))
}

/// Streams the pipeline-job list through the selection; returns it with the number of pages read.
async fn scan(ml: &MlClient, session: &Session, bindings: Vec<Binding>) -> Result<(Selection, usize), Error> {
    scan_with(ml, session, bindings, |_, _| {}).await
}

/// [`scan`], showing `see` every in-scope job with its candidate as the pages stream in (`history`).
pub(crate) async fn scan_with(
    ml: &MlClient,
    session: &Session,
    bindings: Vec<Binding>,
    mut see: impl FnMut(&Candidate, &crate::azure::ml::models::JobSummary),
) -> Result<(Selection, usize), Error> {
    let ws = &session.config.workspace;
    let here = WorkspaceKey::new(&ws.subscription_id, &ws.resource_group, &ws.workspace_name);
    let mut selection = Selection::new(NamePattern::new(session.options.model_name_prefixes.clone()), bindings, here);
    let started = Instant::now();
    let mut pager = ml.list_pipeline_jobs()?;
    // A signal aborts the page request itself (the session's HTTP client is bound to the shutdown).
    while let Some(jobs) = pager.next_page().await? {
        for job in &jobs {
            selection.offer_with(job, |candidate| see(candidate, job));
        }
    }
    tracing::info!(
        target: "drift::retrainer",
        pages = pager.pages(),
        ms = started.elapsed().as_millis() as u64,
        "{}",
        selection.explain()
    );
    Ok((selection, pager.pages()))
}

/// Decides, with `retrainPolicy`, each group that would be resubmitted because its data moved on: one paged list of
/// the first configured asset's versions (the registrator tags both of its assets alike), then the pure
/// `policy::decide`. Skipped and failed groups are no longer pending; the others are submitted as before. `--force`
/// retrains regardless of the policy.
async fn apply_policy(
    ml: &MlClient,
    session: &Session,
    policy: &RetrainPolicy,
    bindings: &[Binding],
    target: &str,
    groups: &mut [GroupOutcome],
) -> Result<(), Error> {
    let applies = |o: &GroupOutcome| o.is_pending() && o.decision == Decision::Resubmit(ResubmitReason::NewVersion);
    let Some(asset) = bindings.first().map(|b| b.asset.name.as_str()) else { return Ok(()) };
    if session.options.force || !groups.iter().any(applies) {
        return Ok(());
    }
    let mut registered = Vec::new();
    let mut pager = ml.list_data_versions(asset)?;
    while let Some(page) = pager.next_page().await? {
        registered.extend(page.into_iter().map(|v| RegisteredVersion { name: v.name, tags: v.properties.tags }));
    }
    tracing::debug!(target: "drift::retrainer", asset, versions = registered.len(), pages = pager.pages(), "listed the data versions");
    let now = session.clock.now();
    for o in groups.iter_mut().filter(|o| applies(o)) {
        let trained = o.candidate.input_versions.first().cloned().flatten();
        let sum = policy::sum_changes(&registered, trained.as_deref(), target);
        let age = training_time(&o.candidate).and_then(|t| (now - t).to_std().ok());
        let outcome = policy::decide(policy, &sum, age);
        tracing::info!(
            target: "drift::retrainer",
            group = %o.candidate.group,
            decision = ?outcome.decision,
            reason = outcome.reason.code(),
            "{}",
            outcome.words
        );
        o.action = match outcome.decision {
            PolicyDecision::Retrain => None,
            PolicyDecision::Skip => Some(GroupAction::SkippedByPolicy),
            PolicyDecision::Fail => Some(GroupAction::PolicyFailed),
        };
        o.policy = Some(GroupPolicy { sum, age, outcome });
    }
    Ok(())
}

/// When the group's newest job was created: its `createdAt`, else its display name's `YYYYmmddHHMMSS` read as UTC.
fn training_time(c: &Candidate) -> Option<DateTime<Utc>> {
    c.created_at
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| chrono::NaiveDateTime::parse_from_str(&c.stamp, "%Y%m%d%H%M%S").ok().map(|t| t.and_utc()))
}

/// Submits (or, for plan, looks up) every pending group, `concurrency` at a time.
async fn submit_all(ctx: &SubmitCtx<'_>, concurrency: usize, groups: &mut [GroupOutcome]) {
    let pending: Vec<usize> = groups.iter().enumerate().filter(|(_, o)| o.is_pending()).map(|(i, _)| i).collect();
    let results: Vec<(usize, GroupOutcome)> = futures_util::stream::iter(pending)
        .map(|i| {
            let outcome = groups[i].clone();
            async move { (i, submit(ctx, outcome).await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (i, outcome) in results {
        groups[i] = outcome;
    }
}

/// Waits for every watched job unless told not to; `None` when it did not wait (`--no-wait`, nothing to watch).
/// A signal during the scan or the submissions already stopped every request: that is an interruption, not a
/// set of failed submissions.
async fn wait_for(
    ml: &MlClient,
    session: &Session,
    params: &RetrainerParams,
    groups: &mut [GroupOutcome],
) -> Option<WaitEnd> {
    if let Some(why) = session.shutdown.requested() {
        return Some(WaitEnd::Interrupted(why));
    }
    let watched: Vec<usize> = groups.iter().enumerate().filter(|(_, o)| o.watch.is_some()).map(|(i, _)| i).collect();
    if session.options.no_wait || watched.is_empty() {
        return None;
    }
    let mut jobs: Vec<Watched> = watched.iter().filter_map(|&i| groups[i].watch.clone()).collect();
    let bar = session.options.interactive.then(|| wait::progress_bar(jobs.len()));
    let show = |jobs: &[Watched]| {
        if let Some(bar) = &bar {
            wait::show_progress(bar, jobs);
        }
    };
    let end = wait::wait_all(
        ml,
        &session.clock,
        &mut jobs,
        params.refresh_delay,
        params.refresh_timeout,
        &session.shutdown,
        &show,
    )
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    for (i, job) in watched.into_iter().zip(jobs) {
        groups[i].watch = Some(job);
    }
    Some(end)
}

/// The configured `dataAssets`, parsed; a value that is not an asset reference is a config error.
pub(crate) fn bindings(params: &RetrainerParams, origin: &str) -> Result<Vec<Binding>, Error> {
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

/// What kind of failure an HTTP error was, in a few words for the closing summary: the status and Azure's code
/// (`HTTP 400 UserError`), or what became of the connection (`timed out`).
fn brief(e: &Error) -> Option<String> {
    let h = e.http_cause()?;
    let parts: Vec<String> = [h.status.map(|s| format!("HTTP {s}")), h.code.clone()].into_iter().flatten().collect();
    if !parts.is_empty() {
        return Some(parts.join(" "));
    }
    let kind = match h.kind {
        HttpErrorKind::Timeout => "timed out",
        HttpErrorKind::Connect => "no connection",
        HttpErrorKind::Transport => "connection broken",
        HttpErrorKind::Decode => "unreadable answer",
        HttpErrorKind::TooLarge => "answer too large",
        HttpErrorKind::Request => "request refused",
        HttpErrorKind::Interrupted => "interrupted",
        HttpErrorKind::Credential => "no credential",
        HttpErrorKind::Status => return None,
    };
    Some(kind.to_string())
}

/// Submits one group's new job, or adopts the one a previous run already created under the same id.
async fn submit(ctx: &SubmitCtx<'_>, mut outcome: GroupOutcome) -> GroupOutcome {
    let c = &outcome.candidate;
    let id = body::job_id(&c.group, &c.job_name, ctx.target);
    outcome.job_id = Some(id.clone());
    if ctx.session.shutdown.requested().is_some() {
        outcome.action = Some(GroupAction::Skipped);
        return outcome;
    }
    match submit_inner(ctx, &id, &c.group, &c.job_name).await {
        Ok((action, display_name, status)) => {
            outcome.action = Some(action);
            outcome.display_name = display_name;
            if !ctx.session.options.dry_run {
                outcome.watch = Some(Watched::new(id, status, ctx.session.clock.now()));
            }
        }
        Err(e) => {
            // Said once, in the report (the group's `error`, named by resource, Azure's code and request id); the
            // log keeps the full URL for whoever turns on debug.
            tracing::debug!(
                target: "drift::retrainer",
                group = %c.group,
                job = %id,
                url = e.http_cause().map(|h| h.url.as_str()).unwrap_or(""),
                "submission failed: {}",
                e.chain()
            );
            outcome.fail(&e, brief(&e));
        }
    }
    outcome
}

async fn submit_inner(
    ctx: &SubmitCtx<'_>,
    id: &str,
    group: &str,
    base_job: &str,
) -> Result<(GroupAction, Option<String>, Option<JobStatus>), Error> {
    if let Some(existing) = ctx.ml.get_job(id).await? {
        let action = if ctx.session.options.dry_run { GroupAction::WouldAdopt } else { GroupAction::Adopted };
        tracing::info!(target: "drift::retrainer", group, job = id, "{}: the job for this version already exists", action.as_str());
        return Ok((action, existing.display_name().map(str::to_string), existing.status()));
    }
    if ctx.session.options.dry_run {
        return Ok((GroupAction::WouldSubmit, None, None));
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
        Written::Created => GroupAction::Submitted,
        // The id existed after all (a concurrent run won the race): same job, adopt it.
        Written::Updated => GroupAction::Adopted,
    };
    tracing::info!(target: "drift::retrainer", group, job = id, display_name = %display_name, "{}", action.as_str());
    Ok((action, Some(display_name), job.status()))
}

/// Requests cancellation of every unfinished job; returns the ids asked. After a signal the session's requests
/// refuse to start, so the cancels go out on a detached client, bounded by their own deadline; a second signal
/// ends the process at once anyway.
async fn cancel_unfinished(ml: &MlClient, groups: &[GroupOutcome]) -> Vec<String> {
    let detached = ml.detached();
    let ids: Vec<String> =
        groups.iter().filter_map(|o| o.watch.as_ref()).filter(|w| !w.is_terminal()).map(|w| w.job_id.clone()).collect();
    let cancels = futures_util::stream::iter(ids)
        .map(|id| {
            let detached = &detached;
            async move {
                let r = detached.cancel_job(&id, CANCEL_POLL).await;
                (id, r)
            }
        })
        .buffer_unordered(wait::MAX_CONCURRENT_POLLS)
        .collect::<Vec<(String, Result<_, Error>)>>();
    let Ok(results) = tokio::time::timeout(CANCEL_DEADLINE, cancels).await else {
        tracing::error!(
            target: "drift::retrainer",
            "cancel requests still unanswered after {} s; giving up on them",
            CANCEL_DEADLINE.as_secs()
        );
        return Vec::new();
    };
    let mut asked = Vec::new();
    for (id, r) in results {
        match r {
            Ok(_) => {
                tracing::warn!(target: "drift::retrainer", job = %id, "cancel requested");
                asked.push(id);
            }
            Err(e) => tracing::error!(target: "drift::retrainer", job = %id, "cancel failed: {}", e.chain()),
        }
    }
    asked.sort();
    asked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpError;

    #[test]
    fn the_closing_summary_names_each_http_failure_in_a_few_words() {
        let url = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/drift-churn-1?api-version=2025-12-01";
        let refused = HttpError {
            status: Some(400),
            code: Some("UserError".into()),
            ..HttpError::new("PUT", url, HttpErrorKind::Status, "bad input")
        };
        assert_eq!(brief(&Error::Http(Box::new(refused.clone()))).as_deref(), Some("HTTP 400 UserError"));
        // Behind advice, as a `#[source]`: still found, and its URL kept for the debug log.
        let rejected = Error::Rejected { message: "check dataAssets".into(), cause: Box::new(refused) };
        assert_eq!(brief(&rejected).as_deref(), Some("HTTP 400 UserError"));
        assert_eq!(rejected.http_cause().map(|h| h.url.as_str()), Some(url));
        let slow = HttpError::new("PUT", url, HttpErrorKind::Timeout, "no answer in 300 s");
        assert_eq!(brief(&Error::Http(Box::new(slow))).as_deref(), Some("timed out"));
        assert_eq!(brief(&Error::Failed("base job gone".into())), None);
    }
}

//! Waiting for submitted jobs: every `refreshDelay` all unfinished jobs are polled concurrently (the cycle takes
//! about one round trip however many jobs there are), until each is final, `refreshTimeout` passes, or shutdown is
//! requested. `refreshTimeout` is a deadline: a poll cycle that hangs is abandoned when it passes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use crate::azure::ml::MlClient;
use crate::azure::ml::models::JobStatus;
use crate::clock::Clock;
use crate::error::Error;
use crate::shutdown::Shutdown;

/// Most polls in flight at once; far above the usual handful of model groups, low enough to stay clear of ARM's
/// per-principal read throttling for workspaces with hundreds of groups.
pub const MAX_CONCURRENT_POLLS: usize = 64;

/// One job being watched.
#[derive(Debug, Clone)]
pub struct Watched {
    pub job_id: String,
    pub status: Option<JobStatus>,
    /// When drift started watching (submission or adoption), by the session's clock.
    pub since: DateTime<Utc>,
    /// When drift first saw it terminal, by the session's clock.
    pub finished: Option<DateTime<Utc>>,
    /// The last polling error, cleared by the next successful poll.
    pub last_error: Option<String>,
}

impl Watched {
    pub fn new(job_id: String, status: Option<JobStatus>, now: DateTime<Utc>) -> Watched {
        let finished = status.as_ref().filter(|s| s.is_terminal()).map(|_| now);
        Watched { job_id, status, since: now, finished, last_error: None }
    }

    pub fn is_terminal(&self) -> bool {
        self.status.as_ref().is_some_and(JobStatus::is_terminal)
    }

    /// From the start of the watch to the first terminal status seen; `None` while it runs.
    pub fn duration(&self) -> Option<Duration> {
        self.finished.map(|f| (f - self.since).to_std().unwrap_or_default())
    }
}

/// How waiting ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEnd {
    AllTerminal,
    TimedOut,
    Interrupted(&'static str),
}

/// Polls until every job is terminal, the timeout passes, or shutdown. Transient poll errors (after the HTTP
/// layer's own retries) are logged and the job is polled again next cycle.
pub async fn wait_all(
    ml: &MlClient,
    clock: &Clock,
    jobs: &mut [Watched],
    delay: Duration,
    timeout: Duration,
    shutdown: &Shutdown,
    progress: &dyn Fn(&[Watched]),
) -> WaitEnd {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // Raced against the deadline: a server that never answers a poll must not hold the run past
        // refreshTimeout (the HTTP layer's own timeouts and retries could take minutes).
        if tokio::time::timeout_at(deadline, poll_once(ml, clock, jobs)).await.is_err() {
            tracing::warn!(target: "drift::retrainer", "a status poll was still unanswered at refreshTimeout");
            return WaitEnd::TimedOut;
        }
        progress(jobs);
        tracing::info!(target: "drift::retrainer", "{}", summary_line(jobs, started.elapsed()));
        if jobs.iter().all(Watched::is_terminal) {
            return WaitEnd::AllTerminal;
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return WaitEnd::TimedOut;
        }
        let nap = delay.min(timeout - elapsed);
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            why = shutdown.wait() => return WaitEnd::Interrupted(why),
        }
    }
}

/// One cycle: GET every unfinished job concurrently.
pub async fn poll_once(ml: &MlClient, clock: &Clock, jobs: &mut [Watched]) {
    let pending: Vec<(usize, String)> =
        jobs.iter().enumerate().filter(|(_, j)| !j.is_terminal()).map(|(i, j)| (i, j.job_id.clone())).collect();
    let cycle_started = Instant::now();
    let requests = pending.len();
    let results: Vec<(usize, Result<Option<JobStatus>, String>)> = futures_util::stream::iter(pending)
        .map(|(i, id)| async move {
            let result = match ml.get_job(&id).await {
                Ok(Some(job)) => Ok(job.status()),
                Ok(None) => Err(format!("job {id} not found")),
                // A signal abandoned the poll: not a polling failure; the wait loop sees the signal next.
                Err(Error::Interrupted { .. }) => return None,
                Err(e) => Err(e.to_string()),
            };
            Some((i, result))
        })
        .buffer_unordered(MAX_CONCURRENT_POLLS)
        .filter_map(std::future::ready)
        .collect()
        .await;
    tracing::debug!(
        target: "drift::retrainer",
        requests,
        ms = cycle_started.elapsed().as_millis() as u64,
        "poll cycle"
    );
    for (i, result) in results {
        let job = &mut jobs[i];
        match result {
            Ok(status) => {
                job.last_error = None;
                if status.as_ref().is_some_and(JobStatus::is_terminal) && job.finished.is_none() {
                    job.finished = Some(clock.now());
                }
                job.status = status;
            }
            Err(message) => {
                tracing::warn!(target: "drift::retrainer", job = %job.job_id, "polling failed, will retry next cycle: {message}");
                job.last_error = Some(message);
            }
        }
    }
}

/// A bar on stderr counting finished jobs (only when stderr is a terminal; logs still carry the same line).
pub fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} finished  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    // Log lines share stderr with the bar: the log writer clears it around each line (logging.rs).
    crate::logging::attach_progress_bar(&bar);
    bar
}

pub fn show_progress(bar: &indicatif::ProgressBar, jobs: &[Watched]) {
    bar.set_position(jobs.iter().filter(|j| j.is_terminal()).count() as u64);
    let line = summary_line(jobs, Duration::ZERO);
    bar.set_message(line.split_once(": ").map(|(_, counts)| counts.to_string()).unwrap_or(line));
}

/// `3 jobs after 120 s: 1 Completed, 2 Running` — the per-cycle progress line.
pub fn summary_line(jobs: &[Watched], elapsed: Duration) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for j in jobs {
        let key = match (&j.status, &j.last_error) {
            (_, Some(_)) => "poll error",
            (Some(s), None) => s.as_str(),
            (None, None) => "no status",
        };
        *counts.entry(key).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!("{} jobs after {} s: {}", jobs.len(), elapsed.as_secs(), parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_each_status() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let mut a = Watched::new("a".into(), Some(JobStatus::Running), now);
        let b = Watched::new("b".into(), Some(JobStatus::Completed), now);
        let c = Watched::new("c".into(), Some(JobStatus::Running), now);
        let d = Watched::new("d".into(), Some(JobStatus::Other("Hibernating".into())), now);
        assert!(b.is_terminal() && b.finished.is_some());
        assert_eq!(b.duration(), Some(Duration::ZERO));
        assert_eq!(a.duration(), None);
        assert!(!d.is_terminal());
        a.last_error = Some("503".into());
        assert_eq!(
            summary_line(&[a, b, c, d], Duration::from_secs(61)),
            "4 jobs after 61 s: 1 Completed, 1 Hibernating, 1 Running, 1 poll error"
        );
    }
}

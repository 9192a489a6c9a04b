//! Jobs: stream the pipeline-job list, get one, submit one (PUT with `x-azureml-token`), cancel one.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::data::Written;
use super::models::{JobResource, JobSummary};
use super::{MlClient, seg, workspace_error};
use crate::error::Error;
use crate::http::Pager;

/// Job ids: `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`.
pub const JOB_ID_MAX_LEN: usize = 255;

/// How long to follow a cancel's `Location` before reporting it as requested but unconfirmed.
const CANCEL_FOLLOW_LIMIT: Duration = Duration::from_secs(60);

/// What a cancel request achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The service confirmed the cancellation.
    Done,
    /// Accepted; the service was still working on it when drift stopped following.
    Accepted,
}

impl MlClient {
    /// Pages of pipeline jobs (`jobType=Pipeline&listViewType=ActiveOnly`), fetched one at a time.
    pub fn list_pipeline_jobs(&self) -> Result<Pager<JobSummary>, Error> {
        let mut url =
            url::Url::parse(&self.url("/jobs")).map_err(|e| Error::Usage(format!("invalid ARM endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version)
            .append_pair("jobType", "Pipeline")
            .append_pair("listViewType", "ActiveOnly");
        Ok(Pager::new(self.http.clone(), self.auth(), url.as_str())?)
    }

    /// The job with id `id`, or `None`.
    pub async fn get_job(&self, id: &str) -> Result<Option<JobResource>, Error> {
        let job: Option<Value> = self.get_optional(self.request(Method::GET, &format!("/jobs/{}", seg(id)))?).await?;
        Ok(job.map(JobResource))
    }

    /// Submits a job under a chosen id. A PUT to a chosen id is idempotent (a repeat of the same body answers
    /// 200), so it is retried like a GET. Pipeline jobs need the Azure ML token in `x-azureml-token`.
    pub async fn put_job(&self, id: &str, body: &Value) -> Result<(Written, JobResource), Error> {
        let response = self
            .request(Method::PUT, &format!("/jobs/{}", seg(id)))?
            .token_header("x-azureml-token", self.ml_scope.clone())
            .json(body)?
            .send()
            .await
            .map_err(|e| workspace_error(e, &self.workspace))?;
        let written = if response.status == 201 { Written::Created } else { Written::Updated };
        Ok((written, JobResource(response.json()?)))
    }

    /// Requests cancellation, following the `202 Accepted` + `Location` protocol for a while.
    pub async fn cancel_job(&self, id: &str, poll_every: Duration) -> Result<CancelOutcome, Error> {
        let response = self
            .request(Method::POST, &format!("/jobs/{}/cancel", seg(id)))?
            // Cancelling twice is harmless: the service ignores a cancel of a canceled job.
            .retry_safe()
            .send()
            .await
            .map_err(|e| workspace_error(e, &self.workspace))?;
        if response.status != 202 {
            return Ok(CancelOutcome::Done);
        }
        let Some(location) = response.header("location").map(str::to_string) else {
            return Ok(CancelOutcome::Accepted);
        };
        // The ARM token goes only where the cancel went (the nextLink rule): a Location on another origin is not
        // followed, the cancel stays "requested".
        let same_origin = match (url::Url::parse(&location), url::Url::parse(&self.base)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        };
        if !same_origin {
            tracing::warn!(
                target: "drift::ml",
                job = %id,
                location = %crate::http::redact_url(&location),
                "the cancel's Location points to another host; not following it"
            );
            return Ok(CancelOutcome::Accepted);
        }
        let started = std::time::Instant::now();
        while started.elapsed() < CANCEL_FOLLOW_LIMIT {
            let delay = response
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(poll_every)
                .min(Duration::from_secs(10));
            tokio::time::sleep(delay.mul_f64(self.http.policy().delay_scale.min(1.0))).await;
            let poll = self.http.get(&location)?.auth(self.auth()).send().await?;
            if poll.status != 202 {
                return Ok(CancelOutcome::Done);
            }
        }
        Ok(CancelOutcome::Accepted)
    }
}

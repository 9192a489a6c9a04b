//! The two pipelines (registrator, retrainer) and what they share: the session built from config and
//! credentials, and the options from the command line.

use std::sync::Arc;

use crate::auth::{Credential, ServicePrincipal};
use crate::azure::ml::MlClient;
use crate::clock::Clock;
use crate::cloud::Endpoints;
use crate::config::{Config, PipelineParams};
use crate::error::Error;
use crate::http::HttpClient;
use crate::output::Report;
use crate::shutdown::Shutdown;

pub mod registrator;
pub mod retrainer;

/// Command-line choices that shape a pipeline run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `drift plan`: compute and report, write nothing.
    pub dry_run: bool,
    pub force: bool,
    pub no_wait: bool,
    pub cancel_on_timeout: bool,
    /// `--data_asset_version`; an empty value (an unresolved Databricks reference) is `None`.
    pub data_asset_version: Option<String>,
    /// `--model_name_prefix`, split on commas, blanks dropped.
    pub model_name_prefixes: Vec<String>,
    /// stderr is a terminal: show progress bars.
    pub interactive: bool,
}

/// Everything a pipeline needs, resolved once.
pub struct Session {
    pub config: Config,
    pub endpoints: Endpoints,
    pub http: HttpClient,
    pub principal: ServicePrincipal,
    pub credential: Arc<Credential>,
    pub options: RunOptions,
    pub shutdown: Shutdown,
    /// The wall clock; pipeline code reads time only through it (tests set it instead of sleeping).
    pub clock: Clock,
}

impl Session {
    /// The Azure ML client of the configured workspace, at the configured api-version, on the session's HTTP
    /// client and credential.
    pub fn ml_client(&self) -> MlClient {
        MlClient::new(
            self.http.clone(),
            self.credential.clone(),
            &self.endpoints,
            &self.config.workspace,
            &self.config.api_version,
        )
    }
}

/// Runs the pipeline the config selects. A pipeline returns `Ok` with a report whose exit status tells its
/// outcome (a failed training job is a report, not an error); `Err` means it could not finish.
pub async fn run(session: &Session) -> Result<Report, Error> {
    match &session.config.params {
        PipelineParams::Registrator(params) => Box::pin(registrator::run(session, params)).await,
        PipelineParams::Retrainer(params) => Box::pin(retrainer::run(session, params)).await,
    }
}

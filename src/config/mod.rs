//! Configuration: the legacy YAML format (`Processing: {type, parameters}`) read from its source and turned into
//! a validated [`Config`] in two steps (raw tree → typed values), with errors that name the file and key path.
//!
//! `source` locations and local reads · `yaml` bytes → tree and syntax errors · `node` the tree with lines ·
//! `read` typed extraction with key paths · `parse` the schema · `rules` Azure naming rules · `keys` key names
//! and typo matching. Reference for users: `docs/configuration.md`.

mod keys;
pub mod naming;
mod node;
mod parse;
mod read;
pub(crate) mod rules;
mod source;
mod yaml;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::cloud::CloudName;

pub use parse::parse;
pub use source::{ConfigSource, MAX_CONFIG_BYTES, load_local, read_local};

/// Most problems a config error shows, one line each; a file with more (a list of thousands of broken entries,
/// say) ends with a count instead of flooding the terminal.
pub const MAX_SHOWN_PROBLEMS: usize = 50;

/// A configuration problem, or several found in one pass. Exit code 2. Its `Display` is what the user sees: one
/// line per problem, each naming the file, the key path, the line and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    /// The config location as the user wrote it (path, `dbfs:/…`, `abfss://…`).
    pub file: String,
    /// Dotted key path such as `Processing.parameters.azml.subscriptionId`, when the problem is at a key.
    pub key: Option<String>,
    /// What is wrong and what was expected (one line).
    pub message: String,
    /// Further problems found in the same file, in the order they were found. The reader goes on after a bad key
    /// so that `drift validate` lists everything to fix at once, not one problem per run.
    pub also: Vec<ConfigError>,
}

impl ConfigError {
    /// A problem with the file as a whole (not found, not YAML, …).
    pub(crate) fn file(file: &str, message: impl Into<String>) -> ConfigError {
        ConfigError { file: file.to_string(), key: None, message: message.into(), also: Vec::new() }
    }

    /// A problem at a key path.
    pub(crate) fn at(file: &str, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError { file: file.to_string(), key: Some(key.to_string()), message: message.into(), also: Vec::new() }
    }

    /// One error holding every problem of `problems` (the first leads); `None` when there are none.
    pub(crate) fn all(problems: Vec<ConfigError>) -> Option<ConfigError> {
        let mut flat = problems.into_iter().flat_map(ConfigError::into_problems);
        let mut first = flat.next()?;
        first.also = flat.collect();
        Some(first)
    }

    /// Every problem, the leading one first, each without further problems of its own.
    pub fn problems(&self) -> Vec<ConfigError> {
        self.clone().into_problems()
    }

    fn into_problems(mut self) -> Vec<ConfigError> {
        let rest = std::mem::take(&mut self.also);
        let mut out = vec![self];
        out.extend(rest.into_iter().flat_map(ConfigError::into_problems));
        out
    }

    fn render_one(&self) -> String {
        match &self.key {
            Some(key) => format!("config {}: {}: {}", self.file, key, self.message),
            None => format!("config {}: {}", self.file, self.message),
        }
    }

    fn render(&self) -> String {
        let problems = self.problems();
        let mut lines: Vec<String> = problems.iter().take(MAX_SHOWN_PROBLEMS).map(ConfigError::render_one).collect();
        if problems.len() > MAX_SHOWN_PROBLEMS {
            lines.push(format!(
                "config {}: … and {} more problems (fix these first)",
                self.file,
                problems.len() - MAX_SHOWN_PROBLEMS
            ));
        }
        lines.join("\n")
    }
}

/// Which pipeline a config drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineKind {
    Registrator,
    Retrainer,
}

/// The Azure ML workspace (`Processing.parameters.azml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub subscription_id: String,
    pub resource_group: String,
    pub workspace_name: String,
}

/// How a secret read from Key Vault is encoded (`secretsEncoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretsEncoding {
    #[default]
    Plain,
    Base64,
}

/// How the MLTable pins the Delta table (`pinBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinBy {
    #[default]
    Version,
    Timestamp,
}

impl PinBy {
    /// As written in the config (`pinBy: version|timestamp`) and in `drift validate`'s report.
    pub fn as_str(self) -> &'static str {
        match self {
            PinBy::Version => "version",
            PinBy::Timestamp => "timestamp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistratorParams {
    pub storage_account: String,
    pub container: String,
    /// As written, e.g. `delta/tables/sales` (leading/trailing `/` removed).
    pub data_path: String,
    pub pin_by: PinBy,
}

/// One `dataAssets` entry: the pipeline input `name` and the data asset `value` it must consume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataAssetBinding {
    pub input_name: String,
    /// As written by the user (`asset`, `azureml:asset`, or an ARM id); the retrainer parses it.
    pub asset: String,
}

/// What the retrainer does for a group whose data's schema changed since its training (`onSchemaChange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnSchemaChange {
    #[default]
    Retrain,
    Skip,
    Fail,
}

impl OnSchemaChange {
    pub fn as_str(self) -> &'static str {
        match self {
            OnSchemaChange::Retrain => "retrain",
            OnSchemaChange::Skip => "skip",
            OnSchemaChange::Fail => "fail",
        }
    }
}

/// `retrainPolicy`: when a group whose data moved on is retrained. Absent: every such group is (the legacy
/// behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetrainPolicy {
    /// Rows inserted + updated + deleted since the group's training below which it is skipped (default 0).
    pub min_rows_changed: u64,
    pub on_schema_change: OnSchemaChange,
    /// Retrain anyway when the group's newest training is older than this.
    pub max_model_age: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrainerParams {
    pub data_assets: Vec<DataAssetBinding>,
    pub refresh_timeout: Duration,
    pub refresh_delay: Duration,
    pub cancel_on_timeout: bool,
    /// How many groups are submitted at once (`maxConcurrentSubmissions`).
    pub max_concurrency: usize,
    /// `retrainPolicy`; `None` when absent.
    pub retrain_policy: Option<RetrainPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineParams {
    Registrator(RegistratorParams),
    Retrainer(RetrainerParams),
}

impl PipelineParams {
    pub fn kind(&self) -> PipelineKind {
        match self {
            PipelineParams::Registrator(_) => PipelineKind::Registrator,
            PipelineParams::Retrainer(_) => PipelineKind::Retrainer,
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where it was read from, as the user wrote it.
    pub origin: String,
    pub workspace: Workspace,
    pub cloud: CloudName,
    /// `apiVersion`, default [`DEFAULT_API_VERSION`].
    pub api_version: String,
    pub secrets_encoding: SecretsEncoding,
    pub params: PipelineParams,
    /// Non-fatal findings (unknown keys with a "did you mean" hint); logged as warnings.
    pub warnings: Vec<String>,
}

/// The Azure ML REST api-version drift is written and tested against.
pub const DEFAULT_API_VERSION: &str = "2025-12-01";

/// `refreshTimeout` when absent: how long the retrainer waits for all submitted jobs (one hour).
pub const DEFAULT_REFRESH_TIMEOUT_SECS: u64 = 3600;

/// `refreshDelay` when absent: seconds between status checks (lowered to `refreshTimeout` if that is shorter).
pub const DEFAULT_REFRESH_DELAY_SECS: u64 = 30;

/// `maxConcurrentSubmissions` when absent.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

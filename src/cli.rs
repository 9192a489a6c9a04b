//! The command line: the legacy `spark_job` flags (underscore spellings kept exactly), subcommands, and global
//! flags. Parsing only; values are validated where they are used.

use std::ffi::OsString;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::ExitStatus;
use crate::logging::{LogFormat, LogLevel};
use crate::output::OutputFormat;

const ABOUT: &str = "Keeps Azure Machine Learning models fresh: registers a Delta Lake table's new state as Azure ML \
data assets, then retrains every pipeline job that consumes them.";

const AFTER_HELP: &str = "\
Legacy form (what the Python tool's Databricks job passes; same as `run`):
  spark_job --config PATH --tenant TENANT_ID --vault_name NAME [--data_asset_version V] [--model_name_prefix a,b]

Environment: DRIFT_LOG, DRIFT_LOG_FORMAT, DRIFT_OUTPUT, DRIFT_TASK_VALUES_FILE; credentials AZURE_CLIENT_ID,
AZURE_CLIENT_SECRET, AZURE_TENANT_ID; endpoints DRIFT_CLOUD, AZURE_AUTHORITY_HOST, DRIFT_ARM_ENDPOINT,
DRIFT_BLOB_ENDPOINT, DRIFT_DFS_ENDPOINT, DRIFT_KEYVAULT_ENDPOINT, DRIFT_IMDS_ENDPOINT (see README).
";

#[derive(Debug, Parser)]
#[command(
    name = "drift",
    version,
    about = ABOUT,
    after_help = format!("{AFTER_HELP}\n{}", ExitStatus::TABLE),
    max_term_width = 110
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// The legacy form: flags without a subcommand mean `run`.
    #[command(flatten)]
    pub legacy: RunArgs,
}

#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Log verbosity on stderr [env: DRIFT_LOG] [default: info]
    #[arg(long = "log-level", alias = "log_level", value_enum, global = true)]
    pub log_level: Option<LogLevel>,

    /// Log line format on stderr [env: DRIFT_LOG_FORMAT] [default: text]
    #[arg(long = "log-format", alias = "log_format", value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    /// Final report on stdout: a short summary, or one JSON object [env: DRIFT_OUTPUT] [default: text]
    #[arg(long = "output", value_enum, global = true)]
    pub output: Option<OutputFormat>,

    /// Write published values (data_asset_version) to this JSON file on success [env: DRIFT_TASK_VALUES_FILE]
    #[arg(long = "task-values-file", alias = "task_values_file", value_name = "PATH", global = true)]
    pub task_values_file: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline the config describes (registrator or retrainer)
    Run(RunArgs),
    /// Show what `run` would do; changes nothing in Azure
    Plan(RunArgs),
    /// Check a config file offline (no network)
    Validate(ValidateArgs),
    /// Run the whole flow against a local sandbox of Azure (no account, no network)
    Demo(DemoArgs),
    /// Credential commands
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct RunArgs {
    /// Config file: local path, /dbfs/…, /Volumes/…, /Workspace/…, dbfs:/…, or abfss://container@account.dfs…/path
    #[arg(long = "config", value_name = "PATH")]
    pub config: Option<String>,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Data asset version to retrain on (the registrator's task value); empty means "the newest"
    #[arg(long = "data_asset_version", alias = "data-asset-version", value_name = "V")]
    pub data_asset_version: Option<String>,

    /// Only these model groups (comma-separated display-name prefixes, matched literally)
    #[arg(long = "model_name_prefix", alias = "model-name-prefix", value_name = "a,b")]
    pub model_name_prefix: Option<String>,

    /// Register or retrain even when nothing changed
    #[arg(long = "force")]
    pub force: bool,

    /// Retrainer: exit after submitting, without waiting for the jobs
    #[arg(long = "no-wait", alias = "no_wait")]
    pub no_wait: bool,

    /// Retrainer: cancel still-running jobs when refreshTimeout passes or on SIGINT/SIGTERM
    #[arg(long = "cancel-on-timeout", alias = "cancel_on_timeout")]
    pub cancel_on_timeout: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct CredentialArgs {
    /// Azure AD tenant id of the service principal (optional when AZURE_TENANT_ID or the vault's TenantID is set)
    #[arg(long = "tenant", value_name = "TENANT_ID")]
    pub tenant: Option<String>,

    /// Key Vault holding ApplicationID / ApplicationPassword (optional when AZURE_CLIENT_ID/SECRET are set)
    #[arg(long = "vault_name", alias = "vault-name", value_name = "NAME")]
    pub vault_name: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Config file to check
    #[arg(long = "config", value_name = "PATH")]
    pub config: String,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DemoArgs {
    /// Keep the sandbox running after the demo and print its endpoints (Ctrl-C to stop)
    #[arg(long = "keep")]
    pub keep: bool,
    /// Append every request the sandbox receives to this file, one JSON line each, to see what drift sends (tokens
    /// included: a file to look at, not to keep)
    #[arg(long = "traffic-file", value_name = "PATH")]
    pub traffic_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Say which credential drift would use and check it can get a token; never prints a secret
    Describe(AuthDescribeArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct AuthDescribeArgs {
    /// Optional config (for cloud and secretsEncoding)
    #[arg(long = "config", value_name = "PATH")]
    pub config: Option<String>,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Do not request a token, only say where credentials would come from
    #[arg(long = "no-verify")]
    pub no_verify: bool,
}

/// What parsing produced: a command to run, or text clap already rendered (help, version, usage error).
pub enum Parsed {
    Command(Box<Cli>),
    /// Help or version: print to stdout, exit 0.
    Info(String),
    /// Usage error: print to stderr, exit 2.
    UsageError(String),
}

/// Parses `args` (including the program name). The binary name (`drift` or `spark_job`) appears in help.
pub fn parse(args: Vec<OsString>) -> Parsed {
    let legacy = args.first().and_then(|a| std::path::Path::new(a).file_stem()).is_some_and(|stem| stem == "spark_job");
    let bin = if legacy { "spark_job" } else { "drift" };
    let command = Cli::command().name(bin).bin_name(bin);
    match command.try_get_matches_from(args) {
        Ok(matches) => match Cli::from_arg_matches(&matches) {
            Ok(cli) if cli.command.is_some() && cli.legacy != RunArgs::default() => Parsed::UsageError(
                "error: flags such as --config belong after the subcommand (`drift run --config …`), or use the \
                 legacy form without a subcommand\n"
                    .to_string(),
            ),
            Ok(cli) => Parsed::Command(Box::new(cli)),
            Err(e) => Parsed::UsageError(e.render().to_string()),
        },
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Parsed::Info(text),
                _ => Parsed::UsageError(text),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(args: &[&str]) -> Cli {
        match parse(args.iter().map(OsString::from).collect()) {
            Parsed::Command(c) => *c,
            Parsed::Info(t) => panic!("info: {t}"),
            Parsed::UsageError(t) => panic!("usage error: {t}"),
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn legacy_flags_both_forms() {
        for args in [
            vec![
                "spark_job",
                "--config",
                "c.yaml",
                "--tenant",
                "t",
                "--vault_name",
                "kv",
                "--data_asset_version",
                "v1",
                "--model_name_prefix",
                "a,b",
            ],
            vec![
                "spark_job",
                "--config=c.yaml",
                "--tenant=t",
                "--vault_name=kv",
                "--data_asset_version=v1",
                "--model_name_prefix=a,b",
            ],
        ] {
            let cli = parse_ok(&args);
            assert!(cli.command.is_none());
            let r = &cli.legacy;
            assert_eq!(r.config.as_deref(), Some("c.yaml"));
            assert_eq!(r.credentials.tenant.as_deref(), Some("t"));
            assert_eq!(r.credentials.vault_name.as_deref(), Some("kv"));
            assert_eq!(r.data_asset_version.as_deref(), Some("v1"));
            assert_eq!(r.model_name_prefix.as_deref(), Some("a,b"));
        }
    }

    #[test]
    fn subcommands_and_global_flags() {
        let cli = parse_ok(&[
            "drift",
            "run",
            "--config",
            "c.yaml",
            "--vault_name",
            "kv",
            "--output",
            "json",
            "--log-level",
            "debug",
        ]);
        assert!(matches!(cli.command, Some(Command::Run(ref r)) if r.config.as_deref() == Some("c.yaml")));
        assert_eq!(cli.global.output, Some(OutputFormat::Json));
        assert_eq!(cli.global.log_level, Some(LogLevel::Debug));
        let cli =
            parse_ok(&["drift", "--log-format", "json", "plan", "--config", "c", "--task-values-file", "tv.json"]);
        assert!(matches!(cli.command, Some(Command::Plan(_))));
        assert_eq!(cli.global.log_format, Some(LogFormat::Json));
        assert_eq!(cli.global.task_values_file.as_deref(), Some("tv.json"));
        let cli = parse_ok(&["drift", "validate", "--config", "c"]);
        assert!(matches!(cli.command, Some(Command::Validate(ref v)) if v.config == "c"));
        let cli = parse_ok(&["drift", "auth", "describe", "--vault_name", "kv", "--no-verify"]);
        assert!(matches!(cli.command, Some(Command::Auth(AuthCommand::Describe(ref a))) if a.no_verify));
        let cli = parse_ok(&["drift", "run", "--config", "c", "--force", "--no-wait", "--cancel-on-timeout"]);
        assert!(matches!(cli.command, Some(Command::Run(ref r)) if r.force && r.no_wait && r.cancel_on_timeout));
        let cli = parse_ok(&["drift", "run", "--config", "c", "--data_asset_version", ""]);
        assert!(matches!(cli.command, Some(Command::Run(ref r)) if r.data_asset_version.as_deref() == Some("")));
    }

    #[test]
    fn help_version_and_usage_errors() {
        let p = |a: &[&str]| parse(a.iter().map(OsString::from).collect());
        assert!(matches!(p(&["drift", "--version"]), Parsed::Info(ref t) if t.contains(env!("CARGO_PKG_VERSION"))));
        assert!(
            matches!(p(&["drift", "--help"]), Parsed::Info(ref t) if t.contains("Exit codes") && t.contains("130"))
        );
        assert!(matches!(p(&["drift", "help"]), Parsed::Info(ref t) if t.contains("Exit codes")));
        assert!(matches!(p(&["spark_job", "--help"]), Parsed::Info(ref t) if t.contains("spark_job")));
        assert!(matches!(p(&["drift", "--bogus"]), Parsed::UsageError(ref t) if t.contains("--bogus")));
        assert!(matches!(p(&["drift", "run", "--vault-name"]), Parsed::UsageError(_)));
        assert!(matches!(p(&["drift", "--log-level", "loud"]), Parsed::UsageError(ref t) if t.contains("loud")));
        // Legacy flags and a subcommand together are ambiguous.
        assert!(matches!(p(&["drift", "--config", "c", "run"]), Parsed::UsageError(_)));
    }
}

//! The command line: the legacy `spark_job` flags (underscore spellings kept exactly), subcommands, and global
//! flags; and the text that describes them (help, shell completions, the man page, `drift version`). Parsing
//! only; values are validated where they are used.
//!
//! Help is laid out for a terminal of 80 columns or more: global options under their own heading, each
//! subcommand lists only the options it takes, one spelling per flag (other spellings are hidden aliases).

use std::ffi::OsString;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_mangen::roff::{Roff, roman};

use crate::error::ExitStatus;
use crate::logging::{ColorChoice, LogFormat, LogLevel};
use crate::output::OutputFormat;

const ABOUT: &str = "Keeps Azure Machine Learning models fresh: registers a Delta Lake table's new state as Azure ML \
data assets, then retrains every pipeline job that consumes them.";

/// What the Python tool's Databricks job passes; the same as `drift run`.
const LEGACY_SYNOPSIS: &str =
    "spark_job --config PATH --tenant TENANT_ID --vault_name NAME [--data_asset_version V] [--model_name_prefix a,b]";

/// The environment variables drift reads, one paragraph (help wraps it; the man page fills it).
const ENVIRONMENT: &str = "DRIFT_LOG, DRIFT_LOG_FORMAT, DRIFT_OUTPUT, DRIFT_TASK_VALUES_FILE, NO_COLOR; credentials \
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID; endpoints DRIFT_CLOUD, AZURE_AUTHORITY_HOST, \
DRIFT_ARM_ENDPOINT, DRIFT_BLOB_ENDPOINT, DRIFT_DFS_ENDPOINT, DRIFT_KEYVAULT_ENDPOINT, DRIFT_IMDS_ENDPOINT (see the \
README).";

/// Help is never wider than this, however wide the terminal: long lines are hard to read (cargo's choice too).
pub const MAX_HELP_WIDTH: usize = 100;
/// Text drift lays out itself (indented tables in the help) is wrapped to this width at most, so it reads well
/// on the 80-column terminal help is checked against.
const BLOCK_WIDTH: usize = 80;

#[derive(Debug, Parser)]
#[command(
    name = "drift",
    version,
    about = ABOUT,
    max_term_width = MAX_HELP_WIDTH,
    // Bare `drift` prints help to stderr with exit 2 (see `parse`): it asked for nothing, so it is a usage error.
    arg_required_else_help = true,
    // `--config` is required by the legacy form only, not when a subcommand is given.
    subcommand_negates_reqs = true,
    // Help and version are declared in `GlobalArgs`, so they list under "Global options" with the rest.
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The legacy form: flags without a subcommand mean `run`.
    #[command(flatten, next_help_heading = "Legacy form (no subcommand, same as run)")]
    pub legacy: RunArgs,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Flags every command takes, shown under their own heading.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More log detail: -v debug, -vv trace
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count, global = true, conflicts_with_all = ["quiet", "log_level"])]
    pub verbose: u8,

    /// Less log detail: -q warnings and errors, -qq errors only
    #[arg(short = 'q', long = "quiet", action = ArgAction::Count, global = true, conflicts_with = "log_level")]
    pub quiet: u8,

    /// Log verbosity on stderr [env: DRIFT_LOG] [default: info]
    #[arg(long = "log-level", alias = "log_level", value_enum, value_name = "LEVEL", global = true)]
    pub log_level: Option<LogLevel>,

    /// Log line format on stderr [env: DRIFT_LOG_FORMAT] [default: text]
    #[arg(long = "log-format", alias = "log_format", value_enum, value_name = "FORMAT", global = true)]
    pub log_format: Option<LogFormat>,

    /// Colour in text log lines; auto: on a terminal, unless NO_COLOR is set and not empty [default: auto]
    #[arg(long = "color", value_enum, value_name = "WHEN", global = true)]
    pub color: Option<ColorChoice>,

    /// Final report on stdout: a short summary, or one JSON object; history also markdown and html [env:
    /// DRIFT_OUTPUT] [default: text]
    #[arg(long = "output", value_enum, value_name = "FORMAT", global = true)]
    pub output: Option<OutputFormat>,

    /// Print help
    #[arg(short = 'h', long = "help", action = ArgAction::Help, global = true)]
    pub help: Option<bool>,

    /// Print version (`drift version` says more)
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline the config describes (registrator or retrainer)
    Run(RunArgs),
    /// Show what `run` would do; changes nothing in Azure
    Plan(PlanArgs),
    /// Show the data versions and training runs so far, and where each model group stands; changes nothing
    History(HistoryArgs),
    /// Check a config file offline (no network)
    Validate(ValidateArgs),
    /// Run the whole flow against a local sandbox of Azure (no account, no network)
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Credential commands
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print a shell completion script to stdout
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout
    #[command(after_help = "Example: drift man | man -l -")]
    Man(ManArgs),
    /// Print version, git commit, build date, target and features
    Version,
}

impl Command {
    /// Commands that only print text about drift itself: answered while parsing, like `--help`.
    pub fn is_informational(&self) -> bool {
        matches!(self, Command::Completions(_) | Command::Man(_) | Command::Version)
    }
}

const COMPLETIONS_HELP: &str = "\
Install, for example:
  drift completions bash > ~/.local/share/bash-completion/completions/drift
  drift completions zsh > ~/.zfunc/_drift    # with ~/.zfunc in $fpath
  drift completions fish > ~/.config/fish/completions/drift.fish
  drift completions powershell >> $PROFILE";

/// What `run` and `plan` share: which config, which credentials, which version and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct PipelineArgs {
    /// Config file: local path, /dbfs/…, /Volumes/…, /Workspace/…, dbfs:/…, or abfss://container@account.dfs…/path
    #[arg(long = "config", value_name = "PATH", required = true)]
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
}

/// `run`, and the legacy form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,

    /// Retrainer: exit after submitting, without waiting for the jobs
    #[arg(long = "no-wait", alias = "no_wait")]
    pub no_wait: bool,

    /// Retrainer: cancel still-running jobs when refreshTimeout passes or on SIGINT/SIGTERM
    #[arg(long = "cancel-on-timeout", alias = "cancel_on_timeout")]
    pub cancel_on_timeout: bool,

    /// Write published values (data_asset_version) to this JSON file on success [env: DRIFT_TASK_VALUES_FILE]
    #[arg(long = "task-values-file", alias = "task_values_file", value_name = "PATH")]
    pub task_values_file: Option<String>,
}

/// `plan`: what `run` takes, less what only matters when something is submitted or published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

impl From<PlanArgs> for RunArgs {
    fn from(plan: PlanArgs) -> RunArgs {
        RunArgs { pipeline: plan.pipeline, ..RunArgs::default() }
    }
}

/// `history`: which config and credentials, which groups, how far back; `--output` picks the format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct HistoryArgs {
    /// Config file (as for run): a registrator lists its data versions, a retrainer its groups' training runs
    #[arg(long = "config", value_name = "PATH", required = true)]
    pub config: Option<String>,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Only these model groups (comma-separated display-name prefixes, matched literally)
    #[arg(long = "model_name_prefix", alias = "model-name-prefix", value_name = "a,b")]
    pub model_name_prefix: Option<String>,

    /// How far back to list: a whole number and m, h or d (30d, 12h) [default: 30d]
    #[arg(long = "since", value_name = "AGE")]
    pub since: Option<String>,

    /// Also write the self-contained HTML page to this file (whatever --output prints)
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

impl HistoryArgs {
    /// The pipeline arguments a session is built from (history reads no version flag and never forces).
    pub fn pipeline(&self) -> PipelineArgs {
        PipelineArgs {
            config: self.config.clone(),
            credentials: self.credentials.clone(),
            model_name_prefix: self.model_name_prefix.clone(),
            ..PipelineArgs::default()
        }
    }
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

#[cfg(feature = "demo")]
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

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// A subcommand's own page instead (`drift man run` prints drift-run(1), which drift(1) refers to)
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

impl Cli {
    /// The task-values file flag: after `run`, or before any subcommand (where it used to be a global flag, and
    /// is still accepted so existing scripts keep working), or in the legacy form.
    pub fn task_values_file(&self) -> Option<&str> {
        match &self.command {
            Some(Command::Run(run)) => run.task_values_file.as_deref().or(self.legacy.task_values_file.as_deref()),
            _ => self.legacy.task_values_file.as_deref(),
        }
    }
}

/// What parsing produced: a command to run, or text clap already rendered (help, version, usage error).
pub enum Parsed {
    Command(Box<Cli>),
    /// Help, version, completions, man page: print to stdout, exit 0.
    Info(String),
    /// Usage error: print to stderr, exit 2.
    UsageError(String),
}

/// The binary's name as users call it: `spark_job` (the legacy entry point) or `drift`.
fn bin_name(args: &[OsString]) -> &'static str {
    let legacy = args.first().and_then(|a| std::path::Path::new(a).file_stem()).is_some_and(|stem| stem == "spark_job");
    if legacy { "spark_job" } else { "drift" }
}

/// The full command definition as `bin` presents it. `columns` is the terminal width when known (the
/// invocation's `COLUMNS`); otherwise clap asks the terminal, and uses 100 when there is none.
pub fn command(bin: &'static str, columns: Option<usize>) -> clap::Command {
    let block_width = columns.unwrap_or(BLOCK_WIDTH).min(BLOCK_WIDTH);
    let command = Cli::command().name(bin).bin_name(bin).after_help(after_help(block_width));
    match columns {
        Some(width) => command.term_width(width.min(MAX_HELP_WIDTH)),
        None => command,
    }
}

/// Legacy form, environment and exit codes, below the options in `drift --help`.
fn after_help(width: usize) -> String {
    let table = ExitStatus::TABLE.lines().map(|line| hang(line, width)).collect::<Vec<_>>().join("\n");
    format!(
        "Legacy form (what the Python tool's Databricks job passes; same as `run`):\n{}\n\nEnvironment: \
         {ENVIRONMENT}\n\n{table}",
        hang(&format!("  {LEGACY_SYNOPSIS}"), width)
    )
}

/// Wraps one indented line of a table or synopsis to `width`, continuation lines aligned under the text after
/// the first word (`  1    the pipeline ran…` continues under `the`); clap would wrap it flush left. A first word
/// too long for that keeps its line, and the rest hangs a little deeper than the line's indent.
fn hang(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let indent = line.len() - line.trim_start().len();
    let first_word_end = line[indent..].find(' ').map_or(line.len(), |i| indent + i);
    let text_start = line.len() - line[first_word_end..].trim_start().len();
    let (head, rest, hang) = if text_start < width / 2 {
        (&line[..text_start], &line[text_start..], text_start)
    } else {
        (&line[..first_word_end], &line[first_word_end..], indent + 4)
    };
    let mut out = head.to_string();
    let mut column = head.chars().count();
    for word in rest.split_whitespace() {
        let len = word.chars().count();
        let space = usize::from(!out.ends_with(' '));
        if column > hang && column + space + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(hang));
            column = hang;
        } else if space == 1 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    out
}

/// Parses `args` (including the program name). The binary name (`drift` or `spark_job`) appears in help.
/// `columns`: the terminal width from the invocation's environment, if it says.
pub fn parse(args: Vec<OsString>, columns: Option<usize>) -> Parsed {
    let bin = bin_name(&args);
    #[cfg(not(feature = "demo"))]
    if args.get(1).is_some_and(|a| a == "demo") {
        return Parsed::UsageError(
            "error: this build of drift has no demo (built without the `demo` feature)\n".into(),
        );
    }
    match command(bin, columns).try_get_matches_from(args) {
        Ok(matches) => match Cli::from_arg_matches(&matches) {
            Ok(cli) if cli.command.is_some() && legacy_flags_given(&cli.legacy) => Parsed::UsageError(
                "error: flags such as --config belong after the subcommand (`drift run --config …`), or use the \
                 legacy form without a subcommand\n"
                    .to_string(),
            ),
            Ok(cli) if cli.command.as_ref().is_some_and(Command::is_informational) => info(&cli, bin, columns),
            Ok(cli) => Parsed::Command(Box::new(cli)),
            Err(e) => Parsed::UsageError(e.render().to_string()),
        },
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Parsed::Info(text),
                // Bare `drift` (or `drift auth`): help, but on stderr with exit 2, as a usage error.
                _ => Parsed::UsageError(text),
            }
        }
    }
}

/// Legacy-form flags given together with a subcommand, which is ambiguous. `--task-values-file` is the
/// exception: it was a global flag, and `drift --task-values-file F run …` must keep working.
fn legacy_flags_given(legacy: &RunArgs) -> bool {
    RunArgs { task_values_file: None, ..legacy.clone() } != RunArgs::default()
}

/// The text of `completions`, `man` and `version`.
fn info(cli: &Cli, bin: &'static str, columns: Option<usize>) -> Parsed {
    let mut out = Vec::new();
    match &cli.command {
        Some(Command::Completions(args)) => {
            clap_complete::generate(args.shell, &mut command(bin, columns), bin, &mut out);
        }
        Some(Command::Man(args)) => {
            if let Err(message) = man_page(bin, &args.command, &mut out) {
                return Parsed::UsageError(format!("error: {message}\n"));
            }
        }
        _ => return Parsed::Info(crate::version::text(bin)),
    }
    Parsed::Info(String::from_utf8_lossy(&out).into_owned())
}

/// Writes the man page of `bin` (no `path`) or of one of its subcommands (`path` = `["auth", "describe"]`).
fn man_page(bin: &'static str, path: &[String], out: &mut Vec<u8>) -> Result<(), String> {
    let mut page = command(bin, None).disable_help_subcommand(true);
    // Building names the subcommands as their pages are named (`drift-run`).
    page.build();
    for name in path {
        page = page
            .find_subcommand(name)
            .filter(|sub| !sub.is_hide_set())
            .cloned()
            .ok_or_else(|| format!("no man page for `{bin} {}`: no such command", path.join(" ")))?;
    }
    // The after-help becomes proper man sections: clap_mangen would fill it into one paragraph, exit code table
    // and all. They go before VERSION, the page's last section.
    let mut extra = Roff::default();
    if path.is_empty() {
        extra.control("SH", ["COMPATIBILITY"]);
        extra.text([roman("What the Python tool's Databricks job passes; the same as drift run:")]);
        extra.control("PP", []).text([roman(LEGACY_SYNOPSIS)]);
        extra.control("SH", ["ENVIRONMENT"]).text([roman(ENVIRONMENT)]);
        extra.control("SH", ["EXIT STATUS"]);
        for (code, meaning) in exit_codes() {
            extra.control("TP", []).text([roman(code)]).text([roman(meaning)]);
        }
    } else if let Some(notes) = page.get_after_help() {
        extra.control("SH", ["NOTES"]).control("nf", []);
        for line in notes.to_string().lines() {
            extra.text([roman(line)]);
        }
        extra.control("fi", []);
    }
    let page = page.after_help(None::<&str>);
    let date = crate::version::build_date().unwrap_or_default();
    let mut standard = Vec::new();
    clap_mangen::Man::new(page)
        .date(date)
        .source(format!("{bin} {}", crate::version::VERSION))
        .render(&mut standard)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    let standard = String::from_utf8_lossy(&standard);
    // Each rendering starts with the same two-line preamble (apostrophe handling); the page needs it once.
    let extra = extra.render();
    let extra = extra.splitn(3, '\n').nth(2).unwrap_or_default();
    let at = standard.find("\n.SH VERSION").map_or(standard.len(), |i| i + 1);
    out.extend_from_slice(standard[..at].as_bytes());
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(standard[at..].as_bytes());
    Ok(())
}

/// The rows of [`ExitStatus::TABLE`]: code and meaning.
fn exit_codes() -> Vec<(&'static str, &'static str)> {
    ExitStatus::TABLE
        .lines()
        .filter_map(|line| line.trim().split_once(char::is_whitespace))
        .filter(|(code, _)| code.parse::<u8>().is_ok())
        .map(|(code, meaning)| (code, meaning.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse(args.iter().map(OsString::from).collect(), None)
    }

    fn parse_ok(args: &[&str]) -> Cli {
        match p(args) {
            Parsed::Command(c) => *c,
            Parsed::Info(t) => panic!("info: {t}"),
            Parsed::UsageError(t) => panic!("usage error: {t}"),
        }
    }

    fn info_text(args: &[&str]) -> String {
        match p(args) {
            Parsed::Info(t) => t,
            Parsed::Command(_) => panic!("{args:?} ran a command"),
            Parsed::UsageError(t) => panic!("{args:?}: usage error: {t}"),
        }
    }

    fn help(args: &[&str], columns: usize) -> String {
        match parse(args.iter().map(OsString::from).collect(), Some(columns)) {
            Parsed::Info(t) => t,
            _ => panic!("{args:?} is not help"),
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        command("spark_job", Some(80)).debug_assert();
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
            let r = &cli.legacy.pipeline;
            assert_eq!(r.config.as_deref(), Some("c.yaml"));
            assert_eq!(r.credentials.tenant.as_deref(), Some("t"));
            assert_eq!(r.credentials.vault_name.as_deref(), Some("kv"));
            assert_eq!(r.data_asset_version.as_deref(), Some("v1"));
            assert_eq!(r.model_name_prefix.as_deref(), Some("a,b"));
        }
        // Hidden spellings stay accepted; an empty value (an unresolved Databricks reference) parses.
        let cli = parse_ok(&["spark_job", "--config", "", "--vault-name", "kv", "--task_values_file", "tv.json"]);
        assert_eq!(cli.legacy.pipeline.config.as_deref(), Some(""));
        assert_eq!(cli.legacy.pipeline.credentials.vault_name.as_deref(), Some("kv"));
        assert_eq!(cli.task_values_file(), Some("tv.json"));
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
            "--color",
            "never",
        ]);
        assert!(matches!(cli.command, Some(Command::Run(ref r)) if r.pipeline.config.as_deref() == Some("c.yaml")));
        assert_eq!(cli.global.output, Some(OutputFormat::Json));
        assert_eq!(cli.global.log_level, Some(LogLevel::Debug));
        assert_eq!(cli.global.color, Some(ColorChoice::Never));
        let cli = parse_ok(&["drift", "--log-format", "json", "plan", "--config", "c"]);
        assert!(matches!(cli.command, Some(Command::Plan(_))));
        assert_eq!(cli.global.log_format, Some(LogFormat::Json));
        let cli = parse_ok(&["drift", "validate", "--config", "c"]);
        assert!(matches!(cli.command, Some(Command::Validate(ref v)) if v.config == "c"));
        let cli = parse_ok(&["drift", "auth", "describe", "--vault_name", "kv", "--no-verify"]);
        assert!(matches!(cli.command, Some(Command::Auth(AuthCommand::Describe(ref a))) if a.no_verify));
        let cli = parse_ok(&["drift", "run", "--config", "c", "--force", "--no-wait", "--cancel-on-timeout"]);
        assert!(
            matches!(cli.command, Some(Command::Run(ref r)) if r.pipeline.force && r.no_wait && r.cancel_on_timeout)
        );
        let cli = parse_ok(&["drift", "run", "--config", "c", "--data_asset_version", ""]);
        assert!(
            matches!(cli.command, Some(Command::Run(ref r)) if r.pipeline.data_asset_version.as_deref() == Some(""))
        );
    }

    #[test]
    fn verbosity_shorthands() {
        for (args, verbose, quiet) in [
            (&["drift", "-v", "validate", "--config", "c"][..], 1, 0),
            (&["drift", "validate", "--config", "c", "-vv"][..], 2, 0),
            (&["drift", "-q", "run", "--config", "c"][..], 0, 1),
            (&["spark_job", "--config", "c", "-qq"][..], 0, 2),
            (&["drift", "--verbose", "--verbose", "plan", "--config", "c"][..], 2, 0),
        ] {
            let cli = parse_ok(args);
            assert_eq!((cli.global.verbose, cli.global.quiet), (verbose, quiet), "{args:?}");
        }
        for args in [
            &["drift", "-v", "-q", "validate", "--config", "c"][..],
            &["drift", "-v", "--log-level", "info", "validate", "--config", "c"][..],
            &["drift", "validate", "--config", "c", "-q", "--log-level", "info"][..],
        ] {
            assert!(matches!(p(args), Parsed::UsageError(ref t) if t.contains("cannot be used with")), "{args:?}");
        }
    }

    #[test]
    fn task_values_file_belongs_to_run_but_is_still_accepted_first() {
        let cli = parse_ok(&["drift", "run", "--config", "c", "--task-values-file", "a.json"]);
        assert_eq!(cli.task_values_file(), Some("a.json"));
        // Where the global flag used to go: before any subcommand.
        for sub in [&["run", "--config", "c"][..], &["plan", "--config", "c"][..], &["validate", "--config", "c"][..]] {
            let args: Vec<&str> = ["drift", "--task-values-file", "b.json"].iter().chain(sub).copied().collect();
            assert_eq!(parse_ok(&args).task_values_file(), Some("b.json"), "{args:?}");
        }
        // Not an option of plan or validate themselves.
        for args in [
            &["drift", "plan", "--config", "c", "--task-values-file", "x"][..],
            &["drift", "validate", "--config", "c", "--task-values-file", "x"][..],
            &["drift", "plan", "--config", "c", "--no-wait"][..],
            &["drift", "plan", "--config", "c", "--cancel-on-timeout"][..],
        ] {
            assert!(matches!(p(args), Parsed::UsageError(_)), "{args:?}");
        }
    }

    #[test]
    fn help_version_and_usage_errors() {
        assert_eq!(info_text(&["drift", "--version"]), format!("drift {}\n", env!("CARGO_PKG_VERSION")));
        assert!(
            info_text(&["drift", "--help"]).contains("Exit codes") && info_text(&["drift", "--help"]).contains("130")
        );
        assert!(info_text(&["drift", "help"]).contains("Exit codes"));
        assert!(info_text(&["spark_job", "--help"]).contains("Usage: spark_job"));
        assert!(matches!(p(&["drift", "--bogus"]), Parsed::UsageError(ref t) if t.contains("--bogus")));
        assert!(matches!(p(&["drift", "run", "--vault-name"]), Parsed::UsageError(_)));
        assert!(matches!(p(&["drift", "--log-level", "loud"]), Parsed::UsageError(ref t) if t.contains("loud")));
        // Legacy flags and a subcommand together are ambiguous.
        assert!(matches!(p(&["drift", "--config", "c", "run"]), Parsed::UsageError(_)));
        // Required flags are required by the parser, and shown as such.
        assert!(matches!(p(&["drift", "run"]), Parsed::UsageError(ref t) if t.contains("--config <PATH>")));
        assert!(matches!(p(&["drift", "validate"]), Parsed::UsageError(ref t) if t.contains("--config <PATH>")));
        assert!(
            matches!(p(&["spark_job", "--tenant", "t"]), Parsed::UsageError(ref t) if t.contains("--config <PATH>"))
        );
        // Asking for nothing is a usage error that shows the help.
        for args in [&["drift"][..], &["spark_job"][..], &["drift", "auth"][..]] {
            assert!(matches!(p(args), Parsed::UsageError(ref t) if t.contains("Usage:")), "{args:?}");
        }
    }

    #[test]
    fn help_layout() {
        let top = help(&["drift", "--help"], 80);
        let global = top.find("Global options:").expect("a global heading");
        let legacy = top.find("Legacy form (no subcommand, same as run):").expect("a legacy heading");
        assert!(legacy < global, "{top}");
        for flag in [
            "-v, --verbose",
            "-q, --quiet",
            "--log-level",
            "--log-format",
            "--color",
            "--output",
            "-h, --help",
            "-V, --version",
        ] {
            assert!(top[global..].contains(flag), "{flag} under Global options:\n{top}");
        }
        assert!(!top.contains("\nOptions:"), "nothing left under a heading of its own:\n{top}");
        // Each subcommand lists its own options and the global ones, nothing else.
        let run = help(&["drift", "run", "--help"], 80);
        for flag in ["--config <PATH>", "--no-wait", "--cancel-on-timeout", "--task-values-file", "Global options:"] {
            assert!(run.contains(flag), "{flag} in run help:\n{run}");
        }
        assert!(run.contains("Usage: drift run [OPTIONS] --config <PATH>"), "{run}");
        let plan = help(&["drift", "plan", "--help"], 80);
        for flag in ["--no-wait", "--cancel-on-timeout", "--task-values-file", "Legacy form"] {
            assert!(!plan.contains(flag), "{flag} in plan help:\n{plan}");
        }
        assert!(plan.contains("--config <PATH>") && plan.contains("--force") && plan.contains("--color"), "{plan}");
        let validate = help(&["drift", "validate", "--help"], 80);
        assert!(validate.contains("Usage: drift validate [OPTIONS] --config <PATH>"), "{validate}");
        for flag in ["--task-values-file", "--tenant", "--force"] {
            assert!(!validate.contains(flag), "{flag} in validate help:\n{validate}");
        }
        // One spelling per flag: the aliases are accepted but never shown.
        for page in [&top, &run, &plan] {
            for alias in ["--vault-name", "--data-asset-version", "--model-name-prefix", "--log_level", "--no_wait"] {
                assert!(!page.contains(alias), "{alias} shown:\n{page}");
            }
        }
    }

    #[test]
    fn help_fits_the_terminal() {
        let pages = [
            &["drift", "--help"][..],
            &["spark_job", "--help"][..],
            &["drift", "run", "--help"][..],
            &["drift", "plan", "--help"][..],
            &["drift", "auth", "describe", "--help"][..],
            &["drift", "completions", "--help"][..],
            &["drift", "man", "--help"][..],
        ];
        for width in [80, 100, 200] {
            for args in pages {
                let text = help(args, width);
                let limit = width.min(MAX_HELP_WIDTH);
                for line in text.lines() {
                    assert!(line.chars().count() <= limit, "{args:?} at {width}: {line:?} is wider than {limit}");
                }
            }
        }
        // The exit-code table wraps under its own column rather than flush left.
        let top = help(&["drift", "--help"], 80);
        assert!(top.contains("  1    the pipeline ran but its outcome failed"), "{top}");
        let continued = top.lines().skip_while(|l| !l.starts_with("  1 ")).nth(1).unwrap();
        assert!(continued.starts_with("       ") && !continued.trim().is_empty(), "{continued:?}");
        // Every exit code is still there.
        for (code, _) in exit_codes() {
            assert!(top.lines().any(|l| l.trim_start().starts_with(&format!("{code} "))), "{code} missing:\n{top}");
        }
        assert_eq!(exit_codes().len(), 9);
    }

    #[test]
    fn hanging_wrap() {
        assert_eq!(hang("  0    ok", 80), "  0    ok");
        assert_eq!(hang("  1    aaa bbb ccc", 16), "  1    aaa bbb\n       ccc");
        // A first word too long for a useful hang falls back to a small indent.
        assert_eq!(hang("  averyveryverylongword x y", 20), "  averyveryverylongword\n      x y");
    }

    #[test]
    fn the_demo_subcommand_exists_only_with_its_feature() {
        let top = Cli::command();
        assert_eq!(top.find_subcommand("demo").is_some(), cfg!(feature = "demo"));
        let help = help(&["drift", "--help"], 100);
        assert_eq!(help.lines().any(|l| l.trim_start().starts_with("demo ")), cfg!(feature = "demo"), "{help}");
        if cfg!(feature = "demo") {
            assert!(matches!(p(&["drift", "demo", "--keep"]), Parsed::Command(_)));
        } else {
            assert!(matches!(p(&["drift", "demo"]), Parsed::UsageError(ref t) if t.contains("`demo` feature")));
        }
    }

    #[test]
    fn completions_for_every_shell() {
        for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
            let script = info_text(&["drift", "completions", shell]);
            // fish names long flags without their dashes.
            for word in ["run", "plan", "validate", "completions", "vault_name", "log-level"] {
                assert!(script.contains(word), "{shell} completion lacks {word}");
            }
            assert_eq!(script.contains("demo"), cfg!(feature = "demo"), "{shell}");
        }
        assert!(info_text(&["spark_job", "completions", "bash"]).contains("spark_job"));
        assert!(matches!(p(&["drift", "completions", "tcsh"]), Parsed::UsageError(_)));
    }

    #[test]
    fn man_pages() {
        let page = info_text(&["drift", "man"]);
        // roff: an apostrophe-handling preamble, then the title, once.
        let title = page.lines().position(|l| l.starts_with(".TH drift 1 ")).expect("a .TH line");
        assert!(page.lines().take(title).all(|l| l.starts_with(".ie ") || l.starts_with(".el ")), "{page}");
        assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble");
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT"] {
            assert!(page.contains(section), "{section} missing");
        }
        assert!(page.contains("drift\\-run(1)") && page.contains("143"), "{page}");
        let run = info_text(&["drift", "man", "run"]);
        assert!(run.contains("\n.TH drift-run 1 ") && run.contains("cancel\\-on\\-timeout"), "{run}");
        assert!(info_text(&["drift", "man", "auth", "describe"]).contains("\n.TH drift-auth-describe 1 "));
        let completions = info_text(&["drift", "man", "completions"]);
        assert!(completions.contains(".SH NOTES\n.nf\n") && completions.contains("$PROFILE\n.fi\n"), "{completions}");
        // The extra sections sit before VERSION, the last one.
        assert!(page.find(".SH \"EXIT STATUS\"") < page.find(".SH VERSION"));
        assert!(matches!(p(&["drift", "man", "nope"]), Parsed::UsageError(ref t) if t.contains("no such command")));
    }

    #[test]
    fn version_subcommand() {
        let text = info_text(&["drift", "version"]);
        assert!(text.starts_with(&format!("drift {}\n", env!("CARGO_PKG_VERSION"))));
        assert!(text.contains("commit:") && text.contains("build date:") && text.contains("target:"));
    }
}

//! Turns an [`Invocation`] into work: parses the command line, sets up logging and the runtime, runs the
//! command, and writes the report and task values. The only place that decides the exit status.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use serde_json::json;

use crate::auth::{AuthInputs, PrincipalSource, resolve_service_principal};
use crate::azure::storage::{DfsClient, StorageAuth};
use crate::cli::{self, AuthCommand, AuthDescribeArgs, Cli, Command, CredentialArgs, RunArgs};
use crate::clock::Clock;
use crate::cloud::{CloudName, Endpoints};
use crate::config::naming;
use crate::config::{self, Config, ConfigError, ConfigSource, PipelineParams, SecretsEncoding};
use crate::error::{Error, ExitStatus};
use crate::http::{HttpClient, RetryPolicy, TokenProvider};
use crate::logging::{self, LogFormat, LogLevel, SharedWriter};
use crate::output::{self, CommandName, Outcome, OutputFormat, PipelineName, Report};
use crate::pipeline::{self, RunOptions, Session};
use crate::shutdown::{self, Shutdown};
use crate::{Invocation, cloud};

/// Settings that come from a global flag or, failing that, the environment.
struct Settings {
    log_level: LogLevel,
    log_directive: Option<String>,
    log_format: LogFormat,
    output: OutputFormat,
    task_values_file: Option<PathBuf>,
}

impl Settings {
    fn resolve(cli: &Cli, env: &HashMap<String, String>) -> Result<Settings, String> {
        use clap::ValueEnum;
        fn from_env<T: ValueEnum>(env: &HashMap<String, String>, name: &str) -> Result<Option<T>, String> {
            match env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => T::from_str(v, true).map(Some).map_err(|_| {
                    let names: Vec<String> = T::value_variants()
                        .iter()
                        .filter_map(|x| x.to_possible_value())
                        .map(|p| p.get_name().to_string())
                        .collect();
                    format!("environment variable {name}={v:?} is not one of: {}", names.join(", "))
                }),
            }
        }
        let directive = env.get("DRIFT_LOG").filter(|v| v.contains('=')).cloned();
        // -v/-q and --log-level exclude each other; clap catches that within one command level, this across
        // levels (`drift -v run --log-level info`). Either beats DRIFT_LOG.
        let g = &cli.global;
        if (g.verbose > 0 && g.quiet > 0) || ((g.verbose > 0 || g.quiet > 0) && g.log_level.is_some()) {
            return Err("-v, -q and --log-level choose the same thing: give one of them".into());
        }
        let flag_level = LogLevel::from_verbosity(g.verbose, g.quiet).or(g.log_level);
        let log_level = match (flag_level, &directive) {
            (Some(l), _) => l,
            (None, Some(_)) => LogLevel::Info,
            (None, None) => from_env(env, "DRIFT_LOG")?.unwrap_or_default(),
        };
        let output = match cli.global.output {
            Some(o) => o,
            None => from_env(env, "DRIFT_OUTPUT")?.unwrap_or_default(),
        };
        if !output.is_report() && !matches!(cli.command, Some(Command::History(_))) {
            return Err(
                "--output markdown and html are formats of drift history; other commands print text or json".into()
            );
        }
        Ok(Settings {
            log_level,
            log_directive: if flag_level.is_some() { None } else { directive },
            log_format: match cli.global.log_format {
                Some(f) => f,
                None => from_env(env, "DRIFT_LOG_FORMAT")?.unwrap_or_default(),
            },
            output,
            task_values_file: cli
                .task_values_file()
                .map(str::to_string)
                .or_else(|| env.get("DRIFT_TASK_VALUES_FILE").cloned())
                .filter(|p| !p.trim().is_empty())
                .map(PathBuf::from),
        })
    }
}

pub fn run(invocation: Invocation) -> ExitStatus {
    let Invocation { args, env, mut stdout, stderr, shutdown, handle_signals } = invocation;
    let stderr = SharedWriter::new(stderr);
    // The terminal width for help, from the invocation's environment (clap would read the process's).
    let columns = env.get("COLUMNS").and_then(|c| c.trim().parse::<usize>().ok()).filter(|&c| c > 0);
    // Read before parsing, so that a command line the parser rejects still gets the report it asked for.
    let requested = OutputFormat::requested(&args, &env);
    let cli = match cli::parse(args, columns) {
        cli::Parsed::Command(cli) => cli,
        cli::Parsed::Info(text) => {
            let _ = stdout.write_all(text.as_bytes());
            return ExitStatus::Success;
        }
        cli::Parsed::UsageError(text) => {
            let _ = stderr.write_locked(text.as_bytes());
            return usage_report(None, &output::usage_message(&text), requested, &mut stdout);
        }
    };
    let (settings, clock) = match Settings::resolve(&cli, &env).and_then(|s| Ok((s, Clock::from_env(&env)?))) {
        Ok(resolved) => resolved,
        Err(message) => {
            let _ = stderr.write_locked(format!("error: {message}\n").as_bytes());
            return usage_report(command_name(&cli), &message, requested, &mut stdout);
        }
    };
    // Only the real process owns a terminal; in-process runs (tests) have neither colour nor bars unless asked.
    let terminal = handle_signals && std::io::stderr().is_terminal();
    let ansi = cli.global.color.unwrap_or_default().use_color(
        env.get("NO_COLOR").map(String::as_str),
        env.get("TERM").map(String::as_str),
        terminal,
    );
    let subscriber = logging::subscriber(
        settings.log_level,
        settings.log_directive.as_deref(),
        settings.log_format,
        stderr.clone(),
        ansi,
    );
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = stderr.write_locked(format!("error: cannot start the async runtime: {e}\n").as_bytes());
            return ExitStatus::Azure;
        }
    };
    let (trigger, shutdown) = shutdown.unwrap_or_else(shutdown::channel);
    let command_name = command_name(&cli);
    let outcome = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            if handle_signals {
                shutdown::install_signal_handlers(trigger.clone());
            }
            let ctx = Ctx { env: &env, shutdown, interactive: terminal, clock };
            let result = execute(*cli, &ctx).await;
            finish(result, command_name, &settings, &env, &mut stdout, &stderr)
        })
    });
    // Background tasks (signal listeners, idle connections) must not keep the process alive.
    runtime.shutdown_background();
    outcome
}

struct Ctx<'a> {
    env: &'a HashMap<String, String>,
    shutdown: Shutdown,
    /// The real stderr is a terminal (progress bars make sense).
    interactive: bool,
    /// The wall clock the pipelines read (`DRIFT_TEST_NOW` moves it in tests).
    clock: Clock,
}

/// The command a report is about; `None` for the commands answered while parsing, which have no report.
fn command_name(cli: &Cli) -> Option<CommandName> {
    match &cli.command {
        None | Some(Command::Run(_)) => Some(CommandName::Run),
        Some(Command::Plan(_)) => Some(CommandName::Plan),
        Some(Command::History(_)) => Some(CommandName::History),
        Some(Command::Validate(_)) => Some(CommandName::Validate),
        #[cfg(feature = "demo")]
        Some(Command::Demo(_)) => Some(CommandName::Demo),
        Some(Command::Auth(AuthCommand::Describe(_))) => Some(CommandName::AuthDescribe),
        Some(Command::Completions(_) | Command::Man(_) | Command::Version) => None,
    }
}

/// A command line drift could not accept: exit 2, and with `--output json` the report saying so (its message is
/// already on stderr).
fn usage_report(
    command: Option<CommandName>,
    message: &str,
    format: OutputFormat,
    stdout: &mut Box<dyn Write + Send>,
) -> ExitStatus {
    if format == OutputFormat::Json {
        let _ = Report::usage_error(command, message).write(format, stdout.as_mut());
        let _ = stdout.flush();
    }
    ExitStatus::Usage
}

async fn execute(cli: Cli, ctx: &Ctx<'_>) -> Result<Report, Error> {
    crate::flags::check(&cli)?;
    match cli.command {
        // Boxed: the pipelines' state machines are large, and the main thread's stack is not the place for them.
        None => Box::pin(run_pipeline(cli.legacy, false, ctx)).await,
        Some(Command::Run(args)) => Box::pin(run_pipeline(args, false, ctx)).await,
        Some(Command::Plan(args)) => Box::pin(run_pipeline(args.into(), true, ctx)).await,
        Some(Command::History(args)) => Box::pin(history(args, ctx)).await,
        Some(Command::Validate(args)) => validate(&args.config),
        Some(Command::Auth(AuthCommand::Describe(args))) => Box::pin(auth_describe(args, ctx)).await,
        #[cfg(feature = "demo")]
        Some(Command::Demo(args)) => Box::pin(crate::demo::run(args, ctx.shutdown.clone())).await,
        // `cli::parse` answers these itself and never hands them over.
        Some(Command::Completions(_) | Command::Man(_) | Command::Version) => {
            Err(Error::Usage("completions, man and version print their text while parsing".into()))
        }
    }
}

/// Writes the report and, on success, the task values; returns the exit status.
fn finish(
    result: Result<Report, Error>,
    command: Option<CommandName>,
    settings: &Settings,
    env: &HashMap<String, String>,
    stdout: &mut Box<dyn Write + Send>,
    stderr: &SharedWriter,
) -> ExitStatus {
    let mut report = result.unwrap_or_else(|error| Report::from_error(command, &error));
    // The file is written even when empty, so a wrapper that waits for it knows the run succeeded.
    if report.exit == ExitStatus::Success
        && (!report.task_values.is_empty() || settings.task_values_file.is_some())
        && let Err(e) = output::publish(&report.task_values, settings.task_values_file.as_deref(), env, stdout.as_mut())
    {
        // What the command did stays in the report; that nothing was published must be in it too.
        let failed = Report::from_error(report.command, &e);
        report.outcome = failed.outcome;
        report.exit = failed.exit;
        report.error = failed.error;
        report.task_values = output::TaskValues::new();
    }
    if let Some(message) = &report.error {
        match settings.log_format {
            LogFormat::Text => {
                let _ = stderr.write_locked(format!("error: {message}\n").as_bytes());
            }
            LogFormat::Json => tracing::error!(exit_code = report.exit.code(), "{message}"),
        }
    }
    // GitHub Actions: run, plan and history add their summary to the job's page. An extra: a failure to write it
    // is logged, never the run's outcome.
    if matches!(command, Some(CommandName::Run | CommandName::Plan | CommandName::History))
        && let Some(path) = env.get("GITHUB_STEP_SUMMARY").filter(|p| !p.trim().is_empty())
        && let Err(e) = output::append_step_summary(std::path::Path::new(path), &output::step_summary(&report))
    {
        tracing::warn!(target: "drift::output", "{e}");
    }
    if let Err(e) = report.write(settings.output, stdout.as_mut()) {
        let _ = stderr.write_locked(format!("error: cannot write the report to stdout: {e}\n").as_bytes());
    }
    let _ = stdout.flush();
    report.exit
}

fn auth_inputs<'a>(
    ctx: &'a Ctx<'_>,
    http: &'a HttpClient,
    flags: &'a CredentialArgs,
    endpoints: &'a Endpoints,
    encoding: SecretsEncoding,
) -> AuthInputs<'a> {
    AuthInputs {
        env: ctx.env,
        endpoints,
        http,
        tenant_flag: non_empty(flags.tenant.as_deref()),
        vault_flag: non_empty(flags.vault_name.as_deref()),
        encoding,
    }
}

fn config_origin(origin: Option<&str>) -> Result<&str, Error> {
    origin
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| Error::Usage("missing --config PATH (the pipeline's YAML file)".into()))
}

fn log_warnings(config: &Config) {
    for warning in &config.warnings {
        tracing::warn!(target: "drift::config", "{warning}");
    }
}

/// A local config (validate and auth describe never reach storage).
fn load_config(origin: Option<&str>) -> Result<Config, Error> {
    let config = config::load_local(config_origin(origin)?)?;
    log_warnings(&config);
    Ok(config)
}

/// `DRIFT_SECRETS_ENCODING` (plain|base64): the encoding used before a config is available (abfss configs).
fn encoding_from_env(env: &HashMap<String, String>) -> Result<SecretsEncoding, Error> {
    match env.get("DRIFT_SECRETS_ENCODING").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("plain") => Ok(SecretsEncoding::Plain),
        Some("base64") => Ok(SecretsEncoding::Base64),
        Some(other) => Err(Error::Usage(format!("DRIFT_SECRETS_ENCODING={other:?} is not one of: plain, base64"))),
    }
}

fn cloud_from_env(env: &HashMap<String, String>) -> Result<Option<CloudName>, Error> {
    match env.get(cloud::env_names::CLOUD).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => CloudName::from_name(v)
            .map(Some)
            .ok_or_else(|| Error::Usage(format!("DRIFT_CLOUD={v:?} is not one of: {}", CloudName::NAMES.join(", ")))),
    }
}

async fn run_pipeline(args: RunArgs, dry_run: bool, ctx: &Ctx<'_>) -> Result<Report, Error> {
    let session = open_session(args, dry_run, ctx).await?;
    pipeline::run(&session).await
}

/// `drift history`: a session as `plan` builds it (nothing it does writes), then the read-only history.
async fn history(args: cli::HistoryArgs, ctx: &Ctx<'_>) -> Result<Report, Error> {
    let since = match non_empty(args.since.as_deref()) {
        Some(v) => crate::config::rules::model_age(v).map_err(|rule| Error::Usage(format!("--since {v:?}: {rule}")))?,
        None => crate::history::DEFAULT_SINCE,
    };
    let run = RunArgs { pipeline: args.pipeline(), ..RunArgs::default() };
    let session = open_session(run, true, ctx).await?;
    crate::history::run(&session, since, args.out.as_deref()).await
}

/// Config, endpoints and credentials resolved into a [`Session`] (the config first, or the credentials first when
/// the config lives in ADLS).
async fn open_session(args: RunArgs, dry_run: bool, ctx: &Ctx<'_>) -> Result<Session, Error> {
    let origin = config_origin(args.pipeline.config.as_deref())?;
    let http = HttpClient::new(RetryPolicy::from_env(ctx.env))?.with_shutdown(ctx.shutdown.clone());
    // A config in ADLS is read with the service principal, so credentials come first there (with the cloud its
    // URL names and the encoding from DRIFT_SECRETS_ENCODING); a local config comes first everywhere else.
    let (config, early) = match ConfigSource::parse(origin)? {
        ConfigSource::Local(_) => (config::load_local(origin)?, None),
        ConfigSource::Abfss { account, container, path, endpoint_suffix } => {
            let cloud = match CloudName::from_storage_suffix(&endpoint_suffix) {
                Some(c) => c,
                None => cloud_from_env(ctx.env)?.unwrap_or_default(),
            };
            let encoding = encoding_from_env(ctx.env)?;
            let endpoints = Endpoints::resolve(cloud, ctx.env)?;
            let principal =
                resolve_service_principal(&auth_inputs(ctx, &http, &args.pipeline.credentials, &endpoints, encoding))
                    .await?;
            let credential = principal.credential(&endpoints, &http);
            let dfs = DfsClient::new(http.clone(), &endpoints, &account, StorageAuth::Bearer(credential.clone()));
            let bytes = dfs.read(&container, &path).await?.ok_or_else(|| ConfigError {
                file: origin.to_string(),
                key: None,
                message: format!("file not found (path {path} in container {container} of storage account {account})"),
                also: Vec::new(),
            })?;
            let config = config::parse(origin, &bytes)?;
            (config, Some((cloud, encoding, endpoints, principal, credential)))
        }
    };
    log_warnings(&config);
    let (endpoints, principal, credential) = match early {
        Some((cloud, encoding, endpoints, principal, credential))
            if cloud == config.cloud && encoding == config.secrets_encoding =>
        {
            (endpoints, principal, credential)
        }
        _ => {
            let endpoints = Endpoints::resolve(config.cloud, ctx.env)?;
            let principal = resolve_service_principal(&auth_inputs(
                ctx,
                &http,
                &args.pipeline.credentials,
                &endpoints,
                config.secrets_encoding,
            ))
            .await?;
            let credential = principal.credential(&endpoints, &http);
            (endpoints, principal, credential)
        }
    };
    tracing::info!(
        target: "drift::auth",
        client_id = %principal.client_id,
        tenant = %principal.tenant_id,
        "acting as service principal from {}",
        principal.source
    );
    let options = RunOptions {
        dry_run,
        force: args.pipeline.force,
        no_wait: args.no_wait,
        cancel_on_timeout: args.cancel_on_timeout,
        data_asset_version: non_empty(args.pipeline.data_asset_version.as_deref()).map(str::to_string),
        model_name_prefixes: args
            .pipeline
            .model_name_prefix
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        interactive: ctx.interactive,
    };
    Ok(Session {
        config,
        endpoints,
        http,
        principal,
        credential,
        options,
        shutdown: ctx.shutdown.clone(),
        clock: ctx.clock.clone(),
    })
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// `drift validate`: the config alone, offline.
fn validate(origin: &str) -> Result<Report, Error> {
    let config = load_config(Some(origin))?;
    let mut report = Report::new(CommandName::Validate, Outcome::Valid);
    let ws = &config.workspace;
    let mut text = vec![format!("{origin}: valid")];
    let (pipeline_name, params) = match &config.params {
        PipelineParams::Registrator(p) => {
            let source = naming::abfss_uri(p, config.cloud.profile().storage_suffix);
            let names = naming::Names::new(p).map_err(|message| ConfigError {
                file: origin.to_string(),
                key: Some("Processing.parameters.containerDataPath".into()),
                message,
                also: Vec::new(),
            })?;
            text.push(format!("  registrator: Delta table {source}, pinned by {}", p.pin_by.as_str()));
            text.push(format!(
                "  writes datastore {}, data assets {} (mltable) and {} (uri_folder)",
                names.datastore, names.mltable, names.uri
            ));
            (
                PipelineName::Registrator,
                json!({
                    "storageAccountName": p.storage_account,
                    "containerName": p.container,
                    "containerDataPath": p.data_path,
                    "pinBy": p.pin_by.as_str(),
                    "source": source,
                    "datastore": names.datastore,
                    "assets": {"mltable": names.mltable, "uri_folder": names.uri},
                }),
            )
        }
        PipelineParams::Retrainer(p) => {
            for b in &p.data_assets {
                text.push(format!("  retrainer: input {} must consume data asset {}", b.input_name, b.asset));
            }
            text.push(format!(
                "  wait up to {} s, polling every {} s{}",
                p.refresh_timeout.as_secs(),
                p.refresh_delay.as_secs(),
                if p.cancel_on_timeout { ", cancel on timeout" } else { "" }
            ));
            if let Some(policy) = &p.retrain_policy {
                text.push(format!(
                    "  retrain a group when at least {} rows changed since its training, or it is older than {}; on a \
                     schema change: {}",
                    policy.min_rows_changed,
                    policy.max_model_age.map_or_else(|| "(no limit)".to_string(), |a| format!("{} s", a.as_secs())),
                    policy.on_schema_change.as_str()
                ));
            }
            let mut parameters = json!({
                "dataAssets": p.data_assets.iter().map(|b| json!({"name": b.input_name, "value": b.asset})).collect::<Vec<_>>(),
                "refreshTimeout": p.refresh_timeout.as_secs(),
                "refreshDelay": p.refresh_delay.as_secs(),
                "cancelOnTimeout": p.cancel_on_timeout,
                "maxConcurrentSubmissions": p.max_concurrency,
            });
            if let (Some(policy), Some(map)) = (&p.retrain_policy, parameters.as_object_mut()) {
                // Seconds, like the other durations of this report.
                map.insert(
                    "retrainPolicy".into(),
                    json!({
                        "minRowsChanged": policy.min_rows_changed,
                        "onSchemaChange": policy.on_schema_change.as_str(),
                        "maxModelAge": policy.max_model_age.map(|a| a.as_secs()),
                    }),
                );
            }
            (PipelineName::Retrainer, parameters)
        }
    };
    text.insert(
        1,
        format!(
            "  workspace: {}/{}/{} ({}, api-version {})",
            ws.subscription_id, ws.resource_group, ws.workspace_name, config.cloud, config.api_version
        ),
    );
    for w in &config.warnings {
        text.push(format!("  warning: {w}"));
    }
    report.pipeline = Some(pipeline_name);
    report.details = json!({
        "config": origin,
        "workspace": {"subscriptionId": ws.subscription_id, "resourceGroup": ws.resource_group, "mlWorkspaceName": ws.workspace_name},
        "cloud": config.cloud.as_str(),
        "apiVersion": config.api_version,
        "parameters": params,
        "warnings": config.warnings,
    });
    report.text = text;
    Ok(report)
}

/// `drift auth describe`: which credential, and whether it works.
async fn auth_describe(args: AuthDescribeArgs, ctx: &Ctx<'_>) -> Result<Report, Error> {
    let (cloud, encoding) = match non_empty(args.config.as_deref()) {
        Some(origin) => {
            let config = load_config(Some(origin))?;
            (config.cloud, config.secrets_encoding)
        }
        None => (cloud_from_env(ctx.env)?.unwrap_or_default(), SecretsEncoding::Plain),
    };
    let endpoints = Endpoints::resolve(cloud, ctx.env)?;
    let http = HttpClient::new(RetryPolicy::from_env(ctx.env))?.with_shutdown(ctx.shutdown.clone());
    let principal =
        resolve_service_principal(&auth_inputs(ctx, &http, &args.credentials, &endpoints, encoding)).await?;
    let credential = principal.credential(&endpoints, &http);
    let mut text = vec![
        format!("service principal: {} in tenant {}", principal.client_id, principal.tenant_id),
        format!("credential from: {}", principal.source),
        format!("cloud: {} (authority {}, ARM {})", cloud, endpoints.authority_host, endpoints.arm),
    ];
    let verified = if args.no_verify {
        text.push("token: not requested (--no-verify)".into());
        false
    } else {
        credential.token(&Endpoints::scope(endpoints.cloud.arm_audience)).await?;
        text.push("token: acquired for Azure Resource Manager".into());
        true
    };
    let (source_kind, vault, read_with) = match &principal.source {
        PrincipalSource::Environment => ("environment", None, None),
        PrincipalSource::Certificate { .. } => ("certificate", None, None),
        PrincipalSource::KeyVault { vault, read_with } => ("keyvault", Some(vault.clone()), Some(read_with.clone())),
    };
    // The certificate's file, thumbprint and end of validity; never its key or password.
    let certificate = match &principal.source {
        PrincipalSource::Certificate { path, thumbprint, not_after } => {
            json!({"path": path, "thumbprint": thumbprint, "notAfter": not_after})
        }
        _ => serde_json::Value::Null,
    };
    let mut report =
        Report::new(CommandName::AuthDescribe, if verified { Outcome::Verified } else { Outcome::Resolved });
    report.details = json!({
        "clientId": principal.client_id,
        "tenantId": principal.tenant_id,
        "source": source_kind,
        "vault": vault,
        "vaultReadWith": read_with,
        "certificate": certificate,
        "cloud": cloud.as_str(),
        "tokenVerified": verified,
    });
    report.text = text;
    Ok(report)
}

//! What drift hands to the outside world: the task-values file (Databricks), GitHub Actions and Azure Pipelines
//! output variables, and the final report. The only module that writes to stdout.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, ExitStatus};

/// Databricks rejects a task value whose JSON is larger than this.
pub const MAX_TASK_VALUE_BYTES: usize = 48 * 1024;

/// Named values a pipeline publishes for the next task (e.g. `data_asset_version`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaskValues(BTreeMap<String, Value>);

impl TaskValues {
    pub fn new() -> TaskValues {
        TaskValues::default()
    }

    /// Adds a value; the key must match `^[A-Za-z0-9_]+$` and its JSON fit Databricks' 48 KiB limit.
    pub fn insert(&mut self, key: &str, value: Value) -> Result<(), Error> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::Io(format!("task value key {key:?} must match ^[A-Za-z0-9_]+$")));
        }
        let size = serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_TASK_VALUE_BYTES {
            return Err(Error::Io(format!(
                "task value {key} is {size} bytes of JSON; Databricks accepts at most {MAX_TASK_VALUE_BYTES}"
            )));
        }
        self.0.insert(key.to_string(), value);
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }
}

/// Text form of a value for systems that only take strings (GitHub, Azure Pipelines): strings as they are,
/// anything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes the task-values JSON object to `path` atomically: a temp file in the same directory, fsync, rename.
/// A reader (the Databricks shim) therefore sees either no file or the whole file.
pub fn write_task_values_file(path: &Path, values: &TaskValues) -> Result<(), Error> {
    let fail =
        |what: &str, e: std::io::Error| Error::Io(format!("cannot {what} task values file {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut bytes =
        serde_json::to_vec_pretty(values).map_err(|e| Error::Io(format!("cannot encode task values: {e}")))?;
    bytes.push(b'\n');
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| fail("create a temporary file beside the", e))?;
    tmp.write_all(&bytes).map_err(|e| fail("write the", e))?;
    tmp.as_file().sync_all().map_err(|e| fail("flush the", e))?;
    tmp.persist(path).map_err(|e| fail("rename into place the", e.error))?;
    // Make the rename itself durable where the platform allows opening a directory.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Appends the values to `$GITHUB_OUTPUT` in the multiline-safe `name<<DELIMITER` form.
pub fn write_github_output(path: &Path, values: &TaskValues) -> Result<(), Error> {
    let mut text = String::new();
    for (key, value) in values.iter() {
        let value = as_text(value);
        let mut delimiter = format!("drift_{}", random_token());
        while value.contains(&delimiter) {
            delimiter = format!("drift_{}", random_token());
        }
        text.push_str(&format!("{key}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::Io(format!("cannot open GITHUB_OUTPUT {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::Io(format!("cannot write GITHUB_OUTPUT {}: {e}", path.display())))
}

fn random_token() -> String {
    use rand::Rng;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(20).map(char::from).collect()
}

/// Azure Pipelines logging commands that set output variables (`##vso[task.setvariable …]`).
pub fn azure_pipelines_lines(values: &TaskValues) -> Vec<String> {
    values
        .iter()
        .map(|(key, value)| {
            format!("##vso[task.setvariable variable={key};isoutput=true]{}", escape_vso_value(&as_text(value)))
        })
        .collect()
}

/// Escaping Azure Pipelines applies to logging-command data, so a value cannot end the command early.
fn escape_vso_value(value: &str) -> String {
    value.replace('%', "%AZP25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Publishes task values everywhere the environment asks for them: the task-values file (flag or
/// `DRIFT_TASK_VALUES_FILE`), `$GITHUB_OUTPUT`, and Azure Pipelines when `TF_BUILD` is set. Called only on success.
pub fn publish(
    values: &TaskValues,
    task_values_file: Option<&Path>,
    env: &HashMap<String, String>,
    stdout: &mut dyn Write,
) -> Result<(), Error> {
    if let Some(path) = task_values_file {
        write_task_values_file(path, values)?;
        tracing::info!(target: "drift::output", file = %path.display(), "task values written");
    }
    if values.is_empty() {
        return Ok(());
    }
    if let Some(path) = env.get("GITHUB_OUTPUT").filter(|p| !p.trim().is_empty()) {
        write_github_output(Path::new(path), values)?;
    }
    if env.get("TF_BUILD").is_some_and(|v| !v.trim().is_empty()) {
        for line in azure_pipelines_lines(values) {
            writeln!(stdout, "{line}").map_err(|e| Error::Io(format!("cannot write to stdout: {e}")))?;
        }
    }
    Ok(())
}

/// `--output text|json|markdown|html`. Markdown and HTML are documents only `history` writes (other commands
/// refuse them as a usage error, `app.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    Markdown,
    Html,
}

impl OutputFormat {
    /// Text and JSON: the formats every command's report has.
    pub fn is_report(self) -> bool {
        matches!(self, OutputFormat::Text | OutputFormat::Json)
    }
}

impl OutputFormat {
    /// The format a command line asks for, read without the parser: so that a command line the parser rejects
    /// still gets its JSON report. The last `--output X` / `--output=X` before `--` wins, else `DRIFT_OUTPUT`.
    /// When the format itself is unreadable (`--output yaml`) nobody can tell a report was wanted, so the answer
    /// is text: the error goes to stderr only (docs/report.md).
    pub fn requested(args: &[std::ffi::OsString], env: &HashMap<String, String>) -> OutputFormat {
        use clap::ValueEnum;
        let mut flag: Option<String> = None;
        let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
        while let Some(word) = words.next() {
            if word == "--" {
                break;
            }
            if word == "--output" {
                flag = Some(words.next().map(|w| w.into_owned()).unwrap_or_default());
            } else if let Some(value) = word.strip_prefix("--output=") {
                flag = Some(value.to_string());
            }
        }
        // The parser matches `--output` values exactly and `DRIFT_OUTPUT` ignoring case (app.rs); so does this.
        let chosen = match flag {
            Some(value) => OutputFormat::from_str(&value, false).ok(),
            None => env.get("DRIFT_OUTPUT").and_then(|v| OutputFormat::from_str(v.trim(), true).ok()),
        };
        chosen.unwrap_or_default()
    }
}

/// Version of the JSON report's shape (docs/report.md, docs/report.schema.json); bumped on any incompatible change.
pub const REPORT_SCHEMA: u32 = 2;

/// The command a report is about (`command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandName {
    Run,
    Plan,
    Validate,
    AuthDescribe,
    Demo,
    History,
}

/// The pipeline a report is about (`pipeline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineName {
    Registrator,
    Retrainer,
}

/// How a command ended (`outcome`): a stable code; `error` says the rest in words. Which command has which
/// outcome is in docs/report.md and the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Registrator: a new data version.
    Registered,
    /// Registrator: the table did not change since the newest data version.
    Unchanged,
    /// Registrator: finished an interrupted earlier run. Retrainer: every job completed. Demo: every step passed.
    Completed,
    /// `plan`: what a run would do.
    Planned,
    /// Retrainer: a training job failed or a submission was refused. Demo: a step failed.
    Failed,
    /// Retrainer: `refreshTimeout` passed while jobs were still running.
    TimedOut,
    /// A signal stopped the command.
    Interrupted,
    /// Retrainer with `--no-wait`: submitted, not waited for.
    Submitted,
    /// Retrainer: every group already trained on the target version.
    UpToDate,
    /// Retrainer: no training job in scope.
    NoJobs,
    /// `validate`.
    Valid,
    /// `auth describe`: a token was obtained.
    Verified,
    /// `auth describe --no-verify`: the credential was found, not tried.
    Resolved,
    /// `history`: what was found (possibly nothing).
    Listed,
    /// The command could not finish; `error` says why.
    Error,
}

impl Outcome {
    /// Every outcome, for the test that keeps the schema's list equal to this one.
    pub const ALL: [Outcome; 15] = [
        Outcome::Registered,
        Outcome::Unchanged,
        Outcome::Completed,
        Outcome::Planned,
        Outcome::Failed,
        Outcome::TimedOut,
        Outcome::Interrupted,
        Outcome::Submitted,
        Outcome::UpToDate,
        Outcome::NoJobs,
        Outcome::Valid,
        Outcome::Verified,
        Outcome::Resolved,
        Outcome::Listed,
        Outcome::Error,
    ];

    /// The code as it appears in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Registered => "registered",
            Outcome::Unchanged => "unchanged",
            Outcome::Completed => "completed",
            Outcome::Planned => "planned",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Interrupted => "interrupted",
            Outcome::Submitted => "submitted",
            Outcome::UpToDate => "up_to_date",
            Outcome::NoJobs => "no_jobs",
            Outcome::Valid => "valid",
            Outcome::Verified => "verified",
            Outcome::Resolved => "resolved",
            Outcome::Listed => "listed",
            Outcome::Error => "error",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `exit_code` on the wire: the process exit code the status stands for.
fn exit_code<S: serde::Serializer>(status: &ExitStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u8(status.code())
}

/// The final report of a command (docs/report.md; its schema is docs/report.schema.json).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub tool_version: &'static str,
    /// `None` (JSON `null`) only when the command line could not be read.
    pub command: Option<CommandName>,
    /// Absent for commands without a pipeline, and when the run stopped before the config named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<PipelineName>,
    pub outcome: Outcome,
    /// The exit status itself; the JSON carries its code.
    #[serde(rename = "exit_code", serialize_with = "exit_code")]
    pub exit: ExitStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub task_values: TaskValues,
    /// Command-specific content, from the command's own typed details.
    pub details: Value,
    /// Human summary lines for `--output text`; not part of the JSON.
    #[serde(skip)]
    pub text: Vec<String>,
    /// The Markdown and HTML documents of commands that have them (`history`); not part of the JSON.
    #[serde(skip)]
    pub documents: Option<Documents>,
}

/// A command's report as documents: `--output markdown` and `--output html` print them whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    pub markdown: String,
    pub html: String,
}

impl Report {
    pub fn new(command: CommandName, outcome: Outcome) -> Report {
        Report {
            schema: REPORT_SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION"),
            command: Some(command),
            pipeline: None,
            outcome,
            exit: ExitStatus::Success,
            error: None,
            task_values: TaskValues::new(),
            details: Value::Object(Default::default()),
            text: Vec::new(),
            documents: None,
        }
    }

    /// The report of a command that could not finish: `interrupted` for a signal, else `error`; the message is
    /// the error with its causes.
    pub fn from_error(command: Option<CommandName>, error: &Error) -> Report {
        let outcome = if matches!(error, Error::Interrupted { .. }) { Outcome::Interrupted } else { Outcome::Error };
        let mut report = Report::new(CommandName::Run, outcome);
        report.command = command;
        report.exit = error.exit_status();
        report.error = Some(error.chain());
        report
    }

    /// The report of a command line drift could not accept (exit 2). `command` is `None` when the parser could
    /// not tell which command was meant.
    pub fn usage_error(command: Option<CommandName>, message: &str) -> Report {
        let mut report = Report::new(CommandName::Run, Outcome::Error);
        report.command = command;
        report.exit = ExitStatus::Usage;
        report.error = Some(message.to_string());
        report
    }

    /// Sets `details` from a command's typed details.
    pub fn set_details<T: Serialize>(&mut self, details: &T) -> Result<(), Error> {
        self.details =
            serde_json::to_value(details).map_err(|e| Error::Io(format!("cannot encode the report: {e}")))?;
        Ok(())
    }

    /// Writes the report: one JSON line, the text summary, or a document. A report without documents (an error
    /// before history had any) prints its text in their place, so the error is still said.
    pub fn write(&self, format: OutputFormat, out: &mut dyn Write) -> std::io::Result<()> {
        match (format, &self.documents) {
            (OutputFormat::Json, _) => {
                let line = serde_json::to_string(self).map_err(std::io::Error::other)?;
                writeln!(out, "{line}")
            }
            (OutputFormat::Markdown, Some(d)) => out.write_all(d.markdown.as_bytes()),
            (OutputFormat::Html, Some(d)) => out.write_all(d.html.as_bytes()),
            (OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Html, _) => {
                for line in &self.text {
                    writeln!(out, "{line}")?;
                }
                Ok(())
            }
        }
    }
}

/// The report as Markdown for `$GITHUB_STEP_SUMMARY`: a command's own Markdown document when it has one
/// (`history`), else a heading with the outcome and the text summary in a code block fenced longer than any run of
/// backticks inside it.
pub fn step_summary(report: &Report) -> String {
    if let Some(d) = &report.documents {
        return d.markdown.clone();
    }
    let command = report.command.map_or("drift".to_string(), |c| {
        serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    });
    let mut out = format!("### drift {command}: `{}` (exit {})\n\n", report.outcome, report.exit.code());
    let text = report.text.join("\n");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    if !text.is_empty() {
        out.push_str(&format!("{fence}text\n{text}\n{fence}\n"));
    }
    if let Some(error) = &report.error {
        out.push_str(&format!("\n{fence}text\nerror: {error}\n{fence}\n"));
    }
    out.push('\n');
    out
}

/// Appends `markdown` to the file `$GITHUB_STEP_SUMMARY` names (GitHub Actions renders it on the run's page).
pub fn append_step_summary(path: &Path, markdown: &str) -> Result<(), Error> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::Io(format!("cannot open GITHUB_STEP_SUMMARY {}: {e}", path.display())))?;
    file.write_all(markdown.as_bytes())
        .map_err(|e| Error::Io(format!("cannot write GITHUB_STEP_SUMMARY {}: {e}", path.display())))
}

/// The one-line message of a usage error the parser rendered (`error: unexpected argument …` and its tips and
/// usage below): its first line without the `error: ` prefix. Bare `drift` (or `drift auth`) renders help instead
/// of an error, so there the message says what is missing.
pub fn usage_message(rendered: &str) -> String {
    match rendered.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) if line.starts_with("error:") => line["error:".len()..].trim().to_string(),
        _ => "no command given (the usage is printed on stderr)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values() -> TaskValues {
        let mut v = TaskValues::new();
        v.insert("data_asset_version", json!("20261128101500")).unwrap();
        v
    }

    #[test]
    fn keys_and_sizes_are_checked() {
        let mut v = TaskValues::new();
        assert!(v.insert("bad-key", json!(1)).is_err());
        assert!(v.insert("", json!(1)).is_err());
        assert!(v.insert("ok_Key_1", json!(1)).is_ok());
        let big = "x".repeat(MAX_TASK_VALUE_BYTES);
        let err = v.insert("big", json!(big)).unwrap_err().to_string();
        assert!(err.contains("48") || err.contains("49152"), "{err}");
        let fits = "x".repeat(MAX_TASK_VALUE_BYTES - 2);
        assert!(v.insert("fits", json!(fits)).is_ok());
    }

    #[test]
    fn task_values_file_is_written_whole_and_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tv.json");
        std::fs::write(&path, "old").unwrap();
        write_task_values_file(&path, &values()).unwrap();
        let read: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(read, json!({"data_asset_version": "20261128101500"}));
        // No temp files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing_dir = dir.path().join("nope/tv.json");
        assert!(write_task_values_file(&missing_dir, &values()).unwrap_err().to_string().contains("nope"));
    }

    #[test]
    fn github_output_uses_the_delimiter_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gh");
        std::fs::write(&path, "earlier=1\n").unwrap();
        let mut v = values();
        v.insert("multi", json!("line1\nline2")).unwrap();
        write_github_output(&path, &v).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "earlier=1");
        let (name, delim) = lines[1].split_once("<<").unwrap();
        assert_eq!(name, "data_asset_version");
        assert_eq!(lines[2], "20261128101500");
        assert_eq!(lines[3], delim);
        let (name, delim) = lines[4].split_once("<<").unwrap();
        assert_eq!(name, "multi");
        assert_eq!(&lines[5..8], &["line1", "line2", delim]);
    }

    #[test]
    fn azure_pipelines_lines_are_escaped() {
        let mut v = values();
        v.insert("odd", json!("50%\nnext")).unwrap();
        assert_eq!(
            azure_pipelines_lines(&v),
            vec![
                "##vso[task.setvariable variable=data_asset_version;isoutput=true]20261128101500".to_string(),
                "##vso[task.setvariable variable=odd;isoutput=true]50%AZP25%0Anext".to_string(),
            ]
        );
    }

    #[test]
    fn publish_follows_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let gh = dir.path().join("gh");
        let tv = dir.path().join("tv.json");
        let env: HashMap<String, String> =
            [("GITHUB_OUTPUT".to_string(), gh.display().to_string()), ("TF_BUILD".to_string(), "True".to_string())]
                .into_iter()
                .collect();
        let mut out = Vec::new();
        publish(&values(), Some(&tv), &env, &mut out).unwrap();
        assert!(tv.exists());
        assert!(std::fs::read_to_string(&gh).unwrap().starts_with("data_asset_version<<"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "##vso[task.setvariable variable=data_asset_version;isoutput=true]20261128101500\n"
        );
        let mut quiet = Vec::new();
        publish(&values(), None, &HashMap::new(), &mut quiet).unwrap();
        assert!(quiet.is_empty());
    }

    #[test]
    fn report_json_has_the_schema_fields() {
        let mut r = Report::new(CommandName::Run, Outcome::Registered);
        r.pipeline = Some(PipelineName::Registrator);
        r.task_values = values();
        r.text = vec!["hello".into()];
        let mut out = Vec::new();
        r.write(OutputFormat::Json, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema"], REPORT_SCHEMA);
        assert_eq!(v["command"], "run");
        assert_eq!(v["pipeline"], "registrator");
        assert_eq!(v["outcome"], "registered");
        assert_eq!(v["exit_code"], 0);
        assert_eq!(v["task_values"]["data_asset_version"], "20261128101500");
        assert!(v.get("text").is_none() && v.get("error").is_none());
        let mut text = Vec::new();
        r.write(OutputFormat::Text, &mut text).unwrap();
        assert_eq!(text, b"hello\n");
    }

    #[test]
    fn codes_are_snake_case_and_the_exit_status_is_its_code() {
        for outcome in Outcome::ALL {
            assert_eq!(serde_json::to_value(outcome).unwrap(), json!(outcome.as_str()));
        }
        assert_eq!(serde_json::to_value(CommandName::AuthDescribe).unwrap(), json!("auth_describe"));
        let interrupted = Report::from_error(
            Some(CommandName::Run),
            &Error::Interrupted { signal: "SIGTERM", during: "listing jobs".into() },
        );
        let v = serde_json::to_value(&interrupted).unwrap();
        assert_eq!((v["outcome"].clone(), v["exit_code"].clone()), (json!("interrupted"), json!(143)));
        let usage = serde_json::to_value(Report::usage_error(None, "unexpected argument '--bogus' found")).unwrap();
        assert_eq!(usage["command"], Value::Null, "present, and null: the parser could not tell the command");
        assert_eq!((usage["outcome"].clone(), usage["exit_code"].clone()), (json!("error"), json!(2)));
    }

    #[test]
    fn the_requested_format_is_read_without_the_parser() {
        let args = |a: &[&str]| std::iter::once("drift").chain(a.iter().copied()).map(Into::into).collect::<Vec<_>>();
        let env = |v: &str| [("DRIFT_OUTPUT".to_string(), v.to_string())].into_iter().collect::<HashMap<_, _>>();
        let none = HashMap::new();
        let cases: [(&[&str], &HashMap<String, String>, OutputFormat); 9] = [
            (&["--bogus", "--output", "json"], &none, OutputFormat::Json),
            (&["--output=json", "run"], &none, OutputFormat::Json),
            (&["--output", "json", "--output", "text"], &none, OutputFormat::Text),
            (&["--bogus"], &env("JSON"), OutputFormat::Json),
            (&["--output", "text"], &env("json"), OutputFormat::Text),
            // Unreadable: nobody can tell a report was wanted.
            (&["--output", "yaml"], &env("json"), OutputFormat::Text),
            (&["--output"], &none, OutputFormat::Text),
            (&["--bogus"], &env("xml"), OutputFormat::Text),
            // After `--` words are values, not flags.
            (&["--", "--output", "json"], &none, OutputFormat::Text),
        ];
        for (a, e, expected) in cases {
            assert_eq!(OutputFormat::requested(&args(a), e), expected, "{a:?}");
        }
    }

    #[test]
    fn step_summaries_fence_the_text_and_prefer_documents() {
        let mut r = Report::new(CommandName::Plan, Outcome::Planned);
        r.text = vec!["a ``` b".into()];
        let md = step_summary(&r);
        assert!(md.starts_with("### drift plan: `planned` (exit 0)\n\n````text\na ``` b\n````\n"), "{md}");
        r.documents = Some(Documents { markdown: "## doc\n".into(), html: String::new() });
        assert_eq!(step_summary(&r), "## doc\n");
    }

    #[test]
    fn usage_messages_are_the_parsers_first_line() {
        let clap = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: drift [OPTIONS]\n";
        assert_eq!(usage_message(clap), "unexpected argument '--bogus' found");
        assert_eq!(
            usage_message("Keeps models fresh\n\nUsage: drift <COMMAND>\n"),
            "no command given (the usage is printed on stderr)"
        );
    }
}

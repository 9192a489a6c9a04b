//! `drift demo`: the whole flow against an in-process sandbox — no Azure account, no network. It seeds a small
//! workspace (a Delta table written by a real Delta writer, two earlier registrations of it, two model groups
//! trained on them), then runs drift's own commands through the same code paths a real run takes, handing the
//! registrator's task value to the retrainer the way a Databricks job does. The retrainer has a `retrainPolicy`:
//! one group is skipped (too few rows changed since its training), the other retrained (its schema changed).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drift_sandbox::{JobSeed, Sandbox, SandboxOptions};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::cli::DemoArgs;
use crate::error::Error;
use crate::output::{CommandName, Outcome, Report};
use crate::shutdown::Shutdown;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID: &str = "66666666-7777-8888-9999-000000000000";
const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const RESOURCE_GROUP: &str = "rg-mlops-demo";
const WORKSPACE: &str = "mlw-demo";
const VAULT: &str = "drift-demo-kv";
const ACCOUNT: &str = "demolake";
const CONTAINER: &str = "curated";
const TABLE: &str = "delta/sales";
const MLTABLE: &str = "curated-delta-sales-mltable";
const URI: &str = "curated-delta-sales-uri";

/// The `_delta_log` of a table written by delta-rs (tests/fixtures/delta/small): commits 0–6, a checkpoint at 4.
/// The demo starts with commits 0–5 and appends commit 6 later to show a data change.
const DELTA_LOG: &[(&str, &[u8])] = &[
    ("00000000000000000000.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000000.json")),
    ("00000000000000000001.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000001.json")),
    ("00000000000000000002.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000002.json")),
    ("00000000000000000003.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000003.json")),
    (
        "00000000000000000004.checkpoint.parquet",
        include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000004.checkpoint.parquet"),
    ),
    ("00000000000000000004.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000004.json")),
    ("_last_checkpoint", include_bytes!("../tests/fixtures/delta/small/_delta_log/_last_checkpoint")),
    ("00000000000000000005.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000005.json")),
];
const NEXT_COMMIT: (&str, &[u8]) =
    ("00000000000000000006.json", include_bytes!("../tests/fixtures/delta/small/_delta_log/00000000000000000006.json"));

/// Buffers a sub-command's output.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

/// What a demo step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    AuthDescribe,
    Register,
    /// The retrainer, on the version the last registrator step published.
    Retrain,
    /// `plan` of the retrainer, on that version.
    PlanRetrain,
    /// `history` of the retrainer since the story began, with the HTML page written to a file that outlives the
    /// demo.
    History,
}

/// One step of the story.
struct Scene {
    title: &'static str,
    /// New data lands first: the table gets its next Delta commit.
    new_commit: bool,
    command: Command,
}

const fn scene(title: &'static str, command: Command) -> Scene {
    Scene { title, new_commit: false, command }
}

/// The story the demo tells, in order.
const SCRIPT: [Scene; 9] = [
    scene(
        "Which credential? (service principal from Key Vault, read with the managed identity)",
        Command::AuthDescribe,
    ),
    scene(
        "Registrator: register the Delta table's state, with what changed since the last registration",
        Command::Register,
    ),
    scene(
        "Retrainer with retrainPolicy (minRowsChanged: 5): churn saw 2 rows change and is skipped; fraud's data \
         gained a column since its training and is retrained",
        Command::Retrain,
    ),
    scene("Rerun of the registrator (a Databricks repair run): nothing changed", Command::Register),
    scene("Rerun of the retrainer: fraud is up to date, churn still below the threshold", Command::Retrain),
    // Commit 6 was written milliseconds after commit 5, in the same second: the registrator takes the next free
    // second for it (`version_for`), so no waiting for the clock is needed.
    Scene {
        title: "New data (Delta commit 6): the registrator registers a new version",
        new_commit: true,
        command: Command::Register,
    },
    scene("Plan of the retrainer on the new version (writes nothing)", Command::PlanRetrain),
    scene("Retrainer on the new version: an OPTIMIZE changes no rows, nothing is retrained", Command::Retrain),
    scene("History of the retrainer: every group's runs and where it stands now (reads only)", Command::History),
];

/// The two config files the steps use, and what the history step needs.
struct Configs {
    registrator: String,
    retrainer: String,
    /// Where the history step writes its page.
    history_page: String,
    /// The history step's window: from the first seeded job to now, in whole days.
    history_since: String,
}

impl Command {
    /// The command line, credentials included; `version` is what the last registrator step published.
    fn args(self, configs: &Configs, version: Option<&str>) -> Vec<String> {
        let mut args: Vec<&str> = match self {
            Command::AuthDescribe => vec!["auth", "describe"],
            Command::Register => vec!["run", "--config", &configs.registrator],
            Command::Retrain => vec!["run", "--config", &configs.retrainer],
            Command::PlanRetrain => vec!["plan", "--config", &configs.retrainer],
            Command::History => vec![
                "history",
                "--config",
                &configs.retrainer,
                "--since",
                &configs.history_since,
                "--out",
                &configs.history_page,
            ],
        };
        args.extend(["--tenant", TENANT, "--vault_name", VAULT]);
        if let (Command::Retrain | Command::PlanRetrain, Some(v)) = (self, version) {
            args.extend(["--data_asset_version", v]);
        }
        args.into_iter().map(str::to_string).collect()
    }
}

/// One drift command the demo ran.
struct Step {
    title: String,
    command: String,
    status: crate::ExitStatus,
    report: Value,
    task_values: Value,
    logs: String,
}

/// `details` of the demo's report: each step with its own report (docs/report.md, "Demo details").
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DemoDetails<'a> {
    sandbox: &'a str,
    steps: Vec<StepDetails<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StepDetails<'a> {
    title: &'a str,
    command: &'a str,
    #[serde(serialize_with = "exit_code")]
    exit_code: crate::ExitStatus,
    task_values: &'a Value,
    report: &'a Value,
}

fn exit_code<S: serde::Serializer>(status: &crate::ExitStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u8(status.code())
}

/// Seeds a sandbox, plays the script against it, and reports every step.
pub async fn run(args: DemoArgs, shutdown: Shutdown) -> Result<Report, Error> {
    // The traffic file is how tests/demo.rs checks the demo's requests against the Azure ML spec.
    let options = SandboxOptions { traffic_file: args.traffic_file.clone(), ..SandboxOptions::default() };
    let sandbox = Sandbox::start(options).map_err(|e| Error::Io(format!("cannot start the sandbox: {e}")))?;
    seed(&sandbox)?;
    tracing::info!(target: "drift::demo", url = %sandbox.url(), "sandbox started and seeded");

    let dir = tempfile::tempdir().map_err(|e| Error::Io(format!("cannot create a temporary directory: {e}")))?;
    // The page must outlive the demo (its configs go with `dir`): a directory of its own under the system's temp
    // directory, kept, so runs never overwrite each other's pages.
    let pages = tempfile::Builder::new()
        .prefix("drift-demo-")
        .tempdir()
        .map_err(|e| Error::Io(format!("cannot create a temporary directory: {e}")))?
        .keep();
    let history_page = pages.join("history.html").display().to_string();
    let configs = Configs {
        registrator: write(dir.path(), "registrator.yaml", &registrator_config())?,
        retrainer: write(dir.path(), "retrainer.yaml", &retrainer_config())?,
        history_page: history_page.clone(),
        history_since: history_window(),
    };
    let mut env: HashMap<String, String> = sandbox.env().into_iter().collect();
    // The demo machine has a managed identity that may read the vault, like a Databricks cluster or an Azure VM.
    env.insert("PATH".into(), String::new());

    let mut steps: Vec<Step> = Vec::new();
    for scene in &SCRIPT {
        if scene.new_commit {
            sandbox.add_blob(
                ACCOUNT,
                CONTAINER,
                &format!("{TABLE}/_delta_log/{}", NEXT_COMMIT.0),
                NEXT_COMMIT.1.to_vec(),
            );
        }
        let version = if scene.command == Command::Register { None } else { published(&steps) };
        let argv = scene.command.args(&configs, version.as_deref());
        steps.push(step(scene.title, &argv, &env, dir.path()).await);
    }

    let mut report = demo_report(&sandbox.url(), &steps)?;
    if steps.last().is_some_and(|s| s.status == crate::ExitStatus::Success) {
        report.text.push(String::new());
        report.text.push(format!("The demo workspace's history, as a web page: {history_page}"));
    }
    if args.keep {
        // The summary goes to stderr now, while the sandbox serves; stdout gets the report when it stops.
        let mut out = std::io::stderr();
        for line in report.text.iter().chain(&keep_running_text(&sandbox)) {
            let _ = writeln!(out, "{line}");
        }
        report.text = Vec::new();
        shutdown.wait().await;
    }
    Ok(report)
}

/// The demo's report: `failed` with the first failed step's exit status, else `completed`.
fn demo_report(sandbox: &str, steps: &[Step]) -> Result<Report, Error> {
    let mut report = Report::new(CommandName::Demo, Outcome::Completed);
    if let Some(failed) = steps.iter().find(|s| s.status != crate::ExitStatus::Success) {
        report.outcome = Outcome::Failed;
        report.exit = failed.status;
        report.error = Some(format!("demo step failed: {} (exit {})", failed.title, failed.status.code()));
    }
    report.set_details(&DemoDetails {
        sandbox,
        steps: steps
            .iter()
            .map(|s| StepDetails {
                title: &s.title,
                command: &s.command,
                exit_code: s.status,
                task_values: &s.task_values,
                report: &s.report,
            })
            .collect(),
    })?;
    let mut text = vec![format!("drift demo — a local sandbox of Azure at {sandbox} (workspace {WORKSPACE})")];
    for (i, s) in steps.iter().enumerate() {
        text.push(String::new());
        text.push(format!("[{}] {}", i + 1, s.title));
        text.push(format!("    $ {}", s.command));
        text.extend(summarize(s).into_iter().map(|l| format!("    {l}")));
        if s.status != crate::ExitStatus::Success {
            text.extend(s.logs.lines().map(|l| format!("    | {l}")));
        }
    }
    text.push(String::new());
    text.push(
        "Every step above was a real drift run over HTTP against the sandbox; against Azure the same commands".into(),
    );
    text.push("need only the config files and credentials (see README).".into());
    report.text = text;
    Ok(report)
}

fn keep_running_text(sandbox: &Sandbox) -> Vec<String> {
    let mut text = vec![format!(
        "\nThe sandbox keeps running at {} — export these and run drift against it; Ctrl-C to stop:",
        sandbox.url()
    )];
    text.extend(sandbox.env().into_iter().map(|(k, v)| format!("  export {k}='{v}'")));
    text
}

/// Days from the first seeded job (`at(0)`) to now, rounded up, plus one: a window that holds the whole story
/// whenever the demo runs.
fn history_window() -> String {
    let since_start = SystemTime::now().duration_since(at(0)).unwrap_or_default().as_secs();
    format!("{}d", since_start / 86_400 + 2)
}

/// The `data_asset_version` the last registrator step published.
fn published(steps: &[Step]) -> Option<String> {
    steps.iter().rev().find_map(|s| s.task_values.get("data_asset_version")).and_then(Value::as_str).map(str::to_string)
}

fn write(dir: &Path, name: &str, text: &str) -> Result<String, Error> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// Runs one drift command in-process against the sandbox, on its own thread (each run owns its runtime).
async fn step(title: &str, args: &[String], env: &HashMap<String, String>, dir: &Path) -> Step {
    let out = Buffer::default();
    let err = Buffer::default();
    let task_values = dir.join("task-values.json");
    let _ = std::fs::remove_file(&task_values);
    let mut argv: Vec<OsString> = vec!["drift".into(), "--output".into(), "json".into()];
    argv.push("--task-values-file".into());
    argv.push(task_values.as_os_str().to_owned());
    argv.extend(args.iter().map(OsString::from));
    let invocation = crate::Invocation::new(argv, env.clone(), Box::new(out.clone()), Box::new(err.clone()));
    // A step that panicked (a bug) counts as a failed step, with a documented exit code.
    let status = tokio::task::spawn_blocking(move || crate::run(invocation)).await.unwrap_or(crate::ExitStatus::Failed);
    let report = out.text().lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    let values =
        std::fs::read_to_string(&task_values).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null);
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if a.contains('/') && a.ends_with(".yaml") {
                Path::new(a).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
            } else {
                a.to_string()
            }
        })
        .collect();
    Step {
        title: title.to_string(),
        command: format!("drift {}", shown.join(" ")),
        status,
        report,
        task_values: values,
        logs: err.text(),
    }
}

/// A few lines per step, from its JSON report.
fn summarize(step: &Step) -> Vec<String> {
    let r = &step.report;
    let d = &r["details"];
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let mut lines = Vec::new();
    match (r["command"].as_str(), r["pipeline"].as_str()) {
        (Some("auth_describe"), _) => lines.push(format!(
            "service principal {} (tenant {}), secret from {} {} read with {}; token verified: {}",
            s(&d["clientId"]),
            s(&d["tenantId"]),
            s(&d["source"]),
            s(&d["vault"]),
            s(&d["vaultReadWith"]),
            d["tokenVerified"]
        )),
        (Some("history"), _) => {
            for g in d["groups"].as_array().into_iter().flatten() {
                let runs = g["runs"].as_array().map_or(0, Vec::len);
                let by_drift = g["runs"].as_array().into_iter().flatten().filter(|r| r["byDrift"] == true).count();
                lines.push(format!(
                    "{}: {} — {runs} run{} listed, {by_drift} by drift",
                    s(&g["group"]),
                    s(&g["summary"]),
                    if runs == 1 { "" } else { "s" }
                ));
            }
            let scan = &d["scan"];
            lines.push(format!(
                "  {} versions of {}, {} jobs scanned; page written to {}",
                d["versionsTotal"],
                s(&d["asset"]),
                scan["jobsSeen"],
                s(&d["htmlFile"])
            ));
        }
        (_, Some("registrator")) => {
            lines.push(format!(
                "{}: Delta version {} of {} → data version {}",
                s(&r["outcome"]),
                d["deltaVersion"],
                s(&d["source"]),
                s(&d["version"])
            ));
            for a in d["assets"].as_array().into_iter().flatten() {
                lines.push(format!("  {} {} {} ({})", s(&a["type"]), s(&a["name"]), s(&a["version"]), s(&a["action"])));
            }
            let c = &d["changes"];
            if c.is_object() {
                lines.push(format!(
                    "  changes since {}: {} commit{} ({}), rows +{} ~{} -{}, schema changed {}",
                    s(&c["drift.previousVersion"]),
                    s(&c["drift.commits"]),
                    if s(&c["drift.commits"]) == "1" { "" } else { "s" },
                    s(&c["drift.operations"]),
                    s(&c["drift.rowsInserted"]),
                    s(&c["drift.rowsUpdated"]),
                    s(&c["drift.rowsDeleted"]),
                    s(&c["drift.schemaChanged"])
                ));
            }
            if let Some(tv) = step.task_values.get("data_asset_version") {
                lines.push(format!("  task value data_asset_version = {}", s(tv)));
            }
        }
        (_, Some("retrainer")) => {
            lines.push(format!(
                "{}: target version {} ({})",
                s(&r["outcome"]),
                s(&d["targetVersion"]),
                s(&d["targetSource"])
            ));
            let scan = &d["scan"];
            lines.push(format!(
                "  scanned {} jobs in {} page(s), {} in scope",
                scan["jobsSeen"], scan["pages"], scan["jobsInScope"]
            ));
            for g in d["groups"].as_array().into_iter().flatten() {
                let job = &g["job"];
                let detail = if job.is_null() {
                    format!("base {} already reads it", s(&g["baseJob"]["displayName"]))
                } else if job["displayName"].is_null() {
                    format!("{} → new job {}", s(&g["baseJob"]["displayName"]), s(&job["id"]))
                } else {
                    format!("{} → {} {}", s(&g["baseJob"]["displayName"]), s(&job["displayName"]), s(&job["status"]))
                };
                let detail = if g.get("policy").is_some() {
                    format!(
                        "{} ({}: {})",
                        if job.is_null() { s(&g["baseJob"]["displayName"]) } else { detail },
                        s(&g["reasonCode"]),
                        s(&g["reason"])
                    )
                } else {
                    detail
                };
                lines.push(format!("  {:<6} {:<17} {detail}", s(&g["group"]), s(&g["action"])));
            }
        }
        _ => lines.push(format!("outcome: {}", s(&r["outcome"]))),
    }
    if let Some(e) = r["error"].as_str() {
        lines.push(format!("error: {e}"));
    }
    lines.push(format!("exit {}", step.status.code()));
    lines
}

fn registrator_config() -> String {
    format!(
        "Processing:\n  type: drift.registrating.dataset_registrator.DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RESOURCE_GROUP}\n      mlWorkspaceName: {WORKSPACE}\n    storageAccountName: {ACCOUNT}\n    containerName: {CONTAINER}\n    containerDataPath: {TABLE}\n"
    )
}

fn retrainer_config() -> String {
    format!(
        "Processing:\n  type: drift.retraining.model_retrainer.ModelRetrainer\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RESOURCE_GROUP}\n      mlWorkspaceName: {WORKSPACE}\n    dataAssets:\n      - name: training_data\n        value: {MLTABLE}\n    refreshTimeout: \"120\"\n    refreshDelay: \"1\"\n    retrainPolicy:\n      minRowsChanged: 5\n      onSchemaChange: retrain\n"
    )
}

/// The demo workspace: identity, vault, lake, an earlier registration and the training jobs that used it.
fn seed(sb: &Sandbox) -> Result<(), Error> {
    let secret = demo_secret();
    sb.add_service_principal(TENANT, CLIENT_ID, &secret);
    sb.set_managed_identity("demo-machine-identity");
    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", &secret);
    let ws = sb.add_workspace(SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE);
    sb.add_storage_account(ACCOUNT, "ZGVtby1sYWtlLWtleS1ub3QtYS1zZWNyZXQ=");
    for (name, bytes) in DELTA_LOG {
        sb.add_blob(ACCOUNT, CONTAINER, &format!("{TABLE}/_delta_log/{name}"), bytes.to_vec());
    }
    // Two earlier registrations, of Delta versions 1 and 3, with the change tags drift recorded then (computed
    // here by drift's own functions from the same commits), and the jobs that trained on them.
    let earlier = [("20261101060000", 1, 0), ("20261101063000", 3, 1)];
    for (i, (version, delta_version, minutes)) in earlier.iter().enumerate() {
        let tags = earlier_tags(*delta_version, i.checked_sub(1).map(|p| (earlier[p].0, earlier[p].1)))?;
        let folder = format!(
            "azureml://datastores/workspaceblobstore/paths/LocalUpload/0123456789abcdef0123456789abcdef/{MLTABLE}{i}"
        );
        sb.add_data_version_at(
            &ws,
            MLTABLE,
            version,
            json!({"dataType": "mltable", "dataUri": folder, "tags": tags}),
            at(*minutes),
        );
        sb.add_data_version_at(
            &ws,
            URI,
            version,
            json!({"dataType": "uri_folder", "dataUri": format!("azureml://datastores/workspaceblobstore/paths/legacy/sales{i}/"), "tags": tags}),
            at(*minutes),
        );
    }
    let input = |version: &str| {
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}/data/{MLTABLE}/versions/{version}"
        )
    };
    for (id, display, minutes, version) in [
        ("churn-2026-10", "churn_20261015080000_k2Jd9a", 1, earlier[0].0),
        ("churn-2026-11", "churn_20261101070000_Qp3xZt", 2, earlier[1].0),
        ("fraud-2026-11", "fraud_20261101073000_Lm8vQe", 3, earlier[0].0),
        ("notebook-run", "exploration in a notebook", 4, earlier[1].0),
    ] {
        sb.add_job(&ws, training_job(id, display, &input(version), at(minutes)));
    }
    // Submitted jobs move Queued → Running → Completed, one step per poll.
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    Ok(())
}

/// The tags the registrator wrote when it registered Delta version `delta_version` after `previous` (name, Delta
/// version), or as the table's first registration: drift's own change functions over the demo table's commits.
fn earlier_tags(delta_version: u64, previous: Option<(&str, u64)>) -> Result<Value, Error> {
    use crate::delta::changes::{PriorSchema, commit_change, summarize};
    use crate::pipeline::registrator::changes::{Changes, tags};
    let read = |v: u64| {
        let name = format!("{v:020}.json");
        let bytes = DELTA_LOG.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).unwrap_or_default();
        commit_change(v, &name, bytes).map_err(|e| Error::Failed(format!("demo table: {e}")))
    };
    let from = previous.map_or(0, |(_, v)| v + 1);
    let prior = match previous {
        None => PriorSchema::TableStart,
        Some((_, v)) => {
            let before: Vec<_> = (0..=v).map(read).collect::<Result<_, _>>()?;
            summarize(&before, &PriorSchema::TableStart).schema.map_or(PriorSchema::Unknown, PriorSchema::Known)
        }
    };
    let range: Vec<_> = (from..=delta_version).map(read).collect::<Result<_, _>>()?;
    let mut t = tags(&Changes {
        previous_version: previous.map(|(n, _)| n.to_string()),
        previous_delta_version: previous.map(|(_, v)| v),
        commits: Some(range.len() as u64),
        summary: Some(summarize(&range, &prior)),
        why_unknown: None,
    });
    t.insert(crate::pipeline::registrator::TAG_DELTA_VERSION.to_string(), delta_version.to_string());
    Ok(json!(t))
}

fn at(minutes: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_793_491_200 + minutes * 60)
}

fn training_job(id: &str, display: &str, input: &str, created: SystemTime) -> JobSeed {
    let mut inputs = Map::new();
    inputs.insert("training_data".into(), json!({"jobInputType": "mltable", "uri": input, "mode": "ReadOnlyMount"}));
    inputs.insert("max_epochs".into(), json!({"jobInputType": "literal", "value": "20"}));
    let mut extra = Map::new();
    extra.insert(
        "computeId".into(),
        json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}/computes/cpu-cluster")),
    );
    extra.insert(
        "jobs".into(),
        json!({"train": {"type": "command", "componentId": "azureml:train_model:4", "inputs": {"data": {"job_input_type": "literal", "value": "${{parent.inputs.training_data}}"}}}}),
    );
    extra.insert("settings".into(), json!({"default_compute": "cpu-cluster"}));
    JobSeed {
        id: id.into(),
        display_name: Some(display.into()),
        created_at: Some(created),
        experiment_name: "demand-forecasting".into(),
        inputs,
        extra,
        ..JobSeed::default()
    }
}

/// A fresh secret per demo, so nothing in the repository looks like a credential.
fn demo_secret() -> String {
    use rand::Rng;
    let s: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect();
    format!("demo~{s}")
}

//! What every fault module needs: a seeded lake for the registrator, a workspace with trained groups for the
//! retrainer, the real `drift` binary run as a child process, and waiting for the sandbox to see a request.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use drift_sandbox::WorkspaceRef;
use serde_json::Value;

use crate::common::ml::*;
use crate::common::*;

pub const ACCOUNT: &str = "datalakeprod";
pub const CONTAINER: &str = "curated-data";
pub const TABLE_PATH: &str = "delta/sales/daily";
pub const MLTABLE: &str = "curated-data-delta-sales-daily-mltable";
pub const URI: &str = "curated-data-delta-sales-daily-uri";
pub const GROUPS: [&str; 2] = ["churn", "fraud"];

/// A workspace and a storage account holding the small real-writer Delta table.
pub fn lake() -> (Sandbox, WorkspaceRef) {
    let (sb, ws) = ml_sandbox();
    sb.add_storage_account(ACCOUNT, "ZHJpZnQtdGVzdC1rZXktZm9yLWRhdGFsYWtlcHJvZA==");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delta/small");
    sb.add_directory(ACCOUNT, CONTAINER, TABLE_PATH, fixture).unwrap();
    (sb, ws)
}

pub fn registrator_config() -> (tempfile::TempDir, String) {
    write_temp(
        "registrator.yaml",
        &format!(
            "Processing:\n  type: drift.registrating.dataset_registrator.DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: {ACCOUNT}\n    containerName: {CONTAINER}\n    containerDataPath: {TABLE_PATH}\n"
        ),
    )
}

/// `sales` versions 1..=3; groups churn and fraud trained on older versions; jobs complete on their first poll.
pub fn trained_workspace() -> (Sandbox, WorkspaceRef) {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1", "2", "3"]);
    for (i, group) in GROUPS.iter().enumerate() {
        let created = at(10 * i as u64);
        let stamp: chrono::DateTime<chrono::Utc> = created.into();
        let display = format!("{group}_{}_x{i}", stamp.format("%Y%m%d%H%M%S"));
        sb.add_job(
            &ws,
            job(&format!("{group}-base"), &display, created, &[("training_data", &arm_data_id("sales", "1"))]),
        );
    }
    sb.set_job_steps(&["Queued", "Completed"]);
    (sb, ws)
}

pub fn retrainer_yaml(extra: &str) -> (tempfile::TempDir, String) {
    retrainer_config(&[("training_data", "sales")], 30, 1, extra)
}

/// Starts the real binary with exactly `env` (nothing inherited), JSON report on stdout.
pub fn spawn(args: &[&str], env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_drift"))
        .arg("--output")
        .arg("json")
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("drift starts")
}

/// What a finished child said.
pub struct Finished {
    pub code: Option<i32>,
    pub report: Value,
    pub stderr: String,
}

/// Collects the child's answer. Its report, when it printed one, must match docs/report.schema.json; `Null` when
/// it printed none (killed, or ended at once by a second signal).
pub fn finish(child: Child) -> Finished {
    let out = child.wait_with_output().expect("drift ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = match stdout.lines().last() {
        Some(line) => report_schema::parse(line, &format!("drift exited {:?}; stderr:\n{stderr}\n", out.status.code())),
        None => Value::Null,
    };
    Finished { code: out.status.code(), report, stderr }
}

/// Waits at most `limit` for the child; a child still running then is killed and the test fails, so a drift that
/// ignores what it should not ignore fails the suite instead of hanging it.
pub fn finish_within(mut child: Child, limit: Duration, what: &str) -> Finished {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait().expect("drift's status") {
            Some(_) => return finish(child),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let late = finish(child);
                panic!("{what}: drift was still running after {limit:?}; killed it. stderr:\n{}", late.stderr);
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Runs the binary to the end; it must end with a report.
pub fn run(args: &[&str], env: &[(String, String)]) -> Finished {
    let done = finish_within(spawn(args, env), Duration::from_secs(120), &format!("drift {}", args.join(" ")));
    assert!(!done.report.is_null(), "drift {} ended without a report; stderr:\n{}", args.join(" "), done.stderr);
    done
}

/// Waits until `ready` holds, or panics after `limit` naming `what`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Requests a clean run makes, counted on a fresh sandbox made by `setup`.
pub fn requests_of_a_clean_run(setup: impl Fn() -> (Sandbox, WorkspaceRef), args: &[&str]) -> usize {
    let (sb, _ws) = setup();
    let done = run(args, &sp_env(&sb));
    assert_eq!(done.code, Some(0), "the clean run must succeed: {}", done.stderr);
    sb.requests().len()
}

/// Distinct `{version}`s of `PUT …/data/{asset}/versions/{version}` the service accepted.
pub fn data_versions_written(sb: &Sandbox, asset: &str) -> Vec<String> {
    let needle = format!("/data/{asset}/versions/");
    let mut versions: Vec<String> = sb
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && matches!(r.status, 200 | 201) && r.path.contains(&needle))
        .filter_map(|r| r.path.rsplit('/').next().map(str::to_string))
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// Job ids PUT for `group`, and whether every PUT of the same id carried the same body.
pub fn jobs_put_for(sb: &Sandbox, group: &str) -> (Vec<String>, bool) {
    let prefix = format!("drift-{group}-");
    let puts: Vec<(String, Value)> =
        job_puts(sb).into_iter().filter(|(id, _, _)| id.starts_with(&prefix)).map(|(id, b, _)| (id, b)).collect();
    let mut ids: Vec<String> = puts.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    let same_bodies = ids.iter().all(|id| {
        let bodies: Vec<&Value> = puts.iter().filter(|(i, _)| i == id).map(|(_, b)| b).collect();
        bodies.windows(2).all(|w| w[0] == w[1])
    });
    (ids, same_bodies)
}

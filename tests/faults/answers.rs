//! What Azure answers decides whose fault a failure is: a request rejected as invalid (400 UserError, a missing
//! workspace) is exit 2, not "retry me" (4); a task-values file that cannot be written is a local I/O error
//! (6); a cancel's `Location` on another host is not followed with the ARM token.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use drift_sandbox::{Fault, JobScript};

use super::setup::*;
use crate::common::ml::*;
use crate::common::*;

#[test]
fn a_job_put_rejected_as_invalid_is_exit_2() {
    let (sb, _ws) = trained_workspace();
    let body =
        r#"{"error":{"code":"UserError","message":"The input 'training_data' is not valid (drift-sandbox fault)."}}"#;
    sb.push_fault(Fault::new("/jobs/drift-", 400).method("PUT").body(body).times(2));
    let (_d, config) = retrainer_yaml("");
    let done = run(&["run", "--config", &config], &sp_env(&sb));
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("UserError"), "{}", done.stderr);
}

#[test]
fn a_missing_workspace_is_exit_2() {
    let (sb, _ws) = trained_workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 30, 1, "");
    let config_text = std::fs::read_to_string(&config).unwrap().replace(WS, "ws-that-is-not-there");
    std::fs::write(&config, config_text).unwrap();
    let done = run(&["run", "--config", &config], &sp_env(&sb));
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("not found"), "{}", done.stderr);
}

#[test]
fn an_unwritable_task_values_file_is_a_local_io_error() {
    let (sb, _ws) = lake();
    let (_d, config) = registrator_config();
    let dir = tempfile::tempdir().unwrap();
    // A path under a regular file cannot be created, whoever runs the test (root included).
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let target = blocker.join("task-values.json");
    let done = run(&["--task-values-file", target.to_str().unwrap(), "run", "--config", &config], &sp_env(&sb));
    assert_eq!(done.code, Some(6), "{}", done.stderr);
    assert!(done.stderr.contains("task values file"), "{}", done.stderr);
}

/// A cancel answered 202 with a `Location` on another origin: drift does not follow it (the ARM token would go
/// there), and counts the cancel as requested.
#[test]
fn a_cancel_location_on_another_host_is_not_followed() {
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    let elsewhere = format!("http://{}/operationResults/x?api-version=2025-12-01", trap.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    {
        let hits = hits.clone();
        std::thread::spawn(move || {
            for stream in trap.incoming() {
                hits.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
    }
    let (sb, _ws) = trained_workspace();
    sb.script_job("churn", JobScript::Hang);
    sb.script_job("fraud", JobScript::Hang);
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    sb.push_fault(Fault::new("/cancel", 202).header("Location", elsewhere).header("Retry-After", "0").times(2));
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 2, 1, "cancelOnTimeout: true");
    let done = run(&["run", "--config", &config], &sp_env(&sb));
    assert_eq!(done.code, Some(5), "{}", done.stderr);
    assert_eq!(done.report["details"]["canceled"].as_array().map(Vec::len), Some(2), "{}", done.report);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "drift followed a Location to another host");
    assert!(done.stderr.contains("not following it"), "{}", done.stderr);
}

//! `kill -9` at every request of a registrator and a retrainer run — once before the service saw the request
//! (it hangs), once after it handled it (the answer is lost) — then a rerun: it succeeds and converges, with one
//! data version per Delta version and one job per group, never rewritten.

use std::time::Duration;

use drift_sandbox::{Fault, WorkspaceRef};

use super::setup::*;
use crate::common::*;

/// Kills the run at request `n` (0-based), the request hung or its answer lost, and reruns to the end.
fn kill_then_rerun(sb: &Sandbox, n: usize, lost: bool, args: &[&str]) -> Finished {
    let fault = if lost { Fault::lost_answer("") } else { Fault::hang("") };
    sb.push_fault(fault.skip(n));
    let before = sb.requests().len();
    let mut child = spawn(args, &sp_env(sb));
    // The fault has struck, and (for a lost answer) the service has recorded handling the request.
    wait_until(&format!("request {n}"), Duration::from_secs(20), || {
        sb.faults_left() == 0 && sb.requests().len() > before + n
    });
    child.kill().expect("kill -9");
    let killed = child.wait().expect("reaped");
    assert_eq!(killed.code(), None, "drift was killed, it did not exit on its own");
    sb.clear_faults();
    run(args, &sp_env(sb))
}

fn every_index(
    setup: fn() -> (Sandbox, WorkspaceRef),
    args: &[&str],
    check: impl Fn(&Sandbox, &WorkspaceRef, &Finished, &str),
) {
    let total = requests_of_a_clean_run(setup, args);
    assert!(total >= 5, "a real run makes several requests ({total})");
    for n in 0..total {
        for lost in [false, true] {
            let (sb, ws) = setup();
            let rerun = kill_then_rerun(&sb, n, lost, args);
            let label = format!("killed at request {n}/{total} ({})", if lost { "answer lost" } else { "hung" });
            assert_eq!(rerun.code, Some(0), "{label}: the rerun must succeed: {}", rerun.stderr);
            check(&sb, &ws, &rerun, &label);
        }
    }
}

#[test]
fn registrator_killed_at_every_request_converges() {
    let (_d, config) = registrator_config();
    every_index(lake, &["run", "--config", &config], |sb, ws, rerun, label| {
        let m = data_versions_written(sb, MLTABLE);
        let u = data_versions_written(sb, URI);
        assert_eq!(m.len(), 1, "{label}: one mltable version, got {m:?}");
        assert_eq!(u, m, "{label}: the uri_folder version matches");
        assert!(sb.data_version(ws, MLTABLE, &m[0]).is_some() && sb.data_version(ws, URI, &m[0]).is_some(), "{label}");
        assert_eq!(rerun.report["task_values"]["data_asset_version"], m[0].as_str(), "{label}");
    });
}

#[test]
fn retrainer_killed_at_every_request_converges() {
    let (_d, config) = retrainer_yaml("");
    every_index(trained_workspace, &["run", "--config", &config], |sb, ws, rerun, label| {
        for group in GROUPS {
            let (ids, same_bodies) = jobs_put_for(sb, group);
            assert_eq!(ids.len(), 1, "{label}: one job for {group}, got {ids:?}");
            assert!(same_bodies, "{label}: a job was rewritten with another body");
            let job = sb.job(ws, &ids[0]).expect("the job exists");
            assert_eq!(job["properties"]["status"], "Completed", "{label}");
        }
        // Killed before the jobs finished: the rerun waits for them; after: it finds every group up to date.
        let outcome = rerun.report["outcome"].as_str().unwrap_or_default().to_string();
        assert!(outcome == "completed" || outcome == "up_to_date", "{label}: {}", rerun.report);
    });
}

//! Hung and slow servers against every call of both pipelines: drift gives up within its timeouts (scaled down
//! here with DRIFT_HTTP_TIMEOUT_SCALE so a hang costs a fraction of a second), never waits forever, and a rerun
//! converges. And `refreshTimeout` is a deadline even when every status poll hangs under production timeouts.

use std::time::{Duration, Instant};

use drift_sandbox::{Fault, JobScript, WorkspaceRef};

use super::setup::*;
use crate::common::*;

/// Timeouts scaled by `scale` (0.005: connect 50 ms, silence 300 ms, whole request 1.5 s); one retry.
fn fast_timeouts(sb: &Sandbox, scale: &str) -> Vec<(String, String)> {
    let mut env = sp_env(sb);
    env.push(("DRIFT_HTTP_TIMEOUT_SCALE".into(), scale.into()));
    env.push(("DRIFT_HTTP_MAX_RETRIES".into(), "1".into()));
    env
}

/// Longest a run with one faulted call may take: the request and its retry time out, plus the rest of the run.
const BOUND: Duration = Duration::from_secs(15);

fn every_call(
    setup: fn() -> (Sandbox, WorkspaceRef),
    args: &[&str],
    scale: &str,
    fault: impl Fn(usize) -> Fault,
    kind: &str,
) {
    let total = requests_of_a_clean_run(setup, args);
    for n in 0..total {
        let (sb, _ws) = setup();
        sb.push_fault(fault(n));
        let started = Instant::now();
        let done = finish_within(spawn(args, &fast_timeouts(&sb, scale)), BOUND, &format!("{kind} at request {n}"));
        let label = format!("{kind} at request {n}/{total}: exit {:?}", done.code);
        // Either the retry got through (0) or drift gave up on the call (4); never a hang.
        assert!(matches!(done.code, Some(0 | 4)), "{label}: {}", done.stderr);
        if done.code == Some(4) {
            let error = done.report["error"].as_str().unwrap_or_default();
            assert!(error.contains("timed out") || error.contains("failed"), "{label}: {error}");
        }
        assert!(started.elapsed() < BOUND, "{label}: took {:?}", started.elapsed());
        sb.clear_faults();
        let rerun = run(args, &sp_env(&sb));
        assert_eq!(rerun.code, Some(0), "{label}: rerun: {}", rerun.stderr);
    }
}

#[test]
fn a_hung_server_at_any_call_costs_its_timeouts_not_forever() {
    let (_d, reg) = registrator_config();
    every_call(lake, &["run", "--config", &reg], "0.005", |n| Fault::hang("").skip(n).times(2), "hang");
    let (_d, ret) = retrainer_yaml("");
    every_call(trained_workspace, &["run", "--config", &ret], "0.005", |n| Fault::hang("").skip(n).times(2), "hang");
}

#[test]
fn a_trickling_body_at_any_call_is_bounded_by_the_request_timeout() {
    // One byte every 40 ms: never silent long enough for the read timeout (120 ms at this scale), so only the
    // whole-request limit (0.6 s) stops it; the retry gets a normal answer.
    let slow = |n| Fault::slow_body("", 1, Duration::from_millis(40)).skip(n);
    let (_d, reg) = registrator_config();
    every_call(lake, &["run", "--config", &reg], "0.002", slow, "slow body");
    let (_d, ret) = retrainer_yaml("");
    every_call(trained_workspace, &["run", "--config", &ret], "0.002", slow, "slow body");
}

#[test]
fn a_connection_broken_mid_answer_at_any_call_is_retried_or_reported() {
    let (_d, reg) = registrator_config();
    every_call(lake, &["run", "--config", &reg], "0.005", |n| Fault::reset("").skip(n).times(2), "reset");
    let (_d, ret) = retrainer_yaml("");
    every_call(trained_workspace, &["run", "--config", &ret], "0.005", |n| Fault::reset("").skip(n).times(2), "reset");
}

/// Every status poll hangs and the HTTP timeouts are the production ones (60 s of silence, 300 s a request):
/// refreshTimeout 2 s still ends the wait at 2 s, exit 5.
#[test]
fn refresh_timeout_is_a_deadline_when_polls_hang() {
    let (sb, _ws) = trained_workspace();
    sb.script_job("churn", JobScript::Hang);
    sb.script_job("fraud", JobScript::Hang);
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    let (_d, config) = crate::common::ml::retrainer_config(&[("training_data", "sales")], 2, 1, "");
    // The adoption GETs and the PUTs go through; from then on every GET of a drift job hangs.
    sb.push_fault(Fault::hang("/jobs/drift-").method("GET").skip(2).times(usize::MAX));
    let started = Instant::now();
    let done = finish_within(spawn(&["run", "--config", &config], &sp_env(&sb)), Duration::from_secs(20), "hung polls");
    assert_eq!(done.code, Some(5), "{}", done.stderr);
    assert_eq!(done.report["outcome"], "timed_out");
    assert!(started.elapsed() < Duration::from_secs(8), "exit 5 came {:?} after the start", started.elapsed());
}

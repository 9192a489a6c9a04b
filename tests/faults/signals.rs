//! A signal at every phase: the run is blocked on request n (the server never answers), SIGTERM or SIGINT
//! arrives, and drift exits 143 or 130 within seconds, sends nothing after the signal, and a rerun converges.
//! Also: a signal during a retry's backoff sleep, and a second signal while the retrainer cancels its jobs.

use std::process::Command;
use std::time::{Duration, Instant};

use drift_sandbox::{Fault, JobScript, WorkspaceRef};

use super::setup::*;
use crate::common::*;

/// How long drift may take to exit after a signal.
const PROMPT: Duration = Duration::from_secs(5);

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status().expect("kill runs");
    assert!(status.success());
}

/// Signals the run once request `n` and everything after it hang (so the run is stuck and settled); returns what
/// it said, how long it took, and how many requests arrived after the signal.
fn signal_at(sb: &Sandbox, n: usize, name: &str, args: &[&str], env: &[(String, String)]) -> (Finished, Duration, u64) {
    sb.push_fault(Fault::hang("").skip(n).times(usize::MAX));
    let start = sb.arrivals();
    let child = spawn(args, env);
    wait_until(&format!("request {n} to hang"), Duration::from_secs(20), || sb.arrivals() > start + n as u64);
    // Concurrent work (other groups) runs into the hang too; wait until nothing new arrives for a while.
    let mut seen = sb.arrivals();
    loop {
        std::thread::sleep(Duration::from_millis(150));
        let now = sb.arrivals();
        if now == seen {
            break;
        }
        seen = now;
    }
    let sent = Instant::now();
    signal(&child, name);
    let done = finish_within(child, PROMPT * 2, &format!("SIG{name} at request {n}"));
    let took = sent.elapsed();
    let after = sb.arrivals() - seen;
    sb.clear_faults();
    (done, took, after)
}

fn every_phase(
    setup: fn() -> (Sandbox, WorkspaceRef),
    args: &[&str],
    converged: impl Fn(&Sandbox, &WorkspaceRef, &str),
) {
    let total = requests_of_a_clean_run(setup, args);
    for n in 0..total {
        let (name, code) = if n % 2 == 0 { ("TERM", 143) } else { ("INT", 130) };
        let (sb, ws) = setup();
        let (done, took, after) = signal_at(&sb, n, name, args, &sp_env(&sb));
        let label = format!("SIG{name} at request {n}/{total}");
        assert_eq!(done.code, Some(code), "{label}: {}", done.stderr);
        assert!(took < PROMPT, "{label}: exited {took:?} after the signal");
        assert_eq!(after, 0, "{label}: {after} request(s) after the signal");
        assert_eq!(done.report["exit_code"], code, "{label}: {}", done.report);
        let rerun = run(args, &sp_env(&sb));
        assert_eq!(rerun.code, Some(0), "{label}: the rerun must succeed: {}", rerun.stderr);
        converged(&sb, &ws, &label);
    }
}

#[test]
fn registrator_stops_at_a_signal_in_every_phase() {
    let (_d, config) = registrator_config();
    every_phase(lake, &["run", "--config", &config], |sb, _ws, label| {
        let m = data_versions_written(sb, MLTABLE);
        assert_eq!(m.len(), 1, "{label}: {m:?}");
        assert_eq!(data_versions_written(sb, URI), m, "{label}");
    });
}

#[test]
fn retrainer_stops_at_a_signal_in_every_phase() {
    let (_d, config) = retrainer_yaml("");
    every_phase(trained_workspace, &["run", "--config", &config], |sb, _ws, label| {
        for group in GROUPS {
            let (ids, same) = jobs_put_for(sb, group);
            assert!(ids.len() == 1 && same, "{label}: {group}: {ids:?}");
        }
    });
}

/// A 429 asking for 30 s: drift sleeps before its retry, and a signal ends the sleep at once.
#[test]
fn a_signal_ends_a_retry_backoff() {
    let (sb, _ws) = lake();
    let (_d, config) = registrator_config();
    sb.push_fault(Fault::throttled("/datastores/", 30).method("PUT"));
    let env: Vec<_> = sp_env(&sb).into_iter().filter(|(k, _)| k != "DRIFT_HTTP_RETRY_DELAY_SCALE").collect();
    let child = spawn(&["run", "--config", &config], &env);
    wait_until("the 429", Duration::from_secs(20), || sb.requests().iter().any(|r| r.status == 429));
    let sent = Instant::now();
    signal(&child, "TERM");
    let done = finish_within(child, PROMPT * 2, "SIGTERM during a backoff");
    assert_eq!(done.code, Some(143), "{}", done.stderr);
    assert!(sent.elapsed() < PROMPT, "the 30 s backoff held the exit: {:?}", sent.elapsed());
    assert!(done.stderr.contains("interrupted by SIGTERM"), "{}", done.stderr);
}

/// With cancel enabled, the first SIGTERM makes the retrainer cancel its jobs; if that hangs, a second signal
/// ends the process at once.
#[test]
fn a_second_signal_skips_the_cleanup() {
    let (sb, _ws) = trained_workspace();
    sb.script_job("churn", JobScript::Hang);
    sb.script_job("fraud", JobScript::Hang);
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    sb.push_fault(Fault::hang("/cancel").times(10));
    let (_d, config) = retrainer_yaml("cancelOnTimeout: true");
    let child = spawn(&["run", "--config", &config], &sp_env(&sb));
    wait_until("polling", Duration::from_secs(20), || {
        sb.requests().iter().filter(|r| r.method == "GET" && r.path.contains("/jobs/drift-")).count() >= 4
    });
    signal(&child, "TERM");
    wait_until("the cancel request", Duration::from_secs(10), || {
        sb.requests().iter().any(|r| r.path.ends_with("/cancel"))
    });
    let sent = Instant::now();
    signal(&child, "INT");
    let done = finish_within(child, PROMPT, "a second signal");
    assert!(sent.elapsed() < Duration::from_secs(2), "second signal took {:?}", sent.elapsed());
    assert_eq!(done.code, Some(130), "the second signal's code: {}", done.stderr);
    assert!(done.stderr.contains("second signal"), "{}", done.stderr);
}

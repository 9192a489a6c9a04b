//! The retrainer end to end against the sandbox: selection (every URI form, exact names, prefixes, newest per
//! group), target version, up-to-date skip, the exact resubmission, adoption on rerun, waiting and its endings.

mod common;

use std::time::Duration;

use common::ml::*;
use common::*;
use drift_sandbox::{JobScript, WorkspaceRef};
use serde_json::Value;

/// `{group}_{stamp of at(minutes)}_{suffix}`.
fn display(group: &str, minutes: u64, suffix: &str) -> String {
    let t: chrono::DateTime<chrono::Utc> = at(minutes).into();
    format!("{group}_{}_{suffix}", t.format("%Y%m%d%H%M%S"))
}

/// A workspace where `sales` has versions 1..=3 (3 the latest) and two groups trained on older versions.
fn workspace() -> (Sandbox, WorkspaceRef) {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1", "2", "3"]);
    add_versions(&sb, &ws, "sales_v2", &["1"]);
    sb.add_job(
        &ws,
        job("churn-old", &display("churn", 0, "a1"), at(0), &[("training_data", &arm_data_id("sales", "1"))]),
    );
    sb.add_job(
        &ws,
        job("churn-new", &display("churn", 60, "b2"), at(60), &[("training_data", &arm_data_id("sales", "2"))]),
    );
    sb.add_job(&ws, job("fraud-new", &display("fraud", 30, "c3"), at(30), &[("training_data", "azureml:sales:1")]));
    // Quick lifecycle: the PUT answers Queued, the first poll sees Completed.
    sb.set_job_steps(&["Queued", "Completed"]);
    (sb, ws)
}

fn run(args: &[&str], sb: &Sandbox) -> Outcome {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    drift(&all, &sp_env(sb))
}

fn groups(report: &Value) -> Vec<(String, String)> {
    report["details"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap().to_string(), g["action"].as_str().unwrap().to_string()))
        .collect()
}

fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["details"]["groups"].as_array().unwrap().iter().find(|g| g["group"] == name).unwrap()
}

#[test]
fn resubmits_the_newest_job_of_each_group_on_the_latest_version_and_waits() {
    let (sb, ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["run", "--config", &config], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["outcome"], "completed");
    assert_eq!(r["details"]["targetVersion"], "3");
    assert_eq!(r["details"]["targetSource"], "latest");
    assert_eq!(groups(&r), vec![("churn".into(), "submitted".into()), ("fraud".into(), "submitted".into())]);
    let churn = group(&r, "churn");
    assert_eq!(churn["baseJob"]["id"], "churn-new");
    assert_eq!(churn["job"]["status"], "Completed");
    assert_eq!(churn["inputs"]["training_data"]["from"], "2");
    assert_eq!(churn["inputs"]["training_data"]["to"], "3");
    let id = churn["job"]["id"].as_str().unwrap();
    assert!(
        churn["job"]["studioUrl"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://ml.azure.com/runs/{id}?wsid=/subscriptions/"))
    );
    // The new job exists in the workspace, reading version 3.
    let created = sb.job(&ws, id).unwrap();
    assert_eq!(created["properties"]["inputs"]["training_data"]["uri"], arm_data_id("sales", "3"));
    assert_eq!(job_puts(&sb).len(), 2);
}

#[test]
fn the_put_body_is_the_base_job_minus_read_only_fields_with_inputs_rewritten() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["run", "--config", &config, "--data_asset_version", "3", "--model_name_prefix", "churn"], &sb);
    out.assert_code(0);
    let puts = job_puts(&sb);
    assert_eq!(puts.len(), 1);
    let (id, body, headers) = &puts[0];
    assert!(id.starts_with("drift-churn-"), "{id}");
    let header = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    assert!(header("authorization").unwrap().starts_with("Bearer "));
    // The bare Azure ML token, as azure-ai-ml sends it (no `Bearer ` scheme), and not the ARM token.
    let ml_token = header("x-azureml-token").expect("pipeline PUTs carry the Azure ML token");
    assert!(!ml_token.is_empty() && !ml_token.contains(' '), "x-azureml-token must be the bare token");
    assert_ne!(Some(format!("Bearer {ml_token}")), header("authorization"), "the ML token has its own audience");
    let p = &body["properties"];
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["properties"]);
    assert!(p.get("status").is_none());
    assert!(p["services"]["Studio"].get("status").is_none() && p["services"]["Studio"].get("errorMessage").is_none());
    assert_eq!(p["services"]["Studio"]["jobServiceType"], "Studio");
    assert_eq!(p["inputs"]["training_data"]["uri"], arm_data_id("sales", "3"));
    assert_eq!(p["inputs"]["training_data"]["jobInputType"], "mltable");
    assert_eq!(p["inputs"]["training_data"]["mode"], "ReadOnlyMount");
    assert_eq!(p["inputs"]["learning_rate"]["value"], "0.01");
    assert_eq!(p["jobs"]["train"]["inputs"]["data"]["value"], "${{parent.inputs.training_data}}");
    assert_eq!(p["settings"]["default_compute"], "cpu-cluster");
    assert!(p["computeId"].as_str().unwrap().ends_with("/computes/cpu-cluster"));
    assert_eq!(p["experimentName"], "forecasting");
    assert_eq!(p["properties"]["team"], "forecasting");
    assert_eq!(p["tags"]["owner"], "ml-team");
    assert_eq!(p["tags"]["drift.baseJob"], "churn-new");
    assert_eq!(p["tags"]["drift.dataAssetVersion"], "3");
    let name = p["displayName"].as_str().unwrap();
    let (group, rest) = name.split_once('_').unwrap();
    let (stamp, suffix) = rest.split_once('_').unwrap();
    assert_eq!(group, "churn");
    assert!(stamp.len() == 14 && stamp.chars().all(|c| c.is_ascii_digit()));
    assert!(suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn every_input_uri_form_is_recognised() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1", "2"]);
    let forms = [
        ("aa", arm_data_id("sales", "1")),
        ("bb", format!("azureml:{}", arm_data_id("sales", "1"))),
        ("cc", "azureml:sales:1".to_string()),
        ("dd", "azureml:sales@latest".to_string()),
        ("ee", "sales:1".to_string()),
        (
            "ff",
            format!("azureml://subscriptions/{SUBSCRIPTION}/resourcegroups/{RG}/workspaces/{WS}/data/sales/versions/1"),
        ),
        ("gg", arm_data_id("sales", "1").replace("resourceGroups", "resourcegroups").replace(RG, &RG.to_uppercase())),
    ];
    for (i, (group, uri)) in forms.iter().enumerate() {
        sb.add_job(
            &ws,
            job(&format!("job-{group}"), &display(group, i as u64, "x"), at(i as u64), &[("training_data", uri)]),
        );
    }
    sb.set_job_steps(&["Queued", "Completed"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["plan", "--config", &config], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["details"]["scan"]["jobsInScope"], 7, "{r}");
    assert_eq!(groups(&r).len(), 7);
    assert!(groups(&r).iter().all(|(_, a)| a == "would_submit"));
}

#[test]
fn sales_does_not_match_sales_v2_and_reasons_are_counted() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1"]);
    add_versions(&sb, &ws, "sales_v2", &["1"]);
    sb.add_job(&ws, job("j1", &display("churn", 0, "a"), at(0), &[("training_data", &arm_data_id("sales_v2", "1"))]));
    sb.add_job(&ws, job("j2", "adhoc experiment", at(1), &[("training_data", &arm_data_id("sales", "1"))]));
    sb.add_job(&ws, job("j3", &display("fraud", 2, "a"), at(2), &[("features", &arm_data_id("sales", "1"))]));
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["run", "--config", &config], &sb);
    out.assert_code(1);
    let r = out.report();
    assert_eq!(r["outcome"], "no_jobs");
    let err = r["error"].as_str().unwrap();
    assert!(err.contains("3 pipeline jobs seen, 0 in scope"), "{err}");
    assert!(err.contains("1 × input training_data reads another data asset than sales"), "{err}");
    assert!(err.contains("1 × display name does not match"), "{err}");
    assert!(err.contains("1 × no input named training_data"), "{err}");
    assert!(out.stderr.contains("no training job in scope"));
    assert!(arm_writes(&sb).is_empty());
}

#[test]
fn model_name_prefixes_are_literal() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1", "2"]);
    let uri = arm_data_id("sales", "1");
    sb.add_job(&ws, job("a", &display("churn.v2+", 0, "x"), at(0), &[("training_data", &uri)]));
    sb.add_job(&ws, job("b", &display("churnXv2+", 1, "x"), at(1), &[("training_data", &uri)]));
    sb.add_job(&ws, job("c", &display("fraud_model", 2, "x"), at(2), &[("training_data", &uri)]));
    sb.add_job(&ws, job("d", &display("other", 3, "x"), at(3), &[("training_data", &uri)]));
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["plan", "--config", &config, "--model_name_prefix", "churn.v2+, fraud_model"], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(
        groups(&r),
        vec![("churn.v2+".into(), "would_submit".into()), ("fraud_model".into(), "would_submit".into())]
    );
}

#[test]
fn newest_per_group_breaks_timestamp_ties_by_creation_time() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales", &["1", "2"]);
    let uri = arm_data_id("sales", "1");
    sb.add_job(&ws, job("early", &display("churn", 10, "a"), at(10), &[("training_data", &uri)]));
    sb.add_job(&ws, job("late", &display("churn", 10, "b"), at(11), &[("training_data", &uri)]));
    sb.add_job(&ws, job("older", &display("churn", 5, "c"), at(20), &[("training_data", &uri)]));
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let r = run(&["plan", "--config", &config], &sb).report();
    assert_eq!(group(&r, "churn")["baseJob"]["id"], "late");
}

#[test]
fn configured_assets_must_agree_on_their_latest_version() {
    let (sb, ws) = ml_sandbox();
    add_versions(&sb, &ws, "sales-mltable", &["20261101000000", "20261102000000"]);
    add_versions(&sb, &ws, "sales-uri", &["20261101000000"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales-mltable"), ("raw", "sales-uri")], 60, 1, "");
    let out = run(&["run", "--config", &config], &sb);
    out.assert_code(2);
    assert!(out.stderr.contains("disagree") && out.stderr.contains("sales-uri: 20261101000000"), "{}", out.stderr);
    let (_e, missing) = retrainer_config(&[("training_data", "nope")], 60, 1, "");
    let out = run(&["run", "--config", &missing], &sb);
    out.assert_code(2);
    assert!(out.stderr.contains("data asset nope has no versions"), "{}", out.stderr);
}

#[test]
fn an_empty_version_flag_means_latest() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let r = run(&["plan", "--config", &config, "--data_asset_version="], &sb).report();
    assert_eq!(r["details"]["targetVersion"], "3");
    assert_eq!(r["details"]["targetSource"], "latest");
}

#[test]
fn up_to_date_groups_are_skipped_unless_forced() {
    let (sb, ws) = workspace();
    sb.add_job(
        &ws,
        job("churn-done", &display("churn", 90, "d4"), at(90), &[("training_data", &arm_data_id("sales", "3"))]),
    );
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["run", "--config", &config, "--data_asset_version", "3"], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(groups(&r), vec![("churn".into(), "up_to_date".into()), ("fraud".into(), "submitted".into())]);
    assert_eq!(job_puts(&sb).len(), 1);
    sb.clear_requests();
    let out =
        run(&["run", "--config", &config, "--data_asset_version", "3", "--force", "--model_name_prefix", "churn"], &sb);
    out.assert_code(0);
    assert_eq!(groups(&out.report()), vec![("churn".into(), "submitted".into())]);
    assert_eq!(job_puts(&sb).len(), 1);
}

#[test]
fn a_rerun_adopts_and_makes_no_duplicate_puts() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    // Submit without waiting, as a task that crashed mid-wait would have.
    let first = run(&["run", "--config", &config, "--no-wait"], &sb);
    first.assert_code(0);
    assert_eq!(first.report()["outcome"], "submitted");
    let ids: Vec<String> = job_puts(&sb).into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ids.len(), 2);
    sb.clear_requests();
    // The rerun sees the new jobs as the groups' newest, already on version 3: it waits for them.
    let second = run(&["run", "--config", &config], &sb);
    second.assert_code(0);
    let r = second.report();
    assert_eq!(groups(&r), vec![("churn".into(), "watching".into()), ("fraud".into(), "watching".into())]);
    assert!(job_puts(&sb).is_empty(), "no duplicate submission");
    // And a run that lists before the service shows the new jobs finds them by their deterministic id.
    sb.clear_requests();
    let third = run(&["run", "--config", &config, "--force"], &sb);
    third.assert_code(0);
    let r = third.report();
    assert!(groups(&r).iter().all(|(_, a)| a == "submitted"), "--force bases new jobs on the newest ones: {r}");
}

#[test]
fn adoption_by_deterministic_id() {
    let (sb, ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    run(&["run", "--config", &config, "--no-wait", "--model_name_prefix", "churn"], &sb).assert_code(0);
    let id = job_puts(&sb)[0].0.clone();
    // Hide the submitted job from the list (as eventual consistency would), so selection picks the old base again.
    let stale_page = serde_json::json!({"value": [sb.job(&ws, "churn-new").unwrap()]});
    sb.push_fault(drift_sandbox::Fault::new("/jobs?", 200).body(stale_page.to_string()));
    sb.clear_requests();
    let out = run(&["run", "--config", &config, "--model_name_prefix", "churn"], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(group(&r, "churn")["action"], "adopted");
    assert_eq!(group(&r, "churn")["job"]["id"], id);
    assert!(job_puts(&sb).is_empty());
}

fn scripted_run(script: JobScript, timeout: u64, extra_args: &[&str]) -> (Sandbox, Outcome) {
    let (sb, _ws) = workspace();
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    sb.script_job("churn", script);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], timeout, 1, "");
    let mut args = vec!["run", "--config", config.as_str(), "--model_name_prefix", "churn"];
    args.extend_from_slice(extra_args);
    let out = run(&args, &sb);
    (sb, out)
}

#[test]
fn polls_until_completed() {
    let (sb, out) = scripted_run(JobScript::Complete, 60, &[]);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(group(&r, "churn")["job"]["status"], "Completed");
    let polls = calls(&sb, "/jobs/drift-churn-").iter().filter(|c| c.starts_with("GET")).count();
    assert!(polls >= 3, "one GET for adoption, then polls until Completed: {polls}");
}

#[test]
fn a_poll_error_after_retries_is_logged_and_polled_again() {
    let (sb, _ws) = workspace();
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    run(&["run", "--config", &config, "--no-wait", "--model_name_prefix", "churn"], &sb).assert_code(0);
    let id = job_puts(&sb)[0].0.clone();
    // One whole poll fails: the first attempt and the HTTP layer's four retries all get 503.
    sb.push_fault(drift_sandbox::Fault::new(format!("/jobs/{id}?"), 503).method("GET").times(5));
    let out = run(&["run", "--config", &config, "--model_name_prefix", "churn"], &sb);
    out.assert_code(0);
    assert!(out.stderr.contains("polling failed, will retry next cycle"), "{}", out.stderr);
    assert!(out.stderr.contains("1 poll error"), "the cycle line counts it: {}", out.stderr);
    assert_eq!(group(&out.report(), "churn")["job"]["status"], "Completed");
}

/// One error, said once: a refused submission's error — the job it was for, the status, Azure's code and message,
/// the request id — appears once, with its group; the closing message names the group with Azure's code; the full
/// request URL is only in the debug log.
#[test]
fn a_refused_submission_is_said_once_and_its_url_only_at_debug_level() {
    let body = r#"{"error":{"code":"UserError","message":"The input 'training_data' is not valid."}}"#;
    let refused = |sb: &Sandbox| {
        sb.push_fault(drift_sandbox::Fault::new("/jobs/drift-churn-", 400).method("PUT").body(body).times(1));
    };
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    // Text output: once across stdout and stderr, and no URL.
    let (sb, _ws) = workspace();
    refused(&sb);
    let out = drift(&["run", "--config", &config], &sp_env(&sb));
    out.assert_code(2);
    let all = format!("{}\n{}", out.stdout, out.stderr);
    assert_eq!(all.matches("The input 'training_data' is not valid.").count(), 1, "{all}");
    assert!(!all.contains("api-version"), "no request URL at info level:\n{all}");
    assert!(
        out.stderr.contains("error: submission failed for 1 of 2 group(s): churn (HTTP 400 UserError)"),
        "{}",
        out.stderr
    );
    let said = out.stdout.lines().find(|l| l.contains("The input")).unwrap();
    assert!(said.contains("PUT …/jobs/drift-churn-") && said.contains("x-ms-request-id="), "{said}");
    // JSON: the group's `error` holds it, the top-level `error` names the group.
    let (sb, _ws) = workspace();
    refused(&sb);
    let out = run(&["run", "--config", &config], &sb);
    let r = out.report();
    assert_eq!((r["outcome"].as_str(), group(&r, "churn")["action"].as_str()), (Some("failed"), Some("submit_failed")));
    assert!(group(&r, "churn")["error"].as_str().unwrap().contains("UserError: The input"), "{r}");
    assert!(!r["error"].as_str().unwrap().contains("The input"), "{r}");
    assert_eq!(group(&r, "fraud")["action"], "submitted");
    // Debug: the whole URL, for whoever needs it.
    let (sb, _ws) = workspace();
    refused(&sb);
    let out = drift(&["--log-level", "debug", "run", "--config", &config], &sp_env(&sb));
    let logged =
        out.stderr.lines().find(|l| l.contains("submission failed")).unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(logged.contains("/jobs/drift-churn-") && logged.contains("api-version="), "{logged}");
}

#[test]
fn failed_jobs_fail_the_run() {
    let (_sb, out) = scripted_run(JobScript::Fail, 60, &[]);
    out.assert_code(1);
    let r = out.report();
    assert_eq!(r["outcome"], "failed");
    assert_eq!(group(&r, "churn")["job"]["status"], "Failed");
    assert!(out.stderr.contains("did not complete") && out.stderr.contains("Failed"), "{}", out.stderr);
}

#[test]
fn canceled_is_a_terminal_failure() {
    let (_sb, out) = scripted_run(JobScript::Cancel, 60, &[]);
    out.assert_code(1);
    assert_eq!(group(&out.report(), "churn")["job"]["status"], "Canceled");
}

/// NotResponding and Paused are not final (spec `JobStatus`: "A run can go from NotResponding to any of the previous
/// states"; Paused is set by users and resumable): the wait goes on through them, and shows them.
#[test]
fn not_responding_and_paused_keep_the_wait_going() {
    let walk = ["Queued", "Running", "NotResponding", "Running", "Paused", "Running", "Completed"];
    let (sb, out) = scripted_run(JobScript::Steps(walk.iter().map(|s| s.to_string()).collect()), 60, &[]);
    out.assert_code(0);
    assert_eq!(group(&out.report(), "churn")["job"]["status"], "Completed");
    assert!(out.stderr.contains("1 NotResponding") && out.stderr.contains("1 Paused"), "{}", out.stderr);
    assert_eq!(job_puts(&sb).len(), 1);
}

#[test]
fn a_job_that_stays_not_responding_times_out_and_a_rerun_watches_it() {
    let (sb, out) = scripted_run(JobScript::NotResponding, 2, &[]);
    out.assert_code(5);
    let r = out.report();
    assert_eq!(r["outcome"], "timed_out");
    assert_eq!(group(&r, "churn")["job"]["status"], "NotResponding");
    assert_eq!(job_puts(&sb).len(), 1);
    // A rerun (a Databricks task retry, say) adopts the job and waits on it: no second training beside it.
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 2, 1, "");
    let out = run(&["run", "--config", &config, "--model_name_prefix", "churn"], &sb);
    out.assert_code(5);
    assert_eq!(job_puts(&sb).len(), 1, "a rerun must not resubmit beside a NotResponding job");
    let plan = run(&["plan", "--config", &config, "--model_name_prefix", "churn"], &sb);
    plan.assert_code(0);
    assert_eq!(group(&plan.report(), "churn")["action"], "watching", "{}", plan.stdout);
}

#[test]
fn an_unknown_status_keeps_waiting_until_the_timeout() {
    let (sb, out) = scripted_run(JobScript::Status("Hibernating".into()), 2, &[]);
    out.assert_code(5);
    let r = out.report();
    assert_eq!(r["outcome"], "timed_out");
    assert_eq!(group(&r, "churn")["job"]["status"], "Hibernating");
    assert!(out.stderr.contains("keep running"), "without cancel the jobs are left alone: {}", out.stderr);
    assert!(calls(&sb, "/cancel").is_empty());
}

#[test]
fn timeout_with_cancel_cancels_unfinished_jobs() {
    let (sb, out) = scripted_run(JobScript::Hang, 2, &["--cancel-on-timeout"]);
    out.assert_code(5);
    let r = out.report();
    let id = group(&r, "churn")["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(r["details"]["canceled"], serde_json::json!([id]));
    let cancels = calls(&sb, "/cancel");
    assert_eq!(
        cancels,
        vec![format!(
            "POST /arm/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/jobs/{id}/cancel"
        )]
    );
}

#[test]
fn cancel_on_timeout_from_config() {
    let (sb, _ws) = workspace();
    sb.script_job("churn", JobScript::Hang);
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 1, 1, "cancelOnTimeout: true");
    let out = run(&["run", "--config", &config, "--model_name_prefix", "churn"], &sb);
    out.assert_code(5);
    assert_eq!(calls(&sb, "/cancel").len(), 1);
}

#[test]
fn pages_through_many_pages() {
    let (sb, ws) = ml_sandbox();
    let spec = drift_sandbox::GenerateSpec {
        jobs: 2_500,
        groups: 7,
        asset: "sales".into(),
        versions: vec!["1".into(), "2".into()],
        ..Default::default()
    };
    let generated = sb.generate_jobs(&ws, spec);
    sb.set_jobs_page_size(100);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["plan", "--config", &config], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["details"]["scan"]["jobsSeen"], generated.active_pipeline);
    assert_eq!(r["details"]["scan"]["jobsInScope"], generated.in_scope);
    assert_eq!(r["details"]["scan"]["pages"], generated.active_pipeline.div_ceil(100));
    let chosen: std::collections::BTreeMap<String, String> = r["details"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap().to_string(), g["baseJob"]["id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(chosen, generated.newest_per_group);
}

#[test]
fn plan_makes_zero_writes() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = run(&["plan", "--config", &config], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["command"], "plan");
    assert_eq!(r["outcome"], "planned");
    assert_eq!(groups(&r), vec![("churn".into(), "would_submit".into()), ("fraud".into(), "would_submit".into())]);
    assert!(arm_writes(&sb).is_empty(), "{:?}", arm_writes(&sb));
    assert!(r["task_values"].as_object().unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn sigterm_stops_waiting_cancels_and_exits_143() {
    use std::process::{Command, Stdio};
    let (sb, _ws) = workspace();
    sb.script_job("churn", JobScript::Hang);
    sb.set_job_steps(&["Queued", "Running", "Completed"]);
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 600, 1, "");
    let child = Command::new(env!("CARGO_BIN_EXE_drift"))
        .args(["--output", "json", "run", "--config", &config, "--model_name_prefix", "churn", "--cancel-on-timeout"])
        .env_clear()
        .envs(sp_env(&sb))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until drift is polling the submitted job.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while calls(&sb, "/jobs/drift-churn-").iter().filter(|c| c.starts_with("GET")).count() < 3 {
        assert!(std::time::Instant::now() < deadline, "drift never started polling");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value =
        report_schema::parse(String::from_utf8_lossy(&output.stdout).lines().last().unwrap(), "SIGTERM");
    assert_eq!(report["outcome"], "interrupted");
    assert_eq!(calls(&sb, "/cancel").len(), 1, "the running job is canceled");
}

/// Databricks passes a reference it cannot resolve as literal text (a hyphenated task key without backticks, say):
/// such a value stops drift with exit 2 and the corrected reference, before any request.
#[test]
fn an_unresolved_databricks_reference_is_exit_2_before_any_request() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    for command in ["run", "plan"] {
        let out = run(
            &[
                command,
                "--config",
                &config,
                "--data_asset_version",
                "{{tasks.training-dataset-registrator.values.data_asset_version}}",
            ],
            &sb,
        );
        out.assert_code(2);
        assert!(out.stderr.contains("not resolved"), "{}", out.stderr);
        assert!(
            out.stderr.contains("{{tasks.`training-dataset-registrator`.values.data_asset_version}}"),
            "the message gives the escaped reference: {}",
            out.stderr
        );
        assert_eq!(out.report()["exit_code"], 2);
    }
    assert!(sb.requests().is_empty(), "no request may be made: {:?}", calls(&sb, "/"));
}

/// The target version must exist for every configured asset: `plan` and `run` stop with exit 2 naming asset and
/// version before listing jobs or submitting anything.
#[test]
fn a_target_version_that_does_not_exist_is_exit_2_before_any_write() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    for command in ["plan", "run"] {
        let out = run(&[command, "--config", &config, "--data_asset_version", "19990101000000"], &sb);
        out.assert_code(2);
        assert!(out.stderr.contains("19990101000000") && out.stderr.contains("sales"), "{}", out.stderr);
    }
    assert!(arm_writes(&sb).is_empty(), "{:?}", arm_writes(&sb));
    assert!(calls(&sb, "/jobs").is_empty(), "no job list before the version is known to exist");
}

// ---- retrainPolicy: the registrator records the changes, the retrainer decides with them (issue 10) ----

mod policy {
    use super::*;
    use common::delta::*;
    use serde_json::json;

    const ACCOUNT: &str = "datalakeprod";
    const CONTAINER: &str = "curated-data";
    const TABLE: &str = "tables/events";
    const ASSET: &str = "curated-data-tables-events-mltable";
    /// The session clock of the retrainer runs: 2026-12-01, a month after the jobs' `at(…)` times.
    const NOW: &str = "2026-12-01T00:00:00Z";

    /// A lake with the events table and a registrator config for it.
    struct Lake {
        sb: Sandbox,
        ws: WorkspaceRef,
        registrator: (tempfile::TempDir, String),
    }

    impl Lake {
        fn new() -> Lake {
            let (sb, ws) = ml_sandbox();
            sb.add_storage_account(ACCOUNT, "ZHJpZnQtdGVzdC1rZXktZm9yLWRhdGFsYWtlcHJvZA==");
            sb.set_job_steps(&["Queued", "Completed"]);
            let yaml = format!(
                "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: {ACCOUNT}\n    containerName: {CONTAINER}\n    containerDataPath: {TABLE}\n"
            );
            Lake { sb, ws, registrator: write_temp("registrator.yaml", &yaml) }
        }

        /// Appends commit `version` and registers it with the real registrator; returns the data version.
        fn commit_and_register(&self, version: u64, text: String) -> String {
            self.sb.add_blob(ACCOUNT, CONTAINER, &format!("{TABLE}/_delta_log/{version:020}.json"), text);
            let out = drift(&["--output", "json", "run", "--config", &self.registrator.1], &sp_env(&self.sb));
            out.assert_code(0);
            out.report()["details"]["version"].as_str().unwrap().to_string()
        }

        fn write(&self, version: u64, rows: u64, schema: Option<&str>) -> String {
            let metrics = json!({"numFiles": "1", "numOutputRows": rows.to_string()});
            let op = if version == 0 { "CREATE TABLE AS SELECT" } else { "WRITE" };
            self.commit_and_register(
                version,
                commit(version, op, metrics, schema.or((version == 0).then_some(SCHEMA_V1)), true),
            )
        }

        fn trained(&self, id: &str, group: &str, minutes: u64, version: &str) {
            self.sb.add_job(
                &self.ws,
                job(id, &display(group, minutes, "x"), at(minutes), &[("training_data", &arm_data_id(ASSET, version))]),
            );
        }

        fn retrain(&self, command: &str, policy: &str, extra_args: &[&str]) -> Outcome {
            let (_d, cfg) = retrainer_config(&[("training_data", ASSET)], 60, 1, policy);
            let mut args = vec!["--output", "json", command, "--config", &cfg];
            args.extend_from_slice(extra_args);
            let mut env = sp_env(&self.sb);
            env.push(("DRIFT_TEST_NOW".into(), NOW.into()));
            drift(&args, &env)
        }
    }

    fn version_lists(sb: &Sandbox) -> usize {
        sb.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/data/{ASSET}/versions")))
            // The full list the policy reads, not the `$top=1` look-up of the latest version.
            .filter(|r| !r.query.as_deref().unwrap_or_default().contains("top"))
            .count()
    }

    /// churn trained on A; fraud on B; then 50,000 rows arrived in B and 20 in C (the target).
    fn grown() -> (Lake, [String; 3]) {
        let lake = Lake::new();
        let a = lake.write(0, 1000, None);
        let b = lake.write(1, 50_000, None);
        let c = lake.write(2, 20, None);
        lake.trained("churn-base", "churn", 0, &a);
        lake.trained("fraud-base", "fraud", 10, &b);
        (lake, [a, b, c])
    }

    #[test]
    fn a_group_below_the_threshold_is_skipped_and_one_above_is_retrained() {
        let (lake, [a, b, c]) = grown();
        lake.sb.clear_requests();
        let out = lake.retrain("run", "retrainPolicy:\n  minRowsChanged: 10000\n  onSchemaChange: fail", &[]);
        out.assert_code(0);
        let r = out.report();
        assert_eq!(
            groups(&r),
            vec![("churn".into(), "submitted".into()), ("fraud".into(), "skipped_by_policy".into())]
        );
        let churn = group(&r, "churn");
        assert_eq!(churn["reasonCode"], "rows_changed");
        assert_eq!(churn["reason"], "50020 rows changed, minRowsChanged is 10000");
        assert_eq!(
            churn["policy"],
            json!({"versions": [b, c], "rowsChanged": 50020, "rowsExact": true, "schemaChanged": "false",
                "modelAgeSeconds": 30 * 86_400, "decision": "retrain"})
        );
        let fraud = group(&r, "fraud");
        assert_eq!(fraud["reasonCode"], "below_threshold");
        assert_eq!(fraud["reason"], "20 rows changed, below minRowsChanged 10000");
        assert_eq!(fraud["job"], Value::Null);
        assert_eq!(fraud["policy"]["versions"], json!([c]));
        // Only churn was submitted; the versions were listed once for both groups.
        let puts = job_puts(&lake.sb);
        assert_eq!(puts.len(), 1, "{puts:?}");
        assert_eq!(puts[0].1["properties"]["inputs"]["training_data"]["uri"], arm_data_id(ASSET, &c));
        assert_eq!(version_lists(&lake.sb), 1);
        assert_ne!(a, c);

        // `plan` shows the same decisions, with the versions, rows, schema flag, model age and reason, and exits 0.
        let (_d, cfg) = retrainer_config(&[("training_data", ASSET)], 60, 1, "retrainPolicy:\n  minRowsChanged: 10000");
        let mut env = sp_env(&lake.sb);
        env.push(("DRIFT_TEST_NOW".into(), "2026-12-02T00:00:00Z".into()));
        let text = drift(&["--output", "text", "plan", "--config", &cfg], &env);
        text.assert_code(0);
        let shown = text.stdout.clone();
        assert!(
            shown.contains(&format!("policy: {b} → {c} (1 version), 20 rows changed (exact), schema changed false, model age 30d23h: skip (below_threshold: 20 rows changed, below minRowsChanged 10000)")),
            "{shown}"
        );
    }

    #[test]
    fn without_a_policy_every_group_on_an_older_version_is_retrained_as_before() {
        let (lake, _) = grown();
        lake.sb.clear_requests();
        let out = lake.retrain("run", "", &[]);
        out.assert_code(0);
        let r = out.report();
        assert_eq!(groups(&r), vec![("churn".into(), "submitted".into()), ("fraud".into(), "submitted".into())]);
        assert!(group(&r, "fraud").get("policy").is_none());
        assert_eq!(group(&r, "fraud")["reasonCode"], "new_version");
        assert_eq!(version_lists(&lake.sb), 0, "no policy, no extra request");
    }

    #[test]
    fn too_old_models_are_retrained_and_force_ignores_the_policy() {
        let (lake, _) = grown();
        // fraud's job is 30 days old at NOW: 7d is exceeded, 60d is not.
        let out = lake.retrain("plan", "retrainPolicy:\n  minRowsChanged: 10000\n  maxModelAge: 7d", &[]);
        out.assert_code(0);
        let fraud = group(&out.report(), "fraud").clone();
        assert_eq!(
            (fraud["action"].as_str(), fraud["reasonCode"].as_str()),
            (Some("would_submit"), Some("model_too_old"))
        );
        let out = lake.retrain("plan", "retrainPolicy:\n  minRowsChanged: 10000\n  maxModelAge: 60d", &[]);
        assert_eq!(group(&out.report(), "fraud")["action"], "skipped_by_policy");
        let out = lake.retrain("plan", "retrainPolicy:\n  minRowsChanged: 10000", &["--force"]);
        let fraud = group(&out.report(), "fraud").clone();
        assert_eq!(
            (fraud["action"].as_str(), fraud["reasonCode"].as_str()),
            (Some("would_submit"), Some("new_version"))
        );
        assert!(fraud.get("policy").is_none());
    }

    #[test]
    fn a_schema_change_retrains_skips_or_fails_as_configured() {
        let (lake, [_, _, _]) = grown();
        let d = lake.write(3, 5, Some(SCHEMA_V2));
        // retrain: both groups, saying why.
        let out = lake.retrain("plan", "retrainPolicy:\n  minRowsChanged: 100000\n  onSchemaChange: retrain", &[]);
        out.assert_code(0);
        for g in ["churn", "fraud"] {
            let grp = group(&out.report(), g).clone();
            assert_eq!(
                (grp["action"].as_str(), grp["reasonCode"].as_str()),
                (Some("would_submit"), Some("schema_changed")),
                "{g}"
            );
            assert_eq!(grp["policy"]["schemaChanged"], "true");
            assert_eq!(grp["policy"]["versions"].as_array().unwrap().last().unwrap(), &json!(d));
        }
        // skip: neither is submitted; nothing is written.
        lake.sb.clear_requests();
        let out = lake.retrain("run", "retrainPolicy:\n  onSchemaChange: skip", &[]);
        out.assert_code(0);
        assert_eq!(
            groups(&out.report()),
            vec![("churn".into(), "skipped_by_policy".into()), ("fraud".into(), "skipped_by_policy".into())]
        );
        assert!(arm_writes(&lake.sb).is_empty(), "{:?}", arm_writes(&lake.sb));
        // fail: exit 1 naming both groups, nothing submitted.
        let out = lake.retrain("run", "retrainPolicy:\n  onSchemaChange: fail", &[]);
        out.assert_code(1);
        let r = out.report();
        assert_eq!(r["outcome"], "failed");
        assert_eq!(
            r["error"],
            "retrainPolicy: the data's schema changed for 2 group(s) and onSchemaChange is fail: churn, fraud"
        );
        assert_eq!(group(&r, "churn")["action"], "policy_failed");
        assert!(job_puts(&lake.sb).is_empty());
    }

    #[test]
    fn versions_without_recorded_changes_retrain_and_say_why() {
        // Versions registered before drift recorded changes (or by another tool): unknown, so retrain.
        let (sb, ws) = ml_sandbox();
        add_versions(&sb, &ws, "sales", &["1", "2"]);
        sb.add_job(
            &ws,
            job("churn-old", &display("churn", 0, "a"), at(0), &[("training_data", &arm_data_id("sales", "1"))]),
        );
        let (_d, cfg) = retrainer_config(&[("training_data", "sales")], 60, 1, "retrainPolicy:\n  minRowsChanged: 10");
        let out = drift(&["--output", "json", "plan", "--config", &cfg], &sp_env(&sb));
        out.assert_code(0);
        let churn = group(&out.report(), "churn").clone();
        assert_eq!(
            (churn["action"].as_str(), churn["reasonCode"].as_str()),
            (Some("would_submit"), Some("unknown_changes"))
        );
        assert_eq!(churn["policy"]["rowsChanged"], Value::Null);
        let reason = churn["reason"].as_str().unwrap();
        assert!(reason.contains("version 1 it trained on has no drift.deltaVersion"), "{reason}");
        assert!(reason.contains("retraining to be safe"), "{reason}");
    }
}

/// `drift validate` shows the policy it read (and nothing when there is none).
#[test]
fn validate_shows_the_retrain_policy() {
    let (_d, cfg) = retrainer_config(
        &[("training_data", "sales")],
        60,
        1,
        "retrainPolicy:\n  minRowsChanged: 10000\n  onSchemaChange: skip\n  maxModelAge: 30d",
    );
    let out = drift(&["--output", "json", "validate", "--config", &cfg], &[]);
    out.assert_code(0);
    assert_eq!(
        out.report()["details"]["parameters"]["retrainPolicy"],
        serde_json::json!({"minRowsChanged": 10000, "onSchemaChange": "skip", "maxModelAge": 2_592_000})
    );
    let (_d, cfg) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let out = drift(&["--output", "json", "validate", "--config", &cfg], &[]);
    assert!(out.report()["details"]["parameters"].get("retrainPolicy").is_none());
}

//! Azure ML fixtures for the pipeline tests: a workspace in the sandbox, data versions, pipeline jobs shaped like
//! the real GET response, and config files.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drift_sandbox::{JobSeed, WorkspaceRef};
use serde_json::{Map, Value, json};

use super::*;

pub const RG: &str = "rg-ml";
pub const WS: &str = "ws-ml";

/// A sandbox with the service principal and one workspace.
pub fn ml_sandbox() -> (Sandbox, WorkspaceRef) {
    let sb = sandbox();
    let ws = sb.add_workspace(SUBSCRIPTION, RG, WS);
    (sb, ws)
}

pub fn arm_data_id(asset: &str, version: &str) -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/data/{asset}/versions/{version}"
    )
}

/// Registers versions of an mltable asset, oldest first (one second apart).
pub fn add_versions(sb: &Sandbox, ws: &WorkspaceRef, asset: &str, versions: &[&str]) {
    let base = SystemTime::now() - Duration::from_secs(3600);
    for (i, v) in versions.iter().enumerate() {
        sb.add_data_version_at(
            ws,
            asset,
            v,
            json!({"dataType": "mltable", "dataUri": format!("azureml://datastores/workspaceblobstore/paths/{asset}/{v}/")}),
            base + Duration::from_secs(i as u64),
        );
    }
}

/// 2026-11-01T00:00:00Z plus `minutes`.
pub fn at(minutes: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_793_491_200 + minutes * 60)
}

/// A pipeline job as a training pipeline would have left it: inputs given as (name, uri), plus a literal input,
/// a node that binds the data input, compute, settings, services with read-only fields.
pub fn job(id: &str, display_name: &str, created: SystemTime, inputs: &[(&str, &str)]) -> JobSeed {
    let mut input_map = Map::new();
    for (name, uri) in inputs {
        input_map.insert(
            name.to_string(),
            json!({"jobInputType": "mltable", "uri": uri, "mode": "ReadOnlyMount", "description": null}),
        );
    }
    input_map.insert("learning_rate".into(), json!({"jobInputType": "literal", "value": "0.01"}));
    let mut extra = Map::new();
    extra.insert(
        "computeId".into(),
        json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/computes/cpu-cluster")),
    );
    extra.insert("settings".into(), json!({"default_compute": "cpu-cluster", "continue_on_step_failure": false}));
    extra.insert(
        "jobs".into(),
        json!({"train": {"type": "command", "componentId": "azureml:train:3", "inputs": {"data": {"job_input_type": "literal", "value": "${{parent.inputs.training_data}}"}}}}),
    );
    extra.insert("properties".into(), json!({"azureml.runsource": "azureml.PipelineRun", "team": "forecasting"}));
    extra.insert(
        "services".into(),
        json!({"Studio": {"jobServiceType": "Studio", "endpoint": "https://ml.azure.com/runs/x", "status": "Running", "errorMessage": null}}),
    );
    let mut tags = std::collections::BTreeMap::new();
    tags.insert("owner".to_string(), "ml-team".to_string());
    JobSeed {
        id: id.into(),
        display_name: Some(display_name.into()),
        created_at: Some(created),
        experiment_name: "forecasting".into(),
        inputs: input_map,
        tags,
        extra,
        ..JobSeed::default()
    }
}

/// A retrainer config: dataAssets as (input name, asset), timings in seconds, extra YAML lines under parameters.
pub fn retrainer_config(assets: &[(&str, &str)], timeout: u64, delay: u64, extra: &str) -> (tempfile::TempDir, String) {
    let mut yaml = format!(
        "Processing:\n  type: drift.retraining.model_retrainer.ModelRetrainer\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    dataAssets:\n"
    );
    for (name, value) in assets {
        yaml.push_str(&format!("      - name: {name}\n        value: {value}\n"));
    }
    yaml.push_str(&format!("    refreshTimeout: \"{timeout}\"\n    refreshDelay: \"{delay}\"\n"));
    for line in extra.lines() {
        yaml.push_str(&format!("    {line}\n"));
    }
    write_temp("retrainer.yaml", &yaml)
}

/// Recorded requests with their method, as `METHOD path`, that change state (PUT, POST, DELETE, PATCH) on ARM.
pub fn arm_writes(sb: &Sandbox) -> Vec<String> {
    sb.requests()
        .iter()
        .filter(|r| r.path.starts_with("/arm/") && !matches!(r.method.as_str(), "GET" | "HEAD"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A recorded job submission: the job id, its JSON body, its headers.
pub type JobPut = (String, Value, Vec<(String, String)>);

/// The recorded `PUT …/jobs/{id}` requests.
pub fn job_puts(sb: &Sandbox) -> Vec<JobPut> {
    sb.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("/jobs/"))
        .map(|r| {
            let id = r.path.rsplit('/').next().unwrap_or_default().to_string();
            (id, serde_json::from_slice(&r.body).unwrap_or(Value::Null), r.headers.clone())
        })
        .collect()
}

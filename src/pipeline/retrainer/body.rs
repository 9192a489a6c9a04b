//! The resubmission: a deterministic job id, the display name the next run will recognise, and the PUT body
//! copied from the base job with read-only fields dropped and the configured inputs pointed at the new version.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::Workspace;

/// Writable fields of a pipeline job (`PipelineJob` + `JobBase` + `ResourceBase` in the 2025-12-01 spec, minus
/// the read-only `status`). Anything else a GET returns is the service's own and is not sent back.
const WRITABLE_FIELDS: [&str; 17] = [
    "componentId",
    "computeId",
    "description",
    "displayName",
    "experimentName",
    "identity",
    "inputs",
    "isArchived",
    "jobType",
    "jobs",
    "notificationSetting",
    "outputs",
    "properties",
    "services",
    "settings",
    "sourceJobId",
    "tags",
];

/// Read-only fields of each `services` entry (`JobService`).
const SERVICE_READ_ONLY: [&str; 2] = ["status", "errorMessage"];

/// Tags drift adds to every job it submits.
pub const TAG_BASE_JOB: &str = "drift.baseJob";
pub const TAG_DATA_VERSION: &str = "drift.dataAssetVersion";

/// A job id that is the same every time drift resubmits `base_job` on `target`, so a retried run finds the job
/// it already created. Matches `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`.
pub fn job_id(group: &str, base_job: &str, target: &str) -> String {
    let digest = Sha256::digest(format!("{base_job}\n{target}").as_bytes());
    let hash: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    let readable: String = group
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(64)
        .collect();
    format!("drift-{readable}-{hash}")
}

/// `{group}_{YYYYmmddHHMMSS}_{6 random [A-Za-z0-9]}` in UTC: the convention the next run selects by.
pub fn display_name(group: &str, now: DateTime<Utc>, suffix: &str) -> String {
    format!("{group}_{}_{suffix}", now.format("%Y%m%d%H%M%S"))
}

/// Six random letters and digits.
pub fn random_suffix() -> String {
    use rand::Rng;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(6).map(char::from).collect()
}

/// What to change in the copy.
pub struct Resubmission<'a> {
    pub workspace: &'a Workspace,
    /// (input name, asset name) pairs to point at `target`.
    pub inputs: Vec<(&'a str, &'a str)>,
    pub target: &'a str,
    pub display_name: &'a str,
    pub base_job: &'a str,
}

/// Builds the PUT body from the base job's GET response.
pub fn build_body(base: &Value, change: &Resubmission<'_>) -> Result<Value, String> {
    let props = base
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| "the base job has no properties object".to_string())?;
    let mut out = Map::new();
    for key in WRITABLE_FIELDS {
        if let Some(v) = props.get(key)
            && !v.is_null()
        {
            out.insert(key.to_string(), v.clone());
        }
    }
    if let Some(Value::Object(services)) = out.get_mut("services") {
        for service in services.values_mut() {
            if let Value::Object(s) = service {
                for field in SERVICE_READ_ONLY {
                    s.remove(field);
                }
            }
        }
    }
    let inputs = out
        .entry("inputs")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| "the base job's inputs are not an object".to_string())?;
    for (input_name, asset) in &change.inputs {
        let input = inputs
            .get_mut(*input_name)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("the base job has no input {input_name}"))?;
        // jobInputType and mode stay as the pipeline author set them; only the version moves.
        input.insert("uri".into(), Value::String(super::assets::arm_id(change.workspace, asset, change.target)));
    }
    out.insert("displayName".into(), Value::String(change.display_name.to_string()));
    out.insert("jobType".into(), Value::String("Pipeline".into()));
    let tags = out
        .entry("tags")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| "the base job's tags are not an object".to_string())?;
    tags.insert(TAG_BASE_JOB.into(), Value::String(change.base_job.to_string()));
    tags.insert(TAG_DATA_VERSION.into(), Value::String(change.target.to_string()));
    let mut body = Map::new();
    body.insert("properties".into(), Value::Object(out));
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ws() -> Workspace {
        Workspace {
            subscription_id: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "rg".into(),
            workspace_name: "ws".into(),
        }
    }

    #[test]
    fn ids_are_deterministic_and_valid() {
        let a = job_id("churn", "job-1", "20261128101500");
        assert_eq!(a, job_id("churn", "job-1", "20261128101500"));
        assert_ne!(a, job_id("churn", "job-1", "20261128101501"));
        assert_ne!(a, job_id("churn", "job-2", "20261128101500"));
        assert!(a.starts_with("drift-churn-") && a.len() == "drift-churn-".len() + 20);
        let odd = job_id("a.b+(c)", "j", "1.0");
        assert!(odd.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{odd}");
        assert!(job_id(&"g".repeat(300), "j", "v").len() <= 255);
    }

    #[test]
    fn display_names_follow_the_convention() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:15:00+01:00").unwrap().with_timezone(&Utc);
        assert_eq!(display_name("churn", now, "Ab12Cd"), "churn_20261128091500_Ab12Cd");
        let s = random_suffix();
        assert_eq!(s.len(), 6);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        let parsed = super::super::select::NamePattern::default().parse("churn_20261128091500_Ab12Cd");
        assert_eq!(parsed, Some(("churn", "20261128091500")));
    }

    #[test]
    fn body_from_the_real_pipeline_job() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/contracts/azureml/sdk-fixtures/Azure/azure-sdk-for-python/sdk/ml/azure-ai-ml/tests/test_configs/pipeline_jobs/rest_non_string_input_pipeline.json"
        );
        let base: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let w = ws();
        let change = Resubmission {
            workspace: &w,
            inputs: vec![("my_training_data", "Programmers_Train_MLTable")],
            target: "20261128101500",
            display_name: "red_20261128101500_abcdef",
            base_job: "1d072f27-fcb5-4c63-9eeb-bc0573548ecc",
        };
        let body = build_body(&base, &change).unwrap();
        let p = &body["properties"];
        assert_eq!(body.as_object().unwrap().len(), 1, "only properties at the top");
        assert!(p.get("status").is_none());
        assert!(p.get("componentId").is_none(), "null fields are not sent");
        assert!(p["services"]["Tracking"].get("status").is_none());
        assert!(p["services"]["Tracking"].get("errorMessage").is_none());
        assert_eq!(p["services"]["Tracking"]["jobServiceType"], "Tracking");
        assert_eq!(
            p["inputs"]["my_training_data"],
            json!({
                "description": null,
                "uri": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/data/Programmers_Train_MLTable/versions/20261128101500",
                "mode": "Download",
                "jobInputType": "mltable"
            })
        );
        // Inputs not configured are left alone.
        assert_eq!(p["inputs"]["my_test_data"], base["properties"]["inputs"]["my_test_data"]);
        assert_eq!(p["inputs"]["target_column_name"]["value"], "score");
        assert_eq!(p["jobs"], base["properties"]["jobs"]);
        assert_eq!(p["settings"], base["properties"]["settings"]);
        assert_eq!(p["computeId"], base["properties"]["computeId"]);
        assert_eq!(p["experimentName"], "Default-Responsible-AI-Dashboard");
        assert_eq!(p["properties"], base["properties"]["properties"]);
        assert_eq!(p["displayName"], "red_20261128101500_abcdef");
        assert_eq!(p["jobType"], "Pipeline");
        assert_eq!(
            p["tags"],
            json!({"drift.baseJob": "1d072f27-fcb5-4c63-9eeb-bc0573548ecc", "drift.dataAssetVersion": "20261128101500"})
        );
        assert!(p.get("sourceJobId").is_none());
    }

    #[test]
    fn missing_input_is_an_error() {
        let base = json!({"properties": {"jobType": "Pipeline", "inputs": {}}});
        let w = ws();
        let change =
            Resubmission { workspace: &w, inputs: vec![("x", "a")], target: "1", display_name: "d", base_job: "b" };
        assert_eq!(build_body(&base, &change).unwrap_err(), "the base job has no input x");
        assert!(build_body(&json!({}), &change).is_err());
    }
}

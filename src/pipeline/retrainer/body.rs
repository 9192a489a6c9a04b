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

/// `{group}_{YYYYmmddHHMMSS}_{suffix}`: the convention the next run selects by (newest stamp per group).
pub fn display_name(group: &str, stamp: DateTime<Utc>, suffix: &str) -> String {
    format!("{group}_{}_{suffix}", stamp.format("%Y%m%d%H%M%S"))
}

/// The display name of the resubmission of `base` on `target` under job id `id`, deterministic so that concurrent
/// runs build identical PUT bodies (a second PUT of the same id then rewrites nothing). The stamp is the later of
/// the target version's own time (versions drift registers are `YYYYmmddHHMMSS` of the Delta commit) and one
/// second after the base job's stamp, so the new job is the group's newest and the next run takes it as its
/// template; the suffix is six letters and digits from the id's hash instead of random ones. The submission time
/// itself is in the job's `creationContext.createdAt`.
pub fn resubmission_display_name(group: &str, base: &Value, target: &str, id: &str) -> String {
    let base_stamp = base
        .pointer("/properties/displayName")
        .and_then(Value::as_str)
        .and_then(|name| name.strip_prefix(group)?.strip_prefix('_')?.get(..14))
        .and_then(parse_stamp);
    let after_base = base_stamp.map(|s| s + chrono::Duration::seconds(1));
    let target_time = parse_stamp(target);
    let stamp = match (after_base, target_time) {
        (Some(a), Some(t)) => a.max(t),
        (Some(a), None) => a,
        (None, Some(t)) => t,
        // Neither is known (a base job outside the naming convention, a free-form version): a fixed stamp derived
        // from nothing but the inputs would be arbitrary, so take the base job's creation time if the GET had it.
        (None, None) => base
            .pointer("/properties/creationContext/createdAt")
            .or_else(|| base.pointer("/systemData/createdAt"))
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc) + chrono::Duration::seconds(1))
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
    };
    display_name(group, stamp, &suffix_of(id))
}

/// `YYYYmmddHHMMSS` as a UTC time.
fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S").ok().map(|t| t.and_utc())
}

/// Six characters of [A-Za-z0-9] from the SHA-256 of `id`.
fn suffix_of(id: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Sha256::digest(id.as_bytes()).iter().take(6).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
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
        input.insert("uri".into(), Value::String(crate::assets::arm_id(change.workspace, asset, change.target)));
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
        let parsed = super::super::select::NamePattern::default().parse("churn_20261128091500_Ab12Cd");
        assert_eq!(parsed, Some(("churn", "20261128091500")));
    }

    #[test]
    fn resubmission_names_are_deterministic_and_sort_after_the_base() {
        let base = |name: &str| json!({"properties": {"displayName": name}});
        let id = job_id("churn", "job-1", "20261128101500");
        let name = resubmission_display_name("churn", &base("churn_20261127080000_x1"), "20261128101500", &id);
        // Same inputs, same name: two concurrent runs send the same body.
        assert_eq!(name, resubmission_display_name("churn", &base("churn_20261127080000_x1"), "20261128101500", &id));
        let (stamp, suffix) = name.strip_prefix("churn_").unwrap().split_once('_').unwrap();
        assert_eq!(stamp, "20261128101500", "the target version's time is later than the base's");
        assert!(suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric()), "{suffix}");
        assert_ne!(suffix, suffix_of(&job_id("churn", "job-1", "20261128101501")));
        // A base newer than the target's time: one second after the base, so the new job is the newest.
        let after = resubmission_display_name("churn", &base("churn_20261129000000_x1"), "20261128101500", &id);
        assert!(after.starts_with("churn_20261129000001_"), "{after}");
        // A free-form target version: after the base.
        let free = resubmission_display_name("churn", &base("churn_20261129000000_x1"), "3", &id);
        assert!(free.starts_with("churn_20261129000001_"), "{free}");
        // A base outside the convention with a free-form version: after its creation time.
        let created =
            json!({"properties": {"displayName": "nightly", "creationContext": {"createdAt": "2026-01-02T03:04:05Z"}}});
        assert!(resubmission_display_name("churn", &created, "3", &id).starts_with("churn_20260102030406_"));
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

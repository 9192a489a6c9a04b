//! The JSON shapes drift reads and writes (names as in the 2025-12-01 spec). Unknown fields are ignored on read;
//! unknown enum values decode to an `Other` case instead of failing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// ARM `systemData`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SystemData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Who created the resource: a user's name or e-mail, or an application's client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// A data version as GET/list return it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataVersion {
    #[serde(default)]
    pub id: String,
    /// The version string.
    #[serde(default)]
    pub name: String,
    pub properties: DataVersionProperties,
    #[serde(default)]
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataVersionProperties {
    pub data_type: String,
    pub data_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_uris: Option<Vec<String>>,
    #[serde(default)]
    pub is_anonymous: bool,
}

/// Body of `PUT …/data/{name}/versions/{version}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DataVersionBody {
    pub properties: DataVersionProperties,
}

/// `POST …/datastores/{name}/listSecrets`, by `secretsType`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "secretsType")]
pub enum DatastoreSecrets {
    AccountKey {
        #[serde(default)]
        key: Option<String>,
    },
    Sas {
        #[serde(default, rename = "sasToken")]
        sas_token: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// The parts of a datastore GET drift reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Datastore {
    #[serde(default)]
    pub name: String,
    pub properties: DatastoreProperties,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatastoreProperties {
    pub datastore_type: String,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub container_name: Option<String>,
    #[serde(default)]
    pub filesystem: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub credentials: Option<DatastoreCredentialKind>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatastoreCredentialKind {
    pub credentials_type: String,
}

/// A job as the list returns it: only what selection needs, so 100,000 of them decode quickly.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub name: String,
    pub properties: JobSummaryProperties,
    #[serde(default)]
    pub system_data: Option<SystemData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSummaryProperties {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub job_type: Option<String>,
    #[serde(default)]
    pub status: Option<JobStatus>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub inputs: BTreeMap<String, JobInput>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: BTreeMap<String, Option<String>>,
}

/// A pipeline's top-level input; data inputs carry `uri`, literals `value`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobInput {
    #[serde(default)]
    pub job_input_type: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
}

/// A job's status. Unknown future values decode to `Other` and count as "still running".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum JobStatus {
    NotStarted,
    Starting,
    Provisioning,
    Preparing,
    Queued,
    Running,
    Finalizing,
    CancelRequested,
    Completed,
    Failed,
    Canceled,
    NotResponding,
    Paused,
    Unknown,
    #[serde(untagged)]
    Other(String),
}

impl JobStatus {
    /// Whether the job will not change status any more: Completed (success), Failed and Canceled, nothing else.
    /// The 2025-12-01 spec (mfe.json, `JobStatus`) says of NotResponding: "NotResponding is the only state that is
    /// exempt from strict transition orders. A run can go from NotResponding to any of the previous states", and
    /// Paused is "paused by users" (resumable). Both keep the wait going, counted against `refreshTimeout`.
    /// (azure-ai-ml's `RunHistoryConstants.TERMINAL_STATUSES` lists both as terminal, for deciding when its log
    /// streaming and output download may stop; stopping here would fail the run and let a task retry submit a
    /// second training beside a job that may still recover, so drift follows the spec.)
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Canceled)
    }

    pub fn is_success(&self) -> bool {
        matches!(self, JobStatus::Completed)
    }

    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::NotStarted => "NotStarted",
            JobStatus::Starting => "Starting",
            JobStatus::Provisioning => "Provisioning",
            JobStatus::Preparing => "Preparing",
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Finalizing => "Finalizing",
            JobStatus::CancelRequested => "CancelRequested",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
            JobStatus::Canceled => "Canceled",
            JobStatus::NotResponding => "NotResponding",
            JobStatus::Paused => "Paused",
            JobStatus::Unknown => "Unknown",
            JobStatus::Other(s) => s,
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole job resource as GET returns it, kept as JSON so a resubmission copies every field drift does not
/// know about.
#[derive(Debug, Clone, PartialEq)]
pub struct JobResource(pub Value);

impl JobResource {
    pub fn status(&self) -> Option<JobStatus> {
        self.0.pointer("/properties/status").and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    pub fn display_name(&self) -> Option<&str> {
        self.0.pointer("/properties/displayName").and_then(Value::as_str)
    }

    pub fn name(&self) -> Option<&str> {
        self.0.get("name").and_then(Value::as_str)
    }
}

/// `null` where a map or list is expected reads as empty (the service writes `"tags": null`).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_status_decodes_known_and_unknown_values() {
        let known: JobStatus = serde_json::from_str("\"CancelRequested\"").unwrap();
        assert_eq!(known, JobStatus::CancelRequested);
        assert!(!known.is_terminal());
        let future: JobStatus = serde_json::from_str("\"Hibernating\"").unwrap();
        assert_eq!(future, JobStatus::Other("Hibernating".into()));
        assert!(!future.is_terminal());
        for (s, terminal, success) in [
            ("Completed", true, true),
            ("Failed", true, false),
            ("Canceled", true, false),
            ("NotResponding", false, false),
            ("Paused", false, false),
            ("Running", false, false),
            ("Unknown", false, false),
        ] {
            let st: JobStatus = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!((st.is_terminal(), st.is_success(), st.as_str()), (terminal, success, s));
        }
    }

    #[test]
    fn real_pipeline_job_get_decodes_as_summary() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/contracts/azureml/sdk-fixtures/Azure/azure-sdk-for-python/sdk/ml/azure-ai-ml/tests/test_configs/pipeline_jobs/rest_non_string_input_pipeline.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let job: JobSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(job.properties.display_name.as_deref(), Some("red_shampoo_ybk2gdnd7z"));
        assert_eq!(job.properties.status, Some(JobStatus::Completed));
        let input = &job.properties.inputs["my_training_data"];
        assert_eq!(input.job_input_type.as_deref(), Some("mltable"));
        assert!(input.uri.as_deref().unwrap().ends_with("/data/Programmers_Train_MLTable/versions/1"));
        assert_eq!(job.properties.inputs["target_column_name"].uri, None);
        assert_eq!(job.system_data.unwrap().created_at.as_deref(), Some("2022-09-12T22:33:08.1697789+00:00"));
    }
}

//! A job as GET, PUT and the list return it, shaped like the real pipeline-job GET in the SDK fixtures: ARM id,
//! name, type, `properties` with status, `services` (whose `status`/`errorMessage` are the service's),
//! bare-ARM-id inputs and `systemData`. List items leave out `jobs` and `settings` (the pipeline graph), which
//! callers then GET. Serialized from borrowed views straight into the output buffer: listing a 100,000-job
//! workspace must cost the sandbox little.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

use super::table::Job;
use crate::services::ml::schema::Obj;
use crate::wire::ml_timestamp;

const RESOURCE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces/jobs";
const NULL: Value = Value::Null;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobView<'a> {
    id: String,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    properties: PropertiesView<'a>,
    system_data: SystemDataView<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesView<'a> {
    description: &'a Value,
    tags: &'a Obj,
    properties: &'a Obj,
    display_name: Option<&'a str>,
    status: &'a str,
    experiment_name: &'a str,
    services: ServicesView<'a>,
    compute_id: &'a Value,
    is_archived: bool,
    identity: &'a Value,
    component_id: &'a Value,
    notification_setting: &'a Value,
    job_type: &'a str,
    inputs: &'a Obj,
    outputs: &'a Value,
    source_job_id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    jobs: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a Value>,
    /// Members of other job types (`command`, `environmentId`, ...), kept as seeded.
    #[serde(flatten)]
    other: BTreeMap<&'a str, &'a Value>,
}

/// The job `systemData` of the real GET: creation only.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SystemDataView<'a> {
    created_at: String,
    created_by: &'a str,
    created_by_type: &'static str,
}

/// Members of `rest` the view names itself.
const NAMED: &[&str] =
    &["identity", "componentId", "notificationSetting", "outputs", "sourceJobId", "jobs", "settings", "services"];

/// The endpoints every job gets (Tracking and Studio), then any the submitter declared (with the service's
/// read-only `status` and `errorMessage` added).
struct ServicesView<'a> {
    tracking: String,
    studio: String,
    declared: Option<&'a Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceView<'a> {
    job_service_type: &'a str,
    port: Option<u16>,
    endpoint: &'a str,
    status: Option<&'a str>,
    error_message: Option<&'a str>,
    properties: Option<&'a Value>,
}

impl Serialize for ServicesView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let builtin = |kind, endpoint| ServiceView {
            job_service_type: kind,
            port: None,
            endpoint,
            status: None,
            error_message: None,
            properties: None,
        };
        let declared = self.declared.and_then(Value::as_object);
        if !declared.is_some_and(|d| d.contains_key("Tracking")) {
            map.serialize_entry("Tracking", &builtin("Tracking", &self.tracking))?;
        }
        if !declared.is_some_and(|d| d.contains_key("Studio")) {
            map.serialize_entry("Studio", &builtin("Studio", &self.studio))?;
        }
        for (name, service) in declared.into_iter().flatten() {
            let mut service = service.clone();
            if let Value::Object(fields) = &mut service {
                for key in ["status", "errorMessage"] {
                    fields.entry(key).or_insert(Value::Null);
                }
            }
            map.serialize_entry(name, &service)?;
        }
        map.end()
    }
}

fn view<'a>(workspace_id: &str, job: &'a Job, full: bool) -> JobView<'a> {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let empty = EMPTY.get_or_init(|| json!({}));
    let rest = |key: &str| job.rest.get(key).unwrap_or(&NULL);
    let map = |key: &str| job.rest.get(key).filter(|v| !v.is_null()).unwrap_or(empty);
    JobView {
        id: format!("{workspace_id}/jobs/{}", job.id),
        name: &job.id,
        kind: RESOURCE_TYPE,
        properties: PropertiesView {
            description: &job.description,
            tags: &job.tags,
            properties: &job.properties,
            display_name: job.display_name.as_deref(),
            status: job.status(),
            experiment_name: &job.experiment_name,
            services: ServicesView {
                tracking: format!("azureml://westeurope.api.azureml.ms/mlflow/v1.0{workspace_id}?"),
                studio: format!("https://ml.azure.com/runs/{}?wsid={workspace_id}", job.id),
                declared: job.rest.get("services"),
            },
            compute_id: &job.compute_id,
            is_archived: job.archived,
            identity: rest("identity"),
            component_id: rest("componentId"),
            notification_setting: rest("notificationSetting"),
            job_type: &job.job_type,
            inputs: &job.inputs,
            outputs: map("outputs"),
            source_job_id: rest("sourceJobId"),
            jobs: full.then(|| map("jobs")),
            settings: full.then(|| map("settings")),
            other: job
                .rest
                .iter()
                .filter(|(k, _)| !NAMED.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
        },
        system_data: SystemDataView {
            created_at: ml_timestamp(job.created),
            created_by: &job.created_by,
            created_by_type: if crate::services::ml::schema::is_guid(&job.created_by) { "Application" } else { "User" },
        },
    }
}

/// The job's JSON; `full` adds `jobs` and `settings` (GET and PUT answers).
pub(crate) fn job_json(workspace_id: &str, job: &Job, full: bool) -> Value {
    serde_json::to_value(view(workspace_id, job, full)).unwrap_or(Value::Null)
}

/// Appends a list item to `out`.
pub(crate) fn write_list_item(out: &mut Vec<u8>, workspace_id: &str, job: &Job) {
    // Writing into a Vec cannot fail, and the view holds only serializable members.
    let _ = serde_json::to_writer(out, &view(workspace_id, job, false));
}

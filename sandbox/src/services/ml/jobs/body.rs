//! `PUT jobs/{id}` bodies: `JobBaseResource` with `PipelineJob` properties checked against the spec (unknown
//! members rejected, read-only `status` and `services.*.status`/`errorMessage` rejected, inputs and outputs by
//! their type), data inputs resolved to bare ARM ids of existing versions, and the comparison that allows an
//! existing job to change only description, tags, displayName, properties and isArchived.

use serde_json::{Value, json};

use super::super::assets;
use super::super::datastores::RESOURCE_READ_ONLY;
use super::super::errors::{MlError, MlResult};
use super::super::schema::{
    Obj, allow, enum_str, join, missing, object, object_map, opt_bool, opt_str, req_str, string_map,
};
use super::super::store::Workspace;
use super::table::Job;

pub(crate) const JOB_TYPES: &[&str] = &["AutoML", "Command", "Sweep", "Pipeline", "Spark"];
const INPUT_TYPES: &[&str] =
    &["literal", "uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model"];
const DATA_INPUT_TYPES: &[&str] = &["uri_file", "uri_folder", "mltable"];
const INPUT_MODES: &[&str] = &["ReadOnlyMount", "ReadWriteMount", "Download", "Direct", "EvalMount", "EvalDownload"];
const OUTPUT_TYPES: &[&str] = &["uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model"];
const OUTPUT_MODES: &[&str] = &["ReadWriteMount", "Upload", "Direct"];
const IDENTITY_TYPES: &[&str] = &["Managed", "AMLToken", "UserIdentity"];

/// `PipelineJob` members (JobBase + ResourceBase + PipelineJob), and the read-only one.
const PIPELINE_MEMBERS: &[&str] = &[
    "description",
    "properties",
    "tags",
    "componentId",
    "computeId",
    "displayName",
    "experimentName",
    "identity",
    "isArchived",
    "jobType",
    "notificationSetting",
    "services",
    "inputs",
    "jobs",
    "outputs",
    "settings",
    "sourceJobId",
];

/// A checked submission.
pub(crate) struct Submission {
    pub job_type: String,
    pub display_name: Option<String>,
    pub description: Value,
    pub experiment_name: String,
    pub tags: Obj,
    pub properties: Obj,
    pub compute_id: Value,
    pub inputs: Obj,
    pub archived: bool,
    pub rest: Obj,
}

/// The job type of a body, read first: it decides whether an `x-azureml-token` is needed.
pub(crate) fn job_type(body: &Value) -> MlResult<String> {
    let top = object(body, "body")?;
    allow(top, &["properties"], RESOURCE_READ_ONLY, "JobBaseResource", "")?;
    let props = object(top.get("properties").ok_or_else(|| missing("", "properties"))?, "properties")?;
    let job_type =
        enum_str(props, "jobType", JOB_TYPES, "properties")?.ok_or_else(|| missing("properties", "jobType"))?;
    Ok(job_type.to_string())
}

pub(crate) fn validate(body: &Value, workspace: &Workspace) -> MlResult<Submission> {
    let job_type = job_type(body)?;
    if job_type != "Pipeline" {
        return Err(MlError::user(format!(
            "drift-sandbox fakes the submission of Pipeline jobs only; jobType '{job_type}' is not faked."
        )));
    }
    let path = "properties";
    let props = object(&body["properties"], path)?;
    allow(props, PIPELINE_MEMBERS, &["status"], "PipelineJob", path)?;
    for key in ["description", "componentId", "computeId", "displayName", "experimentName", "sourceJobId"] {
        opt_str(props, key, path)?;
    }
    let archived = opt_bool(props, "isArchived", path)?.unwrap_or(false);
    let tags = string_map(props, "tags", path)?;
    let properties = string_map(props, "properties", path)?;
    check_identity(props.get("identity"), &join(path, "identity"))?;
    check_services(props, path)?;
    check_outputs(props, path)?;
    for key in ["jobs", "settings"] {
        object_map(props, key, path)?;
    }
    if let Some(Value::Object(jobs)) = props.get("jobs") {
        for (name, node) in jobs {
            if !matches!(node, Value::Object(_) | Value::Null) {
                return Err(MlError::user(format!(
                    "The request is invalid: 'properties.jobs.{name}' must be an object."
                )));
            }
        }
    }
    let inputs = resolve_inputs(props, workspace)?;
    let mut rest = Obj::new();
    for key in
        ["jobs", "settings", "outputs", "identity", "componentId", "sourceJobId", "notificationSetting", "services"]
    {
        if let Some(value) = props.get(key).filter(|v| !v.is_null()) {
            rest.insert(key.to_string(), value.clone());
        }
    }
    Ok(Submission {
        job_type,
        display_name: opt_str(props, "displayName", path)?.map(str::to_string),
        description: props.get("description").cloned().unwrap_or(Value::Null),
        experiment_name: opt_str(props, "experimentName", path)?.unwrap_or("Default").to_string(),
        tags,
        properties,
        compute_id: props.get("computeId").cloned().unwrap_or(Value::Null),
        inputs,
        archived,
        rest,
    })
}

fn check_identity(identity: Option<&Value>, path: &str) -> MlResult<()> {
    let Some(value) = identity.filter(|v| !v.is_null()) else { return Ok(()) };
    let identity = object(value, path)?;
    let kind =
        enum_str(identity, "identityType", IDENTITY_TYPES, path)?.ok_or_else(|| missing(path, "identityType"))?;
    let (type_name, allowed): (&str, &[&str]) = match kind {
        "Managed" => ("ManagedIdentity", &["identityType", "clientId", "objectId", "resourceId"]),
        "AMLToken" => ("AmlToken", &["identityType"]),
        _ => ("UserIdentity", &["identityType"]),
    };
    allow(identity, allowed, &[], type_name, path)
}

fn check_services(props: &Obj, path: &str) -> MlResult<()> {
    let Some(services) = object_map(props, "services", path)? else { return Ok(()) };
    for (name, service) in services {
        if service.is_null() {
            continue;
        }
        let at = join(&join(path, "services"), name);
        let service = object(service, &at)?;
        allow(
            service,
            &["endpoint", "jobServiceType", "nodes", "port", "properties"],
            &["status", "errorMessage"],
            "JobService",
            &at,
        )?;
        if !matches!(service.get("port"), None | Some(Value::Null) | Some(Value::Number(_))) {
            return Err(MlError::user(format!("The request is invalid: '{at}.port' must be an integer.")));
        }
    }
    Ok(())
}

fn check_outputs(props: &Obj, path: &str) -> MlResult<()> {
    let Some(outputs) = object_map(props, "outputs", path)? else { return Ok(()) };
    for (name, output) in outputs {
        if output.is_null() {
            continue;
        }
        let at = join(&join(path, "outputs"), name);
        let output = object(output, &at)?;
        enum_str(output, "jobOutputType", OUTPUT_TYPES, &at)?.ok_or_else(|| missing(&at, "jobOutputType"))?;
        allow(output, &["jobOutputType", "mode", "uri", "description"], &[], "JobOutput", &at)?;
        enum_str(output, "mode", OUTPUT_MODES, &at)?;
        opt_str(output, "uri", &at)?;
        opt_str(output, "description", &at)?;
    }
    Ok(())
}

/// Checks every input and rewrites data-asset references of this workspace to bare ARM ids of versions that
/// exist (resolving `@latest`), as the service stores them.
fn resolve_inputs(props: &Obj, workspace: &Workspace) -> MlResult<Obj> {
    let path = "properties";
    let Some(inputs) = object_map(props, "inputs", path)? else { return Ok(Obj::new()) };
    let mut resolved = Obj::new();
    for (name, input) in inputs {
        let at = join(&join(path, "inputs"), name);
        if input.is_null() {
            resolved.insert(name.clone(), Value::Null);
            continue;
        }
        let fields = object(input, &at)?;
        let kind = enum_str(fields, "jobInputType", INPUT_TYPES, &at)?.ok_or_else(|| missing(&at, "jobInputType"))?;
        opt_str(fields, "description", &at)?;
        if kind == "literal" {
            allow(fields, &["jobInputType", "value", "description"], &[], "LiteralJobInput", &at)?;
            req_str(fields, "value", &at)?;
            resolved.insert(name.clone(), input.clone());
            continue;
        }
        allow(fields, &["jobInputType", "uri", "mode", "description"], &[], "AssetJobInput", &at)?;
        enum_str(fields, "mode", INPUT_MODES, &at)?;
        let uri = req_str(fields, "uri", &at)?;
        let mut input = input.clone();
        if DATA_INPUT_TYPES.contains(&kind)
            && let Some(id) = resolve_asset(uri, name, workspace)?
        {
            input["uri"] = Value::String(id);
        }
        resolved.insert(name.clone(), input);
    }
    Ok(resolved)
}

/// The bare ARM id a data-asset reference stands for, when it is one of this workspace.
fn resolve_asset(uri: &str, input: &str, workspace: &Workspace) -> MlResult<Option<String>> {
    let Some(asset) = assets::parse(uri) else { return Ok(None) };
    if let Some((s, rg, ws)) = &asset.workspace
        && !workspace.is(s, rg, ws)
    {
        return Ok(None);
    }
    let versions = workspace.data.get(&asset.name);
    let version = match &asset.version {
        Some(v) => versions.and_then(|a| a.versions.iter().find(|x| x.version == *v)).map(|x| x.version.clone()),
        None => versions.and_then(|a| a.latest()).map(|x| x.version.clone()),
    };
    let Some(version) = version else {
        return Err(MlError::user(format!(
            "Input '{input}' refers to data asset '{}' version '{}' ({uri}), which does not exist in workspace '{}'.",
            asset.name,
            asset.version.as_deref().unwrap_or("latest"),
            workspace.name
        )));
    };
    Ok(Some(format!("{}/data/{}/versions/{version}", workspace.arm_id(), asset.name)))
}

/// The create-only members of a job, by the names the service's immutability error uses.
fn immutables(
    job_type: &str,
    experiment: &str,
    compute_id: &Value,
    inputs: &Obj,
    rest: &Obj,
) -> Vec<(&'static str, Value)> {
    let map = |key: &str| match rest.get(key) {
        None | Some(Value::Null) => json!({}),
        Some(v) => v.clone(),
    };
    let value = |key: &str| rest.get(key).cloned().unwrap_or(Value::Null);
    vec![
        ("JobType", json!(job_type)),
        ("ExperimentName", json!(experiment)),
        ("ComputeId", compute_id.clone()),
        ("Inputs", Value::Object(inputs.clone())),
        ("Outputs", map("outputs")),
        ("Jobs", map("jobs")),
        ("Settings", map("settings")),
        ("Identity", value("identity")),
        ("ComponentId", value("componentId")),
        ("SourceJobId", value("sourceJobId")),
    ]
}

/// The error for a PUT to an existing id that changes more than the mutable members, if it does.
pub(crate) fn check_immutable(job: &Job, submission: &Submission) -> MlResult<()> {
    let before = immutables(&job.job_type, &job.experiment_name, &job.compute_id, &job.inputs, &job.rest);
    let after = immutables(
        &submission.job_type,
        &submission.experiment_name,
        &submission.compute_id,
        &submission.inputs,
        &submission.rest,
    );
    let changed: Vec<&str> = before.iter().zip(&after).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0).collect();
    if changed.is_empty() {
        return Ok(());
    }
    let listed = changed.iter().map(|c| format!(" {c}")).collect::<Vec<_>>().join(", ");
    Err(MlError::user(format!(
        "A job with this name already exists. If you are trying to create a new job, use a different name. If you \
         are trying to update an existing job, the existing job's{listed} cannot be changed. Only description, \
         tags, displayName, properties, and isArchived can be updated."
    ))
    .inner(json!({"code": "Immutable", "innerError": {"code": "JobPropertyImmutable"}}))
    .parameters(json!({"property": listed})))
}

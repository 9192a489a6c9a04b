//! What the library API and the seed file do to Azure ML state: add workspaces (each with its default
//! `workspaceblobstore` on a storage account the sandbox holds), datastores, data versions and jobs, generate large
//! job tables, script lifecycles. Bodies go through the same validation as the HTTP API, so nothing seeded could
//! not also have been created over the wire.

use std::collections::BTreeMap;
use std::time::SystemTime;

use rand::Rng;
use serde_json::{Map, Value, json};

use super::data::{self, DataAsset};
use super::datastores::{self, BlobstoreCredential, DEFAULT_DATASTORE, Datastore, Secrets};
use super::jobs::generate::{self, GenerateSpec, GeneratedJobs};
use super::jobs::lifecycle::{JobScript, script_for};
use super::jobs::render::job_json;
use super::jobs::table::Job;
use super::schema::{Obj, is_resource_name, is_version, is_workspace_name};
use super::store::{Compute, Ml, Workspace, WorkspaceRef};
use crate::state::{SandboxState, lock};
use crate::wire::{now_nanos, unix_nanos};
use crate::{ids, services::storage};

/// Who the sandbox names as creator of what it made itself.
const SANDBOX: &str = "drift-sandbox";

/// How long the SAS of a Sas `workspaceblobstore` is valid.
const BLOBSTORE_SAS_LIFETIME_NANOS: i64 = 365 * 24 * 3600 * 1_000_000_000;

/// A job to seed (library form of the seed file's job entries). Build it with `..Default::default()`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSeed {
    pub id: String,
    pub display_name: Option<String>,
    /// `Pipeline` unless set; other types are filtered out by `jobType=Pipeline` lists.
    pub job_type: String,
    /// Kept as is (seeded jobs do not walk a lifecycle) unless a script matches the job.
    pub status: String,
    /// Default: now.
    pub created_at: Option<SystemTime>,
    pub experiment_name: String,
    /// Inputs exactly as stored (any uri form); not resolved or checked against data versions.
    pub inputs: Map<String, Value>,
    pub tags: BTreeMap<String, String>,
    pub archived: bool,
    /// Other members of the job's `properties`: `computeId`, `description`, `properties`, `jobs`, `settings`,
    /// `outputs`, ...
    pub extra: Map<String, Value>,
}

impl Default for JobSeed {
    fn default() -> JobSeed {
        JobSeed {
            id: String::new(),
            display_name: None,
            job_type: "Pipeline".into(),
            status: "Completed".into(),
            created_at: None,
            experiment_name: "Default".into(),
            inputs: Map::new(),
            tags: BTreeMap::new(),
            archived: false,
            extra: Map::new(),
        }
    }
}

impl JobSeed {
    /// Why the seed cannot be stored, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !is_resource_name(&self.id) {
            return Err(format!("job id {:?} does not match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{{0,254}}$", self.id));
        }
        if !super::jobs::body::JOB_TYPES.contains(&self.job_type.as_str()) {
            return Err(format!("job {}: jobType {:?} is not a JobType", self.id, self.job_type));
        }
        if self.status.trim().is_empty() {
            return Err(format!("job {}: status must not be empty", self.id));
        }
        for (name, input) in &self.inputs {
            if !input.get("jobInputType").is_some_and(Value::is_string) {
                return Err(format!("job {}: input {name:?} needs a jobInputType", self.id));
            }
        }
        if let Some(value) = self.extra.get("properties")
            && !value.as_object().is_some_and(|m| m.values().all(|v| v.is_string() || v.is_null()))
        {
            return Err(format!("job {}: extra.properties must be an object of strings", self.id));
        }
        Ok(())
    }
}

fn random_key() -> String {
    let bytes: [u8; 64] = rand::rng().random();
    storage::crypto::b64(&bytes)
}

/// The storage account a new workspace's blobstore uses: its name's letters and digits plus `store`.
fn derived_account(workspace: &str) -> String {
    let mut name: String =
        workspace.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).take(19).collect();
    while name.len() < 3 {
        name.push('w');
    }
    format!("{name}store")
}

pub(crate) fn add_workspace(
    state: &SandboxState,
    subscription: &str,
    group: &str,
    name: &str,
) -> Result<WorkspaceRef, String> {
    if subscription.trim().is_empty() || group.trim().is_empty() || subscription.contains('/') || group.contains('/') {
        return Err(format!(
            "subscription {subscription:?} and resource group {group:?} must be non-empty path segments"
        ));
    }
    if !is_workspace_name(name) {
        return Err(format!("workspace name {name:?} does not match ^[a-zA-Z0-9][a-zA-Z0-9_-]{{2,32}}$"));
    }
    // Bound first: a guard in an `if let` scrutinee lives through its block, and the block locks again.
    let existing = lock(&state.ml.inner).find(subscription, group, name);
    if let Some(at) = existing {
        return Ok(lock(&state.ml.inner).workspaces[at].reference());
    }
    lock(&state.ml.inner).workspaces.push(Workspace::new(subscription, group, name, now_nanos()));
    let reference = WorkspaceRef::new(subscription, group, name);
    let container = format!("azureml-blobstore-{}", ids::uuid());
    set_blobstore(state, &reference, &derived_account(name), &container, BlobstoreCredential::AccountKey)?;
    Ok(reference)
}

/// Points `workspaceblobstore` at `account`/`container` (both created when missing) with the given credentials.
pub(crate) fn set_blobstore(
    state: &SandboxState,
    workspace: &WorkspaceRef,
    account: &str,
    container: &str,
    credential: BlobstoreCredential,
) -> Result<(), String> {
    let secrets = {
        let mut storage = lock(&state.storage.inner);
        if storage.account(account).is_none() {
            storage.add_account(account, &random_key())?;
        }
        storage.ensure_container(account, container)?;
        match credential {
            BlobstoreCredential::AccountKey => {
                Some(Secrets::AccountKey(storage.account(account).map(|a| a.key_b64.clone())))
            }
            BlobstoreCredential::Sas => Some(Secrets::Sas(Some(storage.issue_sas(
                account,
                Some(container),
                "racwdl",
                now_nanos() + BLOBSTORE_SAS_LIFETIME_NANOS,
            )?))),
            BlobstoreCredential::None => None,
        }
    };
    let mut ml = lock(&state.ml.inner);
    let ws = find(&mut ml, workspace)?;
    let store = datastores::blobstore(&account.to_ascii_lowercase(), container, secrets, now_nanos());
    match ws.datastores.iter_mut().find(|d| d.name == DEFAULT_DATASTORE) {
        Some(existing) => {
            let created = existing.created;
            *existing = Datastore { created, ..store };
        }
        None => ws.datastores.push(store),
    }
    Ok(())
}

fn find<'a>(ml: &'a mut Ml, workspace: &WorkspaceRef) -> Result<&'a mut Workspace, String> {
    let at = ml
        .find(&workspace.subscription_id, &workspace.resource_group, &workspace.name)
        .ok_or_else(|| format!("workspace {} was never added", workspace.arm_id()))?;
    Ok(&mut ml.workspaces[at])
}

pub(crate) fn add_datastore(
    state: &SandboxState,
    workspace: &WorkspaceRef,
    name: &str,
    properties: &Value,
) -> Result<(), String> {
    if !is_resource_name(name) {
        return Err(format!("datastore name {name:?} is not valid"));
    }
    let mut ml = lock(&state.ml.inner);
    let ws = find(&mut ml, workspace)?;
    let valid = datastores::validate(&json!({"properties": properties}), ws.datastore(name))
        .map_err(|e| format!("datastore {name}: {}", e.message))?;
    let now = now_nanos();
    ws.datastores.retain(|d| !d.name.eq_ignore_ascii_case(name));
    ws.datastores.push(Datastore {
        name: name.to_string(),
        properties: valid.properties,
        secrets: valid.secrets,
        is_default: false,
        created: now,
        modified: now,
        created_by: SANDBOX.into(),
        modified_by: SANDBOX.into(),
    });
    Ok(())
}

/// Adds a compute cluster (idempotent; names compare case-insensitively).
pub(crate) fn add_compute(state: &SandboxState, workspace: &WorkspaceRef, name: &str) -> Result<(), String> {
    if !is_resource_name(name) {
        return Err(format!("compute name {name:?} is not valid"));
    }
    let mut ml = lock(&state.ml.inner);
    let ws = find(&mut ml, workspace)?;
    if ws.compute(name).is_none() {
        ws.computes.push(Compute { name: name.to_string(), created: now_nanos() });
    }
    Ok(())
}

pub(crate) fn add_data_version(
    state: &SandboxState,
    workspace: &WorkspaceRef,
    name: &str,
    version: &str,
    properties: &Value,
    created: Option<i64>,
) -> Result<(), String> {
    if !is_resource_name(name) || !is_version(version) {
        return Err(format!("data asset {name:?} version {version:?} is not a valid name and version"));
    }
    let mut ml = lock(&state.ml.inner);
    let seq = ml.next_seq();
    let ws = find(&mut ml, workspace)?;
    let valid = data::validate(&json!({"properties": properties}), ws)
        .map_err(|e| format!("data {name}:{version}: {}", e.message))?;
    let now = created.unwrap_or_else(now_nanos);
    let asset = ws.data.entry(name.to_string()).or_insert_with(|| DataAsset {
        name: name.to_string(),
        created: now,
        versions: Vec::new(),
    });
    asset.created = asset.created.min(now);
    data::upsert(asset, version, valid, now, seq, SANDBOX)
        .map_err(|e| format!("data {name}:{version}: {}", e.message))?;
    Ok(())
}

fn string_map(value: Option<&Value>) -> Obj {
    value.and_then(Value::as_object).cloned().unwrap_or_default()
}

pub(crate) fn add_job(state: &SandboxState, workspace: &WorkspaceRef, seed: JobSeed) -> Result<(), String> {
    seed.check()?;
    let mut ml = lock(&state.ml.inner);
    let seq = ml.next_seq();
    let script = script_for(&ml.scripts, &seed.id, seed.display_name.as_deref()).map(|s| s.steps(&ml.default_steps));
    let mut extra = seed.extra;
    let description = extra.remove("description").unwrap_or(Value::Null);
    let compute_id = extra.remove("computeId").unwrap_or(Value::Null);
    let properties = string_map(extra.remove("properties").as_ref());
    for key in ["tags", "inputs", "displayName", "status", "jobType", "experimentName", "isArchived"] {
        extra.remove(key);
    }
    let mut job = Job {
        id: seed.id,
        seq,
        created: seed.created_at.map_or_else(now_nanos, unix_nanos),
        created_by: SANDBOX.into(),
        job_type: seed.job_type,
        display_name: seed.display_name,
        description,
        experiment_name: seed.experiment_name,
        tags: std::sync::Arc::new(seed.tags.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
        properties: properties.into(),
        compute_id,
        inputs: seed.inputs,
        archived: seed.archived,
        rest: extra.into(),
        steps: vec![seed.status].into(),
        pos: 0,
    };
    if let Some(steps) = script {
        job.set_steps(steps);
    }
    find(&mut ml, workspace)?.jobs.insert(job);
    Ok(())
}

pub(crate) fn generate_jobs(
    state: &SandboxState,
    workspace: &WorkspaceRef,
    spec: &GenerateSpec,
) -> Result<GeneratedJobs, String> {
    if !is_resource_name(&spec.asset) || !is_resource_name(&spec.input_name) {
        return Err(format!("asset {:?} and input name {:?} must be valid names", spec.asset, spec.input_name));
    }
    if let Some(version) = spec.versions.iter().find(|v| !is_version(v)) {
        return Err(format!("version {version:?} is not a valid data version"));
    }
    // The versions the jobs read exist, oldest first, so the last is the asset's latest.
    let data_type = if spec.asset.contains("mltable") { "mltable" } else { "uri_folder" };
    let now = now_nanos();
    let existing: Vec<String> = {
        let mut ml = lock(&state.ml.inner);
        let ws = find(&mut ml, workspace)?;
        ws.data.get(&spec.asset).map(|a| a.versions.iter().map(|v| v.version.clone()).collect()).unwrap_or_default()
    };
    for (i, version) in spec.versions.iter().enumerate() {
        if !existing.contains(version) {
            let properties = json!({"dataType": data_type,
                "dataUri": format!("azureml://datastores/{DEFAULT_DATASTORE}/paths/generated/{}/{version}/", spec.asset)});
            add_data_version(state, workspace, &spec.asset, version, &properties, Some(now + i as i64 * 1000))?;
        }
    }
    let mut ml = lock(&state.ml.inner);
    let first = ml.reserve_seq(spec.jobs as u64);
    let scripts = ml.scripts.clone();
    let default_steps = ml.default_steps.clone();
    let ws = find(&mut ml, workspace)?;
    let mut next = first;
    let report = generate::generate(ws, spec, || {
        next += 1;
        next
    });
    if !scripts.is_empty() {
        for job in ws.jobs.iter_mut() {
            if job.seq > first
                && let Some(script) = script_for(&scripts, &job.id, job.display_name.as_deref())
            {
                job.set_steps(script.steps(&default_steps));
            }
        }
    }
    Ok(report)
}

pub(crate) fn script_job(state: &SandboxState, pattern: &str, script: JobScript) -> Result<(), String> {
    script.check()?;
    if pattern.is_empty() {
        return Err("a job script needs a non-empty id or display-name prefix".into());
    }
    let mut ml = lock(&state.ml.inner);
    let steps = script.steps(&ml.default_steps);
    for ws in &mut ml.workspaces {
        for job in ws.jobs.iter_mut() {
            if job.id == pattern || job.display_name.as_deref().is_some_and(|d| d.starts_with(pattern)) {
                job.set_steps(steps.clone());
            }
        }
    }
    ml.scripts.push((pattern.to_string(), script));
    Ok(())
}

pub(crate) fn set_jobs_page_size(state: &SandboxState, size: usize) -> Result<(), String> {
    if size == 0 {
        return Err("the jobs page size must be at least 1".into());
    }
    lock(&state.ml.inner).jobs_page_size = size;
    Ok(())
}

pub(crate) fn set_job_steps(state: &SandboxState, steps: &[String]) -> Result<(), String> {
    if steps.is_empty() || steps.iter().any(|s| s.trim().is_empty()) {
        return Err("the default job steps need at least one non-empty status".into());
    }
    lock(&state.ml.inner).default_steps = steps.to_vec();
    Ok(())
}

/// A job as GET would show it, without advancing its lifecycle.
pub(crate) fn job(state: &SandboxState, workspace: &WorkspaceRef, id: &str) -> Option<Value> {
    let mut ml = lock(&state.ml.inner);
    let ws = find(&mut ml, workspace).ok()?;
    let arm_id = ws.arm_id();
    ws.jobs.get(id).map(|job| job_json(&arm_id, job, true))
}

pub(crate) fn data_version(state: &SandboxState, workspace: &WorkspaceRef, name: &str, version: &str) -> Option<Value> {
    let mut ml = lock(&state.ml.inner);
    let ws = find(&mut ml, workspace).ok()?;
    let arm_id = ws.arm_id();
    ws.data.get(name)?.versions.iter().find(|v| v.version == version).map(|v| v.to_json(&arm_id, name))
}

pub(crate) fn datastore(state: &SandboxState, workspace: &WorkspaceRef, name: &str) -> Option<Value> {
    let mut ml = lock(&state.ml.inner);
    let ws = find(&mut ml, workspace).ok()?;
    let arm_id = ws.arm_id();
    ws.datastore(name).map(|d| d.to_json(&arm_id))
}

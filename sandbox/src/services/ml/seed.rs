//! The `workspaces` and `jobSettings` seed sections. Everything is checked while parsing (datastore and data
//! version bodies with the API's own validation, against the workspace's seeded datastores), then applied
//! through the same library operations the `Sandbox` methods use.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::data;
use super::datastores::{self, BlobstoreCredential, blobstore};
use super::jobs::generate::GenerateSpec;
use super::jobs::lifecycle::JobScript;
use super::library::{self, JobSeed};
use super::schema::{is_resource_name, is_version, is_workspace_name};
use super::store::{Workspace, WorkspaceRef};
use crate::seed::{Apply, Context, parse, parse_list, require_text};
use crate::services::storage::store::{check_account_name, check_container_name};
use crate::wire::parse_rfc3339;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WorkspaceSeed {
    subscription_id: String,
    resource_group: String,
    name: String,
    blobstore: Option<BlobstoreSeed>,
    #[serde(default)]
    datastores: Vec<DatastoreSeed>,
    #[serde(default)]
    data: Vec<DataSeed>,
    #[serde(default)]
    jobs: Vec<JobSeedJson>,
    generate: Option<GenerateSeed>,
    /// Compute cluster names (answered by `GET computes/{name}`).
    #[serde(default)]
    computes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BlobstoreSeed {
    account: String,
    container: String,
    /// `AccountKey`, `Sas` or `None`.
    credentials: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DatastoreSeed {
    name: String,
    /// The `properties` of a datastore PUT body, secrets included.
    properties: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DataSeed {
    name: String,
    version: String,
    /// The `properties` of a data version PUT body.
    properties: Value,
    created_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JobSeedJson {
    id: String,
    display_name: Option<String>,
    job_type: Option<String>,
    status: Option<String>,
    created_at: Option<String>,
    experiment_name: Option<String>,
    #[serde(default)]
    inputs: Map<String, Value>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    archived: bool,
    /// Other members of the job's properties (computeId, jobs, settings, outputs, properties, ...).
    #[serde(default)]
    extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GenerateSeed {
    jobs: usize,
    groups: usize,
    asset: String,
    input_name: String,
    versions: Vec<String>,
    #[serde(default)]
    seed: u64,
    group_prefix: Option<String>,
    other_asset: Option<String>,
    other_asset_percent: Option<u8>,
    non_matching_percent: Option<u8>,
    non_pipeline_percent: Option<u8>,
    archived_percent: Option<u8>,
    start_unix_secs: Option<i64>,
    step_secs: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JobSettingsSeed {
    page_size: Option<usize>,
    steps: Option<Vec<String>>,
    #[serde(default)]
    scripts: Vec<ScriptSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptSeed {
    /// A job id or display-name prefix.
    #[serde(rename = "match")]
    pattern: String,
    /// `Complete`, `Fail`, `Cancel`, `NotResponding` or `Hang`.
    outcome: Option<String>,
    /// A status the job ends in and keeps (`Hibernating`).
    status: Option<String>,
    /// Exact steps.
    steps: Option<Vec<String>>,
}

fn credential(text: &str) -> Result<BlobstoreCredential, String> {
    match text {
        "AccountKey" => Ok(BlobstoreCredential::AccountKey),
        "Sas" => Ok(BlobstoreCredential::Sas),
        "None" => Ok(BlobstoreCredential::None),
        other => Err(format!("blobstore credentials {other:?} must be AccountKey, Sas or None")),
    }
}

fn time(text: &str) -> Result<i64, String> {
    parse_rfc3339(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 timestamp"))
}

impl JobSeedJson {
    fn into_seed(self) -> Result<JobSeed, String> {
        let created_at = match &self.created_at {
            Some(text) => {
                let nanos = time(text)?;
                Some(
                    UNIX_EPOCH
                        + Duration::from_nanos(u64::try_from(nanos).map_err(|_| format!("{text:?} is before 1970"))?),
                )
            }
            None => None,
        };
        let defaults = JobSeed::default();
        let seed = JobSeed {
            id: self.id,
            display_name: self.display_name,
            job_type: self.job_type.unwrap_or(defaults.job_type),
            status: self.status.unwrap_or(defaults.status),
            created_at,
            experiment_name: self.experiment_name.unwrap_or(defaults.experiment_name),
            inputs: self.inputs,
            tags: self.tags,
            archived: self.archived,
            extra: self.extra,
        };
        seed.check()?;
        Ok(seed)
    }
}

impl GenerateSeed {
    fn into_spec(self) -> Result<GenerateSpec, String> {
        let d = GenerateSpec::default();
        let spec = GenerateSpec {
            jobs: self.jobs,
            groups: self.groups,
            asset: self.asset,
            input_name: self.input_name,
            versions: self.versions,
            seed_rng: self.seed,
            group_prefix: self.group_prefix.unwrap_or(d.group_prefix),
            other_asset: self.other_asset,
            other_asset_percent: self.other_asset_percent.unwrap_or(d.other_asset_percent),
            non_matching_percent: self.non_matching_percent.unwrap_or(d.non_matching_percent),
            non_pipeline_percent: self.non_pipeline_percent.unwrap_or(d.non_pipeline_percent),
            archived_percent: self.archived_percent.unwrap_or(d.archived_percent),
            start_unix_secs: self.start_unix_secs.unwrap_or(d.start_unix_secs),
            step_secs: self.step_secs.unwrap_or(d.step_secs),
        };
        if !is_resource_name(&spec.asset) || !is_resource_name(&spec.input_name) {
            return Err("generate: asset and inputName must be valid names".into());
        }
        if spec.versions.is_empty() || spec.versions.iter().any(|v| !is_version(v)) {
            return Err("generate: versions must be a non-empty list of valid versions".into());
        }
        let total = u16::from(spec.other_asset_percent)
            + u16::from(spec.non_matching_percent)
            + u16::from(spec.non_pipeline_percent);
        if total > 100 || spec.archived_percent > 100 {
            return Err("generate: the percentages add up to more than 100".into());
        }
        Ok(spec)
    }
}

/// A workspace section entry, checked.
struct Ready {
    reference: WorkspaceRef,
    blobstore: Option<(String, String, BlobstoreCredential)>,
    datastores: Vec<(String, Value)>,
    data: Vec<(String, String, Value, Option<i64>)>,
    jobs: Vec<JobSeed>,
    generate: Option<GenerateSpec>,
    computes: Vec<String>,
}

fn check_workspace(seed: WorkspaceSeed) -> Result<Ready, String> {
    require_text("subscriptionId", &seed.subscription_id)?;
    require_text("resourceGroup", &seed.resource_group)?;
    if !is_workspace_name(&seed.name) {
        return Err(format!("name {:?} does not match ^[a-zA-Z0-9][a-zA-Z0-9_-]{{2,32}}$", seed.name));
    }
    let blobstore_seed = match seed.blobstore {
        Some(b) => {
            check_account_name(&b.account)?;
            check_container_name(&b.container)?;
            Some((b.account, b.container, credential(&b.credentials)?))
        }
        None => None,
    };
    // A stand-in with the datastores the workspace will have, to check data versions' datastore references.
    let mut shadow = Workspace::new(&seed.subscription_id, &seed.resource_group, &seed.name, 0);
    shadow.datastores.push(blobstore("placeholder", "placeholder", None, 0));
    let mut datastore_list = Vec::new();
    for (i, store) in seed.datastores.into_iter().enumerate() {
        if !is_resource_name(&store.name) {
            return Err(format!("datastores entry {i}: name {:?} is not valid", store.name));
        }
        let valid = datastores::validate(&json!({"properties": store.properties}), None)
            .map_err(|e| format!("datastores entry {i} ({}): {}", store.name, e.message))?;
        shadow.datastores.push(datastores::Datastore {
            name: store.name.clone(),
            properties: valid.properties,
            secrets: None,
            is_default: false,
            created: 0,
            modified: 0,
            created_by: String::new(),
            modified_by: String::new(),
        });
        datastore_list.push((store.name, store.properties));
    }
    let mut data_list = Vec::new();
    for (i, version) in seed.data.into_iter().enumerate() {
        let at = |e: String| format!("data entry {i} ({}:{}): {e}", version.name, version.version);
        if !is_resource_name(&version.name) || !is_version(&version.version) {
            return Err(at("name or version is not valid".into()));
        }
        data::validate(&json!({"properties": version.properties}), &shadow).map_err(|e| at(e.message))?;
        let created = version.created_at.as_deref().map(time).transpose().map_err(at)?;
        data_list.push((version.name, version.version, version.properties, created));
    }
    if let Some(bad) = seed.computes.iter().find(|name| !is_resource_name(name)) {
        return Err(format!("computes: name {bad:?} is not valid"));
    }
    let mut jobs = Vec::new();
    for (i, job) in seed.jobs.into_iter().enumerate() {
        jobs.push(job.into_seed().map_err(|e| format!("jobs entry {i}: {e}"))?);
    }
    Ok(Ready {
        reference: WorkspaceRef::new(&seed.subscription_id, &seed.resource_group, &seed.name),
        blobstore: blobstore_seed,
        datastores: datastore_list,
        data: data_list,
        jobs,
        generate: seed.generate.map(GenerateSeed::into_spec).transpose()?,
        computes: seed.computes,
    })
}

/// `"workspaces": [{"subscriptionId", "resourceGroup", "name", "blobstore"?: {"account", "container",
/// "credentials": "AccountKey" | "Sas" | "None"}, "datastores"?: [{"name", "properties"}], "data"?: [{"name",
/// "version", "properties", "createdAt"?}], "jobs"?: [{"id", "displayName", "jobType", "status", "createdAt",
/// "experimentName", "inputs", "tags", "archived", "extra"}], "generate"?: {"jobs", "groups", "asset", "inputName",
/// "versions", "seed", ...}, "computes"?: ["<name>"]}]`
pub(crate) fn workspaces(value: &Value, _context: &Context) -> Result<Apply, String> {
    let seeds: Vec<WorkspaceSeed> = parse_list(value)?;
    let mut ready = Vec::new();
    for (i, seed) in seeds.into_iter().enumerate() {
        let name = seed.name.clone();
        ready.push(check_workspace(seed).map_err(|e| format!("entry {i} ({name}): {e}"))?);
    }
    Ok(Box::new(move |state| {
        for ws in ready {
            // Everything below was checked while parsing; a failure here would be a sandbox bug, so say so.
            let report = |result: Result<(), String>| {
                if let Err(e) = result {
                    eprintln!("drift-sandbox: seed workspace {}: {e}", ws.reference.name);
                }
            };
            let added = library::add_workspace(
                state,
                &ws.reference.subscription_id,
                &ws.reference.resource_group,
                &ws.reference.name,
            );
            if let Err(e) = added {
                report(Err(e));
                continue;
            }
            if let Some((account, container, credential)) = &ws.blobstore {
                report(library::set_blobstore(state, &ws.reference, account, container, *credential));
            }
            for name in &ws.computes {
                report(library::add_compute(state, &ws.reference, name));
            }
            for (name, properties) in &ws.datastores {
                report(library::add_datastore(state, &ws.reference, name, properties));
            }
            for (name, version, properties, created) in &ws.data {
                report(library::add_data_version(state, &ws.reference, name, version, properties, *created));
            }
            for job in ws.jobs.clone() {
                report(library::add_job(state, &ws.reference, job));
            }
            if let Some(spec) = &ws.generate {
                report(library::generate_jobs(state, &ws.reference, spec).map(|_| ()));
            }
        }
    }))
}

/// `"jobSettings": {"pageSize"?, "steps"?: [...], "scripts"?: [{"match", "outcome" | "status" | "steps"}]}`
pub(crate) fn job_settings(value: &Value, _context: &Context) -> Result<Apply, String> {
    let settings: JobSettingsSeed = parse(value)?;
    if settings.page_size == Some(0) {
        return Err("pageSize must be at least 1".into());
    }
    if let Some(steps) = &settings.steps
        && (steps.is_empty() || steps.iter().any(|s| s.trim().is_empty()))
    {
        return Err("steps must be a non-empty list of statuses".into());
    }
    let mut scripts = Vec::new();
    for (i, seed) in settings.scripts.into_iter().enumerate() {
        require_text(&format!("scripts entry {i}: match"), &seed.pattern)?;
        let script = match (seed.outcome.as_deref(), seed.status, seed.steps) {
            (Some("Complete"), None, None) => JobScript::Complete,
            (Some("Fail"), None, None) => JobScript::Fail,
            (Some("Cancel"), None, None) => JobScript::Cancel,
            (Some("NotResponding"), None, None) => JobScript::NotResponding,
            (Some("Hang"), None, None) => JobScript::Hang,
            (None, Some(status), None) => JobScript::Status(status),
            (None, None, Some(steps)) => JobScript::Steps(steps),
            _ => {
                return Err(format!(
                    "scripts entry {i}: give exactly one of outcome (Complete, Fail, Cancel, NotResponding, Hang), \
                     status or steps"
                ));
            }
        };
        script.check().map_err(|e| format!("scripts entry {i}: {e}"))?;
        scripts.push((seed.pattern, script));
    }
    Ok(Box::new(move |state| {
        if let Some(size) = settings.page_size {
            let _ = library::set_jobs_page_size(state, size);
        }
        if let Some(steps) = &settings.steps {
            let _ = library::set_job_steps(state, steps);
        }
        for (pattern, script) in scripts {
            let _ = library::script_job(state, &pattern, script);
        }
    }))
}

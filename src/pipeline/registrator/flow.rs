//! The registrator run: read the Delta table's state, decide (unchanged / complete an interrupted run / register),
//! then write the datastore, the MLTable upload and the two data versions — in an order a rerun can finish. The
//! decision, the bodies and the report are pure functions (`decide`, `registration`, `build_report`); `run` and
//! `write` are the I/O around them.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use serde::Serialize;
use serde_json::{Value, json};

use super::changes::{self, Changes};
use super::table::read_table_log;
use crate::azure::ml::MlClient;
use crate::azure::ml::data::Written;
use crate::azure::ml::models::{DataVersion, DataVersionBody, DataVersionProperties, DatastoreSecrets};
use crate::azure::storage::{BlobClient, StorageAuth};
use crate::config::naming::{self, Names};
use crate::config::{ConfigError, PinBy, RegistratorParams, Workspace};
use crate::delta::{TableState, TimeSource};
use crate::error::Error;
use crate::mltable::{self, MLTABLE_FILE, Pin, UploadFile};
use crate::output::{CommandName, Outcome, PipelineName, Report};
use crate::pipeline::Session;
use crate::secret::Secret;

/// The task value the retrainer reads (the Python tool's key).
pub const TASK_VALUE_KEY: &str = "data_asset_version";

/// Tags on both data versions; `drift.deltaVersion` is what makes reruns idempotent.
pub const TAG_DELTA_VERSION: &str = "drift.deltaVersion";
pub const TAG_DELTA_TIMESTAMP: &str = "drift.deltaCommitTimestamp";
pub const TAG_SOURCE: &str = "drift.source";
pub const TAG_TOOL_VERSION: &str = "drift.toolVersion";

/// The workspace's default blob datastore, where the Azure ML SDK uploads local folders.
pub const UPLOAD_DATASTORE: &str = "workspaceblobstore";

/// Blob metadata the SDK sets once an upload is complete; its presence means "already uploaded".
const UPLOAD_STATUS_KEY: &str = "upload_status";
const UPLOAD_STATUS_DONE: &str = "completed";

/// What the run decided.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    /// The newest registered version already describes this Delta version. `uri_missing`: its uri_folder twin was
    /// never written (an earlier run stopped between the two data-version PUTs), so this run writes it.
    Unchanged { existing: Box<DataVersion>, uri_missing: bool },
    /// A new version (or, with `--force`, the same version written again).
    Register { version: String },
}

impl Plan {
    /// The data version this run publishes.
    fn version(&self) -> &str {
        match self {
            Plan::Unchanged { existing, .. } => &existing.name,
            Plan::Register { version } => version,
        }
    }
}

/// Whether `newest` already holds this Delta version (so nothing needs registering, unless forced).
fn holds(newest: &DataVersion, state: &TableState, force: bool) -> bool {
    !force && newest.properties.tags.get(TAG_DELTA_VERSION) == Some(&state.version.to_string())
}

/// The decision, from the table state, the newest registered version and whether that version's uri_folder twin
/// is missing (asked only when it holds this Delta version).
fn decide(state: &TableState, newest: Option<DataVersion>, force: bool, uri_missing: bool) -> Plan {
    match newest {
        Some(existing) if holds(&existing, state, force) => {
            Plan::Unchanged { existing: Box::new(existing), uri_missing }
        }
        // One version for both assets, derived from the Delta commit (not the clock), so every run that registers
        // this Delta version — a retry, a concurrent run — writes the same version with the same bodies.
        newest => Plan::Register { version: version_for(state, newest.as_ref()) },
    }
}

/// Everything a registration writes, computed before the first write.
#[derive(Debug, Clone)]
struct Registration {
    folder_uri: String,
    /// The MLTable file's text.
    mltable: String,
    /// `LocalUpload/{hash}/{asset}`, where the SDK would upload the MLTable folder.
    upload_dir: String,
    mltable_body: DataVersionBody,
    uri_body: DataVersionBody,
}

fn registration(
    params: &RegistratorParams,
    names: &Names,
    ws: &Workspace,
    state: &TableState,
    source: &str,
    change_tags: &BTreeMap<String, String>,
) -> Registration {
    let folder_uri = names.folder_uri(ws);
    let mut tags = tags(state, source);
    tags.extend(change_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    let description = format!(
        "Delta table {source} at version {} (committed {}), registered by drift {}",
        state.version,
        state.commit_time.to_rfc3339_opts(SecondsFormat::Secs, true),
        env!("CARGO_PKG_VERSION")
    );
    let pin = match params.pin_by {
        PinBy::Version => Pin::Version(state.version),
        PinBy::Timestamp => Pin::Timestamp(state.commit_time),
    };
    let content = mltable::delta_mltable(&folder_uri, &pin);
    let hash = mltable::folder_hash(&[UploadFile { name: MLTABLE_FILE, content: content.as_bytes() }]);
    let upload_dir = format!("LocalUpload/{hash}/{}", names.mltable);
    let body = |data_type: &str, data_uri: String, referenced_uris| DataVersionBody {
        properties: DataVersionProperties {
            data_type: data_type.into(),
            data_uri,
            description: Some(description.clone()),
            tags: tags.clone(),
            referenced_uris,
            is_anonymous: false,
        },
    };
    Registration {
        mltable_body: body(
            "mltable",
            format!("azureml://datastores/{UPLOAD_DATASTORE}/paths/{upload_dir}"),
            Some(vec![folder_uri.clone()]),
        ),
        uri_body: body("uri_folder", folder_uri.clone(), None),
        folder_uri,
        mltable: content,
        upload_dir,
    }
}

/// What was done to the datastore (`datastore.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum DatastoreAction {
    Created,
    Updated,
    WouldPut,
    /// Not written: the table did not change.
    Unchanged,
}

/// What was done to the MLTable upload (`upload.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum UploadAction {
    Uploaded,
    AlreadyUploaded,
    WouldUpload,
}

/// What was done to a data version (`assets[].action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum AssetAction {
    Created,
    Updated,
    Unchanged,
    WouldCreate,
}

impl From<Written> for AssetAction {
    fn from(w: Written) -> AssetAction {
        match w {
            Written::Created => AssetAction::Created,
            Written::Updated => AssetAction::Updated,
        }
    }
}

/// What the writes did (or, for plan, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Actions {
    datastore: DatastoreAction,
    /// `None`: no upload considered (the table did not change).
    upload: Option<UploadAction>,
    mltable: AssetAction,
    uri: AssetAction,
}

impl Actions {
    /// What `plan` reports: nothing written, everything the run would write.
    fn planned(plan: &Plan) -> Actions {
        match plan {
            Plan::Unchanged { uri_missing, .. } => Actions {
                datastore: DatastoreAction::Unchanged,
                upload: None,
                mltable: AssetAction::Unchanged,
                uri: if *uri_missing { AssetAction::WouldCreate } else { AssetAction::Unchanged },
            },
            Plan::Register { .. } => Actions {
                datastore: DatastoreAction::WouldPut,
                upload: Some(UploadAction::WouldUpload),
                mltable: AssetAction::WouldCreate,
                uri: AssetAction::WouldCreate,
            },
        }
    }
}

pub async fn run(session: &Session, params: &RegistratorParams) -> Result<Report, Error> {
    let config = &session.config;
    let names = Names::new(params).map_err(|message| ConfigError {
        file: config.origin.clone(),
        key: Some("Processing.parameters.containerDataPath".into()),
        message,
        also: Vec::new(),
    })?;
    let ml = session.ml_client();
    let source = naming::abfss_uri(params, session.endpoints.cloud.storage_suffix);
    let table = BlobClient::new(
        session.http.clone(),
        &session.endpoints,
        &params.storage_account,
        StorageAuth::Bearer(session.credential.clone()),
    );
    let log = read_table_log(&table, &params.container, &names.data_path).await?;
    let state = log.state;
    tracing::info!(target: "drift::registrator", source = %source, delta_version = state.version, "Delta table read");

    let force = session.options.force;
    let newest = ml.latest_data_version(&names.mltable).await?;
    let uri_missing = match &newest {
        Some(existing) if holds(existing, &state, force) => {
            ml.get_data_version(&names.uri, &existing.name).await?.is_none()
        }
        _ => false,
    };
    let previous = newest.clone();
    let plan = decide(&state, newest, force, uri_missing);
    let change = match &plan {
        Plan::Unchanged { .. } => None,
        // `--force` on the version already registered: it keeps the changes it recorded against its predecessor.
        Plan::Register { version } => {
            Some(match previous.as_ref().filter(|p| &p.name == version && holds(p, &state, false)) {
                Some(same) => ChangeRecord::Kept(
                    changes::CHANGE_TAGS
                        .iter()
                        .filter_map(|k| same.properties.tags.get(*k).map(|v| (k.to_string(), v.clone())))
                        .collect(),
                ),
                None => {
                    let c = changes::read_changes(&table, &params.container, &log, previous.as_ref()).await;
                    ChangeRecord::Read(changes::tags(&c), c)
                }
            })
        }
    };
    let change_tags = change.as_ref().map(ChangeRecord::tags).cloned().unwrap_or_default();
    let registration = registration(params, &names, &config.workspace, &state, &source, &change_tags);
    // Built (and refused, for a certificate principal) before any write, plan included.
    let datastore = match &plan {
        Plan::Register { .. } => Some(datastore_body(session, params)?),
        Plan::Unchanged { .. } => None,
    };
    let actions = if session.options.dry_run {
        Actions::planned(&plan)
    } else {
        write(session, &ml, &names, &plan, &registration, datastore.as_ref()).await?
    };
    let facts = Facts {
        dry_run: session.options.dry_run,
        names: &names,
        source: &source,
        state: &state,
        change: change.as_ref(),
    };
    build_report(&facts, &plan, &registration, datastore.map(redact_datastore), actions)
}

/// The writes, in an order a rerun can finish: datastore, MLTable upload, the mltable version, the uri_folder
/// version. For an unchanged table, only a missing uri_folder version (an interrupted earlier run) is written.
async fn write(
    session: &Session,
    ml: &MlClient,
    names: &Names,
    plan: &Plan,
    registration: &Registration,
    datastore: Option<&Value>,
) -> Result<Actions, Error> {
    match plan {
        Plan::Unchanged { existing, uri_missing } => {
            let mut actions = Actions::planned(plan);
            if *uri_missing {
                // Finish the earlier run under its version, with its tags.
                let mut body = registration.uri_body.clone();
                body.properties.tags = existing.properties.tags.clone();
                ml.put_data_version(&names.uri, &existing.name, &body).await?;
                actions.uri = AssetAction::Created;
            }
            Ok(actions)
        }
        Plan::Register { version } => {
            let datastore_action = match datastore {
                Some(body) => match ml.put_datastore(&names.datastore, body).await? {
                    Written::Created => DatastoreAction::Created,
                    Written::Updated => DatastoreAction::Updated,
                },
                None => DatastoreAction::Unchanged,
            };
            let uploaded =
                upload(session, ml, &registration.upload_dir, registration.mltable.as_bytes(), &names.mltable, version)
                    .await?;
            // The MLTable first: a run interrupted after it is finished by the next run (see `Plan::Unchanged`).
            let (m, _) = ml.put_data_version(&names.mltable, version, &registration.mltable_body).await?;
            let (u, _) = ml.put_data_version(&names.uri, version, &registration.uri_body).await?;
            Ok(Actions { datastore: datastore_action, upload: Some(uploaded), mltable: m.into(), uri: u.into() })
        }
    }
}

/// `details` of a registrator report (docs/report.md, "Registrator details").
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistratorDetails {
    version: String,
    source: String,
    delta_version: u64,
    delta_commit_timestamp: String,
    delta_time_source: TimeSource,
    datastore: DatastoreDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload: Option<UploadDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mltable: Option<String>,
    assets: [AssetDetails; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    would_publish: Option<BTreeMap<&'static str, String>>,
    /// The change tags written (or to be written) on both versions; absent when nothing is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<BTreeMap<String, String>>,
    /// Why the change values are `unknown`, when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    changes_unknown_because: Option<String>,
}

/// The change tags of a registration: read from the log now, or kept from the version being written again.
#[derive(Debug, Clone)]
enum ChangeRecord {
    Read(BTreeMap<String, String>, Changes),
    Kept(BTreeMap<String, String>),
}

impl ChangeRecord {
    fn tags(&self) -> &BTreeMap<String, String> {
        match self {
            ChangeRecord::Read(tags, _) | ChangeRecord::Kept(tags) => tags,
        }
    }

    fn why_unknown(&self) -> Option<&str> {
        match self {
            ChangeRecord::Read(_, c) => c.why_unknown.as_deref(),
            ChangeRecord::Kept(_) => None,
        }
    }
}

#[derive(Debug, Serialize)]
struct DatastoreDetails {
    name: String,
    action: DatastoreAction,
    /// The PUT body as sent (or as it would be), secret replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
}

#[derive(Debug, Serialize)]
struct UploadDetails {
    datastore: &'static str,
    path: String,
    action: UploadAction,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AssetDetails {
    name: String,
    #[serde(rename = "type")]
    data_type: &'static str,
    version: String,
    data_uri: String,
    action: AssetAction,
}

/// What the report says about the run besides the plan.
struct Facts<'a> {
    dry_run: bool,
    names: &'a Names,
    source: &'a str,
    state: &'a TableState,
    change: Option<&'a ChangeRecord>,
}

fn build_report(
    facts: &Facts<'_>,
    plan: &Plan,
    registration: &Registration,
    datastore_body: Option<Value>,
    actions: Actions,
) -> Result<Report, Error> {
    let Facts { dry_run, names, source, state, change } = *facts;
    let version = plan.version().to_string();
    let outcome = match plan {
        Plan::Unchanged { uri_missing: false, .. } => Outcome::Unchanged,
        _ if dry_run => Outcome::Planned,
        Plan::Unchanged { .. } => Outcome::Completed,
        Plan::Register { .. } => Outcome::Registered,
    };
    let mut report = Report::new(if dry_run { CommandName::Plan } else { CommandName::Run }, outcome);
    report.pipeline = Some(PipelineName::Registrator);
    let registered = matches!(plan, Plan::Register { .. });
    let mltable_uri = match plan {
        Plan::Unchanged { existing, .. } => existing.properties.data_uri.clone(),
        Plan::Register { .. } => registration.mltable_body.properties.data_uri.clone(),
    };
    let upload_path = format!("{}/{MLTABLE_FILE}", registration.upload_dir);
    let details = RegistratorDetails {
        version: version.clone(),
        source: source.to_string(),
        delta_version: state.version,
        delta_commit_timestamp: state.commit_time.to_rfc3339_opts(SecondsFormat::Millis, true),
        delta_time_source: state.time_source,
        datastore: DatastoreDetails { name: names.datastore.clone(), action: actions.datastore, body: datastore_body },
        upload: actions.upload.map(|action| UploadDetails {
            datastore: UPLOAD_DATASTORE,
            path: upload_path.clone(),
            action,
        }),
        mltable: registered.then(|| registration.mltable.clone()),
        assets: [
            AssetDetails {
                name: names.mltable.clone(),
                data_type: "mltable",
                version: version.clone(),
                data_uri: mltable_uri,
                action: actions.mltable,
            },
            AssetDetails {
                name: names.uri.clone(),
                data_type: "uri_folder",
                version: version.clone(),
                data_uri: registration.folder_uri.clone(),
                action: actions.uri,
            },
        ],
        would_publish: dry_run.then(|| BTreeMap::from([(TASK_VALUE_KEY, version.clone())])),
        changes: change.map(|c| c.tags().clone()),
        changes_unknown_because: change.and_then(|c| c.why_unknown().map(str::to_string)),
    };
    report.set_details(&details)?;

    if !dry_run {
        report.task_values.insert(TASK_VALUE_KEY, Value::String(version.clone()))?;
    }
    report.text = text_summary(facts, plan, registration, actions, &upload_path);
    Ok(report)
}

/// `--output text`: the table state, what was (or would be) written, what was published.
fn text_summary(
    facts: &Facts<'_>,
    plan: &Plan,
    registration: &Registration,
    actions: Actions,
    upload_path: &str,
) -> Vec<String> {
    let Facts { dry_run, names, source, state, change } = *facts;
    let version = plan.version();
    let mut text = vec![format!("registrator: {source} is at Delta version {}", state.version)];
    match plan {
        Plan::Unchanged { uri_missing, .. } => text.push(format!(
            "  unchanged: {} version {version} already holds Delta version {}{}",
            names.mltable,
            state.version,
            if *uri_missing {
                format!("; {} version {version} {} (an earlier run was interrupted)", names.uri, code(&actions.uri))
            } else {
                String::new()
            }
        )),
        Plan::Register { .. } => {
            let verb = if dry_run { "would register" } else { "registered" };
            text.push(format!(
                "  {verb} version {version}: {} (mltable) and {} (uri_folder)",
                names.mltable, names.uri
            ));
            text.push(format!(
                "  datastore {} ({}); MLTable {upload_path} ({})",
                names.datastore,
                code(&actions.datastore),
                actions.upload.map(|u| code(&u)).unwrap_or_default()
            ));
            if let Some(change) = change {
                text.push(change_line(change));
            }
            if dry_run {
                text.push("  MLTable:".into());
                text.extend(registration.mltable.lines().map(|l| format!("    {l}")));
            }
        }
    }
    text.push(format!("{} {TASK_VALUE_KEY}={version}", if dry_run { "would publish" } else { "published" }));
    text
}

/// `  changes since 20261201000000 (Delta 4): 3 commits, rows +10 ~2 -1 (exact), WRITE:2,MERGE:1, schema changed: false`
fn change_line(change: &ChangeRecord) -> String {
    let t = change.tags();
    let get = |k: &str| t.get(k).map(String::as_str).unwrap_or(changes::UNKNOWN);
    let mut line = format!(
        "  changes since {} (Delta {}): {} commit{}, rows +{} ~{} -{} ({}), {}, schema changed: {}",
        get(changes::TAG_PREVIOUS_VERSION),
        get(changes::TAG_PREVIOUS_DELTA_VERSION),
        get(changes::TAG_COMMITS),
        if get(changes::TAG_COMMITS) == "1" { "" } else { "s" },
        get(changes::TAG_ROWS_INSERTED),
        get(changes::TAG_ROWS_UPDATED),
        get(changes::TAG_ROWS_DELETED),
        if get(changes::TAG_ROWS_EXACT) == "true" { "exact" } else { "lower bound" },
        get(changes::TAG_OPERATIONS),
        get(changes::TAG_SCHEMA_CHANGED),
    );
    if let Some(why) = change.why_unknown() {
        line.push_str(&format!(" — unknown: {why}"));
    }
    line
}

/// An action's code, as in the JSON report, for the text summary.
fn code<T: Serialize>(action: &T) -> String {
    serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The data version string for a Delta version: its commit time as `YYYYmmddHHMMSS` (UTC), the legacy format.
/// Two Delta commits in the same second would share it: when the newest registered version already holds that
/// string for another Delta version, the next free second is used (deterministic too, given that version).
fn version_for(state: &TableState, newest: Option<&DataVersion>) -> String {
    let mut at = state.commit_time;
    loop {
        let candidate = at.format("%Y%m%d%H%M%S").to_string();
        let taken_by_another = newest.is_some_and(|n| {
            n.name == candidate && n.properties.tags.get(TAG_DELTA_VERSION) != Some(&state.version.to_string())
        });
        if !taken_by_another {
            return candidate;
        }
        at += chrono::Duration::seconds(1);
    }
}

fn tags(state: &TableState, source: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_DELTA_VERSION.to_string(), state.version.to_string()),
        (TAG_DELTA_TIMESTAMP.to_string(), state.commit_time.to_rfc3339_opts(SecondsFormat::Millis, true)),
        (TAG_SOURCE.to_string(), source.to_string()),
        (TAG_TOOL_VERSION.to_string(), env!("CARGO_PKG_VERSION").to_string()),
    ])
}

/// The ADLS Gen2 datastore with the service principal's credentials (the only place the secret is sent).
fn datastore_body(session: &Session, params: &RegistratorParams) -> Result<Value, Error> {
    let p = &session.principal;
    // A certificate principal has no secret to store. Azure ML's `Certificate` datastore credentials take a
    // `secrets.certificate` string whose format the 2025-12-01 spec does not define ("Service principal
    // certificate."), so drift refuses before any write rather than store something the service cannot use.
    let secret = p.client_secret().ok_or_else(|| {
        crate::error::AuthError::new(format!(
            "the registrator stores the service principal's client secret in its ADLS Gen2 datastore, and {} \
             authenticates with a certificate ({}); set AZURE_CLIENT_SECRET for the registrator (a client secret \
             takes precedence over the certificate)",
            p.client_id, p.source
        ))
    })?;
    Ok(json!({
        "properties": {
            "datastoreType": "AzureDataLakeGen2",
            "accountName": params.storage_account,
            "filesystem": params.container,
            "endpoint": session.endpoints.cloud.storage_suffix,
            "protocol": "https",
            "description": format!("ADLS Gen2 filesystem {} of account {}, managed by drift", params.container, params.storage_account),
            "tags": {TAG_TOOL_VERSION: env!("CARGO_PKG_VERSION")},
            "credentials": {
                "credentialsType": "ServicePrincipal",
                "tenantId": p.tenant_id,
                "clientId": p.client_id,
                // The cloud's authority, as azure-ai-ml writes it (`ServicePrincipalConfiguration.authority_url`
                // defaults to `_get_active_directory_url_from_metadata()`, e.g. `https://login.microsoftonline.com`):
                // the service uses it to reach storage, so an `AZURE_AUTHORITY_HOST` transport override (tests, a
                // proxy) must never be persisted in the workspace.
                "authorityUrl": session.endpoints.cloud.authority_host,
                "resourceUrl": format!("{}/", crate::cloud::STORAGE_AUDIENCE),
                "secrets": {"secretsType": "ServicePrincipal", "clientSecret": secret.expose()},
            },
        }
    }))
}

fn redact_datastore(mut body: Value) -> Value {
    if let Some(s) = body.pointer_mut("/properties/credentials/secrets/clientSecret") {
        *s = Value::String("[redacted]".into());
    }
    body
}

/// Uploads the MLTable the way the SDK uploads a local folder: to `workspaceblobstore` under
/// `LocalUpload/{hash}/{folder}/`, skipped when a completed upload is already there.
async fn upload(
    session: &Session,
    ml: &MlClient,
    upload_dir: &str,
    content: &[u8],
    asset: &str,
    version: &str,
) -> Result<UploadAction, Error> {
    let store = ml.get_datastore(UPLOAD_DATASTORE).await?.ok_or_else(|| {
        Error::Failed(format!("the workspace has no {UPLOAD_DATASTORE} datastore to upload the MLTable to"))
    })?;
    let props = &store.properties;
    let (Some(account), Some(container)) = (props.account_name.clone(), props.container_name.clone()) else {
        return Err(Error::Failed(format!("datastore {UPLOAD_DATASTORE} has no accountName/containerName")));
    };
    let kind = props.credentials.as_ref().map(|c| c.credentials_type.as_str()).unwrap_or("None");
    let auth = match kind {
        "AccountKey" | "Sas" => match ml.list_datastore_secrets(UPLOAD_DATASTORE).await? {
            DatastoreSecrets::AccountKey { key: Some(key) } => {
                StorageAuth::SharedKey { account: account.clone(), key: Secret::new(key) }
            }
            DatastoreSecrets::Sas { sas_token: Some(sas) } => StorageAuth::Sas(Secret::new(sas)),
            _ => StorageAuth::Bearer(session.credential.clone()),
        },
        // Identity-based datastore: the service principal's own storage role applies.
        _ => StorageAuth::Bearer(session.credential.clone()),
    };
    let blob = BlobClient::new(session.http.clone(), &session.endpoints, &account, auth);
    let path = format!("{upload_dir}/{MLTABLE_FILE}");
    if let Some(existing) = blob.head(&container, &path).await?
        && existing.metadata.get(UPLOAD_STATUS_KEY).map(String::as_str) == Some(UPLOAD_STATUS_DONE)
    {
        tracing::info!(target: "drift::registrator", path = %path, "MLTable already uploaded");
        return Ok(UploadAction::AlreadyUploaded);
    }
    // Either outcome is fine: the path is content-addressed and a single-shot PUT is atomic, so a blob already there
    // (a run stopped between the PUT and the metadata) is complete; only its metadata is missing.
    blob.put_if_absent(&container, &path, content.to_vec().into(), "application/octet-stream", &BTreeMap::new())
        .await?;
    let metadata = BTreeMap::from([
        (UPLOAD_STATUS_KEY.to_string(), UPLOAD_STATUS_DONE.to_string()),
        ("name".to_string(), asset.to_string()),
        ("version".to_string(), version.to_string()),
    ]);
    blob.set_metadata(&container, &path, &metadata).await?;
    Ok(UploadAction::Uploaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(version: u64, at: &str) -> TableState {
        let commit_time = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&chrono::Utc);
        TableState { version, commit_time, time_source: TimeSource::CommitInfoTimestamp }
    }

    fn registered(name: &str, delta_version: u64) -> DataVersion {
        serde_json::from_value(json!({
            "name": name,
            "properties": {"dataType": "mltable", "dataUri": "x", "tags": {TAG_DELTA_VERSION: delta_version.to_string()}}
        }))
        .unwrap()
    }

    #[test]
    fn the_version_is_the_commit_time_and_the_same_for_every_run() {
        let s = state(7, "2026-12-01T10:15:30.999+01:00");
        assert_eq!(version_for(&s, None), "20261201091530", "UTC, truncated to the second");
        assert_eq!(version_for(&s, None), version_for(&s, None));
        // The newest version is this Delta version already (a concurrent or earlier run): the same string.
        assert_eq!(version_for(&s, Some(&registered("20261201091530", 7))), "20261201091530");
        // Another Delta version committed in the same second holds the string: the next second.
        assert_eq!(version_for(&s, Some(&registered("20261201091530", 6))), "20261201091531");
        // Unrelated newest version: no effect.
        assert_eq!(version_for(&s, Some(&registered("20261130000000", 6))), "20261201091530");
    }

    fn params() -> RegistratorParams {
        RegistratorParams {
            storage_account: "lake".into(),
            container: "curated".into(),
            data_path: "delta/sales".into(),
            pin_by: PinBy::Version,
        }
    }

    fn report_of(plan: &Plan, dry_run: bool, actions: Actions) -> Value {
        let (params, s) = (params(), state(7, "2026-12-01T09:15:30Z"));
        let names = Names::new(&params).unwrap();
        let ws = Workspace { subscription_id: "sub".into(), resource_group: "rg".into(), workspace_name: "ws".into() };
        let source = "abfss://curated@lake.dfs.core.windows.net/delta/sales";
        let registration = registration(&params, &names, &ws, &s, source, &BTreeMap::new());
        let facts = Facts { dry_run, names: &names, source, state: &s, change: None };
        let report = build_report(&facts, plan, &registration, None, actions).unwrap();
        serde_json::to_value(&report).unwrap()
    }

    #[test]
    fn the_decision_needs_no_request() {
        let s = state(7, "2026-12-01T09:15:30Z");
        assert_eq!(decide(&s, None, false, false), Plan::Register { version: "20261201091530".into() });
        let same = registered("20261201091530", 7);
        let unchanged = decide(&s, Some(same.clone()), false, false);
        assert_eq!(unchanged, Plan::Unchanged { existing: Box::new(same.clone()), uri_missing: false });
        assert_eq!(unchanged.version(), "20261201091530");
        assert_eq!(decide(&s, Some(same), true, false), Plan::Register { version: "20261201091530".into() });
        let older = registered("20261130000000", 6);
        assert_eq!(decide(&s, Some(older), false, true), Plan::Register { version: "20261201091530".into() });
    }

    #[test]
    fn outcomes_and_actions_follow_the_plan() {
        let existing = Box::new(registered("20261201091530", 7));
        let interrupted = Plan::Unchanged { existing: existing.clone(), uri_missing: true };
        // Plan of an interrupted run says what it would write, and is `planned`, not `completed`.
        let planned = report_of(&interrupted, true, Actions::planned(&interrupted));
        assert_eq!(planned["outcome"], "planned");
        assert_eq!(planned["details"]["assets"][1]["action"], "would_create");
        assert_eq!(planned["details"]["datastore"], json!({"name": "curated", "action": "unchanged"}));
        assert!(planned["details"].get("upload").is_none() && planned["details"].get("mltable").is_none());
        let finished = Actions { uri: AssetAction::Created, ..Actions::planned(&interrupted) };
        assert_eq!(report_of(&interrupted, false, finished)["outcome"], "completed");
        let unchanged = Plan::Unchanged { existing, uri_missing: false };
        let r = report_of(&unchanged, false, Actions::planned(&unchanged));
        assert_eq!(
            (r["outcome"].as_str(), r["task_values"]["data_asset_version"].as_str()),
            (Some("unchanged"), Some("20261201091530"))
        );
        let register = Plan::Register { version: "20261201091530".into() };
        let r = report_of(&register, true, Actions::planned(&register));
        assert_eq!(r["outcome"], "planned");
        assert_eq!(r["details"]["upload"]["action"], "would_upload");
        assert_eq!(r["details"]["wouldPublish"], json!({"data_asset_version": "20261201091530"}));
        assert_eq!(r["details"]["deltaTimeSource"], "commit_info_timestamp", "a code, not Debug output");
        assert_eq!(r["task_values"], json!({}), "plan publishes nothing");
    }
}

//! The registrator run: read the Delta table's state, decide (unchanged / complete an interrupted run / register),
//! then write the datastore, the MLTable upload and the two data versions — in an order a rerun can finish.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::table::read_table_state;
use crate::azure::ml::MlClient;
use crate::azure::ml::data::Written;
use crate::azure::ml::models::{DataVersion, DataVersionBody, DataVersionProperties, DatastoreSecrets};
use crate::azure::storage::{BlobClient, StorageAuth};
use crate::config::naming::{self, Names};
use crate::config::{ConfigError, PinBy, RegistratorParams};
use crate::delta::TableState;
use crate::error::Error;
use crate::mltable::{self, MLTABLE_FILE, Pin, UploadFile};
use crate::output::Report;
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
enum Plan {
    /// The newest registered version already describes this Delta version.
    Unchanged { existing: Box<DataVersion>, uri_missing: bool },
    /// A new version.
    Register,
}

pub async fn run(session: &Session, params: &RegistratorParams) -> Result<Report, Error> {
    let config = &session.config;
    let dry_run = session.options.dry_run;
    let names = Names::new(params).map_err(|message| ConfigError {
        file: config.origin.clone(),
        key: Some("Processing.parameters.containerDataPath".into()),
        message,
        also: Vec::new(),
    })?;
    let ws = &config.workspace;
    let ml =
        MlClient::new(session.http.clone(), session.credential.clone(), &session.endpoints, ws, &config.api_version);
    let source = naming::abfss_uri(params, session.endpoints.cloud.storage_suffix);

    let table = BlobClient::new(
        session.http.clone(),
        &session.endpoints,
        &params.storage_account,
        StorageAuth::Bearer(session.credential.clone()),
    );
    let state = read_table_state(&table, &params.container, &names.data_path).await?;
    tracing::info!(target: "drift::registrator", source = %source, delta_version = state.version, "Delta table read");

    let latest = ml.latest_data_version(&names.mltable).await?;
    // One version for both assets, derived from the Delta commit (not the clock), so every run that registers
    // this Delta version — a retry, a concurrent run — writes the same version with the same bodies.
    let new_version = version_for(&state, latest.as_ref());
    let plan = match latest {
        Some(existing)
            if !session.options.force
                && existing.properties.tags.get(TAG_DELTA_VERSION) == Some(&state.version.to_string()) =>
        {
            let uri_missing = ml.get_data_version(&names.uri, &existing.name).await?.is_none();
            Plan::Unchanged { existing: Box::new(existing), uri_missing }
        }
        _ => Plan::Register,
    };

    let folder_uri = names.folder_uri(ws);
    let tags = tags(&state, &source);
    let description = format!(
        "Delta table {source} at version {} (committed {}), registered by drift {}",
        state.version,
        state.commit_time.to_rfc3339_opts(SecondsFormat::Secs, true),
        env!("CARGO_PKG_VERSION")
    );
    let uri_body = DataVersionBody {
        properties: DataVersionProperties {
            data_type: "uri_folder".into(),
            data_uri: folder_uri.clone(),
            description: Some(description.clone()),
            tags: tags.clone(),
            referenced_uris: None,
            is_anonymous: false,
        },
    };

    let mut report = Report::new(if dry_run { "plan" } else { "run" }, "");
    report.pipeline = Some("registrator".into());
    let mut details = json!({
        "source": source,
        "deltaVersion": state.version,
        "deltaCommitTimestamp": state.commit_time.to_rfc3339_opts(SecondsFormat::Millis, true),
        "deltaTimeSource": format!("{:?}", state.time_source),
        "datastore": {"name": names.datastore},
    });
    let mut text = vec![format!("registrator: {source} is at Delta version {}", state.version)];

    let published = match plan {
        Plan::Unchanged { existing, uri_missing } => {
            let version = existing.name.clone();
            let uri_action = if !uri_missing {
                "unchanged"
            } else if dry_run {
                "would_create"
            } else {
                // A previous run stopped between the two PUTs: finish it under the same version.
                let mut body = uri_body.clone();
                body.properties.tags = existing.properties.tags.clone();
                ml.put_data_version(&names.uri, &version, &body).await?;
                "created"
            };
            report.outcome = if uri_missing { "completed".into() } else { "unchanged".into() };
            details["assets"] = json!([
                {"name": names.mltable, "type": "mltable", "version": version, "dataUri": existing.properties.data_uri, "action": "unchanged"},
                {"name": names.uri, "type": "uri_folder", "version": version, "dataUri": folder_uri, "action": uri_action},
            ]);
            text.push(format!(
                "  unchanged: {} version {version} already holds Delta version {}{}",
                names.mltable,
                state.version,
                if uri_missing {
                    format!("; {} version {version} {uri_action} (an earlier run was interrupted)", names.uri)
                } else {
                    String::new()
                }
            ));
            version
        }
        Plan::Register => {
            let pin = match params.pin_by {
                PinBy::Version => Pin::Version(state.version),
                PinBy::Timestamp => Pin::Timestamp(state.commit_time),
            };
            let content = mltable::delta_mltable(&folder_uri, &pin);
            let hash = mltable::folder_hash(&[UploadFile { name: MLTABLE_FILE, content: content.as_bytes() }]);
            let upload_dir = format!("LocalUpload/{hash}/{}", names.mltable);
            let mltable_uri = format!("azureml://datastores/{UPLOAD_DATASTORE}/paths/{upload_dir}");
            let mltable_body = DataVersionBody {
                properties: DataVersionProperties {
                    data_type: "mltable".into(),
                    data_uri: mltable_uri.clone(),
                    description: Some(description),
                    tags,
                    referenced_uris: Some(vec![folder_uri.clone()]),
                    is_anonymous: false,
                },
            };
            let datastore_body = datastore_body(session, params);
            let (datastore_action, upload_action, mltable_action, uri_action) = if dry_run {
                ("would_put", "would_upload", "would_create", "would_create")
            } else {
                let ds = ml.put_datastore(&names.datastore, &datastore_body).await?;
                let uploaded =
                    upload(session, &ml, &upload_dir, content.as_bytes(), &names.mltable, &new_version).await?;
                // The MLTable first: a run interrupted after it is finished by the next run (see `Plan::Unchanged`).
                let (m, _) = ml.put_data_version(&names.mltable, &new_version, &mltable_body).await?;
                let (u, _) = ml.put_data_version(&names.uri, &new_version, &uri_body).await?;
                (written(ds), uploaded, written(m), written(u))
            };
            report.outcome = if dry_run { "planned".into() } else { "registered".into() };
            details["datastore"] = json!({
                "name": names.datastore,
                "action": datastore_action,
                // The request body as sent, secret replaced.
                "body": redact_datastore(datastore_body),
            });
            details["upload"] = json!({"datastore": UPLOAD_DATASTORE, "path": format!("{upload_dir}/{MLTABLE_FILE}"), "action": upload_action});
            details["mltable"] = Value::String(content.clone());
            details["assets"] = json!([
                {"name": names.mltable, "type": "mltable", "version": new_version, "dataUri": mltable_uri, "action": mltable_action},
                {"name": names.uri, "type": "uri_folder", "version": new_version, "dataUri": folder_uri, "action": uri_action},
            ]);
            let verb = if dry_run { "would register" } else { "registered" };
            text.push(format!(
                "  {verb} version {new_version}: {} (mltable) and {} (uri_folder)",
                names.mltable, names.uri
            ));
            text.push(format!(
                "  datastore {} ({datastore_action}); MLTable {upload_dir}/{MLTABLE_FILE} ({upload_action})",
                names.datastore
            ));
            if dry_run {
                text.push("  MLTable:".into());
                text.extend(content.lines().map(|l| format!("    {l}")));
            }
            new_version
        }
    };
    details["version"] = json!(published);
    if dry_run {
        details["wouldPublish"] = json!({TASK_VALUE_KEY: published});
        text.push(format!("would publish {TASK_VALUE_KEY}={published}"));
    } else {
        report.task_values.insert(TASK_VALUE_KEY, Value::String(published.clone()))?;
        text.push(format!("published {TASK_VALUE_KEY}={published}"));
    }
    report.details = details;
    report.text = text;
    Ok(report)
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

fn written(w: Written) -> &'static str {
    match w {
        Written::Created => "created",
        Written::Updated => "updated",
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
fn datastore_body(session: &Session, params: &RegistratorParams) -> Value {
    let p = &session.principal;
    json!({
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
                "secrets": {"secretsType": "ServicePrincipal", "clientSecret": p.client_secret.expose()},
            },
        }
    })
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
) -> Result<&'static str, Error> {
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
        return Ok("already_uploaded");
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
    Ok("uploaded")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::TimeSource;

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
}

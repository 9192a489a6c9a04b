//! The legacy schema: `Processing: {type, parameters}` read from the YAML tree into a validated [`Config`],
//! including the pipeline inference when `type` is absent and the defaults of the optional keys.

use std::time::Duration;

use crate::cloud::CloudName;

use super::keys;
use super::node::{Node, quote};
use super::read::{Field, Map, Reader};
use super::rules;
use super::yaml;
use super::{
    Config, ConfigError, DEFAULT_API_VERSION, DEFAULT_MAX_CONCURRENCY, DEFAULT_REFRESH_DELAY_SECS,
    DEFAULT_REFRESH_TIMEOUT_SECS, DataAssetBinding, OnSchemaChange, PinBy, PipelineKind, PipelineParams,
    RegistratorParams, RetrainPolicy, RetrainerParams, SecretsEncoding, Workspace,
};

/// Parses and validates the YAML `bytes` read from `origin` (used in messages only). On failure the error holds
/// every problem found, not only the first: the reader goes on past a bad key wherever the rest does not depend
/// on it.
pub fn parse(origin: &str, bytes: &[u8]) -> Result<Config, ConfigError> {
    let text = yaml::decode(origin, bytes)?;
    let Some(root) = yaml::parse_tree(origin, text)? else {
        let what = if text.trim().is_empty() { "the file is empty" } else { "the file has only comments" };
        return Err(ConfigError::file(
            origin,
            format!(
                "{what}; expected a `Processing:` mapping with `type` and `parameters` (see docs/configuration.md)"
            ),
        ));
    };
    let reader = Reader::new(origin, text);
    let config = read_config(&reader, &root);
    let (warnings, problems) = reader.finish();
    if let Some(error) = ConfigError::all(problems) {
        return Err(error);
    }
    // Every path that yields no config records a problem first; this is the backstop should one not.
    config
        .map(|config| Config { warnings, ..config })
        .ok_or_else(|| ConfigError::file(origin, "the config is not valid (see docs/configuration.md)"))
}

fn read_config(r: &Reader<'_>, root: &Node) -> Option<Config> {
    let top_field = Field { path: String::new(), line: root.line, node: root };
    if !matches!(root.value, super::node::Value::Map(_)) {
        r.report(ConfigError::file(
            r.origin,
            format!(
                "the top level must be a mapping with the key `Processing`, found {} (line {})",
                root.describe(r.text),
                root.line
            ),
        ));
        return None;
    }
    // The skeleton (`Processing`, `parameters`) is needed for everything else: a problem there ends the reading.
    let top = r.keep(r.map(&top_field, "a mapping"))?;
    r.warn_unknown(&top, keys::TOP, &[], "");

    let processing_field = r.keep(r.require(&top, "Processing", "a mapping with `type` and `parameters`"))?;
    let processing = r.keep(r.map(&processing_field, "a mapping with `type` and `parameters`"))?;
    r.warn_unknown(&processing, keys::PROCESSING, &[], "");

    let params_field = r.keep(r.require(&processing, "parameters", "a mapping with the pipeline's settings"))?;
    let params = r.keep(r.map(&params_field, "a mapping with the pipeline's settings (`azml`, …)"))?;
    // Without the pipeline the pipeline's own keys cannot be read, but the common ones still can.
    let kind = r.keep(pipeline_kind(r, &processing, &params));

    if let Some(kind) = kind {
        let (known, foreign, owner) = match kind {
            PipelineKind::Registrator => (keys::REGISTRATOR, keys::RETRAINER, "retrainer"),
            PipelineKind::Retrainer => (keys::RETRAINER, keys::REGISTRATOR, "registrator"),
        };
        let known: Vec<&str> = keys::COMMON.iter().chain(known).copied().collect();
        r.warn_unknown(&params, &known, foreign, owner);
    }

    let workspace = workspace(r, &params);
    let cloud = match params.get("cloud") {
        None => Some(CloudName::default()),
        Some(field) => r.keep(r.string(&field, "a cloud name").and_then(|name| {
            CloudName::from_name(&name)
                .ok_or_else(|| r.invalid(&field, &name, &format!("expected one of {}", CloudName::NAMES.join(", "))))
        })),
    };
    let api_version = match params.get("apiVersion") {
        None => Some(DEFAULT_API_VERSION.to_string()),
        Some(field) => r.keep(r.named(&field, "an api-version", rules::api_version)),
    };
    let secrets_encoding = match params.get("secretsEncoding") {
        None => Some(SecretsEncoding::default()),
        Some(field) => {
            r.keep(choice(r, &field, &[("plain", SecretsEncoding::Plain), ("base64", SecretsEncoding::Base64)]))
        }
    };
    let params = match kind? {
        PipelineKind::Registrator => PipelineParams::Registrator(registrator(r, &params)?),
        PipelineKind::Retrainer => PipelineParams::Retrainer(retrainer(r, &params, workspace.as_ref())?),
    };
    Some(Config {
        origin: r.origin.to_string(),
        workspace: workspace?,
        cloud: cloud?,
        api_version: api_version?,
        secrets_encoding: secrets_encoding?,
        params,
        warnings: Vec::new(),
    })
}

/// `type` when present (a class path of the original tool or its short name), else inferred from the keys.
fn pipeline_kind(r: &Reader<'_>, processing: &Map<'_>, params: &Map<'_>) -> Result<PipelineKind, ConfigError> {
    let accepted: Vec<&str> = keys::REGISTRATOR_TYPES.iter().chain(keys::RETRAINER_TYPES).copied().collect();
    if let Some(field) = processing.get("type") {
        let name = r.string(&field, "the pipeline class")?;
        if keys::REGISTRATOR_TYPES.contains(&name.as_str()) {
            return Ok(PipelineKind::Registrator);
        }
        if keys::RETRAINER_TYPES.contains(&name.as_str()) {
            return Ok(PipelineKind::Retrainer);
        }
        let mut message = format!(
            "unknown pipeline type {} (line {}); expected one of {}",
            quote(&name),
            field.line,
            accepted.join(", ")
        );
        let last = name.rsplit('.').next().unwrap_or(&name);
        if let Some(hint) = keys::suggest(last, &["DatasetRegistrator", "ModelRetrainer"]) {
            message.push_str(&format!("; did you mean `{hint}`?"));
        }
        return Err(r.error(&field.path, message));
    }
    let path = super::read::join(&processing.path, "type");
    match (params.has("containerDataPath"), params.has("dataAssets")) {
        (true, false) => Ok(PipelineKind::Registrator),
        (false, true) => Ok(PipelineKind::Retrainer),
        (true, true) => Err(r.error(
            &path,
            format!(
                "missing, and the pipeline cannot be inferred: `parameters` has both `containerDataPath` \
                 (registrator) and `dataAssets` (retrainer); set `type` to one of {}",
                accepted.join(", ")
            ),
        )),
        (false, false) => Err(r.error(
            &path,
            format!(
                "missing, and the pipeline cannot be inferred: `parameters` has neither `containerDataPath` \
                 (registrator) nor `dataAssets` (retrainer); set `type` to one of {}",
                accepted.join(", ")
            ),
        )),
    }
}

fn workspace(r: &Reader<'_>, params: &Map<'_>) -> Option<Workspace> {
    let expected = "a mapping with `subscriptionId`, `resourceGroup`, `mlWorkspaceName`";
    let azml_field = r.keep(r.require(params, "azml", expected))?;
    let azml = r.keep(r.map(&azml_field, expected))?;
    r.warn_unknown(&azml, keys::AZML, &[], "");
    // Each key on its own, so a config with three bad names hears about all three (missing keys first, as the
    // reader always reported them).
    let sub = r.keep(r.require(&azml, "subscriptionId", "the Azure subscription id (a GUID)"));
    let rg = r.keep(r.require(&azml, "resourceGroup", "the resource group of the Azure ML workspace"));
    let ws = r.keep(r.require(&azml, "mlWorkspaceName", "the Azure ML workspace name"));
    let subscription_id = sub.and_then(|f| r.keep(r.named(&f, "a subscription id", rules::subscription_id)));
    let resource_group = rg.and_then(|f| r.keep(r.named(&f, "a resource group name", rules::resource_group)));
    let workspace_name = ws.and_then(|f| r.keep(r.named(&f, "a workspace name", rules::workspace_name)));
    Some(Workspace {
        subscription_id: subscription_id?,
        resource_group: resource_group?,
        workspace_name: workspace_name?,
    })
}

fn registrator(r: &Reader<'_>, params: &Map<'_>) -> Option<RegistratorParams> {
    let account =
        r.keep(r.require(params, "storageAccountName", "the ADLS Gen2 storage account that holds the Delta table"));
    let container =
        r.keep(r.require(params, "containerName", "the container (file system) that holds the Delta table"));
    let path = r.keep(r.require(params, "containerDataPath", "the Delta table's folder inside the container"));
    let storage_account = account.and_then(|f| r.keep(r.named(&f, "a storage account name", rules::storage_account)));
    let container_name = container.as_ref().and_then(|f| r.keep(r.named(f, "a container name", rules::container)));
    let data_path = path.as_ref().and_then(|f| {
        r.keep(
            r.string(f, "a folder path")
                .and_then(|written| rules::data_path(&written).map_err(|rule| r.invalid(f, &written, &rule))),
        )
    });
    let pin_by = match params.get("pinBy") {
        None => Some(PinBy::default()),
        Some(field) => r.keep(choice(r, &field, &[("version", PinBy::Version), ("timestamp", PinBy::Timestamp)])),
    };
    let params = RegistratorParams {
        storage_account: storage_account?,
        container: container_name?,
        data_path: data_path?,
        pin_by: pin_by?,
    };
    derived_names(r, &params, path.as_ref()?)?;
    Some(params)
}

/// The registrator creates a datastore and two data assets whose names derive from `containerName` and
/// `containerDataPath` (the Python tool's naming); a name Azure ML would refuse is reported here, at the key that
/// produced it, rather than after the first writes of a run.
fn derived_names(r: &Reader<'_>, params: &RegistratorParams, path: &Field<'_>) -> Option<()> {
    let names = match super::naming::Names::new(params) {
        Ok(names) => names,
        Err(message) => {
            r.report(r.error(&path.path, format!("{message} (line {})", path.line)));
            return None;
        }
    };
    let mut ok = true;
    for (what, name) in [("datastore", &names.datastore), ("data asset", &names.mltable), ("data asset", &names.uri)] {
        if let Err(rule) = rules::writable_asset_name(name) {
            ok = false;
            r.report(r.error(
                &path.path,
                format!(
                    "the {what} name {} derived from containerName and containerDataPath (line {}) is not valid: \
                     {rule}; rename the folder or the container",
                    quote(name),
                    path.line
                ),
            ));
        }
    }
    ok.then_some(())
}

fn retrainer(r: &Reader<'_>, params: &Map<'_>, workspace: Option<&Workspace>) -> Option<RetrainerParams> {
    let data_assets = r
        .keep(r.require(params, "dataAssets", "a list of `{name: <pipeline input>, value: <data asset>}`"))
        .and_then(|field| data_assets(r, &field, workspace));
    let max = rules::MAX_REFRESH_TIMEOUT_SECS;
    let seconds = format!("a whole number of seconds from 1 to {max} (7 days), such as 2700 or \"2700\"");
    let timeout = match params.get("refreshTimeout") {
        None => Some(DEFAULT_REFRESH_TIMEOUT_SECS),
        Some(field) => r.keep(r.whole(&field, 1, max, &seconds)),
    };
    let delay = match (params.get("refreshDelay"), timeout) {
        // The default must not exceed a short timeout the user chose.
        (None, Some(timeout)) => Some(DEFAULT_REFRESH_DELAY_SECS.min(timeout)),
        (None, None) => None,
        (Some(field), timeout) => match (r.keep(r.whole(&field, 1, max, &seconds)), timeout) {
            (Some(delay), Some(timeout)) if delay > timeout => {
                r.report(r.error(
                    &field.path,
                    format!(
                        "{delay} s is longer than refreshTimeout ({timeout} s) (line {}); the delay between \
                             status checks must not exceed the time allowed for the whole wait",
                        field.line
                    ),
                ));
                None
            }
            (delay, _) => delay,
        },
    };
    let cancel_on_timeout = match params.get("cancelOnTimeout") {
        None => Some(false),
        Some(field) => r.keep(r.boolean(&field)),
    };
    let max_concurrency = match params.get("maxConcurrentSubmissions") {
        None => Some(DEFAULT_MAX_CONCURRENCY),
        Some(field) => {
            let expected = format!("a whole number from 1 to {}", rules::MAX_CONCURRENCY);
            r.keep(r.whole(&field, 1, rules::MAX_CONCURRENCY, &expected)).map(|n| usize::try_from(n).unwrap_or(1))
        }
    };
    let retrain_policy = match params.get("retrainPolicy") {
        None => Some(None),
        Some(field) => retrain_policy(r, &field).map(Some),
    };
    Some(RetrainerParams {
        data_assets: data_assets?,
        refresh_timeout: Duration::from_secs(timeout?),
        refresh_delay: Duration::from_secs(delay?),
        cancel_on_timeout: cancel_on_timeout?,
        max_concurrency: max_concurrency?,
        retrain_policy: retrain_policy?,
    })
}

/// `retrainPolicy: {minRowsChanged, onSchemaChange, maxModelAge}`, every key optional.
fn retrain_policy(r: &Reader<'_>, field: &Field<'_>) -> Option<RetrainPolicy> {
    let expected = "a mapping with `minRowsChanged`, `onSchemaChange` and/or `maxModelAge`";
    let map = r.keep(r.map(field, expected))?;
    r.warn_unknown(&map, keys::RETRAIN_POLICY, &[], "");
    let max_rows = rules::MAX_ROWS_CHANGED;
    let min_rows = match map.get("minRowsChanged") {
        None => Some(0),
        Some(f) => {
            r.keep(r.whole(&f, 0, max_rows, &format!("a whole number of rows from 0 to {max_rows}, such as 10000")))
        }
    };
    let on_schema_change = match map.get("onSchemaChange") {
        None => Some(OnSchemaChange::default()),
        Some(f) => r.keep(choice(
            r,
            &f,
            &[("retrain", OnSchemaChange::Retrain), ("skip", OnSchemaChange::Skip), ("fail", OnSchemaChange::Fail)],
        )),
    };
    let max_model_age = match map.get("maxModelAge") {
        None => Some(None),
        Some(f) => r
            .keep(
                r.string(&f, "an age such as 30d, 12h or 90m")
                    .and_then(|written| rules::model_age(&written).map_err(|rule| r.invalid(&f, &written, &rule))),
            )
            .map(Some),
    };
    Some(RetrainPolicy {
        min_rows_changed: min_rows?,
        on_schema_change: on_schema_change?,
        max_model_age: max_model_age?,
    })
}

fn data_assets(r: &Reader<'_>, field: &Field<'_>, workspace: Option<&Workspace>) -> Option<Vec<DataAssetBinding>> {
    let expected = "a list of `{name: <pipeline input>, value: <data asset>}` mappings";
    let items = r.keep(r.list(field, expected))?;
    if items.is_empty() {
        r.report(r.error(&field.path, format!("the list is empty (line {}); expected {expected}", field.line)));
        return None;
    }
    let mut bindings: Vec<(DataAssetBinding, u64)> = Vec::new();
    let mut ok = true;
    for item in &items {
        match data_asset(r, item, workspace) {
            Some((binding, line)) => {
                if let Some((_, first)) = bindings.iter().find(|(b, _)| b.input_name == binding.input_name) {
                    ok = false;
                    r.report(r.error(
                        &format!("{}.name", item.path),
                        format!(
                            "duplicate input name {} (lines {first} and {line}); each pipeline input may be bound once",
                            quote(&binding.input_name)
                        ),
                    ));
                } else {
                    bindings.push((binding, line));
                }
            }
            None => ok = false,
        }
    }
    ok.then(|| bindings.into_iter().map(|(b, _)| b).collect())
}

/// One `dataAssets` entry and the line of its `name`.
fn data_asset(r: &Reader<'_>, item: &Field<'_>, workspace: Option<&Workspace>) -> Option<(DataAssetBinding, u64)> {
    let entry = r.keep(r.map(item, "a mapping with `name` (the pipeline input) and `value` (the data asset)"))?;
    r.warn_unknown(&entry, keys::DATA_ASSET, &[], "");
    let name_field = r.keep(r.require(&entry, "name", "the pipeline input name"));
    let value_field = r.keep(r.require(&entry, "value", "the data asset the input must read"));
    let input_name = name_field.as_ref().and_then(|f| r.keep(r.named(f, "a pipeline input name", rules::input_name)));
    let asset = value_field.as_ref().and_then(|f| {
        let asset = r.keep(r.string(f, "a data asset name"))?.trim().to_string();
        match crate::assets::config_value_problem(&asset, workspace) {
            None => Some(asset),
            Some(rule) => {
                r.report(r.invalid(f, &asset, &rule));
                None
            }
        }
    });
    Some((DataAssetBinding { input_name: input_name?, asset: asset? }, name_field?.line))
}

/// One of a few words, case-insensitively.
fn choice<T: Copy>(r: &Reader<'_>, field: &Field<'_>, options: &[(&str, T)]) -> Result<T, ConfigError> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let value = r.string(field, &format!("one of {}", names.join(", ")))?;
    options
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(value.trim()))
        .map(|(_, v)| *v)
        .ok_or_else(|| r.invalid(field, &value, &format!("expected one of {}", names.join(", "))))
}

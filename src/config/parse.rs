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
    DEFAULT_REFRESH_TIMEOUT_SECS, DataAssetBinding, PinBy, PipelineKind, PipelineParams, RegistratorParams,
    RetrainerParams, SecretsEncoding, Workspace,
};

/// Parses and validates the YAML `bytes` read from `origin` (used in messages only).
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
    let mut reader = Reader { origin, text, warnings: Vec::new() };
    let config = read_config(&mut reader, &root)?;
    Ok(Config { warnings: reader.warnings, ..config })
}

fn read_config(r: &mut Reader<'_>, root: &Node) -> Result<Config, ConfigError> {
    let top_field = Field { path: String::new(), line: root.line, node: root };
    if !matches!(root.value, super::node::Value::Map(_)) {
        return Err(ConfigError::file(
            r.origin,
            format!(
                "the top level must be a mapping with the key `Processing`, found {} (line {})",
                root.describe(r.text),
                root.line
            ),
        ));
    }
    let top = r.map(&top_field, "a mapping")?;
    r.warn_unknown(&top, keys::TOP, &[], "");

    let processing_field = r.require(&top, "Processing", "a mapping with `type` and `parameters`")?;
    let processing = r.map(&processing_field, "a mapping with `type` and `parameters`")?;
    r.warn_unknown(&processing, keys::PROCESSING, &[], "");

    let params_field = r.require(&processing, "parameters", "a mapping with the pipeline's settings")?;
    let params = r.map(&params_field, "a mapping with the pipeline's settings (`azml`, …)")?;
    let kind = pipeline_kind(r, &processing, &params)?;

    let (known, foreign, owner) = match kind {
        PipelineKind::Registrator => (keys::REGISTRATOR, keys::RETRAINER, "retrainer"),
        PipelineKind::Retrainer => (keys::RETRAINER, keys::REGISTRATOR, "registrator"),
    };
    let known: Vec<&str> = keys::COMMON.iter().chain(known).copied().collect();
    r.warn_unknown(&params, &known, foreign, owner);

    let workspace = workspace(r, &params)?;
    let cloud = match params.get("cloud") {
        None => CloudName::default(),
        Some(field) => {
            let name = r.string(&field, "a cloud name")?;
            CloudName::from_name(&name)
                .ok_or_else(|| r.invalid(&field, &name, &format!("expected one of {}", CloudName::NAMES.join(", "))))?
        }
    };
    let api_version = match params.get("apiVersion") {
        None => DEFAULT_API_VERSION.to_string(),
        Some(field) => r.named(&field, "an api-version", rules::api_version)?,
    };
    let secrets_encoding = match params.get("secretsEncoding") {
        None => SecretsEncoding::default(),
        Some(field) => choice(r, &field, &[("plain", SecretsEncoding::Plain), ("base64", SecretsEncoding::Base64)])?,
    };
    let params = match kind {
        PipelineKind::Registrator => PipelineParams::Registrator(registrator(r, &params)?),
        PipelineKind::Retrainer => PipelineParams::Retrainer(retrainer(r, &params)?),
    };
    Ok(Config {
        origin: r.origin.to_string(),
        workspace,
        cloud,
        api_version,
        secrets_encoding,
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

fn workspace(r: &mut Reader<'_>, params: &Map<'_>) -> Result<Workspace, ConfigError> {
    let azml_field =
        r.require(params, "azml", "a mapping with `subscriptionId`, `resourceGroup`, `mlWorkspaceName`")?;
    let azml = r.map(&azml_field, "a mapping with `subscriptionId`, `resourceGroup`, `mlWorkspaceName`")?;
    r.warn_unknown(&azml, keys::AZML, &[], "");
    let sub = r.require(&azml, "subscriptionId", "the Azure subscription id (a GUID)")?;
    let rg = r.require(&azml, "resourceGroup", "the resource group of the Azure ML workspace")?;
    let ws = r.require(&azml, "mlWorkspaceName", "the Azure ML workspace name")?;
    Ok(Workspace {
        subscription_id: r.named(&sub, "a subscription id", rules::subscription_id)?,
        resource_group: r.named(&rg, "a resource group name", rules::resource_group)?,
        workspace_name: r.named(&ws, "a workspace name", rules::workspace_name)?,
    })
}

fn registrator(r: &Reader<'_>, params: &Map<'_>) -> Result<RegistratorParams, ConfigError> {
    let account =
        r.require(params, "storageAccountName", "the ADLS Gen2 storage account that holds the Delta table")?;
    let container = r.require(params, "containerName", "the container (file system) that holds the Delta table")?;
    let path = r.require(params, "containerDataPath", "the Delta table's folder inside the container")?;
    let storage_account = r.named(&account, "a storage account name", rules::storage_account)?;
    let container = r.named(&container, "a container name", rules::container)?;
    let written = r.string(&path, "a folder path")?;
    let data_path = rules::data_path(&written).map_err(|rule| r.invalid(&path, &written, &rule))?;
    let pin_by = match params.get("pinBy") {
        None => PinBy::default(),
        Some(field) => choice(r, &field, &[("version", PinBy::Version), ("timestamp", PinBy::Timestamp)])?,
    };
    Ok(RegistratorParams { storage_account, container, data_path, pin_by })
}

fn retrainer(r: &mut Reader<'_>, params: &Map<'_>) -> Result<RetrainerParams, ConfigError> {
    let assets_field = r.require(params, "dataAssets", "a list of `{name: <pipeline input>, value: <data asset>}`")?;
    let data_assets = data_assets(r, &assets_field)?;
    let max = rules::MAX_REFRESH_TIMEOUT_SECS;
    let seconds = format!("a whole number of seconds from 1 to {max} (7 days), such as 2700 or \"2700\"");
    let timeout = match params.get("refreshTimeout") {
        None => DEFAULT_REFRESH_TIMEOUT_SECS,
        Some(field) => r.whole(&field, 1, max, &seconds)?,
    };
    let delay = match params.get("refreshDelay") {
        // The default must not exceed a short timeout the user chose.
        None => DEFAULT_REFRESH_DELAY_SECS.min(timeout),
        Some(field) => {
            let delay = r.whole(&field, 1, max, &seconds)?;
            if delay > timeout {
                return Err(r.error(
                    &field.path,
                    format!(
                        "{delay} s is longer than refreshTimeout ({timeout} s) (line {}); the delay between status \
                         checks must not exceed the time allowed for the whole wait",
                        field.line
                    ),
                ));
            }
            delay
        }
    };
    let cancel_on_timeout = match params.get("cancelOnTimeout") {
        None => false,
        Some(field) => r.boolean(&field)?,
    };
    let max_concurrency = match params.get("maxConcurrentSubmissions") {
        None => DEFAULT_MAX_CONCURRENCY,
        Some(field) => {
            let expected = format!("a whole number from 1 to {}", rules::MAX_CONCURRENCY);
            usize::try_from(r.whole(&field, 1, rules::MAX_CONCURRENCY, &expected)?).unwrap_or(1)
        }
    };
    Ok(RetrainerParams {
        data_assets,
        refresh_timeout: Duration::from_secs(timeout),
        refresh_delay: Duration::from_secs(delay),
        cancel_on_timeout,
        max_concurrency,
    })
}

fn data_assets(r: &mut Reader<'_>, field: &Field<'_>) -> Result<Vec<DataAssetBinding>, ConfigError> {
    let expected = "a list of `{name: <pipeline input>, value: <data asset>}` mappings";
    let items = r.list(field, expected)?;
    if items.is_empty() {
        return Err(r.error(&field.path, format!("the list is empty (line {}); expected {expected}", field.line)));
    }
    let mut bindings: Vec<(DataAssetBinding, u64)> = Vec::new();
    for item in &items {
        let entry = r.map(item, "a mapping with `name` (the pipeline input) and `value` (the data asset)")?;
        r.warn_unknown(&entry, keys::DATA_ASSET, &[], "");
        let name_field = r.require(&entry, "name", "the pipeline input name")?;
        let value_field = r.require(&entry, "value", "the data asset the input must read")?;
        let input_name = r.named(&name_field, "a pipeline input name", rules::input_name)?;
        let asset = r.string(&value_field, "a data asset name")?.trim().to_string();
        if let Some((_, line)) = bindings.iter().find(|(b, _)| b.input_name == input_name) {
            return Err(r.error(
                &name_field.path,
                format!(
                    "duplicate input name {} (lines {line} and {}); each pipeline input may be bound once",
                    quote(&input_name),
                    name_field.line
                ),
            ));
        }
        bindings.push((DataAssetBinding { input_name, asset }, name_field.line));
    }
    Ok(bindings.into_iter().map(|(b, _)| b).collect())
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

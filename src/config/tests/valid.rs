//! Accepted configs: the legacy shapes, defaults, type inference, the new optional keys, and the warnings that
//! unknown or misplaced keys produce.

use std::time::Duration;

use super::{REGISTRATOR, RETRAINER, edit, parse_str, with_params, without};
use crate::cloud::CloudName;
use crate::config::{
    Config, DataAssetBinding, PinBy, PipelineKind, PipelineParams, RegistratorParams, RetrainerParams, SecretsEncoding,
    Workspace,
};

fn registrator(config: &Config) -> &RegistratorParams {
    match &config.params {
        PipelineParams::Registrator(p) => p,
        PipelineParams::Retrainer(_) => panic!("expected a registrator config"),
    }
}

fn retrainer(config: &Config) -> &RetrainerParams {
    match &config.params {
        PipelineParams::Retrainer(p) => p,
        PipelineParams::Registrator(_) => panic!("expected a retrainer config"),
    }
}

#[test]
fn legacy_registrator_with_defaults() {
    let config = parse_str(REGISTRATOR).unwrap();
    assert_eq!(config.origin, "test.yaml");
    assert_eq!(
        config.workspace,
        Workspace {
            subscription_id: "0b1f6471-1bf0-4dda-aec3-cb9272f09590".into(),
            resource_group: "rg-mlops-prod".into(),
            workspace_name: "mlw-forecast".into(),
        }
    );
    assert_eq!(config.cloud, CloudName::AzureCloud);
    assert_eq!(config.api_version, crate::config::DEFAULT_API_VERSION);
    assert_eq!(config.secrets_encoding, SecretsEncoding::Plain);
    assert_eq!(
        registrator(&config),
        &RegistratorParams {
            storage_account: "datalakeprod01".into(),
            container: "curated".into(),
            data_path: "delta/sales/daily".into(),
            pin_by: PinBy::Version,
        }
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn legacy_retrainer_with_string_timings_and_defaults() {
    let config = parse_str(RETRAINER).unwrap();
    assert_eq!(
        retrainer(&config),
        &RetrainerParams {
            data_assets: vec![
                DataAssetBinding {
                    input_name: "training_data".into(),
                    asset: "curated-delta-sales-daily-mltable".into()
                },
                DataAssetBinding { input_name: "raw_folder".into(), asset: "curated-delta-sales-daily-uri".into() },
            ],
            refresh_timeout: Duration::from_secs(2700),
            refresh_delay: Duration::from_secs(60),
            cancel_on_timeout: false,
            max_concurrency: 8,
            retrain_policy: None,
        }
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn timings_as_integers_strings_and_defaults() {
    let cases = [
        ("refreshTimeout: \"2700\"", "refreshDelay: \"60\"", 2700, 60),
        ("refreshTimeout: 2700", "refreshDelay: 60", 2700, 60),
        ("refreshTimeout: ' 900 '", "refreshDelay: 1", 900, 1),
        ("refreshTimeout: 604800", "refreshDelay: 604800", 604_800, 604_800),
        ("refreshTimeout: 2.7e3", "refreshDelay: 6e1", 2700, 60),
    ];
    for (timeout, delay, want_timeout, want_delay) in cases {
        let yaml = edit(&edit(RETRAINER, "refreshTimeout: \"2700\"", timeout), "refreshDelay: \"60\"", delay);
        let config = parse_str(&yaml).unwrap();
        let p = retrainer(&config);
        assert_eq!(p.refresh_timeout, Duration::from_secs(want_timeout), "{timeout}");
        assert_eq!(p.refresh_delay, Duration::from_secs(want_delay), "{delay}");
    }
    let defaults = parse_str(&without(&without(RETRAINER, "refreshTimeout"), "refreshDelay")).unwrap();
    assert_eq!(retrainer(&defaults).refresh_timeout, Duration::from_secs(3600));
    assert_eq!(retrainer(&defaults).refresh_delay, Duration::from_secs(30));
    // The default delay never exceeds a shorter timeout.
    let short = parse_str(&edit(&without(RETRAINER, "refreshDelay"), "refreshTimeout: \"2700\"", "refreshTimeout: 10"))
        .unwrap();
    assert_eq!(retrainer(&short).refresh_delay, Duration::from_secs(10));
}

#[test]
fn type_short_names_and_inference() {
    let cases = [
        (
            edit(REGISTRATOR, "drift.registrating.dataset_registrator.DatasetRegistrator", "DatasetRegistrator"),
            PipelineKind::Registrator,
        ),
        (edit(RETRAINER, "drift.retraining.model_retrainer.ModelRetrainer", "ModelRetrainer"), PipelineKind::Retrainer),
        (without(REGISTRATOR, "type"), PipelineKind::Registrator),
        (without(RETRAINER, "type"), PipelineKind::Retrainer),
    ];
    for (yaml, kind) in cases {
        let config = parse_str(&yaml).unwrap();
        assert_eq!(config.params.kind(), kind, "{yaml}");
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }
}

#[test]
fn optional_keys() {
    let config = parse_str(&with_params(
        REGISTRATOR,
        "cloud: AzureChinaCloud\napiVersion: 2024-10-01-preview\nsecretsEncoding: base64\npinBy: timestamp",
    ))
    .unwrap();
    assert_eq!(config.cloud, CloudName::AzureChinaCloud);
    assert_eq!(config.api_version, "2024-10-01-preview");
    assert_eq!(config.secrets_encoding, SecretsEncoding::Base64);
    assert_eq!(registrator(&config).pin_by, PinBy::Timestamp);

    let config = parse_str(&with_params(
        RETRAINER,
        "cloud: azureusgovernment\napiVersion: 2025-12-01\nsecretsEncoding: Plain\ncancelOnTimeout: true\nmaxConcurrentSubmissions: \"64\"",
    ))
    .unwrap();
    assert_eq!(config.cloud, CloudName::AzureUSGovernment);
    assert_eq!(config.api_version, "2025-12-01");
    assert_eq!(config.secrets_encoding, SecretsEncoding::Plain);
    let p = retrainer(&config);
    assert!(p.cancel_on_timeout);
    assert_eq!(p.max_concurrency, 64);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn flow_style_and_outer_slashes() {
    let yaml = "Processing: {type: DatasetRegistrator, parameters: {azml: {subscriptionId: \
                0b1f6471-1bf0-4dda-aec3-cb9272f09590, resourceGroup: rg, mlWorkspaceName: mlw}, \
                storageAccountName: acct01, containerName: raw, containerDataPath: /a/b/}}";
    let config = parse_str(yaml).unwrap();
    assert_eq!(registrator(&config).data_path, "a/b");
}

/// Warnings: (config, expected warning fragments in order).
#[test]
fn unknown_and_misplaced_keys_warn() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            with_params(RETRAINER, "refreshTimout: 100"),
            vec!["Processing.parameters.refreshTimout: unknown key (line 15), ignored; did you mean `refreshTimeout`?"],
        ),
        (
            with_params(REGISTRATOR, "dataAssets: []\nrefreshDelay: 5"),
            vec![
                "Processing.parameters.dataAssets: used only by the retrainer (line 11), ignored",
                "Processing.parameters.refreshDelay: used only by the retrainer (line 12), ignored",
            ],
        ),
        (
            with_params(RETRAINER, "containerName: raw"),
            vec!["Processing.parameters.containerName: used only by the registrator (line 15), ignored"],
        ),
        (format!("version: 2\n{REGISTRATOR}"), vec!["config test.yaml: version: unknown key (line 1), ignored"]),
        (
            format!("processing: x\n{REGISTRATOR}"),
            vec!["processing: unknown key (line 1), ignored; did you mean `Processing`?"],
        ),
        (
            edit(REGISTRATOR, "  type:", "  typ: x\n  type:"),
            vec!["Processing.typ: unknown key (line 2), ignored; did you mean `type`?"],
        ),
        (
            edit(
                REGISTRATOR,
                "      mlWorkspaceName: mlw-forecast",
                "      mlWorkspaceName: mlw-forecast\n      tenant: x",
            ),
            vec!["Processing.parameters.azml.tenant: unknown key (line 8), ignored"],
        ),
        (
            edit(
                RETRAINER,
                "        value: curated-delta-sales-daily-uri",
                "        value: curated-delta-sales-daily-uri\n        version: 3",
            ),
            vec!["Processing.parameters.dataAssets[1].version: unknown key (line 13), ignored"],
        ),
        (format!("? [a, b]\n: 1\n{REGISTRATOR}"), vec!["<list key>: a key that is not a name (line 1), ignored"]),
    ];
    for (yaml, expected) in cases {
        let config = parse_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        assert_eq!(config.warnings.len(), expected.len(), "{:?}", config.warnings);
        for (warning, want) in config.warnings.iter().zip(expected) {
            println!("{warning}");
            assert!(warning.contains(want), "{warning:?} lacks {want:?}");
        }
    }
}

#[test]
fn shared_anchor_is_fine() {
    let config = crate::config::load_local(super::fixture("anchors_reused.yaml").to_str().unwrap()).unwrap();
    assert_eq!(config.workspace.workspace_name, "mlw-forecast");
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("workspace: unknown key"));
}

#[test]
fn yaml_features_people_use() {
    // Capitalised booleans (YAML 1.2 core), merge keys and quoted numbers where numbers are allowed.
    let yaml = "\
base: &base
  subscriptionId: 0b1f6471-1bf0-4dda-aec3-cb9272f09590
  resourceGroup: rg-mlops-prod
Processing:
  type: ModelRetrainer
  parameters:
    azml:
      <<: *base
      mlWorkspaceName: mlw-forecast
    dataAssets: [{name: training_data, value: sales}]
    cancelOnTimeout: True
";
    let config = parse_str(yaml).unwrap();
    assert_eq!(config.workspace.resource_group, "rg-mlops-prod");
    assert!(retrainer(&config).cancel_on_timeout);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
}

#[test]
fn line_endings_and_document_markers() {
    for yaml in [
        super::REGISTRATOR.replace('\n', "\r\n"),
        format!("---\n{}", super::REGISTRATOR),
        format!("%YAML 1.2\n---\n{}...\n", super::REGISTRATOR),
    ] {
        let config = parse_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml:?}"));
        assert_eq!(registrator(&config).container, "curated");
    }
}

/// A `dataAssets` value that is this workspace's own ARM id or long-form URI stays accepted (case-insensitively,
/// as ARM compares names).
#[test]
fn this_workspaces_own_asset_ids_are_accepted() {
    for value in [
        "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-mlops-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-forecast/data/sales/versions/3",
        "azureml:/subscriptions/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/resourcegroups/RG-MLOPS-PROD/providers/Microsoft.MachineLearningServices/workspaces/MLW-Forecast/data/sales",
        "azureml://subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/rg-mlops-prod/workspaces/mlw-forecast/data/sales/versions/3",
        "azureml:sales",
    ] {
        let yaml = edit(RETRAINER, "value: curated-delta-sales-daily-uri", &format!("value: {value}"));
        let config = parse_str(&yaml).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(retrainer(&config).data_assets[1].asset, value);
    }
}

#[test]
fn retrain_policy_is_optional_and_read_with_its_defaults() {
    use crate::config::{OnSchemaChange, RetrainPolicy};
    // Absent: today's behaviour (no policy at all).
    assert_eq!(retrainer(&parse_str(RETRAINER).unwrap()).retrain_policy, None);
    let day = 86_400;
    for (yaml, want) in [
        (
            "retrainPolicy:\n  minRowsChanged: 10000\n  onSchemaChange: fail\n  maxModelAge: 30d",
            RetrainPolicy {
                min_rows_changed: 10_000,
                on_schema_change: OnSchemaChange::Fail,
                max_model_age: Some(Duration::from_secs(30 * day)),
            },
        ),
        (
            "retrainPolicy:\n  minRowsChanged: \"250\"\n  onSchemaChange: Skip\n  maxModelAge: 12h",
            RetrainPolicy {
                min_rows_changed: 250,
                on_schema_change: OnSchemaChange::Skip,
                max_model_age: Some(Duration::from_secs(12 * 3600)),
            },
        ),
        (
            "retrainPolicy:\n  maxModelAge: 90m",
            RetrainPolicy { max_model_age: Some(Duration::from_secs(5400)), ..Default::default() },
        ),
        ("retrainPolicy: {}", RetrainPolicy::default()),
        (
            "retrainPolicy:\n  maxModelAge: 3650d",
            RetrainPolicy { max_model_age: Some(Duration::from_secs(3650 * day)), ..Default::default() },
        ),
    ] {
        let config = parse_str(&with_params(RETRAINER, yaml)).unwrap();
        assert_eq!(retrainer(&config).retrain_policy, Some(want), "{yaml}");
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }
    // A typo inside the block is a warning with a suggestion, like elsewhere.
    let config = parse_str(&with_params(RETRAINER, "retrainPolicy:\n  minRowChanged: 5")).unwrap();
    assert!(config.warnings.iter().any(|w| w.contains("did you mean `minRowsChanged`")), "{:?}", config.warnings);
}

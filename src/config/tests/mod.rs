//! Tests of the config module: table-driven cases for every accepted form, every rejected one, the file-level
//! failures (fixtures in `tests/fixtures/config/`), locations and the shipped examples.

mod errors;
mod files;
mod sources;
mod valid;

use super::{Config, ConfigError};

/// A complete registrator config; cases derive from it by editing one line.
pub(super) const REGISTRATOR: &str = "\
Processing:
  type: drift.registrating.dataset_registrator.DatasetRegistrator
  parameters:
    azml:
      subscriptionId: 0b1f6471-1bf0-4dda-aec3-cb9272f09590
      resourceGroup: rg-mlops-prod
      mlWorkspaceName: mlw-forecast
    storageAccountName: datalakeprod01
    containerName: curated
    containerDataPath: delta/sales/daily
";

/// A complete retrainer config, timings written as strings like the legacy files.
pub(super) const RETRAINER: &str = "\
Processing:
  type: drift.retraining.model_retrainer.ModelRetrainer
  parameters:
    azml:
      subscriptionId: 0b1f6471-1bf0-4dda-aec3-cb9272f09590
      resourceGroup: rg-mlops-prod
      mlWorkspaceName: mlw-forecast
    dataAssets:
      - name: training_data
        value: curated-delta-sales-daily-mltable
      - name: raw_folder
        value: curated-delta-sales-daily-uri
    refreshTimeout: \"2700\"
    refreshDelay: \"60\"
";

pub(super) fn parse_str(yaml: &str) -> Result<Config, ConfigError> {
    super::parse("test.yaml", yaml.as_bytes())
}

/// `base` without the line that sets `key`.
pub(super) fn without(base: &str, key: &str) -> String {
    let prefix = format!("{key}:");
    let kept: Vec<&str> = base.lines().filter(|l| !l.trim_start().starts_with(&prefix)).collect();
    assert_ne!(kept.len(), base.lines().count(), "no line sets {key}");
    kept.join("\n") + "\n"
}

/// `base` with the exact text `from` replaced by `to` (which must occur).
pub(super) fn edit(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "{from:?} not in base");
    base.replacen(from, to, 1)
}

/// `base` with `extra` lines appended under `parameters` (4-space indent).
pub(super) fn with_params(base: &str, extra: &str) -> String {
    let mut out = base.to_string();
    for line in extra.lines() {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The path of a fixture file.
pub(super) fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config").join(name)
}

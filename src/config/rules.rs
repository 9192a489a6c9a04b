//! Azure's naming rules for the values a config or a flag names, checked offline so a typo fails in
//! `drift validate` (or before the first request) with the rule spelled out, instead of minutes later as an ARM
//! 400 — or, worse, as a request to a path the value was never meant to reach (`../../x` as a version). Each check
//! returns the rule when it fails.
//!
//! Sources: the Azure ML REST spec drift is written against (`tests/contracts/azureml/stable/2025-12-01/`,
//! `mfe.json` and `machineLearningServices.json`, cited by line), and Microsoft Learn's "Naming rules and
//! restrictions for Azure resources" (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules)
//! for the ARM resource names. Where a rule is drift's own choice, its comment says so.

/// Longest `refreshTimeout` accepted: a week. Longer waits are a typo (minutes meant as seconds × 60, say).
pub(crate) const MAX_REFRESH_TIMEOUT_SECS: u64 = 7 * 24 * 60 * 60;

/// Bounds of `maxConcurrentSubmissions`.
pub(crate) const MAX_CONCURRENCY: u64 = 64;

/// Largest `retrainPolicy.minRowsChanged`: a quadrillion rows, far beyond any table; a larger number is a typo.
/// drift's own bound.
pub(crate) const MAX_ROWS_CHANGED: u64 = 1_000_000_000_000_000;

/// Longest `retrainPolicy.maxModelAge`: ten years (drift's own bound, against a unit typo such as `30000d`).
pub(crate) const MAX_MODEL_AGE_DAYS: u64 = 3650;

/// `retrainPolicy.maxModelAge`: a whole number and a unit, `m` (minutes), `h` (hours) or `d` (days), such as `30d`;
/// more than zero, at most [`MAX_MODEL_AGE_DAYS`]. drift's own format.
pub(crate) fn model_age(v: &str) -> Result<std::time::Duration, String> {
    let rule = || {
        format!(
            "an age is a whole number followed by m (minutes), h (hours) or d (days), such as 30d or 12h, from 1m to \
             {MAX_MODEL_AGE_DAYS}d"
        )
    };
    let v = v.trim();
    let unit_at = v.len().checked_sub(1).filter(|&i| v.is_char_boundary(i)).ok_or_else(rule)?;
    let (digits, unit) = v.split_at(unit_at);
    let seconds_per = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(rule()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(rule());
    }
    let n: u64 = digits.parse().map_err(|_| rule())?;
    let seconds = n.checked_mul(seconds_per).ok_or_else(rule)?;
    if seconds == 0 || seconds > MAX_MODEL_AGE_DAYS * 86_400 {
        return Err(rule());
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// ARM's `subscriptionId` path parameter (common-types `SubscriptionIdParameter`, `format: uuid`; not in the
/// repository, from memory — the sandbox's `schema::is_guid` checks the same 8-4-4-4-12 form).
pub(crate) fn subscription_id(v: &str) -> Result<(), String> {
    let groups: Vec<&str> = v.split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    if lengths_ok && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit())) {
        Ok(())
    } else {
        Err("a subscription id is a GUID: 8-4-4-4-12 hexadecimal digits, e.g. 00000000-0000-0000-0000-000000000000"
            .to_string())
    }
}

/// Resource groups, per "Naming rules and restrictions" (Microsoft.Resources/resourcegroups: 1-90 characters,
/// underscores, hyphens, periods, parentheses and letters or digits, not ending in a period).
pub(crate) fn resource_group(v: &str) -> Result<(), String> {
    let len = v.chars().count();
    let chars_ok = v.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if (1..=90).contains(&len) && chars_ok && !v.ends_with('.') {
        Ok(())
    } else {
        Err("a resource group name is 1-90 characters: letters, digits, '_', '-', '.', '(' and ')', not ending in '.'"
            .to_string())
    }
}

/// `WorkspaceNameParameter` in `machineLearningServices.json`: `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`.
pub(crate) fn workspace_name(v: &str) -> Result<(), String> {
    let mut chars = v.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if first_ok && rest_ok && (3..=33).contains(&v.len()) {
        Ok(())
    } else {
        Err("an Azure ML workspace name is 3-33 characters: letters, digits, '_' and '-', starting with a letter or \
             digit"
            .to_string())
    }
}

/// Storage accounts, per "Naming rules and restrictions" (Microsoft.Storage/storageAccounts: 3-24 lowercase
/// letters and numbers). The name becomes a host (`{account}.blob.core.windows.net`), so nothing else may pass.
pub(crate) fn storage_account(v: &str) -> Result<(), String> {
    if (3..=24).contains(&v.len()) && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("a storage account name is 3-24 characters: lowercase letters and digits only".to_string())
    }
}

/// Blob containers, per Microsoft Learn "Naming and referencing containers, blobs, and metadata" (3-63
/// characters, lowercase letters, numbers and hyphens, starting with a letter or number, no consecutive hyphens;
/// from memory, the same rule the sandbox enforces).
pub(crate) fn container(v: &str) -> Result<(), String> {
    let chars_ok = v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ends_ok = !v.starts_with('-') && !v.ends_with('-');
    if (3..=63).contains(&v.len()) && chars_ok && ends_ok && !v.contains("--") {
        Ok(())
    } else {
        Err("a container name is 3-63 characters: lowercase letters, digits and '-', starting and ending with a \
             letter or digit, without '--'"
            .to_string())
    }
}

/// Returns the path with its outer `/` removed.
pub(crate) fn data_path(v: &str) -> Result<String, String> {
    let trimmed = v.trim_matches('/');
    if trimmed.trim().is_empty() {
        return Err("the path of the Delta table inside the container must not be empty (nor only '/')".to_string());
    }
    if trimmed.contains('\\') {
        return Err("use '/' between folders, not '\\'".to_string());
    }
    if trimmed.split('/').any(|segment| segment == "..") {
        return Err("'..' is not allowed in the path; write the path from the container root".to_string());
    }
    Ok(trimmed.to_string())
}

/// A pipeline input name, as Azure ML pipelines name their inputs.
pub(crate) fn input_name(v: &str) -> Result<(), String> {
    let mut chars = v.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err("a pipeline input name is letters, digits and '_', not starting with a digit (^[A-Za-z_][A-Za-z0-9_]*$)"
            .to_string())
    }
}

/// Longest `--data_asset_version` accepted. The spec gives data versions no limit (`mfe.json` line 6130, the
/// `version` path parameter of `DataVersions_CreateOrUpdate`, has neither pattern nor length); 100 is issue 9's
/// bound: far above drift's own 14-digit versions, far below anything that could flood a URL or a message.
pub(crate) const MAX_DATA_VERSION_CHARS: usize = 100;

/// A data asset version (`--data_asset_version`): letters, digits, `.`, `-`, `_`, starting with a letter or digit.
/// The characters are those the sandbox's `schema::is_version` accepts (the asset-name pattern of `mfe.json` line
/// 6126 plus `.`, for versions such as `1.0`); with them a version is one URL path segment and one ARM-id segment,
/// so `../../x`, `a b`, `%2e%2e` or a newline can never reach a job's inputs or a request path.
pub(crate) fn data_version(v: &str) -> Result<(), String> {
    let mut chars = v.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if first_ok && rest_ok && v.len() <= MAX_DATA_VERSION_CHARS {
        Ok(())
    } else {
        Err(format!(
            "a data asset version is 1-{MAX_DATA_VERSION_CHARS} characters: letters, digits, '.', '-' and '_', \
             starting with a letter or digit (such as 20261128101500)"
        ))
    }
}

/// The name of a data asset or datastore drift creates: the `name` path parameter of `DataVersions_CreateOrUpdate`
/// (`mfe.json` line 6126) and `Datastores_CreateOrUpdate` (line 6485), `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`.
/// Reads (GET) take any name, so `dataAssets` values are checked by the retrainer's asset parser instead.
pub(crate) fn writable_asset_name(v: &str) -> Result<(), String> {
    let mut chars = v.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if first_ok && rest_ok && v.len() <= 255 {
        Ok(())
    } else {
        Err("Azure ML accepts only 1-255 letters, digits, '-' and '_', starting with a letter or digit \
             (^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$)"
            .to_string())
    }
}

/// Longest `--model_name_prefix` item, and most items. drift's own bounds (no Azure rule applies: a prefix is only
/// compared with job display names, never sent): generous for a group name, small enough for one log line.
pub(crate) const MAX_PREFIX_CHARS: usize = 128;
pub(crate) const MAX_PREFIXES: usize = 100;

/// One `--model_name_prefix` item: the start of the training jobs' display names (`{prefix}_{YYYYmmddHHMMSS}_…`),
/// matched literally. Display names are free text, so any printable character is allowed; control characters
/// (a newline, a tab, an escape) cannot be part of a display name anyone typed and would garble logs.
pub(crate) fn model_name_prefix(v: &str) -> Result<(), String> {
    if v.chars().count() <= MAX_PREFIX_CHARS && !v.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(format!(
            "a model name prefix is at most {MAX_PREFIX_CHARS} characters, without control characters (newlines, \
             tabs)"
        ))
    }
}

/// An ARM api-version: `YYYY-MM-DD`, optionally with `-preview` (ARM's api-version convention, as in the spec's
/// `"version": "2025-12-01"`, `mfe.json` line 5). It becomes a query value, so nothing else may pass.
pub(crate) fn api_version(v: &str) -> Result<(), String> {
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let parts: Vec<&str> = date.split('-').collect();
    let shape_ok = parts.iter().map(|p| p.len()).eq([4, 2, 2]);
    if shape_ok && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())) {
        Ok(())
    } else {
        Err(format!(
            "an api-version is a date YYYY-MM-DD, optionally followed by -preview, e.g. {}",
            super::DEFAULT_API_VERSION
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_and_rejected_names() {
        type Rule = fn(&str) -> Result<(), String>;
        let cases: &[(Rule, &[&str], &[&str])] = &[
            (
                subscription_id,
                &["0b1f6471-1bf0-4dda-aec3-cb9272f09590", "0B1F6471-1BF0-4DDA-AEC3-CB9272F09590"],
                &[
                    "",
                    "0b1f6471",
                    "0b1f6471-1bf0-4dda-aec3-cb9272f0959",
                    "0b1f6471-1bf0-4dda-aec3-cb9272f0959g",
                    " 0b1f6471-1bf0-4dda-aec3-cb9272f09590",
                ],
            ),
            (
                resource_group,
                &["rg", "rg-ml_prod.(eu)", "Ressourcengruppe-ä", &"r".repeat(90)],
                &["", "rg.", "rg/x", "rg x", &"r".repeat(91)],
            ),
            (workspace_name, &["mlw", "ml-ws_01", &"w".repeat(33)], &["ml", "-mlw", "_mlw", "ml.ws", &"w".repeat(34)]),
            (
                storage_account,
                &["abc", "datalake01", &"a".repeat(24)],
                &["ab", "DataLake", "data-lake", &"a".repeat(25)],
            ),
            (
                container,
                &["raw", "raw-data-01", "1abc", &"c".repeat(63)],
                &["ab", "Raw", "raw--data", "-raw", "raw-", "raw_data", "$root", &"c".repeat(64)],
            ),
            (input_name, &["training_data", "_x", "X1"], &["", "1x", "training-data", "a b"]),
            (api_version, &["2025-12-01", "2024-10-01-preview"], &["2025-12", "latest", "2025-12-01-beta"]),
        ];
        for (rule, good, bad) in cases {
            for v in *good {
                assert!(rule(v).is_ok(), "{v:?} should pass");
            }
            for v in *bad {
                assert!(rule(v).is_err(), "{v:?} should fail");
            }
        }
    }

    #[test]
    fn data_paths() {
        assert_eq!(data_path("/delta/tables/sales/").as_deref(), Ok("delta/tables/sales"));
        assert_eq!(data_path("sales").as_deref(), Ok("sales"));
        assert_eq!(data_path("a/..b/c").as_deref(), Ok("a/..b/c"));
        for bad in ["", "/", "///", "a/../b", "..", "a\\b"] {
            assert!(data_path(bad).is_err(), "{bad:?}");
        }
    }
}

//! The key names of the legacy format, which pipeline reads each one, and the "did you mean" matcher for typos.

/// Keys of the top level.
pub(crate) const TOP: &[&str] = &["Processing"];
/// Keys of `Processing`.
pub(crate) const PROCESSING: &[&str] = &["type", "parameters"];
/// Keys of `Processing.parameters.azml`.
pub(crate) const AZML: &[&str] = &["subscriptionId", "resourceGroup", "mlWorkspaceName"];
/// Keys of one `dataAssets` entry.
pub(crate) const DATA_ASSET: &[&str] = &["name", "value"];

/// `Processing.parameters` keys both pipelines read.
pub(crate) const COMMON: &[&str] = &["azml", "cloud", "apiVersion", "secretsEncoding"];
/// `Processing.parameters` keys only the registrator reads.
pub(crate) const REGISTRATOR: &[&str] = &["storageAccountName", "containerName", "containerDataPath", "pinBy"];
/// `Processing.parameters` keys only the retrainer reads.
pub(crate) const RETRAINER: &[&str] =
    &["dataAssets", "refreshTimeout", "refreshDelay", "cancelOnTimeout", "maxConcurrentSubmissions", "retrainPolicy"];
/// Keys of `Processing.parameters.retrainPolicy`.
pub(crate) const RETRAIN_POLICY: &[&str] = &["minRowsChanged", "onSchemaChange", "maxModelAge"];

/// The `type` values for each pipeline: the original tool's Python class paths and their short forms.
pub(crate) const REGISTRATOR_TYPES: &[&str] =
    &["drift.registrating.dataset_registrator.DatasetRegistrator", "DatasetRegistrator"];
pub(crate) const RETRAINER_TYPES: &[&str] = &["drift.retraining.model_retrainer.ModelRetrainer", "ModelRetrainer"];

/// Whether `key` is a key of the format at any level.
pub(crate) fn is_known(key: &str) -> bool {
    [TOP, PROCESSING, AZML, DATA_ASSET, COMMON, REGISTRATOR, RETRAINER, RETRAIN_POLICY]
        .iter()
        .any(|level| level.contains(&key))
}

/// The known key closest to `unknown`, if it is close enough to be a typo: same letters in another case or
/// with `_`/`-` (`refresh_timeout`, `ContainerName`), a small edit distance, or a near prefix (`storageAccount`).
pub(crate) fn suggest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_lowercase();
    let target = norm(unknown);
    if target.is_empty() {
        return None;
    }
    if let Some(exact) = known.iter().find(|k| norm(k) == target) {
        return Some(exact);
    }
    known
        .iter()
        .map(|k| {
            let candidate = norm(k);
            let distance = strsim::damerau_levenshtein(&target, &candidate);
            let similarity = strsim::jaro_winkler(&target, &candidate);
            (k, distance, similarity)
        })
        .filter(|(_, distance, similarity)| {
            let allowed = (target.chars().count() / 4).clamp(1, 3);
            *distance <= allowed || *similarity >= 0.92
        })
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(k, _, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let all: Vec<&str> = COMMON.iter().chain(REGISTRATOR).chain(RETRAINER).copied().collect();
        for (typo, want) in [
            ("refreshTimout", Some("refreshTimeout")),
            ("refresh_timeout", Some("refreshTimeout")),
            ("RefreshDelay", Some("refreshDelay")),
            ("containername", Some("containerName")),
            ("storageAccount", Some("storageAccountName")),
            ("dataAsset", Some("dataAssets")),
            ("apiversion", Some("apiVersion")),
            ("pinby", Some("pinBy")),
            ("azm", Some("azml")),
            ("colour", None),
            ("timeout", None),
            ("", None),
        ] {
            assert_eq!(suggest(typo, &all), want, "{typo}");
        }
        assert_eq!(suggest("subscription_id", AZML), Some("subscriptionId"));
        assert_eq!(suggest("workspaceName", AZML), Some("mlWorkspaceName"));
        assert_eq!(suggest("processing", TOP), Some("Processing"));
        assert_eq!(suggest("Params", PROCESSING), Some("parameters"));
        assert_eq!(suggest("settings", PROCESSING), None);
    }
}

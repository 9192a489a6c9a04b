//! The names and URIs the registrator writes, exactly as the Python tool derived them (existing training
//! pipelines reference these names, so they are a contract).

use crate::assets::is_asset_name;
use crate::azure::ml::seg;
use crate::config::{RegistratorParams, Workspace};

/// Everything named after the container and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The ADLS Gen2 datastore: `containerName` with `-` → `_`.
    pub datastore: String,
    /// `{containerName}-{path}-mltable`.
    pub mltable: String,
    /// `{containerName}-{path}-uri`.
    pub uri: String,
    /// `containerDataPath` without leading/trailing `/`.
    pub data_path: String,
}

impl Names {
    /// Derives the names; a path that yields an invalid Azure ML asset name is an error naming the key.
    pub fn new(params: &RegistratorParams) -> Result<Names, String> {
        let data_path = params.data_path.trim_matches('/').to_string();
        let slug = data_path.replace('/', "-").trim_matches('-').to_string();
        let names = Names {
            datastore: params.container.replace('-', "_"),
            mltable: format!("{}-{slug}-mltable", params.container),
            uri: format!("{}-{slug}-uri", params.container),
            data_path,
        };
        for name in [&names.mltable, &names.uri] {
            if !is_asset_name(name) {
                return Err(format!(
                    "the data asset name {name:?} derived from containerName and containerDataPath is not a valid \
                     Azure ML asset name (letters, digits, '-', '_', '.'; at most 255 characters)"
                ));
            }
        }
        Ok(names)
    }

    /// `azureml://subscriptions/…/datastores/{datastore}/paths/{path}`: the table folder as Azure ML addresses it.
    pub fn folder_uri(&self, ws: &Workspace) -> String {
        format!(
            "azureml://subscriptions/{}/resourcegroups/{}/workspaces/{}/datastores/{}/paths/{}",
            ws.subscription_id,
            ws.resource_group,
            ws.workspace_name,
            self.datastore,
            self.data_path.split('/').map(seg).collect::<Vec<_>>().join("/")
        )
    }
}

/// `abfss://{container}@{account}.dfs.{suffix}/{path}`: where the table lives, for the `drift.source` tag.
pub fn abfss_uri(params: &RegistratorParams, storage_suffix: &str) -> String {
    format!(
        "abfss://{}@{}.dfs.{}/{}",
        params.container,
        params.storage_account,
        storage_suffix,
        params.data_path.trim_matches('/')
    )
}

/// Two data URIs name the same place if they differ only by a trailing `/` (the service appends one).
pub fn same_uri(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PinBy;

    fn params(container: &str, path: &str) -> RegistratorParams {
        RegistratorParams {
            storage_account: "acct".into(),
            container: container.into(),
            data_path: path.into(),
            pin_by: PinBy::Version,
        }
    }

    #[test]
    fn names_match_the_python_tool() {
        let cases = [
            (
                "curated-data",
                "delta/sales/daily",
                "curated_data",
                "curated-data-delta-sales-daily-mltable",
                "curated-data-delta-sales-daily-uri",
            ),
            ("curated", "/delta/sales/", "curated", "curated-delta-sales-mltable", "curated-delta-sales-uri"),
            ("raw", "sales", "raw", "raw-sales-mltable", "raw-sales-uri"),
            ("a-b-c", "x_y/z.v2", "a_b_c", "a-b-c-x_y-z.v2-mltable", "a-b-c-x_y-z.v2-uri"),
        ];
        for (container, path, ds, mltable, uri) in cases {
            let n = Names::new(&params(container, path)).unwrap();
            assert_eq!(
                (n.datastore.as_str(), n.mltable.as_str(), n.uri.as_str()),
                (ds, mltable, uri),
                "{container} {path}"
            );
        }
        assert!(Names::new(&params("raw", "sales data")).unwrap_err().contains("not a valid Azure ML asset name"));
    }

    #[test]
    fn uris() {
        let ws = Workspace { subscription_id: "s".into(), resource_group: "rg".into(), workspace_name: "ws".into() };
        let n = Names::new(&params("curated-data", "/delta/sales/")).unwrap();
        assert_eq!(
            n.folder_uri(&ws),
            "azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/curated_data/paths/delta/sales"
        );
        assert_eq!(
            abfss_uri(&params("curated-data", "/delta/sales/"), "core.windows.net"),
            "abfss://curated-data@acct.dfs.core.windows.net/delta/sales"
        );
        assert!(same_uri("azureml://a/paths/x/", "azureml://a/paths/x"));
        assert!(!same_uri("azureml://a/paths/x", "azureml://a/paths/y"));
    }
}

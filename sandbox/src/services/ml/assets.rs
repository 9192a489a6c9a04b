//! Data-asset references in job inputs, in every form the service and its users write: the bare ARM id
//! `/subscriptions/.../workspaces/{ws}/data/{name}/versions/{v}` (what GET returns), the same with `azureml:` in
//! front, `azureml://subscriptions/.../workspaces/{ws}/data/{name}/versions/{v}`, `azureml:{name}:{v}`,
//! `azureml:{name}@latest` and `{name}:{v}`.

use super::schema::{is_resource_name, is_version};

/// What an input's `uri` refers to, when it refers to a data asset.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AssetRef {
    pub name: String,
    /// `None` for `@latest`.
    pub version: Option<String>,
    /// `(subscription, resource group, workspace)` when the form names one; `None` means "this workspace".
    pub workspace: Option<(String, String, String)>,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

pub(crate) fn parse(uri: &str) -> Option<AssetRef> {
    if let Some(rest) = uri.strip_prefix("azureml://") {
        // azureml://subscriptions/{s}/resourcegroups/{rg}/workspaces/{ws}/data/{n}/versions/{v}
        let p: Vec<&str> = rest.split('/').collect();
        let ok = p.len() == 10
            && eq(p[0], "subscriptions")
            && eq(p[2], "resourcegroups")
            && eq(p[4], "workspaces")
            && eq(p[6], "data")
            && eq(p[8], "versions");
        return ok.then(|| AssetRef {
            name: p[7].to_string(),
            version: Some(p[9].to_string()),
            workspace: Some((p[1].to_string(), p[3].to_string(), p[5].to_string())),
        });
    }
    let id = uri.strip_prefix("azureml:").unwrap_or(uri);
    if let Some(rest) = id.strip_prefix('/') {
        // /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/data/{n}/versions/{v}
        let p: Vec<&str> = rest.split('/').collect();
        let ok = p.len() == 12
            && eq(p[0], "subscriptions")
            && eq(p[2], "resourceGroups")
            && eq(p[4], "providers")
            && eq(p[5], "Microsoft.MachineLearningServices")
            && eq(p[6], "workspaces")
            && eq(p[8], "data")
            && eq(p[10], "versions");
        return ok.then(|| AssetRef {
            name: p[9].to_string(),
            version: Some(p[11].to_string()),
            workspace: Some((p[1].to_string(), p[3].to_string(), p[7].to_string())),
        });
    }
    let short = uri.strip_prefix("azureml:");
    let text = short.unwrap_or(uri);
    if let Some(name) = text.strip_suffix("@latest") {
        return (short.is_some() && is_resource_name(name)).then(|| AssetRef {
            name: name.to_string(),
            version: None,
            workspace: None,
        });
    }
    let (name, version) = text.split_once(':')?;
    (is_resource_name(name) && is_version(version)).then(|| AssetRef {
        name: name.to_string(),
        version: Some(version.to_string()),
        workspace: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

    fn version(name: &str, v: &str, ws: bool) -> Option<AssetRef> {
        Some(AssetRef {
            name: name.into(),
            version: Some(v.into()),
            workspace: ws.then(|| ("s".to_string(), "rg".to_string(), "ws".to_string())),
        })
    }

    #[test]
    fn every_form() {
        assert_eq!(parse(&format!("{WS}/data/sales/versions/3")), version("sales", "3", true));
        assert_eq!(parse(&format!("azureml:{WS}/data/sales/versions/3")), version("sales", "3", true));
        assert_eq!(
            parse(&format!("azureml:{}/data/sales/versions/3", WS.replace("resourceGroups", "resourcegroups"))),
            version("sales", "3", true)
        );
        assert_eq!(
            parse("azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/data/sales/versions/3"),
            version("sales", "3", true)
        );
        assert_eq!(parse("azureml:sales:3"), version("sales", "3", false));
        assert_eq!(parse("sales:20250101000000"), version("sales", "20250101000000", false));
        assert_eq!(
            parse("azureml:sales@latest"),
            Some(AssetRef { name: "sales".into(), version: None, workspace: None })
        );
        for other in [
            "azureml://datastores/workspaceblobstore/paths/x",
            "https://acct.blob.core.windows.net/c/x",
            "abfss://c@acct.dfs.core.windows.net/x",
            "sales@latest",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/m/versions/1",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }
}

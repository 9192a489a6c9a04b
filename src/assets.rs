//! Data asset references in every form the service and users write them, parsed into (scope, name, version)
//! so inputs are matched by exact asset name — never by string prefix (`sales` must not match `sales_v2`).

/// Which catalogue an asset lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetScope {
    /// A workspace; `None` means "the current one" (short forms like `azureml:sales:3`).
    Workspace(Option<WorkspaceKey>),
    /// An Azure ML registry (a different catalogue: never the workspace's asset of the same name).
    Registry(String),
}

/// Identifies a workspace by its ARM coordinates, compared case-insensitively like ARM does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceKey {
    pub subscription: String,
    pub resource_group: String,
    pub workspace: String,
}

impl WorkspaceKey {
    pub fn new(subscription: &str, resource_group: &str, workspace: &str) -> WorkspaceKey {
        WorkspaceKey {
            subscription: subscription.to_ascii_lowercase(),
            resource_group: resource_group.to_ascii_lowercase(),
            workspace: workspace.to_ascii_lowercase(),
        }
    }
}

/// Which version a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetVersion {
    Exact(String),
    /// `@latest` or another label.
    Label(String),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRef {
    pub scope: AssetScope,
    pub name: String,
    pub version: AssetVersion,
}

impl AssetRef {
    /// Whether `self` (a job's input) refers to the asset `wanted` (from config), in workspace `here`.
    pub fn same_asset(&self, wanted: &AssetRef, here: &WorkspaceKey) -> bool {
        if self.name != wanted.name {
            return false;
        }
        let resolve = |scope: &AssetScope| match scope {
            AssetScope::Workspace(None) => AssetScope::Workspace(Some(here.clone())),
            other => other.clone(),
        };
        resolve(&self.scope) == resolve(&wanted.scope)
    }

    pub fn exact_version(&self) -> Option<&str> {
        match &self.version {
            AssetVersion::Exact(v) => Some(v),
            _ => None,
        }
    }
}

/// Azure ML asset names: a letter or digit, then letters, digits, `-`, `_`, `.`; at most 255 characters.
pub fn is_asset_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 255
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn is_version(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parses a data asset reference. Returns `None` for anything that is not one (a datastore path, an https URL,
/// a literal), which then simply never matches.
pub fn parse(raw: &str) -> Option<AssetRef> {
    let s = raw.trim();
    if let Some(rest) = s.strip_prefix("azureml://") {
        return parse_long_form(rest);
    }
    let body = s.strip_prefix("azureml:").unwrap_or(s);
    if body.starts_with('/') {
        return parse_arm_id(body);
    }
    if body.contains("://") {
        return None;
    }
    // `name@label`, `name:version`, or (config values only) a bare `name`.
    if let Some((name, label)) = body.split_once('@') {
        return (is_asset_name(name) && is_version(label)).then(|| AssetRef {
            scope: AssetScope::Workspace(None),
            name: name.to_string(),
            version: AssetVersion::Label(label.to_string()),
        });
    }
    if let Some((name, version)) = body.split_once(':') {
        return (is_asset_name(name) && is_version(version)).then(|| AssetRef {
            scope: AssetScope::Workspace(None),
            name: name.to_string(),
            version: AssetVersion::Exact(version.to_string()),
        });
    }
    is_asset_name(body).then(|| AssetRef {
        scope: AssetScope::Workspace(None),
        name: body.to_string(),
        version: AssetVersion::None,
    })
}

/// Splits a path into segments, dropping empty ones from doubled or trailing slashes.
fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|p| !p.is_empty()).collect()
}

/// `…/data/{name}[/versions/{v}]` at the end of `segs[from..]`.
fn data_tail(segs: &[&str], scope: AssetScope) -> Option<AssetRef> {
    match segs {
        [data, name] if data.eq_ignore_ascii_case("data") && is_asset_name(name) => {
            Some(AssetRef { scope, name: name.to_string(), version: AssetVersion::None })
        }
        [data, name, versions, v] if data.eq_ignore_ascii_case("data") && versions.eq_ignore_ascii_case("versions") => {
            (is_asset_name(name) && is_version(v)).then(|| AssetRef {
                scope,
                name: name.to_string(),
                version: AssetVersion::Exact(v.to_string()),
            })
        }
        _ => None,
    }
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/data/…`
fn parse_arm_id(path: &str) -> Option<AssetRef> {
    let segs = segments(path);
    match segs.as_slice() {
        [subs, sub, rgs, rg, providers, provider, kind, ws, tail @ ..]
            if subs.eq_ignore_ascii_case("subscriptions")
                && rgs.eq_ignore_ascii_case("resourcegroups")
                && providers.eq_ignore_ascii_case("providers")
                && provider.eq_ignore_ascii_case("Microsoft.MachineLearningServices") =>
        {
            let scope = if kind.eq_ignore_ascii_case("workspaces") {
                AssetScope::Workspace(Some(WorkspaceKey::new(sub, rg, ws)))
            } else if kind.eq_ignore_ascii_case("registries") {
                AssetScope::Registry(ws.to_ascii_lowercase())
            } else {
                return None;
            };
            data_tail(tail, scope)
        }
        _ => None,
    }
}

/// The `azureml://` forms: `subscriptions/{s}/resourcegroups/{rg}/workspaces/{ws}/data/…`,
/// `locations/{loc}/workspaces/{ws-guid}/data/…` (a workspace known only by id), `registries/{r}/data/…`.
fn parse_long_form(rest: &str) -> Option<AssetRef> {
    let segs = segments(rest);
    match segs.as_slice() {
        [subs, sub, rgs, rg, wss, ws, tail @ ..]
            if subs.eq_ignore_ascii_case("subscriptions")
                && rgs.eq_ignore_ascii_case("resourcegroups")
                && wss.eq_ignore_ascii_case("workspaces") =>
        {
            data_tail(tail, AssetScope::Workspace(Some(WorkspaceKey::new(sub, rg, ws))))
        }
        // The workspace is named by its GUID here; drift cannot tell it from the current one without another
        // call, and such URIs only come from the current workspace's own jobs, so treat it as current.
        [locs, _loc, wss, _ws, tail @ ..]
            if locs.eq_ignore_ascii_case("locations") && wss.eq_ignore_ascii_case("workspaces") =>
        {
            data_tail(tail, AssetScope::Workspace(None))
        }
        [regs, reg, tail @ ..] if regs.eq_ignore_ascii_case("registries") => {
            data_tail(tail, AssetScope::Registry(reg.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// Why a configured `dataAssets` value cannot be used by a retrainer working in workspace `here`, or `None` when
/// it can. drift reads and registers data assets only in the config's own workspace (`azml`): a job input is
/// rewritten as `…/workspaces/{here}/data/{name}/versions/{v}`, so another workspace's asset (an ARM id or an
/// `azureml://subscriptions/…` URI naming another workspace), a registry's asset, or a URI naming its workspace
/// only by id (`azureml://locations/…`, which cannot be checked offline) would be silently retargeted to an asset
/// of the same name here. They are refused instead. `here` is `None` when the workspace keys are themselves
/// invalid (reported on their own); only the form is checked then.
pub fn config_value_problem(raw: &str, here: Option<&crate::config::Workspace>) -> Option<String> {
    const FORMS: &str = "write the asset's name (sales), azureml:sales, or its ARM id in this workspace";
    let value = raw.trim();
    let Some(reference) = parse(value) else {
        return Some(format!(
            "not a data asset reference (asset names are letters, digits, '-', '_' and '.', starting with a letter \
             or digit); {FORMS}"
        ));
    };
    let elsewhere = "drift reads and registers data assets only in the config's workspace (azml)";
    match &reference.scope {
        AssetScope::Registry(registry) => {
            Some(format!("an asset of the Azure ML registry {registry}; {elsewhere}; {FORMS}"))
        }
        AssetScope::Workspace(None) if value.to_ascii_lowercase().starts_with("azureml://locations/") => {
            Some(format!("this URI names its workspace only by id, which drift cannot check against azml; {FORMS}"))
        }
        AssetScope::Workspace(None) => None,
        AssetScope::Workspace(Some(key)) => {
            let here = here?;
            let here_key = WorkspaceKey::new(&here.subscription_id, &here.resource_group, &here.workspace_name);
            (key != &here_key).then(|| {
                format!(
                    "an asset of workspace {}/{}/{}, not of this config's workspace {}/{}/{}; {elsewhere}; {FORMS}",
                    key.subscription,
                    key.resource_group,
                    key.workspace,
                    here.subscription_id,
                    here.resource_group,
                    here.workspace_name
                )
            })
        }
    }
}

/// The ARM id of version `version` of workspace asset `name` — the form GET returns and PUT takes.
pub fn arm_id(ws: &crate::config::Workspace, name: &str, version: &str) -> String {
    format!("{}/data/{}/versions/{}", crate::azure::ml::workspace_path(ws), name, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "00000000-1111-2222-3333-444444444444";

    fn here() -> WorkspaceKey {
        WorkspaceKey::new(SUB, "my-rg", "my-ws")
    }

    fn exact(name: &str, v: &str, scope: AssetScope) -> Option<AssetRef> {
        Some(AssetRef { scope, name: name.into(), version: AssetVersion::Exact(v.into()) })
    }

    #[test]
    fn every_input_form() {
        let ws = || AssetScope::Workspace(Some(here()));
        let current = || AssetScope::Workspace(None);
        let arm = format!(
            "/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.MachineLearningServices/workspaces/my-ws/data/sales/versions/7"
        );
        let cases: Vec<(String, Option<AssetRef>)> = vec![
            (arm.clone(), exact("sales", "7", ws())),
            (format!("azureml:{arm}"), exact("sales", "7", ws())),
            (arm.replace("resourceGroups", "resourcegroups").replace("my-rg", "MY-RG"), exact("sales", "7", ws())),
            ("azureml:sales:7".into(), exact("sales", "7", current())),
            ("sales:7".into(), exact("sales", "7", current())),
            (
                "azureml:sales@latest".into(),
                Some(AssetRef {
                    scope: current(),
                    name: "sales".into(),
                    version: AssetVersion::Label("latest".into()),
                }),
            ),
            (
                format!("azureml://subscriptions/{SUB}/resourcegroups/my-rg/workspaces/my-ws/data/sales/versions/7"),
                exact("sales", "7", ws()),
            ),
            (
                "azureml://locations/westeurope/workspaces/0a1b/data/sales/versions/7".into(),
                exact("sales", "7", current()),
            ),
            (
                "azureml://registries/shared/data/sales/versions/7".into(),
                exact("sales", "7", AssetScope::Registry("shared".into())),
            ),
            (
                format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/shared/data/sales/versions/7"
                ),
                exact("sales", "7", AssetScope::Registry("shared".into())),
            ),
            ("sales".into(), Some(AssetRef { scope: current(), name: "sales".into(), version: AssetVersion::None })),
            (
                "azureml:sales".into(),
                Some(AssetRef { scope: current(), name: "sales".into(), version: AssetVersion::None }),
            ),
            // Not data assets.
            ("azureml://datastores/workspaceblobstore/paths/LocalUpload/x/".into(), None),
            ("https://acct.blob.core.windows.net/c/sales".into(), None),
            ("abfss://c@acct.dfs.core.windows.net/sales".into(), None),
            (
                format!(
                    "/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.MachineLearningServices/workspaces/my-ws/models/sales/versions/1"
                ),
                None,
            ),
            ("${{parent.inputs.x}}".into(), None),
            ("".into(), None),
            ("sales:".into(), None),
            ("-bad:1".into(), None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(&input), expected, "{input}");
        }
    }

    #[test]
    fn exact_name_matching() {
        let wanted = parse("sales").unwrap();
        let h = here();
        let arm = |name: &str| {
            parse(&format!(
                "/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.MachineLearningServices/workspaces/my-ws/data/{name}/versions/3"
            ))
            .unwrap()
        };
        assert!(arm("sales").same_asset(&wanted, &h));
        assert!(!arm("sales_v2").same_asset(&wanted, &h), "prefix must not match");
        assert!(!arm("Sales").same_asset(&wanted, &h));
        assert!(!arm("sale").same_asset(&wanted, &h));
        assert!(parse("azureml:sales:9").unwrap().same_asset(&wanted, &h));
        assert!(parse("azureml:sales@latest").unwrap().same_asset(&wanted, &h));
        // Another workspace's or a registry's asset of the same name is a different asset.
        let other_ws = parse(&format!(
            "/subscriptions/{SUB}/resourceGroups/other-rg/providers/Microsoft.MachineLearningServices/workspaces/my-ws/data/sales/versions/3"
        ))
        .unwrap();
        assert!(!other_ws.same_asset(&wanted, &h));
        assert!(!parse("azureml://registries/r/data/sales/versions/1").unwrap().same_asset(&wanted, &h));
        // Config values written as ARM ids match inputs written in short forms.
        let wanted_arm = arm("sales");
        assert!(parse("sales:1").unwrap().same_asset(&wanted_arm, &h));
    }

    #[test]
    fn config_values_outside_this_workspace_are_refused() {
        let ws = crate::config::Workspace {
            subscription_id: SUB.into(),
            resource_group: "my-rg".into(),
            workspace_name: "my-ws".into(),
        };
        let other = "99999999-1111-2222-3333-444444444444";
        let arm = |sub: &str, rg: &str, w: &str| {
            format!(
                "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{w}/data/sales"
            )
        };
        for good in [
            "sales".to_string(),
            "azureml:sales".into(),
            "sales:3".into(),
            arm(SUB, "my-rg", "my-ws"),
            arm(&SUB.to_uppercase(), "MY-RG", "My-Ws"),
            format!("{}/versions/7", arm(SUB, "my-rg", "my-ws")),
            format!("azureml://subscriptions/{SUB}/resourcegroups/my-rg/workspaces/my-ws/data/sales/versions/7"),
        ] {
            assert_eq!(config_value_problem(&good, Some(&ws)), None, "{good}");
        }
        for (bad, words) in [
            (arm(other, "my-rg", "my-ws"), "not of this config's workspace"),
            (arm(SUB, "other-rg", "my-ws"), "not of this config's workspace"),
            (format!("{}/versions/7", arm(SUB, "my-rg", "other-ws")), "not of this config's workspace"),
            (
                format!("azureml://subscriptions/{other}/resourcegroups/my-rg/workspaces/my-ws/data/sales"),
                "not of this config's workspace",
            ),
            ("azureml://locations/westeurope/workspaces/0a1b/data/sales/versions/7".into(), "only by id"),
            ("azureml://registries/shared/data/sales/versions/7".into(), "registry shared"),
            ("../../x".into(), "not a data asset reference"),
            ("sales data".into(), "not a data asset reference"),
            ("https://acct.blob.core.windows.net/c/sales".into(), "not a data asset reference"),
        ] {
            let problem = config_value_problem(&bad, Some(&ws)).unwrap_or_else(|| panic!("accepted {bad}"));
            assert!(problem.contains(words), "{bad}: {problem}");
        }
        // With the workspace keys themselves invalid, only the form is checked.
        assert_eq!(config_value_problem(&arm(other, "rg", "ws"), None), None);
    }

    #[test]
    fn arm_id_round_trips() {
        let ws = crate::config::Workspace {
            subscription_id: SUB.into(),
            resource_group: "my-rg".into(),
            workspace_name: "my-ws".into(),
        };
        let id = arm_id(&ws, "sales", "20261128101500");
        let parsed = parse(&id).unwrap();
        assert_eq!(parsed.name, "sales");
        assert_eq!(parsed.exact_version(), Some("20261128101500"));
        assert!(parsed.same_asset(&parse("sales").unwrap(), &here()));
    }
}

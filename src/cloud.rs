//! Cloud profiles (public, China, US Government) and the endpoint overrides that tests, the sandbox and private
//! clouds use. Owns the rule that bearer tokens never travel over plain http to a non-loopback host, and its one
//! exception: the managed-identity token request to IMDS at 169.254.169.254.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use url::Url;

/// The Azure clouds drift knows by name. The names are the ones the Azure CLI uses (`az cloud list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloudName {
    #[default]
    AzureCloud,
    AzureChinaCloud,
    AzureUSGovernment,
}

impl CloudName {
    /// Every accepted spelling, for error messages.
    pub const NAMES: [&'static str; 3] = ["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"];

    /// Parses a cloud name, case-insensitively (users copy them from many tools).
    pub fn from_name(name: &str) -> Option<CloudName> {
        match name.trim().to_ascii_lowercase().as_str() {
            "azurecloud" | "public" | "azurepubliccloud" => Some(CloudName::AzureCloud),
            "azurechinacloud" | "china" => Some(CloudName::AzureChinaCloud),
            "azureusgovernment" | "usgovernment" | "azureusgovernmentcloud" => Some(CloudName::AzureUSGovernment),
            _ => None,
        }
    }

    /// The cloud whose storage endpoints end in `suffix` (`core.windows.net` → public), for abfss:// URLs.
    pub fn from_storage_suffix(suffix: &str) -> Option<CloudName> {
        [CloudName::AzureCloud, CloudName::AzureChinaCloud, CloudName::AzureUSGovernment]
            .into_iter()
            .find(|c| c.profile().storage_suffix.eq_ignore_ascii_case(suffix.trim_end_matches('/')))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CloudName::AzureCloud => "AzureCloud",
            CloudName::AzureChinaCloud => "AzureChinaCloud",
            CloudName::AzureUSGovernment => "AzureUSGovernment",
        }
    }

    /// The built-in endpoints of this cloud, before any override.
    pub fn profile(self) -> CloudProfile {
        match self {
            CloudName::AzureCloud => CloudProfile {
                name: self,
                authority_host: "https://login.microsoftonline.com",
                arm_endpoint: "https://management.azure.com",
                arm_audience: "https://management.azure.com",
                storage_suffix: "core.windows.net",
                keyvault_suffix: "vault.azure.net",
                keyvault_audience: "https://vault.azure.net",
                ml_audience: "https://ml.azure.com",
                studio_url: "https://ml.azure.com",
            },
            CloudName::AzureChinaCloud => CloudProfile {
                name: self,
                authority_host: "https://login.chinacloudapi.cn",
                arm_endpoint: "https://management.chinacloudapi.cn",
                arm_audience: "https://management.chinacloudapi.cn",
                storage_suffix: "core.chinacloudapi.cn",
                keyvault_suffix: "vault.azure.cn",
                keyvault_audience: "https://vault.azure.cn",
                ml_audience: "https://ml.azure.cn",
                studio_url: "https://studio.ml.azure.cn",
            },
            CloudName::AzureUSGovernment => CloudProfile {
                name: self,
                authority_host: "https://login.microsoftonline.us",
                arm_endpoint: "https://management.usgovcloudapi.net",
                arm_audience: "https://management.usgovcloudapi.net",
                storage_suffix: "core.usgovcloudapi.net",
                keyvault_suffix: "vault.usgovcloudapi.net",
                keyvault_audience: "https://vault.usgovcloudapi.net",
                ml_audience: "https://ml.azure.us",
                studio_url: "https://ml.azure.us",
            },
        }
    }
}

impl std::fmt::Display for CloudName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fixed facts of one cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudProfile {
    pub name: CloudName,
    pub authority_host: &'static str,
    pub arm_endpoint: &'static str,
    pub arm_audience: &'static str,
    /// Suffix after `blob.` / `dfs.`; also what an ADLS Gen2 datastore records as its `endpoint`.
    pub storage_suffix: &'static str,
    pub keyvault_suffix: &'static str,
    pub keyvault_audience: &'static str,
    /// Audience of the `x-azureml-token` that pipeline-job submissions carry.
    pub ml_audience: &'static str,
    pub studio_url: &'static str,
}

/// Storage audience is the same in every cloud.
pub const STORAGE_AUDIENCE: &str = "https://storage.azure.com";

/// Names of the environment variables that override endpoints. They are a public contract (README, tests).
pub mod env_names {
    pub const AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
    pub const ARM_ENDPOINT: &str = "DRIFT_ARM_ENDPOINT";
    pub const BLOB_ENDPOINT: &str = "DRIFT_BLOB_ENDPOINT";
    pub const DFS_ENDPOINT: &str = "DRIFT_DFS_ENDPOINT";
    pub const KEYVAULT_ENDPOINT: &str = "DRIFT_KEYVAULT_ENDPOINT";
    pub const IMDS_ENDPOINT: &str = "DRIFT_IMDS_ENDPOINT";
    pub const CLOUD: &str = "DRIFT_CLOUD";
}

/// The default Azure Instance Metadata Service. Link-local and plain http by design of the service.
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";

/// IMDS's address. "IMDS is a REST API that's available at a well-known, non-routable IP address
/// (169.254.169.254). You can only access it from within the VM. Communication between the VM and IMDS never leaves
/// the host. Have HTTP clients bypass web proxies within the VM when querying IMDS"
/// (learn.microsoft.com/azure/virtual-machines/instance-metadata-service). So plain http to this one address is
/// accepted for the managed-identity token request only, and never through a proxy.
pub const IMDS_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

/// Endpoints after applying overrides; every URL here has passed [`check_transport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub cloud: CloudProfile,
    /// Without trailing slash, e.g. `https://login.microsoftonline.com`.
    pub authority_host: String,
    pub arm: String,
    /// Template with `{account}`.
    pub blob: String,
    /// Template with `{account}`.
    pub dfs: String,
    /// Template with `{vault}`.
    pub keyvault: String,
    pub imds: String,
}

/// An endpoint that cannot be used; exit code 2 (a configuration problem).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("endpoint {name}={value:?} is not usable: {reason}")]
pub struct EndpointError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

impl Endpoints {
    /// Builds the endpoints of `cloud`, applying the overrides found in `env`.
    pub fn resolve(cloud: CloudName, env: &HashMap<String, String>) -> Result<Endpoints, EndpointError> {
        let profile = cloud.profile();
        let pick = |name: &str, default: String, placeholder: Option<&str>| -> Result<String, EndpointError> {
            match env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(value) => {
                    if let Some(placeholder) = placeholder
                        && !value.contains(placeholder)
                    {
                        return Err(EndpointError {
                            name: name.to_string(),
                            value: value.to_string(),
                            reason: format!("it must contain the placeholder {placeholder}"),
                        });
                    }
                    let probe = value.replace("{account}", "account").replace("{vault}", "vault");
                    check_transport(&probe).map_err(|reason| EndpointError {
                        name: name.to_string(),
                        value: value.to_string(),
                        reason,
                    })?;
                    Ok(value.trim_end_matches('/').to_string())
                }
            }
        };
        let imds = match env.get(env_names::IMDS_ENDPOINT).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => DEFAULT_IMDS_ENDPOINT.to_string(),
            Some(value) => {
                check_metadata_transport(value).map_err(|reason| EndpointError {
                    name: env_names::IMDS_ENDPOINT.to_string(),
                    value: value.to_string(),
                    reason,
                })?;
                value.trim_end_matches('/').to_string()
            }
        };
        Ok(Endpoints {
            cloud: profile,
            authority_host: pick(env_names::AUTHORITY_HOST, profile.authority_host.to_string(), None)?,
            arm: pick(env_names::ARM_ENDPOINT, profile.arm_endpoint.to_string(), None)?,
            blob: pick(
                env_names::BLOB_ENDPOINT,
                format!("https://{{account}}.blob.{}", profile.storage_suffix),
                Some("{account}"),
            )?,
            dfs: pick(
                env_names::DFS_ENDPOINT,
                format!("https://{{account}}.dfs.{}", profile.storage_suffix),
                Some("{account}"),
            )?,
            keyvault: pick(
                env_names::KEYVAULT_ENDPOINT,
                format!("https://{{vault}}.{}", profile.keyvault_suffix),
                Some("{vault}"),
            )?,
            imds,
        })
    }

    pub fn blob_account(&self, account: &str) -> String {
        self.blob.replace("{account}", account)
    }

    pub fn dfs_account(&self, account: &str) -> String {
        self.dfs.replace("{account}", account)
    }

    pub fn keyvault_url(&self, vault: &str) -> String {
        self.keyvault.replace("{vault}", vault)
    }

    /// Scope for tokens of an audience (`https://management.azure.com` → `https://management.azure.com/.default`).
    pub fn scope(audience: &str) -> String {
        format!("{}/.default", audience.trim_end_matches('/'))
    }
}

/// Accepts https anywhere and plain http only to loopback hosts, so no credential crosses a network unencrypted.
pub fn check_transport(url: &str) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            if is_loopback(&parsed) {
                Ok(())
            } else {
                Err(format!(
                    "plain http is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost); use https for {}",
                    parsed.host_str().unwrap_or("")
                ))
            }
        }
        other => Err(format!("unsupported scheme {other}; use https")),
    }
}

/// The transport rule for the managed-identity token request to IMDS: [`check_transport`], plus plain http to
/// [`IMDS_ADDRESS`] (the service has no https endpoint). The HTTP layer sends such requests without any proxy.
pub fn check_metadata_transport(url: &str) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if parsed.scheme() == "http" && is_imds(&parsed) {
        return Ok(());
    }
    check_transport(url).map_err(|reason| {
        if parsed.scheme() == "http" { format!("{reason}, or the IMDS address {IMDS_ADDRESS}") } else { reason }
    })
}

/// Whether the URL's host is the IMDS address.
pub fn is_imds(url: &Url) -> bool {
    url.host() == Some(url::Host::Ipv4(IMDS_ADDRESS))
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_per_cloud() {
        let e = Endpoints::resolve(CloudName::AzureCloud, &env(&[])).unwrap();
        assert_eq!(e.arm, "https://management.azure.com");
        assert_eq!(e.blob_account("acct"), "https://acct.blob.core.windows.net");
        assert_eq!(e.dfs_account("acct"), "https://acct.dfs.core.windows.net");
        assert_eq!(e.keyvault_url("kv1"), "https://kv1.vault.azure.net");
        let cn = Endpoints::resolve(CloudName::AzureChinaCloud, &env(&[])).unwrap();
        assert_eq!(cn.authority_host, "https://login.chinacloudapi.cn");
        assert_eq!(cn.blob_account("a"), "https://a.blob.core.chinacloudapi.cn");
        assert_eq!(cn.keyvault_url("v"), "https://v.vault.azure.cn");
        let us = Endpoints::resolve(CloudName::AzureUSGovernment, &env(&[])).unwrap();
        assert_eq!(us.arm, "https://management.usgovcloudapi.net");
        assert_eq!(Endpoints::scope(us.cloud.arm_audience), "https://management.usgovcloudapi.net/.default");
    }

    #[test]
    fn overrides_apply_and_trailing_slash_is_dropped() {
        let e = Endpoints::resolve(
            CloudName::AzureCloud,
            &env(&[
                ("DRIFT_ARM_ENDPOINT", "http://127.0.0.1:9000/arm/"),
                ("DRIFT_BLOB_ENDPOINT", "http://127.0.0.1:10000/{account}"),
                ("DRIFT_KEYVAULT_ENDPOINT", "http://localhost:9000/kv/{vault}"),
                ("AZURE_AUTHORITY_HOST", "http://[::1]:9000/aad"),
            ]),
        )
        .unwrap();
        assert_eq!(e.arm, "http://127.0.0.1:9000/arm");
        assert_eq!(e.blob_account("devstoreaccount1"), "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(e.keyvault_url("v"), "http://localhost:9000/kv/v");
        assert_eq!(e.authority_host, "http://[::1]:9000/aad");
    }

    #[test]
    fn plain_http_to_remote_host_is_refused() {
        for (name, value) in [
            ("DRIFT_ARM_ENDPOINT", "http://management.example.com"),
            ("AZURE_AUTHORITY_HOST", "http://10.0.0.4/aad"),
            ("DRIFT_BLOB_ENDPOINT", "http://{account}.blob.example.com"),
        ] {
            let err = Endpoints::resolve(CloudName::AzureCloud, &env(&[(name, value)])).unwrap_err();
            assert_eq!(err.name, name);
            assert!(err.reason.contains("loopback"), "{err}");
        }
        assert!(check_transport("ftp://127.0.0.1/").is_err());
        assert!(check_transport("https://example.com").is_ok());
        assert!(check_transport("http://127.8.9.1:80/").is_ok());
    }

    #[test]
    fn imds_is_the_one_remote_plain_http_host_and_only_for_the_imds_endpoint() {
        // The default needs no override, and passes the metadata rule (it once failed the general one).
        let e = Endpoints::resolve(CloudName::AzureCloud, &env(&[])).unwrap();
        assert_eq!(e.imds, DEFAULT_IMDS_ENDPOINT);
        assert!(check_metadata_transport(&format!("{}/metadata/identity/oauth2/token", e.imds)).is_ok());
        let e = Endpoints::resolve(CloudName::AzureCloud, &env(&[("DRIFT_IMDS_ENDPOINT", "http://169.254.169.254/")]))
            .unwrap();
        assert_eq!(e.imds, "http://169.254.169.254");
        // Every other service keeps the loopback-only rule, even pointed at the IMDS address.
        assert!(check_transport("http://169.254.169.254/").is_err());
        let err = Endpoints::resolve(CloudName::AzureCloud, &env(&[("DRIFT_ARM_ENDPOINT", "http://169.254.169.254")]))
            .unwrap_err();
        assert!(err.reason.contains("loopback"), "{err}");
        // Other link-local or remote addresses are not IMDS.
        for other in ["http://169.254.169.253", "http://10.0.0.4", "http://imds.example.com", "http://[fe80::1]"] {
            let err = Endpoints::resolve(CloudName::AzureCloud, &env(&[("DRIFT_IMDS_ENDPOINT", other)])).unwrap_err();
            assert!(err.reason.contains("IMDS address 169.254.169.254"), "{other}: {err}");
        }
        assert!(check_metadata_transport("https://imds.example.com").is_ok());
        assert!(check_metadata_transport("http://127.0.0.1:9/imds").is_ok());
    }

    #[test]
    fn templates_need_their_placeholder() {
        let err = Endpoints::resolve(CloudName::AzureCloud, &env(&[("DRIFT_DFS_ENDPOINT", "http://127.0.0.1:1/dfs")]))
            .unwrap_err();
        assert!(err.reason.contains("{account}"));
    }

    #[test]
    fn cloud_names_parse_case_insensitively() {
        assert_eq!(CloudName::from_name("azurechinacloud"), Some(CloudName::AzureChinaCloud));
        assert_eq!(CloudName::from_name("AzureUSGovernment"), Some(CloudName::AzureUSGovernment));
        assert_eq!(CloudName::from_name("mars"), None);
        assert_eq!(CloudName::from_storage_suffix("core.chinacloudapi.cn"), Some(CloudName::AzureChinaCloud));
        assert_eq!(CloudName::from_storage_suffix("core.windows.net"), Some(CloudName::AzureCloud));
        assert_eq!(CloudName::from_storage_suffix("example.org"), None);
        for n in CloudName::NAMES {
            assert_eq!(CloudName::from_name(n).map(|c| c.as_str()), Some(n));
        }
    }
}

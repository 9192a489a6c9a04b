//! Datastores: validation of `DatastoreResource` bodies (AzureBlob and AzureDataLakeGen2, every credentials type of
//! the spec), storage of their write-only secrets, the JSON the service returns (secrets reduced to their
//! `secretsType`), `listSecrets`, and the workspace's default `workspaceblobstore`.

use serde_json::{Value, json};

use super::errors::{MlError, MlResult};
use super::schema::{Obj, allow, enum_str, is_guid, missing, object, opt_str, req_str, string_map};
use super::store::system_data;

pub(crate) const DEFAULT_DATASTORE: &str = "workspaceblobstore";

const DATASTORE_TYPES: &[&str] = &["AzureBlob", "AzureDataLakeGen1", "AzureDataLakeGen2", "AzureFile", "OneLake"];
const CREDENTIALS_TYPES: &[&str] = &["AccountKey", "Certificate", "None", "Sas", "ServicePrincipal"];
const AUTH_IDENTITIES: &[&str] = &["None", "WorkspaceSystemAssignedIdentity", "WorkspaceUserAssignedIdentity"];
/// `ProxyResource` members: read-only, so never part of a request.
pub(crate) const RESOURCE_READ_ONLY: &[&str] = &["id", "name", "type", "systemData"];

/// How the default `workspaceblobstore` reaches its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobstoreCredential {
    /// `AccountKey` credentials holding the storage account's key.
    AccountKey,
    /// `Sas` credentials holding a container SAS the sandbox issues (and so accepts).
    Sas,
    /// Identity-based (`None` credentials): clients use their own storage token.
    None,
}

/// A datastore's secret, by `secretsType`; `None` inside when the body sent `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Secrets {
    AccountKey(Option<String>),
    Sas(Option<String>),
    ServicePrincipal(Option<String>),
    Certificate(Option<String>),
}

impl Secrets {
    fn kind(&self) -> &'static str {
        match self {
            Secrets::AccountKey(_) => "AccountKey",
            Secrets::Sas(_) => "Sas",
            Secrets::ServicePrincipal(_) => "ServicePrincipal",
            Secrets::Certificate(_) => "Certificate",
        }
    }

    /// The `listSecrets` answer.
    pub fn to_json(&self) -> Value {
        match self {
            Secrets::AccountKey(key) => json!({"secretsType": "AccountKey", "key": key}),
            Secrets::Sas(token) => json!({"secretsType": "Sas", "sasToken": token}),
            Secrets::ServicePrincipal(secret) => json!({"secretsType": "ServicePrincipal", "clientSecret": secret}),
            Secrets::Certificate(certificate) => json!({"secretsType": "Certificate", "certificate": certificate}),
        }
    }
}

pub(crate) struct Datastore {
    pub name: String,
    /// The properties as returned: what was sent with defaults filled in, secrets reduced to `secretsType`.
    pub properties: Obj,
    pub secrets: Option<Secrets>,
    pub is_default: bool,
    pub created: i64,
    pub modified: i64,
    pub created_by: String,
    pub modified_by: String,
}

impl Datastore {
    pub fn to_json(&self, workspace_id: &str) -> Value {
        let mut properties = self.properties.clone();
        properties.insert("isDefault".into(), Value::Bool(self.is_default));
        json!({
            "id": format!("{workspace_id}/datastores/{}", self.name),
            "name": self.name,
            "type": "Microsoft.MachineLearningServices/workspaces/datastores",
            "properties": properties,
            "systemData": system_data(self.created, &self.created_by, self.modified, &self.modified_by),
        })
    }

    pub fn credentials_type(&self) -> &str {
        self.properties.get("credentials").and_then(|c| c["credentialsType"].as_str()).unwrap_or("None")
    }
}

/// A checked datastore body.
#[derive(Debug)]
pub(crate) struct Validated {
    pub properties: Obj,
    /// `None` when the body sent no secrets (allowed on update: the stored ones are kept) or the type has none.
    pub secrets: Option<Secrets>,
    pub account: String,
    pub container: String,
}

/// A non-empty string with at least one `[a-zA-Z0-9_]` (the spec's `minLength: 1, pattern: [a-zA-Z0-9_]`).
fn required_name<'a>(obj: &'a Obj, key: &str, path: &str) -> MlResult<&'a str> {
    let value = req_str(obj, key, path)?;
    if !value.chars().any(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(MlError::user(format!("The request is invalid: '{path}.{key}' must not be empty.")));
    }
    Ok(value)
}

/// Checks a `DatastoreResource` body. `updating` is the stored datastore when the PUT replaces one: secrets may then
/// be left out (they are write-only, so a GET-modify-PUT cannot resend them).
pub(crate) fn validate(body: &Value, updating: Option<&Datastore>) -> MlResult<Validated> {
    let top = object(body, "body")?;
    allow(top, &["properties"], RESOURCE_READ_ONLY, "DatastoreResource", "")?;
    let props = object(top.get("properties").ok_or_else(|| missing("", "properties"))?, "properties")?;
    let path = "properties";
    let kind =
        enum_str(props, "datastoreType", DATASTORE_TYPES, path)?.ok_or_else(|| missing(path, "datastoreType"))?;
    let mut allowed = vec![
        "description",
        "properties",
        "tags",
        "credentials",
        "datastoreType",
        "resourceGroup",
        "subscriptionId",
        "accountName",
        "endpoint",
        "protocol",
        "serviceDataAccessAuthIdentity",
    ];
    let (type_name, container_key) = match kind {
        "AzureBlob" => ("AzureBlobDatastore", "containerName"),
        "AzureDataLakeGen2" => ("AzureDataLakeGen2Datastore", "filesystem"),
        other => {
            return Err(MlError::user(format!(
                "drift-sandbox fakes AzureBlob and AzureDataLakeGen2 datastores only; datastoreType '{other}' is not \
                 faked."
            )));
        }
    };
    allowed.push(container_key);
    allow(props, &allowed, &["isDefault"], type_name, path)?;
    let account = required_name(props, "accountName", path)?.to_string();
    let container = required_name(props, container_key, path)?.to_string();
    for key in ["description", "resourceGroup", "subscriptionId", "endpoint", "protocol"] {
        opt_str(props, key, path)?;
    }
    enum_str(props, "serviceDataAccessAuthIdentity", AUTH_IDENTITIES, path)?;
    let tags = string_map(props, "tags", path)?;
    string_map(props, "properties", path)?;

    let credentials_path = "properties.credentials";
    let credentials = object(props.get("credentials").ok_or_else(|| missing(path, "credentials"))?, credentials_path)?;
    let credentials_type = enum_str(credentials, "credentialsType", CREDENTIALS_TYPES, credentials_path)?
        .ok_or_else(|| missing(credentials_path, "credentialsType"))?;
    let (allowed, secret_key): (&[&str], Option<&str>) = match credentials_type {
        "AccountKey" => (&["credentialsType", "secrets"], Some("key")),
        "Sas" => (&["credentialsType", "secrets"], Some("sasToken")),
        "None" => (&["credentialsType"], None),
        "ServicePrincipal" => (
            &["credentialsType", "secrets", "authorityUrl", "clientId", "resourceUrl", "tenantId"],
            Some("clientSecret"),
        ),
        _ => (
            &["credentialsType", "secrets", "authorityUrl", "clientId", "resourceUrl", "tenantId", "thumbprint"],
            Some("certificate"),
        ),
    };
    let type_name = format!("{credentials_type}DatastoreCredentials");
    allow(credentials, allowed, &[], &type_name, credentials_path)?;
    if matches!(credentials_type, "ServicePrincipal" | "Certificate") {
        for key in ["tenantId", "clientId"] {
            let value = req_str(credentials, key, credentials_path)?;
            if !is_guid(value) {
                return Err(MlError::user(format!(
                    "The request is invalid: '{credentials_path}.{key}' must be a GUID, got '{value}'."
                )));
            }
        }
        opt_str(credentials, "authorityUrl", credentials_path)?;
        opt_str(credentials, "resourceUrl", credentials_path)?;
        if credentials_type == "Certificate" {
            required_name(credentials, "thumbprint", credentials_path)?;
        }
    }

    let mut secrets = None;
    let mut shown = credentials.clone();
    if let Some(secret_key) = secret_key {
        let secrets_path = "properties.credentials.secrets";
        match credentials.get("secrets") {
            None | Some(Value::Null) => {
                let kept = updating.and_then(|d| d.secrets.as_ref()).is_some_and(|s| s.kind() == credentials_type);
                if !kept {
                    return Err(missing(credentials_path, "secrets"));
                }
            }
            Some(value) => {
                let sent = object(value, secrets_path)?;
                let secrets_type =
                    req_str(sent, "secretsType", secrets_path).map_err(|_| missing(secrets_path, "secretsType"))?;
                if secrets_type != credentials_type {
                    return Err(MlError::user(format!(
                        "The request is invalid: '{secrets_path}.secretsType' is '{secrets_type}' but credentialsType \
                         is '{credentials_type}'."
                    )));
                }
                allow(
                    sent,
                    &["secretsType", secret_key],
                    &[],
                    &format!("{credentials_type}DatastoreSecrets"),
                    secrets_path,
                )?;
                let value = opt_str(sent, secret_key, secrets_path)?.map(str::to_string);
                // A service principal without its secret cannot reach storage; the service insists on it.
                if credentials_type == "ServicePrincipal" && value.as_deref().is_none_or(str::is_empty) {
                    return Err(missing(secrets_path, secret_key));
                }
                secrets = Some(match credentials_type {
                    "AccountKey" => Secrets::AccountKey(value),
                    "Sas" => Secrets::Sas(value),
                    "ServicePrincipal" => Secrets::ServicePrincipal(value),
                    _ => Secrets::Certificate(value),
                });
            }
        }
        shown.insert("secrets".into(), json!({"secretsType": credentials_type}));
    }

    let mut properties = props.clone();
    properties.insert("credentials".into(), Value::Object(shown));
    properties.insert("tags".into(), Value::Object(tags));
    for (key, default) in [
        ("description", Value::Null),
        ("properties", Value::Null),
        ("endpoint", json!("core.windows.net")),
        ("protocol", json!("https")),
        ("serviceDataAccessAuthIdentity", json!("None")),
    ] {
        if properties.get(key).is_none_or(Value::is_null) {
            properties.insert(key.into(), default);
        }
    }
    Ok(Validated { properties, secrets, account, container })
}

/// The default datastore every workspace has: an AzureBlob store on the workspace's storage account.
pub(crate) fn blobstore(account: &str, container: &str, secrets: Option<Secrets>, now: i64) -> Datastore {
    let credentials = match &secrets {
        Some(s) => json!({"credentialsType": s.kind(), "secrets": {"secretsType": s.kind()}}),
        None => json!({"credentialsType": "None"}),
    };
    let identity = if secrets.is_some() { "None" } else { "WorkspaceSystemAssignedIdentity" };
    let properties = json!({
        "description": null,
        "tags": {},
        "properties": null,
        "credentials": credentials,
        "datastoreType": "AzureBlob",
        "accountName": account,
        "containerName": container,
        "endpoint": "core.windows.net",
        "protocol": "https",
        "serviceDataAccessAuthIdentity": identity,
    });
    Datastore {
        name: DEFAULT_DATASTORE.to_string(),
        properties: properties.as_object().cloned().unwrap_or_default(),
        secrets,
        is_default: true,
        created: now,
        modified: now,
        created_by: "drift-sandbox".into(),
        modified_by: "drift-sandbox".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen2(credentials: Value) -> Value {
        json!({"properties": {"datastoreType": "AzureDataLakeGen2", "accountName": "acct", "filesystem": "raw",
            "credentials": credentials}})
    }

    const GUID: &str = "00000000-1111-2222-3333-444444444444";

    #[test]
    fn service_principal_bodies() {
        let ok = validate(
            &gen2(json!({"credentialsType": "ServicePrincipal", "tenantId": GUID, "clientId": GUID,
                "authorityUrl": "https://login.microsoftonline.com",
                "secrets": {"secretsType": "ServicePrincipal", "clientSecret": "s3cret"}})),
            None,
        )
        .unwrap();
        assert_eq!(ok.secrets, Some(Secrets::ServicePrincipal(Some("s3cret".into()))));
        assert_eq!(ok.properties["credentials"]["secrets"], json!({"secretsType": "ServicePrincipal"}));
        assert!(!Value::Object(ok.properties.clone()).to_string().contains("s3cret"));
        assert_eq!((ok.account.as_str(), ok.container.as_str()), ("acct", "raw"));

        let bad_guid = json!({"credentialsType": "ServicePrincipal", "tenantId": "t", "clientId": GUID,
            "secrets": {"secretsType": "ServicePrincipal", "clientSecret": "s"}});
        assert!(validate(&gen2(bad_guid), None).unwrap_err().message.contains("must be a GUID"));
        let no_secret = json!({"credentialsType": "ServicePrincipal", "tenantId": GUID, "clientId": GUID});
        assert!(validate(&gen2(no_secret), None).unwrap_err().message.contains("secrets"));
        let mismatched = json!({"credentialsType": "ServicePrincipal", "tenantId": GUID, "clientId": GUID,
            "secrets": {"secretsType": "AccountKey", "key": "k"}});
        assert!(validate(&gen2(mismatched), None).is_err());
    }

    #[test]
    fn unknown_and_read_only_members() {
        let mut body = gen2(json!({"credentialsType": "None"}));
        assert!(validate(&body, None).is_ok());
        body["properties"]["isDefault"] = json!(true);
        assert!(validate(&body, None).unwrap_err().message.contains("read-only"));
        let mut body = gen2(json!({"credentialsType": "None", "extra": 1}));
        assert!(validate(&body, None).unwrap_err().message.contains("could not find member 'extra'"));
        body["properties"]["credentials"] = json!({"credentialsType": "None"});
        body["properties"]["containerName"] = json!("x");
        assert!(validate(&body, None).is_err(), "containerName belongs to AzureBlob");
        let blob = json!({"properties": {"datastoreType": "AzureBlob", "accountName": "a",
            "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "k"}}}});
        assert!(validate(&blob, None).unwrap_err().message.contains("containerName"));
    }
}

//! Datastores through HTTP: PUT (201/200, validation, write-only secrets, skipValidation), GET, the paged list
//! with isDefault, listSecrets for every credential kind, and the default workspaceblobstore.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use drift_sandbox::BlobstoreCredential;
use serde_json::{Value, json};

const GUID: &str = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";

fn adls_sp(secret: Option<&str>) -> Value {
    let mut credentials = json!({"credentialsType": "ServicePrincipal", "tenantId": GUID, "clientId": CLIENT,
        "authorityUrl": "https://login.microsoftonline.com", "resourceUrl": "https://storage.azure.com/"});
    if let Some(secret) = secret {
        credentials["secrets"] = json!({"secretsType": "ServicePrincipal", "clientSecret": secret});
    }
    json!({"properties": {"datastoreType": "AzureDataLakeGen2", "accountName": "datalake01", "filesystem": "raw",
        "endpoint": "core.windows.net", "protocol": "https", "credentials": credentials,
        "description": "raw zone", "tags": {"owner": "drift"}}})
}

#[tokio::test]
async fn put_creates_then_updates_and_never_returns_secrets() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let (status, body) = arm.put("/datastores/raw_zone?skipValidation=true", &adls_sp(Some("top-secret"))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], format!("{}/datastores/raw_zone", ws.arm_id()));
    assert_eq!(body["type"], "Microsoft.MachineLearningServices/workspaces/datastores");
    assert_eq!(body["properties"]["credentials"]["secrets"], json!({"secretsType": "ServicePrincipal"}));
    assert_eq!(body["properties"]["isDefault"], false);
    assert!(body["systemData"]["createdAt"].as_str().unwrap().ends_with("+00:00"));
    assert!(!body.to_string().contains("top-secret"));

    // An update may leave the write-only secret out: the stored one is kept.
    let (status, body) = arm.put("/datastores/raw_zone?skipValidation=true", &adls_sp(None)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = arm.get("/datastores/raw_zone", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["filesystem"], "raw");
    assert!(!body.to_string().contains("top-secret"));
    let secrets = arm.post("/datastores/raw_zone/listSecrets").await;
    let (status, secrets) = status_json(secrets).await;
    assert_eq!(status, 200);
    assert_eq!(secrets, json!({"secretsType": "ServicePrincipal", "clientSecret": "top-secret"}));

    let (status, body) = arm.get("/datastores/nope", &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("UserError")));
}

#[tokio::test]
async fn bodies_are_validated_like_the_spec() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    cases.push(("a new SP datastore needs its secret", adls_sp(None), "secrets"));
    let mut bad_guid = adls_sp(Some("s"));
    bad_guid["properties"]["credentials"]["tenantId"] = json!("contoso.onmicrosoft.com");
    cases.push(("tenantId is a GUID", bad_guid, "must be a GUID"));
    let mut unknown = adls_sp(Some("s"));
    unknown["properties"]["containerName"] = json!("raw");
    cases.push(("AzureDataLakeGen2 has no containerName", unknown, "could not find member 'containerName'"));
    let mut read_only = adls_sp(Some("s"));
    read_only["properties"]["isDefault"] = json!(false);
    cases.push(("isDefault is read-only", read_only, "read-only"));
    let mut no_fs = adls_sp(Some("s"));
    no_fs["properties"].as_object_mut().unwrap().remove("filesystem");
    cases.push(("filesystem is required", no_fs, "filesystem"));
    let mut top = adls_sp(Some("s"));
    top["location"] = json!("westeurope");
    cases.push(("the envelope has only properties", top, "could not find member 'location'"));
    cases.push((
        "secretsType must match",
        json!({"properties": {"datastoreType": "AzureBlob", "accountName": "a", "containerName": "c",
            "credentials": {"credentialsType": "Sas", "secrets": {"secretsType": "AccountKey", "key": "k"}}}}),
        "secretsType",
    ));
    cases.push((
        "unknown datastore types are named",
        json!({"properties": {"datastoreType": "AzureSql", "credentials": {"credentialsType": "None"}}}),
        "allowed values",
    ));
    for (why, body, expected) in cases {
        let (status, answer) = arm.put("/datastores/ds1?skipValidation=true", &body).await;
        assert_eq!(status, 400, "{why}: {answer}");
        assert_eq!(answer["error"]["code"], "UserError", "{why}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{why}: {message}");
    }
    let (status, body) = arm.put("/datastores/-bad?skipValidation=true", &adls_sp(Some("s"))).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn without_skip_validation_the_storage_must_be_reachable() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let (status, body) = arm.put("/datastores/raw", &adls_sp(Some("s"))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("skipValidation=true"), "{body}");
    sandbox.add_storage_account("datalake01", "a2V5LW9uZQ==");
    sandbox.add_container("datalake01", "raw");
    assert_eq!(arm.put("/datastores/raw", &adls_sp(Some("s"))).await.0, 201);
    let with_key = |key: &str| {
        json!({"properties": {"datastoreType": "AzureBlob", "accountName": "datalake01", "containerName": "raw",
            "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": key}}}})
    };
    assert_eq!(arm.put("/datastores/blob1", &with_key("d3Jvbmc=")).await.0, 400);
    assert_eq!(arm.put("/datastores/blob1", &with_key("a2V5LW9uZQ==")).await.0, 201);
}

#[tokio::test]
async fn list_pages_and_filters_is_default() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    for i in 0..4 {
        sandbox.add_datastore(&ws, &format!("store{i}"), adls_sp(Some("s"))["properties"].clone());
    }
    let (status, page) = arm.get("/datastores", &[("count", "2")]).await;
    assert_eq!(status, 200);
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    let mut names: Vec<String> =
        page["value"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    let mut next = page["nextLink"].as_str().map(str::to_string);
    while let Some(link) = next {
        assert!(link.contains("count=2") && link.contains("$skip="), "{link}");
        let (status, page) = status_json(arm.follow(&link).await).await;
        assert_eq!(status, 200, "{page}");
        names.extend(page["value"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()));
        next = page["nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(names, ["store0", "store1", "store2", "store3", "workspaceblobstore"]);
    let (_, defaults) = arm.get("/datastores", &[("isDefault", "true")]).await;
    let defaults = defaults["value"].as_array().unwrap();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["name"], "workspaceblobstore");
    assert_eq!(defaults[0]["properties"]["isDefault"], true);
    assert_eq!(defaults[0]["properties"]["datastoreType"], "AzureBlob");
    let (status, _) = arm.get("/datastores", &[("$skip", "garbage")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn list_secrets_by_credential_kind() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;

    // AccountKey (the default blobstore): the account's key.
    let (_, store) = arm.get("/datastores/workspaceblobstore", &[]).await;
    let account = store["properties"]["accountName"].as_str().unwrap().to_string();
    assert_eq!(account, "wsdriftstore");
    assert!(store["properties"]["containerName"].as_str().unwrap().starts_with("azureml-blobstore-"));
    let (status, secrets) = status_json(arm.post("/datastores/workspaceblobstore/listSecrets").await).await;
    assert_eq!(status, 200);
    assert_eq!(secrets["secretsType"], "AccountKey");
    assert_eq!(secrets["key"].as_str(), sandbox.storage_account_key(&account).as_deref());

    // Sas: a token the sandbox issued.
    sandbox.set_workspace_blobstore(&ws, "blobs01", "azureml", BlobstoreCredential::Sas);
    let (_, secrets) = status_json(arm.post("/datastores/workspaceblobstore/listSecrets").await).await;
    assert_eq!(secrets["secretsType"], "Sas");
    let token = secrets["sasToken"].as_str().unwrap();
    assert!(token.contains("sig=") && token.contains("sp=racwdl"), "{token}");

    // None: identity-based, nothing to list.
    sandbox.set_workspace_blobstore(&ws, "blobs01", "azureml", BlobstoreCredential::None);
    let (_, store) = arm.get("/datastores/workspaceblobstore", &[]).await;
    assert_eq!(store["properties"]["credentials"], json!({"credentialsType": "None"}));
    let (status, body) = status_json(arm.post("/datastores/workspaceblobstore/listSecrets").await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "UserError");

    // Explicit Sas and AccountKey datastores give back what was stored.
    sandbox.add_datastore(
        &ws,
        "sas_store",
        json!({"datastoreType": "AzureBlob", "accountName": "a", "containerName": "c",
        "credentials": {"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": "sv=x&sig=y"}}}),
    );
    let (_, secrets) = status_json(arm.post("/datastores/sas_store/listSecrets").await).await;
    assert_eq!(secrets, json!({"secretsType": "Sas", "sasToken": "sv=x&sig=y"}));
    let expiry = SystemTime::now() + Duration::from_secs(60);
    assert!(!sandbox.issue_sas("blobs01", Some("azureml"), "r", expiry).is_empty());
}

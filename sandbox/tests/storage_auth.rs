//! Storage authorization, all three schemes, strictly: Shared Key (recomputed string-to-sign, path-style resource
//! `/{account}/blob/{account}/...` or the public host's `/{account}/...`), bearer tokens for https://storage.azure.com with grants, and only the SAS
//! tokens the sandbox issued (time window, scope, permissions); plus the registrator's upload through the SAS of a
//! Sas workspaceblobstore.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use drift_sandbox::{BlobstoreCredential, Sandbox};
use reqwest::Method;
use serde_json::Value;

const ACCOUNT: &str = "acct01";
const KEY: &str = "ZHJpZnQtc2FuZGJveC10ZXN0LWFjY291bnQta2V5LTAxMjM0NTY3ODk=";
const OTHER_KEY: &str = "b3RoZXIta2V5LW9mLXRoZS1zYW1lLWxlbmd0aC0wMTIzNDU2Nzg5MDE=";

fn storage() -> Sandbox {
    let sandbox = sandbox();
    sandbox.add_storage_account(ACCOUNT, KEY);
    sandbox.add_blob(ACCOUNT, "data", "dir/file.txt", "hello");
    sandbox.add_container(ACCOUNT, "other");
    sandbox
}

fn blob_url(sandbox: &Sandbox, path: &str) -> String {
    format!("{}/blob/{ACCOUNT}/{path}", sandbox.url())
}

async fn detail(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let code = response.headers().get("x-ms-error-code").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, code, response.text().await.unwrap())
}

#[tokio::test]
async fn shared_key_is_verified() {
    let sandbox = storage();
    let url = blob_url(&sandbox, "data/dir/file.txt");
    assert_eq!(signed(ACCOUNT, KEY, Method::GET, &url, &[], vec![]).await.status().as_u16(), 200);
    let (status, code, body) = detail(signed(ACCOUNT, OTHER_KEY, Method::GET, &url, &[], vec![]).await).await;
    assert_eq!((status, code.as_str()), (403, "AuthenticationFailed"));
    assert!(body.contains("<AuthenticationErrorDetail>The MAC signature found in the HTTP request"), "{body}");
    assert!(
        body.contains(&format!("/{ACCOUNT}/blob/{ACCOUNT}/data/dir/file.txt")),
        "the string-to-sign is shown: {body}"
    );

    // A header changed after signing.
    let date = http_now();
    let headers = vec![("x-ms-date".to_string(), date.clone()), ("x-ms-version".to_string(), X_MS_VERSION.to_string())];
    let authorization = shared_key(ACCOUNT, KEY, "GET", &url, &headers);
    let tampered = client()
        .get(&url)
        .header("authorization", authorization)
        .header("x-ms-date", date)
        .header("x-ms-version", X_MS_VERSION)
        .header("x-ms-client-request-id", "added-after-signing")
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status().as_u16(), 403);
    // A stale date.
    let old = (chrono::Utc::now() - chrono::Duration::minutes(30)).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let headers = vec![("x-ms-date".to_string(), old.clone()), ("x-ms-version".to_string(), X_MS_VERSION.to_string())];
    let response = client()
        .get(&url)
        .header("authorization", shared_key(ACCOUNT, KEY, "GET", &url, &headers))
        .header("x-ms-date", old)
        .header("x-ms-version", X_MS_VERSION)
        .send()
        .await
        .unwrap();
    let (status, _, body) = detail(response).await;
    assert_eq!(status, 403);
    assert!(body.contains("too old"), "{body}");
    // Signed for another account.
    sandbox.add_storage_account("acct02", OTHER_KEY);
    let response = signed("acct02", OTHER_KEY, Method::GET, &url, &[], vec![]).await;
    assert_eq!(response.status().as_u16(), 403);
    // Query parameters are part of the signature (signed by the helper from the URL).
    let list = blob_url(&sandbox, "data?restype=container&comp=list&prefix=dir/");
    assert_eq!(signed(ACCOUNT, KEY, Method::GET, &list, &[], vec![]).await.status().as_u16(), 200);
    // The DFS door checks the same way.
    let dfs = format!("{}/dfs/{ACCOUNT}/data?resource=filesystem&recursive=true", sandbox.url());
    assert_eq!(signed(ACCOUNT, KEY, Method::GET, &dfs, &[], vec![]).await.status().as_u16(), 200);
    assert_eq!(signed(ACCOUNT, OTHER_KEY, Method::GET, &dfs, &[], vec![]).await.status().as_u16(), 403);
}

/// A client that signs for the account's own host (`/{account}/{container}/{blob}`, what the service verifies) and
/// reaches the sandbox through a URL rewrite below its signing layer: azure-storage-blob under the oracle suite.
#[tokio::test]
async fn shared_key_signed_for_the_public_host_is_accepted() {
    let sandbox = storage();
    for (public, local) in [
        (format!("https://{ACCOUNT}.blob.core.windows.net/data/dir/file.txt"), blob_url(&sandbox, "data/dir/file.txt")),
        (
            format!("https://{ACCOUNT}.blob.core.windows.net/data?restype=container&comp=list&prefix=dir/"),
            blob_url(&sandbox, "data?restype=container&comp=list&prefix=dir/"),
        ),
        (
            format!("https://{ACCOUNT}.dfs.core.windows.net/data?resource=filesystem&recursive=true"),
            format!("{}/dfs/{ACCOUNT}/data?resource=filesystem&recursive=true", sandbox.url()),
        ),
    ] {
        let date = http_now();
        let headers =
            vec![("x-ms-date".to_string(), date.clone()), ("x-ms-version".to_string(), X_MS_VERSION.to_string())];
        let send = |key: &str| {
            client()
                .get(&local)
                .header("authorization", shared_key(ACCOUNT, key, "GET", &public, &headers))
                .header("x-ms-date", &date)
                .header("x-ms-version", X_MS_VERSION)
                .send()
        };
        assert_eq!(send(KEY).await.unwrap().status().as_u16(), 200, "{public}");
        assert_eq!(send(OTHER_KEY).await.unwrap().status().as_u16(), 403, "{public}");
    }
    // Another container's path signed publicly does not open this one.
    let date = http_now();
    let headers = vec![("x-ms-date".to_string(), date.clone()), ("x-ms-version".to_string(), X_MS_VERSION.to_string())];
    let wrong = format!("https://{ACCOUNT}.blob.core.windows.net/other/dir/file.txt");
    let response = client()
        .get(blob_url(&sandbox, "data/dir/file.txt"))
        .header("authorization", shared_key(ACCOUNT, KEY, "GET", &wrong, &headers))
        .header("x-ms-date", &date)
        .header("x-ms-version", X_MS_VERSION)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn missing_or_malformed_credentials() {
    let sandbox = storage();
    let url = blob_url(&sandbox, "data/dir/file.txt");
    let response = client().get(&url).header("x-ms-version", X_MS_VERSION).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.starts_with(&format!("Bearer authorization_uri={}/aad/{TENANT}/oauth2/authorize", sandbox.url())),
        "{challenge}"
    );
    assert!(challenge.ends_with("resource_id=https://storage.azure.com"), "{challenge}");
    assert_eq!(response.headers()["x-ms-error-code"], "NoAuthenticationInformation");
    let response = client()
        .get(&url)
        .header("x-ms-version", X_MS_VERSION)
        .header("authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .unwrap();
    let (status, code, _) = detail(response).await;
    assert_eq!((status, code.as_str()), (400, "InvalidAuthenticationInfo"));
}

async fn bearer_get(url: &str, token: &str) -> reqwest::Response {
    client().get(url).header("x-ms-version", X_MS_VERSION).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn bearer_tokens_for_storage_with_grants() {
    let sandbox = storage();
    let url = blob_url(&sandbox, "data/dir/file.txt");
    let token = sp_token(&sandbox, STORAGE_SCOPE).await;
    let ok = bearer_get(&url, &token).await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "hello");

    let arm_token = sp_token(&sandbox, ARM_SCOPE).await;
    let (status, code, body) = detail(bearer_get(&url, &arm_token).await).await;
    assert_eq!((status, code.as_str()), (401, "InvalidAuthenticationInfo"));
    assert!(body.contains("Audience validation failed"), "{body}");
    let (status, _, _) = detail(bearer_get(&url, "sbx.never-issued").await).await;
    assert_eq!(status, 401);

    // Grants: one on the Blob path of the container also opens its DFS path; others are refused.
    sandbox.grant(CLIENT, &format!("blob/{ACCOUNT}/data"));
    assert_eq!(bearer_get(&url, &token).await.status().as_u16(), 200);
    let dfs = format!("{}/dfs/{ACCOUNT}/data?resource=filesystem&recursive=true", sandbox.url());
    assert_eq!(bearer_get(&dfs, &token).await.status().as_u16(), 200);
    let other = blob_url(&sandbox, "other?restype=container&comp=list");
    let (status, code, _) = detail(bearer_get(&other, &token).await).await;
    assert_eq!((status, code.as_str()), (403, "AuthorizationPermissionMismatch"));

    sandbox.expire_all_tokens();
    let (status, _, body) = detail(bearer_get(&url, &token).await).await;
    assert_eq!(status, 401);
    assert!(body.contains("expired"), "{body}");
}

#[tokio::test]
async fn only_issued_sas_tokens_pass_within_their_window_scope_and_permissions() {
    let sandbox = storage();
    let hour = SystemTime::now() + Duration::from_secs(3600);
    let read_list = sandbox.issue_sas(ACCOUNT, Some("data"), "rl", hour);
    let with = |path: &str, sas: &str| {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{}{separator}{sas}", blob_url(&sandbox, path))
    };
    let get = |url: String| async move { client().get(url).header("x-ms-version", X_MS_VERSION).send().await.unwrap() };
    assert_eq!(get(with("data/dir/file.txt", &read_list)).await.status().as_u16(), 200);
    assert_eq!(get(with("data?restype=container&comp=list", &read_list)).await.status().as_u16(), 200);
    let dfs = format!("{}/dfs/{ACCOUNT}/data?resource=filesystem&recursive=true&{read_list}", sandbox.url());
    assert_eq!(get(dfs).await.status().as_u16(), 200);

    // Writing needs `w`.
    let put = client()
        .put(with("data/new.txt", &read_list))
        .header("x-ms-version", X_MS_VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    let (status, code, _) = detail(put).await;
    assert_eq!((status, code.as_str()), (403, "AuthorizationPermissionMismatch"));
    // Another container, a changed permission list, a made-up signature, an expired token.
    let (status, code, _) = detail(get(with("other?restype=container&comp=list", &read_list)).await).await;
    assert_eq!((status, code.as_str()), (403, "AuthenticationFailed"));
    let widened = read_list.replace("sp=rl", "sp=rwl");
    assert_eq!(get(with("data/dir/file.txt", &widened)).await.status().as_u16(), 403);
    let forged = "sv=2025-11-05&sr=c&sp=r&se=2099-01-01T00%3A00%3A00Z&sig=Zm9yZ2Vk";
    let (status, code, body) = detail(get(with("data/dir/file.txt", forged)).await).await;
    assert_eq!((status, code.as_str()), (403, "AuthenticationFailed"));
    assert!(body.contains("Signature did not match"), "{body}");
    let expired = sandbox.issue_sas(ACCOUNT, Some("data"), "rl", SystemTime::now() - Duration::from_secs(60));
    let (status, code, body) = detail(get(with("data/dir/file.txt", &expired)).await).await;
    assert_eq!((status, code.as_str()), (403, "AuthenticationFailed"));
    assert!(body.contains("Signature not valid in the specified time frame"), "{body}");
}

/// The registrator's path to workspaceblobstore: GET the datastore, listSecrets, upload with the SAS, set the
/// upload metadata, HEAD to check it.
#[tokio::test]
async fn the_sas_of_a_sas_blobstore_opens_its_container() {
    let (sandbox, ws) = ml_sandbox();
    sandbox.set_workspace_blobstore(&ws, "wsblobs01", "azureml-blobstore-1", BlobstoreCredential::Sas);
    let arm = Arm::new(&sandbox, &ws).await;
    let (_, store) = arm.get("/datastores/workspaceblobstore", &[]).await;
    let account = store["properties"]["accountName"].as_str().unwrap();
    let container = store["properties"]["containerName"].as_str().unwrap();
    let (_, secrets): (u16, Value) = status_json(arm.post("/datastores/workspaceblobstore/listSecrets").await).await;
    let sas = secrets["sasToken"].as_str().unwrap();
    let url = format!("{}/blob/{account}/{container}/LocalUpload/h/t/MLTable", sandbox.url());
    let put = client()
        .put(format!("{url}?{sas}"))
        .header("x-ms-version", X_MS_VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .header("if-none-match", "*")
        .body("type: mltable\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 201);
    let meta = client()
        .put(format!("{url}?comp=metadata&{sas}"))
        .header("x-ms-version", X_MS_VERSION)
        .header("x-ms-meta-upload_status", "completed")
        .send()
        .await
        .unwrap();
    assert_eq!(meta.status().as_u16(), 200);
    let head = client().head(format!("{url}?{sas}")).header("x-ms-version", X_MS_VERSION).send().await.unwrap();
    assert_eq!(head.headers()["x-ms-meta-upload_status"], "completed");
    // The SAS is scoped to that container.
    sandbox.add_container(account, "elsewhere");
    let list = format!("{}/blob/{account}/elsewhere?restype=container&comp=list&{sas}", sandbox.url());
    assert_eq!(client().get(list).header("x-ms-version", X_MS_VERSION).send().await.unwrap().status().as_u16(), 403);
}

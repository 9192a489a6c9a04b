//! The DFS front end: List Paths (recursive or not, directory, continuation, maxResults) over the same blobs as
//! Blob, path reads and properties, and its JSON errors; with a real Delta log seeded from a folder.

mod common;

use std::collections::BTreeSet;

use common::*;
use drift_sandbox::Sandbox;
use reqwest::Method;
use serde_json::Value;

const ACCOUNT: &str = "lake01";
const KEY: &str = "ZHJpZnQtc2FuZGJveC10ZXN0LWFjY291bnQta2V5LTAxMjM0NTY3ODk=";

fn delta_dir() -> String {
    format!("{}/examples/delta/sales", env!("CARGO_MANIFEST_DIR"))
}

fn lake() -> Sandbox {
    let sandbox = sandbox();
    sandbox.add_storage_account(ACCOUNT, KEY);
    let copied = sandbox.add_directory(ACCOUNT, "raw", "tables/sales", delta_dir()).unwrap();
    assert_eq!(copied, 10);
    sandbox.add_blob(ACCOUNT, "raw", "readme.txt", "hi");
    sandbox
}

async fn list(sandbox: &Sandbox, query: &str) -> reqwest::Response {
    let url = format!("{}/dfs/{ACCOUNT}/raw?resource=filesystem&{query}", sandbox.url());
    signed(ACCOUNT, KEY, Method::GET, &url, &[], vec![]).await
}

fn names(body: &Value) -> Vec<String> {
    body["paths"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn list_paths_shapes_directories_and_files_like_the_service() {
    let sandbox = lake();
    let response = list(&sandbox, "recursive=false").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(response.headers().get("x-ms-continuation").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(names(&body), ["readme.txt", "tables"]);
    let tables = &body["paths"][1];
    assert_eq!(tables["isDirectory"], "true");
    assert_eq!(tables["contentLength"], "0");

    let body: Value = list(&sandbox, "recursive=false&directory=tables/sales/_delta_log").await.json().await.unwrap();
    let files = names(&body);
    assert_eq!(files.len(), 10);
    assert!(files.contains(&"tables/sales/_delta_log/00000000000000000006.json".to_string()));
    let entry = body["paths"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tables/sales/_delta_log/_last_checkpoint")
        .unwrap();
    assert_eq!(entry["contentLength"], "61", "contentLength is a string, as the service sends it");
    assert!(entry.get("isDirectory").is_none());
    assert!(entry["etag"].as_str().unwrap().starts_with("0x8D"));
    assert!(entry["lastModified"].as_str().unwrap().ends_with(" GMT"));

    let body: Value = list(&sandbox, "recursive=true&directory=tables").await.json().await.unwrap();
    let all = names(&body);
    assert_eq!(all[0], "tables/sales");
    assert_eq!(all[1], "tables/sales/_delta_log");
    assert_eq!(all.len(), 12);
}

#[tokio::test]
async fn continuation_tokens_walk_every_path_once() {
    let sandbox = lake();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = "recursive=true&maxResults=4".to_string();
        if let Some(t) = &token {
            query.push_str(&format!("&continuation={}", t.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")));
        }
        let response = list(&sandbox, &query).await;
        assert_eq!(response.status().as_u16(), 200);
        token = response.headers().get("x-ms-continuation").map(|v| v.to_str().unwrap().to_string());
        let body: Value = response.json().await.unwrap();
        seen.extend(names(&body));
        pages += 1;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 14);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 14, "no duplicates");
    let bad = list(&sandbox, "recursive=true&continuation=%%%").await;
    assert_eq!(bad.status().as_u16(), 400);
}

#[tokio::test]
async fn errors_are_json_with_codes() {
    let sandbox = lake();
    let cases = [
        ("recursive=false&directory=tables/nothing", 404, "PathNotFound"),
        ("directory=tables", 400, "MissingRequiredQueryParameter"),
        ("recursive=maybe", 400, "InvalidQueryParameterValue"),
        ("recursive=true&maxResults=0", 400, "InvalidQueryParameterValue"),
    ];
    for (query, status, code) in cases {
        let response = list(&sandbox, query).await;
        assert_eq!(response.status().as_u16(), status, "{query}");
        assert_eq!(response.headers()["x-ms-error-code"], code, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{query}");
        assert!(body["error"]["message"].as_str().unwrap().contains("RequestId:"), "{body}");
    }
    let url = format!("{}/dfs/{ACCOUNT}/nofs?resource=filesystem&recursive=false", sandbox.url());
    let response = signed(ACCOUNT, KEY, Method::GET, &url, &[], vec![]).await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()["x-ms-error-code"], "FilesystemNotFound");
}

#[tokio::test]
async fn reads_and_properties_share_the_blob_data() {
    let sandbox = lake();
    let path = "tables/sales/_delta_log/00000000000000000006.json";
    let expected = std::fs::read(format!("{}/_delta_log/00000000000000000006.json", delta_dir())).unwrap();
    let url = format!("{}/dfs/{ACCOUNT}/raw/{path}", sandbox.url());
    let read = signed(ACCOUNT, KEY, Method::GET, &url, &[], vec![]).await;
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(read.headers()["x-ms-resource-type"], "file");
    assert_eq!(read.bytes().await.unwrap().to_vec(), expected);
    let part = signed(ACCOUNT, KEY, Method::GET, &url, &[("range", "bytes=0-13")], vec![]).await;
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.text().await.unwrap(), "{\"commitInfo\":");
    let head = signed(ACCOUNT, KEY, Method::HEAD, &url, &[], vec![]).await;
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-length"], expected.len().to_string());
    let dir =
        signed(ACCOUNT, KEY, Method::HEAD, &format!("{}/dfs/{ACCOUNT}/raw/tables/sales", sandbox.url()), &[], vec![])
            .await;
    assert_eq!(dir.headers()["x-ms-resource-type"], "directory");
    let missing = format!("{}/dfs/{ACCOUNT}/raw/tables/nope.json", sandbox.url());
    let response = signed(ACCOUNT, KEY, Method::GET, &missing, &[], vec![]).await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()["x-ms-error-code"], "PathNotFound");
    let response = signed(ACCOUNT, KEY, Method::HEAD, &missing, &[], vec![]).await;
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.bytes().await.unwrap().is_empty());

    // A blob written through the Blob door appears at the DFS door.
    let blob = format!("{}/blob/{ACCOUNT}/raw/tables/sales/_delta_log/00000000000000000007.json", sandbox.url());
    let put = signed(ACCOUNT, KEY, Method::PUT, &blob, &[("x-ms-blob-type", "BlockBlob")], b"{}".to_vec()).await;
    assert_eq!(put.status().as_u16(), 201);
    let body: Value = list(&sandbox, "recursive=false&directory=tables/sales/_delta_log").await.json().await.unwrap();
    assert!(names(&body).contains(&"tables/sales/_delta_log/00000000000000000007.json".to_string()));
}

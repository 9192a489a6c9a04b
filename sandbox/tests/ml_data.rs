//! Data assets through HTTP: version PUT (201/200, dataUri normalisation, "Asset paths cannot be updated."),
//! GET, the version list with $orderBy/$top/$skip/listViewType, and containers.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};

fn folder(path: &str) -> Value {
    json!({"properties": {"dataType": "uri_folder", "dataUri": format!("azureml://datastores/workspaceblobstore/paths/{path}"),
        "description": "sales table", "tags": {"drift.deltaVersion": "6"}, "isAnonymous": false}})
}

fn long(ws: &drift_sandbox::WorkspaceRef, datastore: &str, path: &str) -> String {
    format!(
        "azureml://subscriptions/{SUB}/resourcegroups/{RG}/workspaces/{}/datastores/{datastore}/paths/{path}",
        ws.name
    )
}

#[tokio::test]
async fn put_normalises_and_refuses_new_paths() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let (status, body) = arm.put("/data/sales-uri/versions/20260101000000", &folder("tables/sales")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], format!("{}/data/sales-uri/versions/20260101000000", ws.arm_id()));
    assert_eq!(body["name"], "20260101000000");
    assert_eq!(body["type"], "Microsoft.MachineLearningServices/workspaces/data/versions");
    assert_eq!(body["properties"]["dataUri"], long(&ws, "workspaceblobstore", "tables/sales/"));
    let created = body["systemData"]["createdAt"].as_str().unwrap().to_string();
    assert!(created.contains('.') && created.ends_with("+00:00"), "{created}");

    // Same path (with or without the slash, short or long form): 200, tags replaced, createdAt kept.
    let mut again = folder("tables/sales/");
    again["properties"]["tags"] = json!({"drift.deltaVersion": "7"});
    let (status, body) = arm.put("/data/sales-uri/versions/20260101000000", &again).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["tags"]["drift.deltaVersion"], "7");
    assert_eq!(body["systemData"]["createdAt"], created);
    let mut long_form = folder("x");
    long_form["properties"]["dataUri"] = json!(long(&ws, "workspaceblobstore", "tables/sales"));
    assert_eq!(arm.put("/data/sales-uri/versions/20260101000000", &long_form).await.0, 200);

    let (status, body) = arm.put("/data/sales-uri/versions/20260101000000", &folder("tables/other")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "UserError");
    assert_eq!(body["error"]["message"], "Asset paths cannot be updated.");

    let (status, body) = arm.get("/data/sales-uri/versions/20260101000000", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["dataUri"], long(&ws, "workspaceblobstore", "tables/sales/"));
    let (status, _) = arm.get("/data/sales-uri/versions/1", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn mltable_keeps_referenced_uris_and_files_keep_no_slash() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    sandbox.add_datastore(
        &ws,
        "raw_zone",
        json!({"datastoreType": "AzureDataLakeGen2", "accountName": "dl", "filesystem": "raw",
        "credentials": {"credentialsType": "None"}}),
    );
    let body = json!({"properties": {"dataType": "mltable",
        "dataUri": "azureml://datastores/workspaceblobstore/paths/LocalUpload/abc123/sales",
        "referencedUris": [long(&ws, "raw_zone", "tables/sales")], "tags": {}}});
    let (status, answer) = arm.put("/data/sales-mltable/versions/1", &body).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["properties"]["referencedUris"][0], long(&ws, "raw_zone", "tables/sales"));
    assert_eq!(answer["properties"]["dataUri"], long(&ws, "workspaceblobstore", "LocalUpload/abc123/sales/"));
    let file =
        json!({"properties": {"dataType": "uri_file", "dataUri": "azureml://datastores/raw_zone/paths/a/b.csv"}});
    let (_, answer) = arm.put("/data/one-file/versions/1", &file).await;
    assert_eq!(answer["properties"]["dataUri"], long(&ws, "raw_zone", "a/b.csv"));
    let https = json!({"properties": {"dataType": "uri_file", "dataUri": "https://example.com/x.csv"}});
    let (_, answer) = arm.put("/data/web-file/versions/1", &https).await;
    assert_eq!(answer["properties"]["dataUri"], "https://example.com/x.csv");
}

#[tokio::test]
async fn bad_bodies_and_names_are_refused() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let cases = [
        (
            "unknown datastore",
            json!({"properties": {"dataType": "uri_folder", "dataUri": "azureml://datastores/nope/paths/p"}}),
            "nope",
        ),
        ("no dataUri", json!({"properties": {"dataType": "uri_folder"}}), "dataUri"),
        ("bad dataType", json!({"properties": {"dataType": "UriFolder", "dataUri": "x"}}), "allowed values"),
        (
            "referencedUris only for mltable",
            json!({"properties": {"dataType": "uri_folder", "dataUri": "x", "referencedUris": []}}),
            "referencedUris",
        ),
        (
            "unknown member",
            json!({"properties": {"dataType": "uri_folder", "dataUri": "x", "stage": "Production"}}),
            "stage",
        ),
        (
            "tags are strings",
            json!({"properties": {"dataType": "uri_folder", "dataUri": "x", "tags": {"n": 1}}}),
            "tags",
        ),
        ("no envelope", json!({"dataType": "uri_folder", "dataUri": "x"}), "dataType"),
    ];
    for (why, body, expected) in cases {
        let (status, answer) = arm.put("/data/sales/versions/1", &body).await;
        assert_eq!(status, 400, "{why}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(expected), "{why}: {answer}");
    }
    assert_eq!(arm.put("/data/_bad/versions/1", &folder("p")).await.0, 400);
    assert_eq!(arm.put("/data/good/versions/a%20b", &folder("p")).await.0, 400);
    // A refused first version leaves no empty container behind.
    let (status, _) = arm.get("/data/sales", &[]).await;
    assert_eq!(status, 404);
    let (status, body) = arm.put("/data/sales/versions/1", &folder("p")).await;
    assert_eq!(status, 201, "{body}");
    let mut changed = folder("p");
    changed["properties"]["dataType"] = json!("mltable");
    assert_eq!(arm.put("/data/sales/versions/1", &changed).await.0, 400);
}

#[tokio::test]
async fn versions_list_by_creation_time_with_top_and_skip() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    // Created out of name order: the order is by creation time, not by version string.
    for (version, secs) in [("b", 300), ("a", 100), ("c", 200), ("d", 400), ("e", 500)] {
        let at = UNIX_EPOCH + Duration::from_secs(1_767_225_600 + secs);
        sandbox.add_data_version_at(&ws, "sales", version, folder(&format!("v/{version}"))["properties"].clone(), at);
    }
    let names = |page: &Value| {
        page["value"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let (_, page) = arm.get("/data/sales/versions", &[("$orderBy", "createdtime desc"), ("$top", "1")]).await;
    assert_eq!(names(&page), ["e"]);
    let (_, page) = arm.get("/data/sales/versions", &[("$orderBy", "createdtime asc")]).await;
    assert_eq!(names(&page), ["a", "c", "b", "d", "e"]);
    assert!(page.get("nextLink").is_none());
    let (_, page) = arm.get("/data/sales/versions", &[]).await;
    assert_eq!(names(&page), ["e", "d", "b", "c", "a"], "default: newest first");

    let (_, first) = arm.get("/data/sales/versions", &[("$orderBy", "createdtime desc"), ("$top", "2")]).await;
    let mut all = names(&first);
    let mut next = first["nextLink"].as_str().map(str::to_string);
    let mut links = Vec::new();
    while let Some(link) = next {
        // The caller's query is carried over as it was encoded, plus the new $skip.
        assert!(link.contains("top=2") && link.contains("orderBy=createdtime") && link.contains("$skip="), "{link}");
        links.push(link.clone());
        let (status, page) = status_json(arm.follow(&link).await).await;
        assert_eq!(status, 200, "{page}");
        all.extend(names(&page));
        next = page["nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(all, ["e", "d", "b", "c", "a"]);
    assert_eq!(links.len(), 2);
    // The same token twice gives the same page.
    let (_, again) = status_json(arm.follow(&links[0]).await).await;
    assert_eq!(names(&again), ["b", "c"]);

    for (name, value) in [("$orderBy", "name"), ("$top", "0"), ("$top", "x"), ("$skip", "12"), ("listViewType", "Some")]
    {
        let (status, body) = arm.get("/data/sales/versions", &[(name, value)]).await;
        assert_eq!(status, 400, "{name}={value}: {body}");
    }
    let (status, page) = arm.get("/data/nothing/versions", &[("$orderBy", "createdtime desc"), ("$top", "1")]).await;
    assert_eq!((status, page["value"].as_array().map(Vec::len)), (200, Some(0)));
}

#[tokio::test]
async fn archived_versions_and_containers() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let mut archived = folder("old");
    archived["properties"]["isArchived"] = json!(true);
    assert_eq!(arm.put("/data/sales/versions/1", &archived).await.0, 201);
    assert_eq!(arm.put("/data/sales/versions/2", &folder("new")).await.0, 201);
    assert_eq!(arm.put("/data/other/versions/7", &folder("o")).await.0, 201);
    let count = |page: &Value| page["value"].as_array().unwrap().len();
    assert_eq!(count(&arm.get("/data/sales/versions", &[]).await.1), 1);
    assert_eq!(count(&arm.get("/data/sales/versions", &[("listViewType", "All")]).await.1), 2);
    assert_eq!(count(&arm.get("/data/sales/versions", &[("listViewType", "ArchivedOnly")]).await.1), 1);

    let (status, container) = arm.get("/data/sales", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(container["id"], format!("{}/data/sales", ws.arm_id()));
    assert_eq!(container["type"], "Microsoft.MachineLearningServices/workspaces/data");
    assert_eq!(container["properties"]["latestVersion"], "2");
    assert_eq!(container["properties"]["nextVersion"], "3");
    assert_eq!(container["properties"]["dataType"], "uri_folder");
    let (_, containers) = arm.get("/data", &[]).await;
    let names: Vec<_> = containers["value"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["other", "sales"]);
}

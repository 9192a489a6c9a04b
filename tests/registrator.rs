//! The registrator end to end against the sandbox: the exact request sequence and bodies of a first
//! registration, the idempotent rerun, `--force`, finishing an interrupted run, `plan`, the upload credential kinds,
//! an abfss:// config, and the error paths.

mod common;

use common::delta::*;
use common::ml::*;
use common::*;
use drift_sandbox::{BlobstoreCredential, Fault, WorkspaceRef};
use serde_json::{Value, json};

const ACCOUNT: &str = "datalakeprod";
const CONTAINER: &str = "curated-data";
const TABLE_PATH: &str = "delta/sales/daily";
const MLTABLE: &str = "curated-data-delta-sales-daily-mltable";
const URI: &str = "curated-data-delta-sales-daily-uri";
const DATASTORE: &str = "curated_data";
/// The small fixture table (tests/fixtures/delta/expected.json).
const DELTA_VERSION: u64 = 6;
const DELTA_COMMIT_MS: i64 = 1_795_833_036_812;

fn lake() -> (Sandbox, WorkspaceRef) {
    let (sb, ws) = ml_sandbox();
    sb.add_storage_account(ACCOUNT, "ZHJpZnQtdGVzdC1rZXktZm9yLWRhdGFsYWtlcHJvZA==");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delta/small");
    sb.add_directory(ACCOUNT, CONTAINER, TABLE_PATH, fixture).unwrap();
    (sb, ws)
}

fn config(extra: &str) -> (tempfile::TempDir, String) {
    let mut yaml = format!(
        "Processing:\n  type: drift.registrating.dataset_registrator.DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: {ACCOUNT}\n    containerName: {CONTAINER}\n    containerDataPath: {TABLE_PATH}\n"
    );
    for line in extra.lines() {
        yaml.push_str(&format!("    {line}\n"));
    }
    write_temp("registrator.yaml", &yaml)
}

fn run(args: &[&str], sb: &Sandbox) -> (Outcome, Value) {
    run_with(args, sb, &[])
}

/// `run` with more environment (e.g. `DRIFT_TEST_NOW`, the session's clock).
fn run_with(args: &[&str], sb: &Sandbox, extra: &[(&str, &str)]) -> (Outcome, Value) {
    let dir = tempfile::tempdir().unwrap();
    let tv = dir.path().join("task-values.json");
    let mut all = vec!["--output", "json", "--task-values-file", tv.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut env = sp_env(sb);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let out = drift(&all, &env);
    let values = std::fs::read_to_string(&tv).ok().map(|t| serde_json::from_str(&t).unwrap()).unwrap_or(Value::Null);
    (out, values)
}

/// `METHOD path` of every request except token requests, with query parameters that matter.
fn sequence(sb: &Sandbox) -> Vec<String> {
    sb.requests()
        .iter()
        .filter(|r| !r.path.starts_with("/aad/"))
        .map(|r| {
            let q = r.query.clone().unwrap_or_default();
            let mut s = format!("{} {}", r.method, r.path);
            for (key, label) in [
                ("comp=list", "comp=list"),
                ("comp=metadata", "comp=metadata"),
                ("skipValidation=true", "skipValidation=true"),
                ("orderBy", "$orderBy"),
            ] {
                if q.contains(key) {
                    s.push_str(&format!(" [{label}]"));
                }
            }
            s
        })
        .collect()
}

fn ws_path() -> String {
    format!(
        "/arm/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
    )
}

fn body_of(sb: &Sandbox, method: &str, path_end: &str) -> Value {
    let r = sb
        .requests()
        .into_iter()
        .find(|r| r.method == method && r.path.ends_with(path_end))
        .unwrap_or_else(|| panic!("no {method} …{path_end}"));
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn first_registration_makes_exactly_the_minimum_requests_with_the_right_bodies() {
    let (sb, ws) = lake();
    let (_d, cfg) = config("");
    let (out, values) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["outcome"], "registered");
    let version = r["details"]["version"].as_str().unwrap().to_string();
    assert_eq!(version.len(), 14);
    assert_eq!(values, json!({"data_asset_version": version}));
    assert_eq!(r["task_values"]["data_asset_version"], version.as_str());

    let blobstore = sb.datastore(&ws, "workspaceblobstore").unwrap();
    let up_account = blobstore["properties"]["accountName"].as_str().unwrap().to_string();
    let up_container = blobstore["properties"]["containerName"].as_str().unwrap().to_string();
    let upload_path = r["details"]["upload"]["path"].as_str().unwrap().to_string();
    assert!(
        upload_path.starts_with("LocalUpload/") && upload_path.ends_with(&format!("/{MLTABLE}/MLTable")),
        "{upload_path}"
    );
    let w = ws_path();
    // With no earlier version, the changes are read from the table's start: one GET per older commit (the newest
    // was read already), sent concurrently, so in no fixed order.
    let log = format!("GET /blob/{ACCOUNT}/{CONTAINER}/{TABLE_PATH}/_delta_log/");
    let (mut range, others): (Vec<String>, Vec<String>) = sequence(&sb)
        .into_iter()
        .partition(|r| r.starts_with(&log) && !r.ends_with("00000000000000000006.json") && r.ends_with(".json"));
    range.sort();
    assert_eq!(range, (0..DELTA_VERSION).map(|v| format!("{log}{v:020}.json")).collect::<Vec<_>>());
    assert_eq!(
        others,
        vec![
            format!("GET /blob/{ACCOUNT}/{CONTAINER} [comp=list]"),
            format!("GET /blob/{ACCOUNT}/{CONTAINER}/{TABLE_PATH}/_delta_log/00000000000000000006.json"),
            format!("GET {w}/data/{MLTABLE}/versions [$orderBy]"),
            format!("PUT {w}/datastores/{DATASTORE} [skipValidation=true]"),
            format!("GET {w}/datastores/workspaceblobstore"),
            format!("POST {w}/datastores/workspaceblobstore/listSecrets"),
            format!("HEAD /blob/{up_account}/{up_container}/{upload_path}"),
            format!("PUT /blob/{up_account}/{up_container}/{upload_path}"),
            format!("PUT /blob/{up_account}/{up_container}/{upload_path} [comp=metadata]"),
            format!("PUT {w}/data/{MLTABLE}/versions/{version}"),
            format!("PUT {w}/data/{URI}/versions/{version}"),
        ]
    );
    assert_eq!(token_requests(&sb), 2, "one ARM token, one storage token");

    // The datastore: ADLS Gen2 with the service principal, secret in the body only.
    let ds = body_of(&sb, "PUT", &format!("/datastores/{DATASTORE}"));
    let p = &ds["properties"];
    assert_eq!(p["datastoreType"], "AzureDataLakeGen2");
    assert_eq!(p["accountName"], ACCOUNT);
    assert_eq!(p["filesystem"], CONTAINER);
    assert_eq!(p["endpoint"], "core.windows.net");
    assert_eq!(p["protocol"], "https");
    assert_eq!(p["credentials"]["credentialsType"], "ServicePrincipal");
    assert_eq!(p["credentials"]["tenantId"], TENANT);
    assert_eq!(p["credentials"]["clientId"], CLIENT_ID);
    // The cloud's authority as the SDK writes it, never the AZURE_AUTHORITY_HOST override this run talks to.
    assert_eq!(p["credentials"]["authorityUrl"], "https://login.microsoftonline.com");
    assert_eq!(p["credentials"]["secrets"], json!({"secretsType": "ServicePrincipal", "clientSecret": CLIENT_SECRET}));
    assert_eq!(r["details"]["datastore"]["body"]["properties"]["credentials"]["secrets"]["clientSecret"], "[redacted]");

    // The MLTable: what the mltable package writes, pinned to the Delta version, uploaded SDK-style.
    let folder = format!(
        "azureml://subscriptions/{SUBSCRIPTION}/resourcegroups/{RG}/workspaces/{WS}/datastores/{DATASTORE}/paths/{TABLE_PATH}"
    );
    let expected = format!(
        "paths:\n- folder: {folder}\ntransformations:\n- read_delta_lake:\n    include_path_column: false\n    version_as_of: {DELTA_VERSION}\ntype: mltable\n"
    );
    let blob = sb.blob(&up_account, &up_container, &upload_path).unwrap();
    assert_eq!(String::from_utf8(blob.bytes.to_vec()).unwrap(), expected);
    let hash = upload_path.split('/').nth(1).unwrap();
    // SHA-256 as azure-ai-ml 1.35 names uploads (64 hex digits; the old MD5 recipe gave 32).
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    assert_eq!(
        hash,
        drift::mltable::folder_hash(&[drift::mltable::UploadFile { name: "MLTable", content: expected.as_bytes() }])
    );
    assert_eq!(blob.metadata.get("upload_status").map(String::as_str), Some("completed"));
    assert_eq!(blob.metadata.get("name").map(String::as_str), Some(MLTABLE));
    assert_eq!(blob.metadata.get("version").map(String::as_str), Some(version.as_str()));

    // Both data versions.
    let m = body_of(&sb, "PUT", &format!("/data/{MLTABLE}/versions/{version}"));
    let u = body_of(&sb, "PUT", &format!("/data/{URI}/versions/{version}"));
    let dir = upload_path.trim_end_matches("/MLTable");
    assert_eq!(m["properties"]["dataType"], "mltable");
    assert_eq!(m["properties"]["dataUri"], format!("azureml://datastores/workspaceblobstore/paths/{dir}"));
    assert_eq!(m["properties"]["referencedUris"], json!([folder]));
    assert_eq!(m["properties"]["isAnonymous"], false);
    assert_eq!(u["properties"]["dataType"], "uri_folder");
    assert_eq!(u["properties"]["dataUri"], folder);
    for body in [&m, &u] {
        let tags = &body["properties"]["tags"];
        assert_eq!(tags["drift.deltaVersion"], DELTA_VERSION.to_string());
        let ts = chrono::DateTime::from_timestamp_millis(DELTA_COMMIT_MS).unwrap();
        assert_eq!(tags["drift.deltaCommitTimestamp"], ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        assert_eq!(tags["drift.source"], format!("abfss://{CONTAINER}@{ACCOUNT}.dfs.core.windows.net/{TABLE_PATH}"));
        assert_eq!(tags["drift.toolVersion"], env!("CARGO_PKG_VERSION"));
        // What changed since the table's start (the fixture's generator): v0 3 rows, v1 +1, v2 overwrite (+2 and
        // an uncounted removal), v3 +1 with a new column, v4 delete 1, v5 +1, v6 optimize.
        assert_eq!(tags["drift.previousVersion"], "none");
        assert_eq!(tags["drift.previousDeltaVersion"], "none");
        assert_eq!(tags["drift.commits"], "7");
        assert_eq!(tags["drift.rowsInserted"], "8");
        assert_eq!(tags["drift.rowsUpdated"], "0");
        assert_eq!(tags["drift.rowsDeleted"], "1");
        assert_eq!(tags["drift.rowsExact"], "false", "the overwrite's removed rows are not counted");
        assert_eq!(tags["drift.operations"], "WRITE:5,DELETE:1,OPTIMIZE:1");
        assert_eq!(tags["drift.schemaChanged"], "true", "v3 added a column");
        assert_eq!(tags["drift.schemaHash"].as_str().map(str::len), Some(16));
    }
    // The service normalised them; both exist.
    assert!(sb.data_version(&ws, MLTABLE, &version).is_some() && sb.data_version(&ws, URI, &version).is_some());
}

#[test]
fn a_rerun_on_an_unchanged_table_writes_nothing_and_publishes_the_same_version() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("");
    let (first, _) = run(&["run", "--config", &cfg], &sb);
    first.assert_code(0);
    let version = first.report()["details"]["version"].as_str().unwrap().to_string();
    sb.clear_requests();
    // A day later by the session's clock, without waiting for it: the version is the Delta commit's, not the clock's.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (second, values) = run_with(&["run", "--config", &cfg], &sb, &[("DRIFT_TEST_NOW", &tomorrow)]);
    second.assert_code(0);
    let r = second.report();
    assert_eq!(r["outcome"], "unchanged");
    assert_eq!(values, json!({"data_asset_version": version}));
    assert!(arm_writes(&sb).is_empty(), "{:?}", arm_writes(&sb));
    assert!(
        sb.requests().iter().all(|r| r.method == "GET" || r.path.starts_with("/aad/")),
        "only reads: {:?}",
        sequence(&sb)
    );
}

/// `--force` writes the registration again (datastore, upload check, both versions) under the same version: a
/// data version is derived from its Delta commit, so one Delta version never has two data versions.
#[test]
fn force_registers_again_under_the_same_version() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("");
    let (first, _) = run(&["run", "--config", &cfg], &sb);
    let v1 = first.report()["details"]["version"].as_str().unwrap().to_string();
    let (second, values) = run(&["run", "--config", &cfg, "--force"], &sb);
    second.assert_code(0);
    let r = second.report();
    assert_eq!(r["outcome"], "registered");
    assert_eq!(r["details"]["version"], v1.as_str());
    assert_eq!(values["data_asset_version"], v1.as_str());
    assert_eq!(r["details"]["assets"][0]["action"], "updated");
    assert_eq!(r["details"]["assets"][1]["action"], "updated");
    // Same MLTable content: the upload is skipped.
    assert_eq!(r["details"]["upload"]["action"], "already_uploaded");
    // The version keeps the changes it recorded against its predecessor (here: the table's start).
    assert_eq!(r["details"]["changes"]["drift.previousVersion"], "none");
    assert_eq!(r["details"]["changes"]["drift.commits"], "7");
}

/// The version is the Delta commit's time, so a run at any later moment registers the same string.
#[test]
fn the_data_version_is_the_delta_commit_time() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("");
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(0);
    let expected = chrono::DateTime::from_timestamp_millis(DELTA_COMMIT_MS).unwrap().format("%Y%m%d%H%M%S").to_string();
    assert_eq!(out.report()["details"]["version"], expected.as_str());
}

#[test]
fn an_interrupted_run_is_finished_by_the_next_one_without_a_third_version() {
    let (sb, ws) = lake();
    let (_d, cfg) = config("");
    // The second data-version PUT fails for good: the first attempt and all four retries.
    sb.push_fault(Fault::new(format!("/data/{URI}/versions/"), 503).method("PUT").times(5));
    let (first, values) = run(&["run", "--config", &cfg], &sb);
    first.assert_code(4);
    assert_eq!(values, Value::Null, "no task value on failure");
    let version = {
        let puts: Vec<_> = sb
            .requests()
            .into_iter()
            .filter(|r| r.method == "PUT" && r.path.contains(&format!("/data/{MLTABLE}/versions/")))
            .collect();
        puts[0].path.rsplit('/').next().unwrap().to_string()
    };
    assert!(sb.data_version(&ws, URI, &version).is_none());
    sb.clear_requests();
    let (second, values) = run(&["run", "--config", &cfg], &sb);
    second.assert_code(0);
    let r = second.report();
    assert_eq!(r["outcome"], "completed");
    assert_eq!(values["data_asset_version"], version.as_str());
    assert_eq!(arm_writes(&sb), vec![format!("PUT {}/data/{URI}/versions/{version}", ws_path())]);
    assert!(sb.data_version(&ws, URI, &version).is_some());
}

#[test]
fn plan_writes_nothing_and_shows_the_mltable() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("");
    let (out, values) = run(&["plan", "--config", &cfg], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["outcome"], "planned");
    assert!(r["details"]["mltable"].as_str().unwrap().contains(&format!("version_as_of: {DELTA_VERSION}")));
    assert_eq!(r["details"]["datastore"]["action"], "would_put");
    assert!(r["details"]["wouldPublish"]["data_asset_version"].is_string());
    assert!(r["task_values"].as_object().unwrap().is_empty());
    assert_eq!(values, json!({}), "plan publishes nothing");
    assert!(sb.requests().iter().all(|r| r.method == "GET" || r.path.starts_with("/aad/")), "{:?}", sequence(&sb));
    assert!(out.stdout.lines().last().unwrap().contains("\"command\":\"plan\""));
}

#[test]
fn pin_by_timestamp() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("pinBy: timestamp");
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(0);
    let ts = chrono::DateTime::from_timestamp_millis(DELTA_COMMIT_MS).unwrap();
    let mltable = out.report()["details"]["mltable"].as_str().unwrap().to_string();
    assert!(
        mltable.contains(&format!("timestamp_as_of: '{}'", ts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        "{mltable}"
    );
}

#[test]
fn upload_with_sas_and_identity_based_blobstores() {
    for (credential, expect_list_secrets) in [(BlobstoreCredential::Sas, true), (BlobstoreCredential::None, false)] {
        let (sb, ws) = lake();
        sb.set_workspace_blobstore(&ws, "wsblobs", "azureml-blobstore", credential);
        let (_d, cfg) = config("");
        let (out, _) = run(&["run", "--config", &cfg], &sb);
        out.assert_code(0);
        let path = out.report()["details"]["upload"]["path"].as_str().unwrap().to_string();
        assert!(sb.blob("wsblobs", "azureml-blobstore", &path).is_some());
        assert_eq!(calls(&sb, "/listSecrets").len(), usize::from(expect_list_secrets));
    }
}

#[test]
fn config_read_from_abfss() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("");
    sb.add_blob(ACCOUNT, "configs", "drift/registrator.yaml", std::fs::read(&cfg).unwrap());
    let origin = format!("abfss://configs@{ACCOUNT}.dfs.core.windows.net/drift/registrator.yaml");
    let (out, _) = run(&["run", "--config", &origin], &sb);
    out.assert_code(0);
    assert_eq!(out.report()["outcome"], "registered");
    assert_eq!(calls(&sb, "/dfs/").len(), 1, "the config is one DFS read");
    let (out, _) = run(&["run", "--config", &format!("abfss://configs@{ACCOUNT}.dfs.core.windows.net/nope.yaml")], &sb);
    out.assert_code(2);
    assert!(out.stderr.contains("file not found"), "{}", out.stderr);
}

#[test]
fn not_a_delta_table_or_missing_container_is_exit_2() {
    let (sb, _ws) = lake();
    let (_d, cfg) = config("");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let (_e, no_table) = write_temp("a.yaml", &text.replace(TABLE_PATH, "delta/none"));
    let (out, _) = run(&["run", "--config", &no_table], &sb);
    out.assert_code(2);
    assert!(out.stderr.contains("is not a Delta table"), "{}", out.stderr);
    let (_f, no_container) =
        write_temp("b.yaml", &text.replace(&format!("containerName: {CONTAINER}"), "containerName: missing-container"));
    let (out, _) = run(&["run", "--config", &no_container], &sb);
    out.assert_code(2);
    assert!(out.stderr.contains("missing-container") && out.stderr.contains(ACCOUNT), "{}", out.stderr);
}

#[test]
fn storage_permission_denied_is_exit_3_naming_account_and_role() {
    let (sb, _ws) = lake();
    // The principal may use ARM but has no role on the lake.
    sb.grant(CLIENT_ID, "arm/");
    let (_d, cfg) = config("");
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(3);
    assert!(out.stderr.contains(ACCOUNT) && out.stderr.contains("Storage Blob Data Reader"), "{}", out.stderr);
}

#[test]
fn arm_errors_surface_code_and_message() {
    let (sb, _ws) = lake();
    sb.push_fault(
        Fault::new(format!("/data/{MLTABLE}/versions/"), 409)
            .method("PUT")
            .body(r#"{"error":{"code":"UserError","message":"Asset paths cannot be updated."}}"#),
    );
    let (_d, cfg) = config("");
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(4);
    assert!(out.stderr.contains("UserError: Asset paths cannot be updated."), "{}", out.stderr);
    assert!(out.stderr.contains("x-ms-request-id="), "{}", out.stderr);
}

// ---- What changed since the previous version (issue 10) ----

/// A hand-built table, `tables/events` in the lake's container, whose commits the tests append.
const EVENTS: &str = "tables/events";
const EVENTS_MLTABLE: &str = "curated-data-tables-events-mltable";
const EVENTS_URI: &str = "curated-data-tables-events-uri";
fn add_commit(sb: &Sandbox, version: u64, text: String) {
    sb.add_blob(ACCOUNT, CONTAINER, &format!("{EVENTS}/_delta_log/{version:020}.json"), text);
}

fn events_config() -> (tempfile::TempDir, String) {
    let yaml = format!(
        "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: {ACCOUNT}\n    containerName: {CONTAINER}\n    containerDataPath: {EVENTS}\n"
    );
    write_temp("registrator.yaml", &yaml)
}

/// Registers and returns the report's version and the tags both data versions carry (which must agree).
fn register_events(sb: &Sandbox, ws: &WorkspaceRef, cfg: &str) -> (String, Value) {
    let (out, _) = run(&["run", "--config", cfg], sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["outcome"], "registered", "{r}");
    let version = r["details"]["version"].as_str().unwrap().to_string();
    let m = sb.data_version(ws, EVENTS_MLTABLE, &version).unwrap();
    let u = sb.data_version(ws, EVENTS_URI, &version).unwrap();
    let mut tags = m["properties"]["tags"].clone();
    assert_eq!(tags, u["properties"]["tags"], "both data versions carry the same tags");
    // The report shows the change tags it wrote.
    for (k, v) in r["details"]["changes"].as_object().unwrap() {
        assert_eq!(&tags[k], v, "{k}");
    }
    if let Some(t) = tags.as_object_mut() {
        t.retain(|k, _| {
            k.starts_with("drift.")
                && !["drift.source", "drift.toolVersion", "drift.deltaCommitTimestamp"].contains(&k.as_str())
        });
        t.remove("drift.schemaHash");
    }
    (version, tags)
}

fn commit_reads(sb: &Sandbox) -> Vec<String> {
    let prefix = format!("/blob/{ACCOUNT}/{CONTAINER}/{EVENTS}/_delta_log/");
    let mut reads: Vec<String> = sb
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&prefix))
        .map(|r| r.path.trim_start_matches(&prefix).to_string())
        .collect();
    reads.sort();
    reads
}

#[test]
fn a_table_that_grows_by_small_and_large_writes_records_what_changed_each_time() {
    let (sb, ws) = lake();
    let (_d, cfg) = events_config();
    add_commit(
        &sb,
        0,
        commit(0, "CREATE TABLE AS SELECT", json!({"numFiles": "1", "numOutputRows": "1000"}), Some(SCHEMA_V1), true),
    );
    let (v0, tags) = register_events(&sb, &ws, &cfg);
    assert_eq!(
        tags,
        json!({"drift.deltaVersion": "0", "drift.previousVersion": "none", "drift.previousDeltaVersion": "none",
            "drift.commits": "1", "drift.rowsInserted": "1000", "drift.rowsUpdated": "0", "drift.rowsDeleted": "0",
            "drift.rowsExact": "true", "drift.operations": "CREATE TABLE AS SELECT:1", "drift.schemaChanged": "false"})
    );

    // A small append: one commit, which the state read already fetched — no extra request.
    add_commit(&sb, 1, commit(1, "WRITE", json!({"numFiles": "1", "numOutputRows": "5"}), None, true));
    sb.clear_requests();
    let (v1, tags) = register_events(&sb, &ws, &cfg);
    assert_eq!(commit_reads(&sb), vec![format!("{:020}.json", 1)], "the newest commit, once");
    assert_eq!(
        tags,
        json!({"drift.deltaVersion": "1", "drift.previousVersion": v0, "drift.previousDeltaVersion": "0",
            "drift.commits": "1", "drift.rowsInserted": "5", "drift.rowsUpdated": "0", "drift.rowsDeleted": "0",
            "drift.rowsExact": "true", "drift.operations": "WRITE:1", "drift.schemaChanged": "false"})
    );

    // A large change: 100 MERGE commits and an OPTIMIZE (no data change), each commit read once.
    for v in 2..=101 {
        let metrics = json!({"numTargetRowsInserted": "400", "numTargetRowsUpdated": "90", "numTargetRowsDeleted": "10",
            "numTargetRowsCopied": "5000", "numOutputRows": "5490"});
        add_commit(&sb, v, commit(v, "MERGE", metrics, None, true));
    }
    add_commit(&sb, 102, commit(102, "OPTIMIZE", json!({"numAddedFiles": "1", "numRemovedFiles": "100"}), None, false));
    sb.clear_requests();
    let (v2, tags) = register_events(&sb, &ws, &cfg);
    assert_eq!(commit_reads(&sb), (2..=102).map(|v| format!("{v:020}.json")).collect::<Vec<_>>());
    assert_eq!(
        tags,
        json!({"drift.deltaVersion": "102", "drift.previousVersion": v1, "drift.previousDeltaVersion": "1",
            "drift.commits": "101", "drift.rowsInserted": "40000", "drift.rowsUpdated": "9000", "drift.rowsDeleted": "1000",
            "drift.rowsExact": "true", "drift.operations": "MERGE:100,OPTIMIZE:1", "drift.schemaChanged": "false"})
    );

    // Schema evolution: a new column in a metaData action, and a delete whose rows Spark did not count.
    add_commit(&sb, 103, commit(103, "WRITE", json!({"numFiles": "1", "numOutputRows": "7"}), Some(SCHEMA_V2), true));
    add_commit(&sb, 104, commit(104, "DELETE", json!({"numRemovedFiles": "3"}), None, true));
    let (_v3, tags) = register_events(&sb, &ws, &cfg);
    assert_eq!(tags["drift.previousVersion"], v2.as_str());
    assert_eq!(
        (
            &tags["drift.rowsInserted"],
            &tags["drift.rowsExact"],
            &tags["drift.operations"],
            &tags["drift.schemaChanged"]
        ),
        (&json!("7"), &json!("false"), &json!("DELETE:1,WRITE:1"), &json!("true"))
    );

    // Unchanged: nothing is read beyond the newest commit, nothing is written.
    sb.clear_requests();
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    assert_eq!(out.report()["outcome"], "unchanged");
    assert!(out.report()["details"].get("changes").is_none());
    assert!(arm_writes(&sb).is_empty(), "{:?}", arm_writes(&sb));
    assert_eq!(commit_reads(&sb), vec![format!("{:020}.json", 104)]);
}

#[test]
fn log_retention_a_huge_range_or_a_legacy_version_give_unknown_values_never_a_failure() {
    let (sb, ws) = lake();
    let (_d, cfg) = events_config();
    // An earlier registration at Delta version 2; since then log cleanup removed every commit before 10.
    let previous = |deltaversion: &str| {
        json!({"dataType": "mltable", "dataUri": "azureml://datastores/workspaceblobstore/paths/x/",
            "tags": {"drift.deltaVersion": deltaversion}})
    };
    sb.add_data_version_at(&ws, EVENTS_MLTABLE, "20260101000000", previous("2"), at(0));
    sb.add_blob(ACCOUNT, CONTAINER, &format!("{EVENTS}/_delta_log/{:020}.checkpoint.parquet", 10), "PAR1");
    for v in 10..=12 {
        add_commit(&sb, v, commit(v, "WRITE", json!({"numOutputRows": "1"}), None, true));
    }
    sb.clear_requests();
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["outcome"], "registered");
    let c = &r["details"]["changes"];
    assert_eq!(c["drift.previousDeltaVersion"], "2");
    assert_eq!(c["drift.commits"], "10", "known from the versions even when unreadable");
    for k in ["drift.rowsInserted", "drift.rowsUpdated", "drift.rowsDeleted", "drift.operations", "drift.schemaChanged"]
    {
        assert_eq!(c[k], "unknown", "{k}");
    }
    assert_eq!(c["drift.rowsExact"], "false");
    let why = r["details"]["changesUnknownBecause"].as_str().unwrap();
    assert!(why.contains("log retention"), "{why}");
    assert_eq!(commit_reads(&sb), vec![format!("{:020}.json", 12)], "no read was attempted for a range known gone");

    // More commits than drift reads: unknown at once, without reading them.
    add_commit(&sb, 10_020, commit(10_020, "WRITE", json!({"numOutputRows": "1"}), None, true));
    sb.clear_requests();
    let (out, _) = run(&["run", "--config", &cfg], &sb);
    out.assert_code(0);
    let r = out.report();
    assert_eq!(r["details"]["changes"]["drift.commits"], "10008");
    assert!(r["details"]["changesUnknownBecause"].as_str().unwrap().contains("more than the 10000"), "{r}");
    assert_eq!(commit_reads(&sb), vec![format!("{:020}.json", 10_020)]);
    assert!(out.stderr.contains("changes since the previous version unknown"), "warned: {}", out.stderr);

    // The next registration reads normally from there: its predecessor has a drift.deltaVersion.
    add_commit(&sb, 10_021, commit(10_021, "WRITE", json!({"numOutputRows": "3"}), None, true));
    let (_v, tags) = register_events(&sb, &ws, &cfg);
    assert_eq!((&tags["drift.commits"], &tags["drift.rowsInserted"]), (&json!("1"), &json!("3")));
    // No schema was ever recorded (the range had no metaData and the predecessor no hash): still not "changed".
    assert_eq!(tags["drift.schemaChanged"], "false");
}

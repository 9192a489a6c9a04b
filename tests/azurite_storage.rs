//! The storage client and the Delta-log reader against a real Azurite: real-writer Delta logs uploaded through
//! `BlobClient`, then read back with Shared Key and with a service SAS; create-if-absent, metadata, paging and
//! the error exits. Ignored by a plain `cargo test`; run with
//! `cargo test --test azurite_storage -- --include-ignored` (starts Azurite via `scripts/azurite.sh`).

#[path = "support/azurite.rs"]
mod azurite;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use drift::azure::storage::{BlobClient, PutOutcome, STORAGE_API_VERSION, SharedKeySigner, StorageAuth};
use drift::cloud::{CloudName, Endpoints};
use drift::delta::TimeSource;
use drift::http::{Auth, HttpClient, RetryPolicy};
use drift::pipeline::registrator::table::read_table_state;
use drift::secret::Secret;

use azurite::{ACCOUNT, ACCOUNT_KEY, azurite};

/// Concurrent uploads while seeding a container (Azurite handles this many without strain).
const UPLOAD_CONCURRENCY: usize = 16;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delta")
}

fn expected(table: &str) -> (u64, i64) {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    (json[table]["version"].as_u64().unwrap(), json[table]["newest_commit_timestamp_ms"].as_i64().unwrap())
}

/// `(name relative to the table, content)` of the small fixture's log.
fn small_log() -> Vec<(String, Vec<u8>)> {
    let dir = fixtures().join("small/_delta_log");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (format!("_delta_log/{}", e.file_name().to_str().unwrap()), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The same for the 1,000+-commit fixture, from its tarball.
fn many_log() -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(fixtures().join("many.tar.gz")).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().unwrap().into_owned();
        let name = path.strip_prefix("many").unwrap().to_str().unwrap().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        files.push((name, bytes));
    }
    files
}

fn endpoints() -> Endpoints {
    let env: HashMap<String, String> =
        [("DRIFT_BLOB_ENDPOINT".to_string(), azurite().endpoint_template.clone())].into_iter().collect();
    Endpoints::resolve(CloudName::AzureCloud, &env).unwrap()
}

fn http() -> HttpClient {
    HttpClient::new(RetryPolicy { delay_scale: 0.0, ..RetryPolicy::default() }).unwrap()
}

fn key_auth() -> StorageAuth {
    StorageAuth::SharedKey { account: ACCOUNT.into(), key: Secret::new(ACCOUNT_KEY) }
}

/// A container name unique to this test and process (3–63 lower-case letters, digits, hyphens).
fn container(test: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{test}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Creates a container (not something drift does, so not in its client), signed with drift's Shared Key signer.
async fn create_container(http: &HttpClient, name: &str) {
    let url = format!("{}/{name}?restype=container", endpoints().blob_account(ACCOUNT));
    let signer = SharedKeySigner::new(ACCOUNT, Secret::new(ACCOUNT_KEY));
    let response = http
        .request(reqwest::Method::PUT, &url)
        .unwrap()
        .header("x-ms-version", STORAGE_API_VERSION)
        .unwrap()
        .header("content-length", "0")
        .unwrap()
        .auth(Auth::Signed(Arc::new(signer)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status, 201);
}

async fn upload(blob: &BlobClient, container: &str, table: &str, files: Vec<(String, Vec<u8>)>) {
    let started = Instant::now();
    let count = files.len();
    futures_util::stream::iter(files)
        .map(|(name, bytes)| async move {
            let outcome = blob
                .put_if_absent(
                    container,
                    &format!("{table}/{name}"),
                    Bytes::from(bytes),
                    "application/json",
                    &BTreeMap::new(),
                )
                .await?;
            assert_eq!(outcome, PutOutcome::Created, "{name}");
            Ok::<_, drift::Error>(())
        })
        .buffer_unordered(UPLOAD_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    eprintln!("uploaded {count} log files to {container}/{table} in {:.2} s", started.elapsed().as_secs_f64());
}

/// A service SAS for a whole container (`sr=c`), signed with the account key (string-to-sign of version
/// 2020-12-06 and later: 16 fields).
fn container_sas(container: &str, permissions: &str, key: &str) -> String {
    let version = "2022-11-02";
    let expiry = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let resource = format!("/blob/{ACCOUNT}/{container}");
    let fields = [permissions, "", &expiry, &resource, "", "", "", version, "c", "", "", "", "", "", "", ""];
    let mut mac = Hmac::<Sha256>::new_from_slice(&BASE64.decode(key).unwrap()).unwrap();
    mac.update(fields.join("\n").as_bytes());
    let sig = BASE64.encode(mac.finalize().into_bytes());
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("sv={version}&sr=c&sp={permissions}&se={}&sig={}", enc(&expiry), enc(&sig))
}

#[tokio::test]
#[ignore = "needs Azurite: scripts/azurite.sh / .ci/run"]
async fn shared_key_reads_real_delta_logs_with_paging() {
    let http = http();
    let c = container("sharedkey");
    create_container(&http, &c).await;
    let blob = BlobClient::new(http.clone(), &endpoints(), ACCOUNT, key_auth());
    upload(&blob, &c, "tables/small", small_log()).await;
    let many = many_log();
    let many_count = many.len();
    upload(&blob, &c, "tables/many", many).await;

    let (version, ts) = expected("small");
    let state = read_table_state(&blob, &c, "/tables/small/").await.unwrap();
    assert_eq!(state.version, version);
    assert_eq!(state.commit_time.timestamp_millis(), ts);
    assert_eq!(state.time_source, TimeSource::CommitInfoTimestamp);

    let (version, ts) = expected("many");
    let started = Instant::now();
    let state = read_table_state(&blob, &c, "tables/many").await.unwrap();
    eprintln!("read_table_state on {many_count} log files (1 page): {:.3} s", started.elapsed().as_secs_f64());
    assert_eq!((state.version, state.commit_time.timestamp_millis()), (version, ts));

    // Small pages: the reader follows NextMarker across 11 pages and gets the same answer.
    let paged = blob.clone().with_page_size(100);
    let first = paged.list(&c, "tables/many/_delta_log/", None).await.unwrap();
    assert_eq!(first.items.len(), 100);
    assert!(first.next_marker.is_some());
    assert!(first.items.windows(2).all(|w| w[0].name < w[1].name));
    assert_eq!(paged.list_all(&c, "tables/many/_delta_log/").await.unwrap().len(), many_count);
    let started = Instant::now();
    let state = read_table_state(&paged, &c, "tables/many").await.unwrap();
    eprintln!("read_table_state with 100-name pages: {:.3} s", started.elapsed().as_secs_f64());
    assert_eq!((state.version, state.commit_time.timestamp_millis()), (version, ts));

    // A path without a log is not a Delta table: exit 2.
    let err = read_table_state(&blob, &c, "tables/nothing").await.unwrap_err();
    assert_eq!(err.exit_status().code(), 2, "{err}");
    assert!(err.to_string().contains("is not a Delta table (no _delta_log/ under it)"), "{err}");
    // Log files of another table whose name merely starts the same do not count.
    let err = read_table_state(&blob, &c, "tables/sma").await.unwrap_err();
    assert_eq!(err.exit_status().code(), 2, "{err}");
}

#[tokio::test]
#[ignore = "needs Azurite: scripts/azurite.sh / .ci/run"]
async fn sas_writes_and_reads_a_delta_log() {
    let http = http();
    let c = container("sas");
    create_container(&http, &c).await;
    let sas = container_sas(&c, "racwl", ACCOUNT_KEY);
    let blob = BlobClient::new(http.clone(), &endpoints(), ACCOUNT, StorageAuth::Sas(Secret::new(format!("?{sas}"))));
    upload(&blob, &c, "t", small_log()).await;
    let (version, ts) = expected("small");
    let state = read_table_state(&blob, &c, "t").await.unwrap();
    assert_eq!((state.version, state.commit_time.timestamp_millis()), (version, ts));

    // A SAS signed with another key: exit 3, and the signature never shows.
    let forged = container_sas(&c, "rl", &BASE64.encode([7u8; 64]));
    let forged_sig = forged.rsplit("sig=").next().unwrap().to_string();
    let bad = BlobClient::new(http, &endpoints(), ACCOUNT, StorageAuth::Sas(Secret::new(forged)));
    let err = read_table_state(&bad, &c, "t").await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.exit_status().code(), 3, "{text}");
    assert!(text.contains("rejected the SAS"), "{text}");
    // The message names the account, not the URL; the URL (for the debug log) carries the signature redacted.
    let url = err.http_cause().map(|h| h.url.to_string()).unwrap_or_default();
    assert!(url.contains("sig=REDACTED"), "{url}");
    for shown in [text.clone(), err.chain(), format!("{err:?}"), url] {
        assert!(!shown.contains(&forged_sig), "{shown}");
    }
    eprintln!("forged SAS → {text}");
}

#[tokio::test]
#[ignore = "needs Azurite: scripts/azurite.sh / .ci/run"]
async fn put_if_absent_metadata_head_and_get() {
    let http = http();
    let c = container("put");
    create_container(&http, &c).await;
    let blob = BlobClient::new(http, &endpoints(), ACCOUNT, key_auth());
    let name = "LocalUpload/0123abcd/sales data/MLTable";
    let body = Bytes::from_static(b"paths:\n- folder: azureml://datastores/x/paths/y/\ntype: mltable\n");
    let meta: BTreeMap<String, String> = [("name".to_string(), "sales".to_string())].into_iter().collect();
    assert_eq!(
        blob.put_if_absent(&c, name, body.clone(), "application/x-yaml", &meta).await.unwrap(),
        PutOutcome::Created
    );
    let other = Bytes::from_static(b"something else");
    assert_eq!(
        blob.put_if_absent(&c, name, other, "application/x-yaml", &meta).await.unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(blob.get(&c, name).await.unwrap(), Some(body.clone()), "the second put must not overwrite");

    let props = blob.head(&c, name).await.unwrap().unwrap();
    assert_eq!(props.size, body.len() as u64);
    assert_eq!(props.metadata, meta);
    let done: BTreeMap<String, String> =
        [("upload_status", "completed"), ("name", "sales"), ("version", "20251128032000")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    blob.set_metadata(&c, name, &done).await.unwrap();
    let props = blob.head(&c, name).await.unwrap().unwrap();
    assert_eq!(props.metadata, done);
    assert!(props.last_modified <= chrono::Utc::now() + chrono::Duration::minutes(1));

    assert_eq!(blob.get(&c, "LocalUpload/none").await.unwrap(), None);
    assert_eq!(blob.head(&c, "LocalUpload/none").await.unwrap(), None);
}

#[tokio::test]
#[ignore = "needs Azurite: scripts/azurite.sh / .ci/run"]
async fn missing_container_is_a_usage_error() {
    let blob = BlobClient::new(http(), &endpoints(), ACCOUNT, key_auth());
    let err = read_table_state(&blob, "no-such-container", "t").await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.exit_status().code(), 2, "{text}");
    assert!(text.contains("container \"no-such-container\" not found in storage account devstoreaccount1"), "{text}");
    let err = blob.get("no-such-container", "x").await.unwrap_err();
    assert_eq!(err.exit_status().code(), 2, "{err}");
    eprintln!("missing container → {text}");
}

#[tokio::test]
#[ignore = "needs Azurite: scripts/azurite.sh / .ci/run"]
async fn wrong_account_key_is_an_auth_error() {
    let http = http();
    let c = container("wrongkey");
    create_container(&http, &c).await;
    let wrong = StorageAuth::SharedKey { account: ACCOUNT.into(), key: Secret::new(BASE64.encode([1u8; 64])) };
    let blob = BlobClient::new(http, &endpoints(), ACCOUNT, wrong);
    let err = read_table_state(&blob, &c, "t").await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.exit_status().code(), 3, "{text}");
    assert!(text.contains("rejected the account key") && text.contains("devstoreaccount1"), "{text}");
    eprintln!("wrong key → {text}");
    eprintln!("azurite startup in this binary: {:.1} s", azurite().startup.as_secs_f64());
}

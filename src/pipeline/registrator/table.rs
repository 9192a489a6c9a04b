//! Reads a Delta table's current state from storage: one paged listing of `{path}/_delta_log/` (names only, so
//! thousands of commits cost a few list pages, not thousands of reads) and one GET of the newest commit. The
//! rules (which names are commits, where the commit time comes from) live in `crate::delta`.

use bytes::Bytes;
use futures_util::TryStreamExt;

use crate::azure::storage::{BlobClient, BlobItem};
use crate::delta::{self, TableState};
use crate::error::Error;

/// Name of the log directory inside a Delta table.
const DELTA_LOG_DIR: &str = "_delta_log";

/// The newest version of the Delta table at `table_path` in `container` and when it was committed.
///
/// Errors: no `_delta_log/` entries → [`Error::Usage`] "not a Delta table" (exit 2); a missing container →
/// exit 2; a commit that is not JSON → exit 2 naming file and line; storage denials → exit 3.
pub async fn read_table_state(blob: &BlobClient, container: &str, table_path: &str) -> Result<TableState, Error> {
    Ok(read_table_log(blob, container, table_path).await?.state)
}

/// What one read of the log learns besides the state: the oldest commit still listed (log cleanup removes
/// commits older than the newest checkpoint, so a range reaching further back cannot be read) and the newest
/// commit's bytes, which the change summary reuses instead of reading them again.
#[derive(Debug, Clone)]
pub struct TableLog {
    pub state: TableState,
    /// `{table}/_delta_log/`, the prefix of every commit's blob name.
    pub log_prefix: String,
    pub oldest_commit: u64,
    pub newest_commit: Bytes,
}

/// [`read_table_state`] with the rest of what the listing and the newest commit tell ([`TableLog`]).
pub async fn read_table_log(blob: &BlobClient, container: &str, table_path: &str) -> Result<TableLog, Error> {
    let table = table_path.trim_matches('/');
    let log_prefix = if table.is_empty() { format!("{DELTA_LOG_DIR}/") } else { format!("{table}/{DELTA_LOG_DIR}/") };
    let location = format!("{}/{container}/{table}", blob.account());

    // Keep only the newest commit while paging: a 100,000-commit log never sits in memory whole.
    let mut newest: Option<(u64, BlobItem)> = None;
    let mut oldest: Option<u64> = None;
    let mut entries = 0usize;
    let mut pages = 0usize;
    let mut listing = std::pin::pin!(blob.pages(container, &log_prefix));
    while let Some(page) = listing.try_next().await? {
        pages += 1;
        entries += page.len();
        for item in page {
            let Some(relative) = item.name.strip_prefix(&log_prefix) else { continue };
            let Some(version) = delta::commit_version(relative) else { continue };
            oldest = Some(oldest.map_or(version, |o| o.min(version)));
            if newest.as_ref().is_none_or(|(v, _)| version > *v) {
                newest = Some((version, item));
            }
        }
    }
    let newest_version = newest.as_ref().map(|(v, _)| *v);
    tracing::debug!(target: "drift::delta", location, entries, pages, newest_version, "listed the Delta log");

    if entries == 0 {
        return Err(Error::Usage(format!(
            "{location} is not a Delta table (no {DELTA_LOG_DIR}/ under it); check containerDataPath"
        )));
    }
    let Some((version, item)) = newest else {
        return Err(Error::Usage(format!(
            "{location}/{DELTA_LOG_DIR}/ has {entries} entries but no commit file (NNNNNNNNNNNNNNNNNNNN.json); \
             the table's log is incomplete or not a Delta log"
        )));
    };
    let Some(bytes) = blob.get(container, &item.name).await? else {
        // Log cleanup deletes only commits older than the newest checkpoint, never the newest commit; a vanished
        // one means the table is being deleted or replaced. Running again reads the log afresh.
        return Err(Error::Remote(format!(
            "commit {} of {location} was listed but is gone; is the table being deleted or replaced?",
            item.name
        )));
    };
    let state = delta::table_state(version, &item.name, &bytes, item.last_modified)
        .map_err(|e| Error::Usage(format!("{location} is not a readable Delta table: {e}")))?;
    Ok(TableLog {
        state,
        log_prefix: log_prefix.clone(),
        oldest_commit: oldest.unwrap_or(version),
        newest_commit: bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use wiremock::matchers::{method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::azure::storage::StorageAuth;
    use crate::cloud::{CloudName, Endpoints};
    use crate::delta::TimeSource;
    use crate::http::{HttpClient, RetryPolicy};
    use crate::secret::Secret;

    fn listing(names: &[String], next_marker: Option<&str>) -> String {
        let blobs: String = names
            .iter()
            .map(|n| {
                format!(
                    "<Blob><Name>{n}</Name><Properties><Last-Modified>Fri, 28 Nov 2025 03:20:00 GMT</Last-Modified>\
                     <Etag>0x1</Etag><Content-Length>10</Content-Length></Properties></Blob>"
                )
            })
            .collect();
        let marker =
            next_marker.map(|m| format!("<NextMarker>{m}</NextMarker>")).unwrap_or_else(|| "<NextMarker />".into());
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>{blobs}</Blobs>{marker}\
             </EnumerationResults>"
        )
    }

    fn client(server: &MockServer) -> BlobClient {
        let env: HashMap<String, String> =
            [("DRIFT_BLOB_ENDPOINT".to_string(), format!("{}/{{account}}", server.uri()))].into_iter().collect();
        let endpoints = Endpoints::resolve(CloudName::AzureCloud, &env).unwrap();
        let http = HttpClient::new(RetryPolicy { max_retries: 0, ..RetryPolicy::default() }).unwrap();
        BlobClient::new(
            http,
            &endpoints,
            "acct",
            StorageAuth::SharedKey { account: "acct".into(), key: Secret::new("a2V5") },
        )
    }

    async fn mount_log(server: &MockServer, table: &str, pages: &[Vec<String>]) {
        for (i, names) in pages.iter().enumerate() {
            let prefix = format!("{table}/_delta_log/");
            let names: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
            let next = (i + 1 < pages.len()).then(|| format!("m{}", i + 1));
            let mut mock = Mock::given(method("GET")).and(path("/acct/c")).and(query_param("prefix", prefix.as_str()));
            mock = if i == 0 {
                mock.and(query_param_is_missing("marker"))
            } else {
                mock.and(query_param("marker", format!("m{i}").as_str()))
            };
            mock.respond_with(ResponseTemplate::new(200).set_body_string(listing(&names, next.as_deref())))
                .expect(1)
                .mount(server)
                .await;
        }
    }

    #[tokio::test]
    async fn thousands_of_commits_cost_two_list_pages_and_one_read() {
        let server = MockServer::start().await;
        let commit = |v: u64| format!("{v:020}.json");
        let mut page1: Vec<String> = (0..3000).map(commit).collect();
        page1.push(format!("{:020}.checkpoint.parquet", 2999));
        let mut page2: Vec<String> = (3000..3500).map(commit).collect();
        page2.extend([
            format!("{:020}.{:020}.compacted.json", 3400, 3499),
            format!("{:020}.crc", 3499),
            "_last_checkpoint".to_string(),
            format!("_commits/{:020}.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json", 3500),
        ]);
        mount_log(&server, "data/sales", &[page1, page2]).await;
        Mock::given(method("GET"))
            .and(path(format!("/acct/c/data/sales/_delta_log/{:020}.json", 3499)))
            .respond_with(ResponseTemplate::new(200).set_body_string(
                "{\"commitInfo\":{\"timestamp\":1764300000123,\"operation\":\"MERGE\"}}\n{\"add\":{\"path\":\"p\"}}\n",
            ))
            .expect(1)
            .mount(&server)
            .await;
        let state = read_table_state(&client(&server), "c", "/data/sales/").await.unwrap();
        assert_eq!(state.version, 3499);
        assert_eq!(state.commit_time.timestamp_millis(), 1_764_300_000_123);
        assert_eq!(state.time_source, TimeSource::CommitInfoTimestamp);
        // Exactly the two list pages and the one commit read: nothing else was requested.
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn not_a_table_no_commits_and_broken_commit_are_usage_errors() {
        let server = MockServer::start().await;
        mount_log(&server, "empty", &[vec![]]).await;
        mount_log(&server, "cponly", &[vec![format!("{:020}.checkpoint.parquet", 9), "_last_checkpoint".into()]]).await;
        mount_log(&server, "broken", &[vec![format!("{:020}.json", 4)]]).await;
        Mock::given(method("GET"))
            .and(path(format!("/acct/c/broken/_delta_log/{:020}.json", 4)))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"commitInfo\":{\"timestamp\":1}}\n{\"add\":\n"))
            .mount(&server)
            .await;
        let blob = client(&server);
        let cases = [
            ("empty", "acct/c/empty is not a Delta table (no _delta_log/ under it)"),
            ("cponly", "acct/c/cponly/_delta_log/ has 2 entries but no commit file"),
            ("broken", "broken/_delta_log/00000000000000000004.json, line 2: not a valid JSON action"),
        ];
        for (table, want) in cases {
            let err = read_table_state(&blob, "c", table).await.unwrap_err();
            assert_eq!(err.exit_status().code(), 2, "{err}");
            assert!(err.to_string().contains(want), "{err}");
        }
    }
}

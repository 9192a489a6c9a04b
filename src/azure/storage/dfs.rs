//! ADLS Gen2 (DFS endpoint) calls: list the paths of a directory following `x-ms-continuation`, and read a file.
//! Only for hierarchical-namespace accounts; the Blob API serves the same data on every account.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Deserializer};

use super::{Access, STORAGE_API_VERSION, StorageAuth, Target, parse_http_date};
use crate::cloud::Endpoints;
use crate::error::Error;
use crate::http::{HttpClient, RequestBuilder, Response};

/// The most paths one List Paths page returns (the service's cap and default).
pub const MAX_PATHS_PER_PAGE: u32 = 5000;

/// Response header carrying the token of the next List Paths page.
const CONTINUATION_HEADER: &str = "x-ms-continuation";

/// A client of one storage account's DFS endpoint. Cheap to clone.
#[derive(Clone)]
pub struct DfsClient {
    http: HttpClient,
    target: Target,
}

/// One entry of a List Paths answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathItem {
    /// Full path within the filesystem (`table/_delta_log/00000000000000000000.json`).
    pub name: String,
    pub is_directory: bool,
    pub last_modified: Option<DateTime<Utc>>,
    pub size: u64,
    pub etag: Option<String>,
}

/// `PathList` as the service sends it. It writes `contentLength` and `isDirectory` as strings although the
/// spec declares integer and boolean, so both forms are accepted.
#[derive(Deserialize)]
struct PathList {
    #[serde(default)]
    paths: Vec<RawPath>,
}

#[derive(Deserialize)]
struct RawPath {
    name: String,
    #[serde(rename = "isDirectory", default, deserialize_with = "bool_or_string")]
    is_directory: bool,
    #[serde(rename = "lastModified", default)]
    last_modified: Option<String>,
    #[serde(rename = "contentLength", default, deserialize_with = "u64_or_string")]
    content_length: u64,
    // The spec says `eTag`; answers have been seen with `etag`.
    #[serde(rename = "eTag", alias = "etag", default)]
    etag: Option<String>,
}

impl DfsClient {
    pub fn new(http: HttpClient, endpoints: &Endpoints, account: &str, auth: StorageAuth) -> DfsClient {
        DfsClient { http, target: Target::new(endpoints.dfs_account(account), account, auth, "filesystem") }
    }

    pub fn account(&self) -> &str {
        &self.target.account
    }

    /// The paths under `directory` ("" for the filesystem root), all pages. A directory that does not exist
    /// has nothing under it (an empty list), as a Blob prefix listing would say.
    pub async fn list_paths(&self, filesystem: &str, directory: &str, recursive: bool) -> Result<Vec<PathItem>, Error> {
        use futures_util::TryStreamExt;
        let directory = directory.trim_matches('/');
        let page_size = MAX_PATHS_PER_PAGE.to_string();
        let what = format!("{filesystem}/{directory} in storage account {}", self.target.account);
        let pages = super::paging::pages(what, |continuation| {
            let page_size = page_size.as_str();
            async move {
                let mut query = vec![
                    ("resource", "filesystem"),
                    ("recursive", if recursive { "true" } else { "false" }),
                    ("maxResults", page_size),
                ];
                if !directory.is_empty() {
                    query.push(("directory", directory));
                }
                if let Some(token) = continuation.as_deref() {
                    query.push(("continuation", token));
                }
                let url = self.target.url(filesystem, None, &query);
                let response = self.send(self.request(Method::GET, &url)?.accept(&[404]), filesystem).await?;
                if response.status == 404 {
                    let err = response.into_status_error();
                    if err.code.as_deref() == Some("PathNotFound") {
                        return Ok((Vec::new(), None));
                    }
                    return Err(self.target.map_error(err.into(), filesystem, Access::Read));
                }
                let list: PathList = response.json()?;
                let items = list
                    .paths
                    .into_iter()
                    .map(|raw| PathItem {
                        last_modified: raw.last_modified.as_deref().and_then(parse_http_date),
                        name: raw.name,
                        is_directory: raw.is_directory,
                        size: raw.content_length,
                        etag: raw.etag,
                    })
                    .collect();
                Ok((items, response.header(CONTINUATION_HEADER).map(str::to_string)))
            }
        });
        let pages: Vec<Vec<PathItem>> = pages.try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// The content of file `path`, or `None` if there is no such file.
    pub async fn read(&self, filesystem: &str, path: &str) -> Result<Option<Bytes>, Error> {
        let url = self.target.url(filesystem, Some(path.trim_start_matches('/')), &[]);
        let response = self.send(self.request(Method::GET, &url)?.accept(&[404]), filesystem).await?;
        if response.status == 404 {
            let err = response.into_status_error();
            if err.code.as_deref() == Some("FilesystemNotFound") {
                return Err(self.target.map_error(err.into(), filesystem, Access::Read));
            }
            return Ok(None);
        }
        Ok(Some(response.body))
    }

    fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, Error> {
        Ok(self
            .http
            .request(method, url)?
            .header("x-ms-version", STORAGE_API_VERSION)?
            .auth(self.target.http_auth.clone()))
    }

    async fn send(&self, request: RequestBuilder, filesystem: &str) -> Result<Response, Error> {
        request.send().await.map_err(|e| self.target.map_error(e.into(), filesystem, Access::Read))
    }
}

fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!("expected \"true\" or \"false\", got {other:?}"))),
        },
    }
}

fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Number(n) => Ok(n),
        Size::Text(t) => t.trim().parse().map_err(|_| serde::de::Error::custom(format!("{t:?} is not a size"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    use wiremock::matchers::{header, header_regex, method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::cloud::CloudName;

    use crate::http::{RetryPolicy, TokenFuture, TokenProvider};
    use crate::secret::Secret;

    /// A page as the DFS endpoint writes it: sizes and flags as strings, RFC 1123 dates, FILETIME creation.
    const PAGE_1: &str = r#"{"paths":[
        {"contentLength":"0","creationTime":"133617160000000000","etag":"0x8DC8A1B2C3D4E5F","group":"$superuser",
         "isDirectory":"true","lastModified":"Tue, 04 Jun 2024 10:00:00 GMT","name":"t/_delta_log/_commits",
         "owner":"$superuser","permissions":"rwxr-x---"},
        {"contentLength":"1175","creationTime":"133617160000000000","etag":"0x8DC8A1B2C3D4E60","group":"$superuser",
         "lastModified":"Tue, 04 Jun 2024 10:00:01 GMT","name":"t/_delta_log/00000000000000000000.json",
         "owner":"$superuser","permissions":"rw-r-----"}]}"#;
    /// The last page, with the spec's typed fields (number, boolean, `eTag`).
    const PAGE_2: &str = r#"{"paths":[{"contentLength":711,"isDirectory":false,"eTag":"\"0x1\"",
        "lastModified":"Tue, 04 Jun 2024 10:00:02 GMT","name":"t/_delta_log/00000000000000000001.json"}]}"#;

    struct StaticToken;
    impl TokenProvider for StaticToken {
        fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a> {
            Box::pin(async move {
                if scope == "https://storage.azure.com/.default" {
                    Ok(Secret::new("storage-token"))
                } else {
                    Err(crate::http::CredentialError::Rejected(format!("unexpected scope {scope}")))
                }
            })
        }
        fn invalidate(&self, _scope: &str, _token: &Secret) {}
    }

    fn client(server: &MockServer, auth: StorageAuth) -> DfsClient {
        let env: HashMap<String, String> =
            [("DRIFT_DFS_ENDPOINT".to_string(), format!("{}/{{account}}", server.uri()))].into_iter().collect();
        let endpoints = Endpoints::resolve(CloudName::AzureCloud, &env).unwrap();
        let http = HttpClient::new(RetryPolicy { max_retries: 0, ..RetryPolicy::default() }).unwrap();
        DfsClient::new(http, &endpoints, "acct", auth)
    }

    fn storage_error(status: u16, code: &str) -> ResponseTemplate {
        let body =
            format!(r#"{{"error":{{"code":"{code}","message":"The specified thing does not exist.\nRequestId:1"}}}}"#);
        ResponseTemplate::new(status).insert_header("x-ms-error-code", code).set_body_string(body)
    }

    #[tokio::test]
    async fn list_paths_follows_continuation() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/acct/fs"))
            .and(query_param("resource", "filesystem"))
            .and(query_param("recursive", "false"))
            .and(query_param("directory", "t/_delta_log"))
            .and(query_param_is_missing("continuation"))
            .and(header("x-ms-version", STORAGE_API_VERSION))
            .and(header("authorization", "Bearer storage-token"))
            .respond_with(
                ResponseTemplate::new(200).insert_header(CONTINUATION_HEADER, "VBb3lP+//8=").set_body_string(PAGE_1),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/fs"))
            .and(query_param("continuation", "VBb3lP+//8="))
            .respond_with(ResponseTemplate::new(200).set_body_string(PAGE_2))
            .expect(1)
            .mount(&server)
            .await;
        let dfs = client(&server, StorageAuth::Bearer(Arc::new(StaticToken)));
        let items = dfs.list_paths("fs", "/t/_delta_log/", false).await.unwrap();
        let names: Vec<_> = items.iter().map(|p| (p.name.as_str(), p.is_directory, p.size)).collect();
        assert_eq!(
            names,
            [
                ("t/_delta_log/_commits", true, 0),
                ("t/_delta_log/00000000000000000000.json", false, 1175),
                ("t/_delta_log/00000000000000000001.json", false, 711),
            ]
        );
        assert_eq!(items[1].etag.as_deref(), Some("0x8DC8A1B2C3D4E60"));
        assert_eq!(items[2].etag.as_deref(), Some("\"0x1\""));
        assert_eq!(items[2].last_modified.unwrap().to_rfc3339(), "2024-06-04T10:00:02+00:00");
    }

    #[tokio::test]
    async fn shared_key_signs_dfs_requests_and_read_maps_404() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/acct/fs/t/_delta_log/00000000000000000001.json"))
            .and(header_regex("authorization", r"^SharedKey acct:[A-Za-z0-9+/]{43}=$"))
            .and(header_regex("x-ms-date", r"GMT$"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"commitInfo\":{}}\n"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/fs/t/missing.json"))
            .respond_with(storage_error(404, "PathNotFound"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/nofs/x"))
            .respond_with(storage_error(404, "FilesystemNotFound"))
            .mount(&server)
            .await;
        let dfs = client(&server, StorageAuth::SharedKey { account: "acct".into(), key: Secret::new("a2V5") });
        let body = dfs.read("fs", "/t/_delta_log/00000000000000000001.json").await.unwrap().unwrap();
        assert_eq!(&body[..], b"{\"commitInfo\":{}}\n");
        assert_eq!(dfs.read("fs", "t/missing.json").await.unwrap(), None);
        let err = dfs.read("nofs", "x").await.unwrap_err();
        assert_eq!(err.exit_status().code(), 2, "{err}");
        assert!(err.to_string().contains("filesystem \"nofs\" not found in storage account acct"), "{err}");
    }

    #[tokio::test]
    async fn list_paths_errors() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/acct/fs"))
            .and(query_param("directory", "gone"))
            .respond_with(storage_error(404, "PathNotFound"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/nofs"))
            .respond_with(storage_error(404, "FilesystemNotFound"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/denied"))
            .respond_with(storage_error(403, "AuthorizationPermissionMismatch"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/loop"))
            .respond_with(ResponseTemplate::new(200).insert_header(CONTINUATION_HEADER, "same").set_body_string(PAGE_2))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/acct/odd"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(r#"{"paths":[{"name":"a","contentLength":"big"}]}"#),
            )
            .mount(&server)
            .await;
        let dfs = client(&server, StorageAuth::Bearer(Arc::new(StaticToken)));
        assert_eq!(dfs.list_paths("fs", "gone", true).await.unwrap(), Vec::new());
        let err = dfs.list_paths("nofs", "", false).await.unwrap_err();
        assert_eq!(err.exit_status().code(), 2, "{err}");
        let err = dfs.list_paths("denied", "", false).await.unwrap_err();
        assert_eq!(err.exit_status().code(), 3, "{err}");
        assert!(err.to_string().contains("\"Storage Blob Data Reader\""), "{err}");
        let err = dfs.list_paths("loop", "", false).await.unwrap_err();
        assert!(err.to_string().contains("same continuation token twice"), "{err}");
        let err = dfs.list_paths("odd", "", false).await.unwrap_err();
        assert!(err.to_string().contains("paths[0].contentLength"), "{err}");
    }
}

//! Blob service calls drift needs: list a container by prefix (one page or all pages), GET and HEAD a blob,
//! create a block blob only if absent, and set blob metadata.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::Method;

use super::{Access, STORAGE_API_VERSION, StorageAuth, Target, parse_http_date};
use crate::cloud::Endpoints;
use crate::error::Error;
use crate::http::encode;
use crate::http::{HttpClient, HttpErrorKind, RequestBuilder, Response};

/// The most results one List Blobs page returns (the service's cap and default), so a Delta log of 100,000
/// commits is 20 requests.
pub const MAX_LIST_RESULTS: u32 = 5000;

/// A client of one storage account's Blob endpoint. Cheap to clone.
#[derive(Clone)]
pub struct BlobClient {
    http: HttpClient,
    target: Target,
    page_size: u32,
}

/// One blob of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobItem {
    /// Full name within the container (`path/_delta_log/00000000000000000000.json`).
    pub name: String,
    pub last_modified: DateTime<Utc>,
    /// Content length in bytes.
    pub size: u64,
    pub etag: String,
}

/// One page of a listing; `next_marker` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlobPage {
    pub items: Vec<BlobItem>,
    pub next_marker: Option<String>,
}

/// What a HEAD tells about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobProperties {
    /// `x-ms-meta-*` headers without the prefix; names lower-cased (HTTP header names carry no case).
    pub metadata: BTreeMap<String, String>,
    pub last_modified: DateTime<Utc>,
    pub size: u64,
}

/// Result of [`BlobClient::put_if_absent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    /// A blob of that name existed; it was left untouched. (A retried PUT whose first attempt created the blob
    /// but lost its answer also lands here: the caller compares content or metadata when that matters.)
    AlreadyExists,
}

/// Largest blob drift reads whole: 256 MiB. The blobs it reads are Delta commit files (JSON lines of actions);
/// a commit adding a hundred thousand files is tens of MB, so this leaves room for very large commits while
/// bounding memory.
pub const MAX_BLOB_READ_BYTES: usize = 256 * 1024 * 1024;

impl BlobClient {
    /// A client for `account` at the endpoint `endpoints` gives for it (account-style in Azure, path-style for
    /// Azurite and the sandbox).
    pub fn new(http: HttpClient, endpoints: &Endpoints, account: &str, auth: StorageAuth) -> BlobClient {
        BlobClient {
            http,
            target: Target::new(endpoints.blob_account(account), account, auth, "container"),
            page_size: MAX_LIST_RESULTS,
        }
    }

    /// Sets the `maxresults` of list requests (at most [`MAX_LIST_RESULTS`]); tests use small pages.
    pub fn with_page_size(mut self, page_size: u32) -> BlobClient {
        self.page_size = page_size.clamp(1, MAX_LIST_RESULTS);
        self
    }

    pub fn account(&self) -> &str {
        &self.target.account
    }

    /// One page of the blobs in `container` whose names start with `prefix`, from `marker` (the previous
    /// page's `next_marker`) on.
    pub async fn list(&self, container: &str, prefix: &str, marker: Option<&str>) -> Result<BlobPage, Error> {
        let page_size = self.page_size.to_string();
        let mut query = vec![("restype", "container"), ("comp", "list"), ("maxresults", page_size.as_str())];
        if !prefix.is_empty() {
            query.push(("prefix", prefix));
        }
        if let Some(marker) = marker.filter(|m| !m.is_empty()) {
            query.push(("marker", marker));
        }
        let url = self.target.url(container, None, &query);
        let response = self.send(self.request(Method::GET, &url)?, container, Access::Read).await?;
        parse_list(&response).map_err(|message| response.error(HttpErrorKind::Decode, None, message).into())
    }

    /// The pages of blobs under `prefix`, following `NextMarker` (see `paging::pages`).
    pub fn pages<'a>(
        &'a self,
        container: &'a str,
        prefix: &'a str,
    ) -> impl futures_util::Stream<Item = Result<Vec<BlobItem>, Error>> + 'a {
        let what = format!("{container}/{prefix} in storage account {}", self.account());
        super::paging::pages(what, move |marker| async move {
            let page = self.list(container, prefix, marker.as_deref()).await?;
            Ok((page.items, page.next_marker))
        })
    }

    /// Every blob under `prefix`.
    pub async fn list_all(&self, container: &str, prefix: &str) -> Result<Vec<BlobItem>, Error> {
        use futures_util::TryStreamExt;
        let pages: Vec<Vec<BlobItem>> = self.pages(container, prefix).try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// The content of a blob, or `None` if there is no such blob.
    pub async fn get(&self, container: &str, blob: &str) -> Result<Option<Bytes>, Error> {
        let url = self.target.url(container, Some(blob), &[]);
        let request = self.request(Method::GET, &url)?.accept(&[404]).max_body(MAX_BLOB_READ_BYTES);
        let response = self.send(request, container, Access::Read).await?;
        if response.status == 404 {
            return self.absent(response, container);
        }
        Ok(Some(response.body))
    }

    /// The properties and metadata of a blob, or `None` if there is no such blob.
    pub async fn head(&self, container: &str, blob: &str) -> Result<Option<BlobProperties>, Error> {
        let url = self.target.url(container, Some(blob), &[]);
        let response = self.send(self.request(Method::HEAD, &url)?.accept(&[404]), container, Access::Read).await?;
        if response.status == 404 {
            return self.absent(response, container);
        }
        let last_modified = response.header("last-modified").and_then(parse_http_date).ok_or_else(|| {
            response.error(HttpErrorKind::Decode, None, "the response has no valid Last-Modified header")
        })?;
        let size = match response.header("content-length") {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                response.error(HttpErrorKind::Decode, None, format!("Content-Length {v:?} is not a size"))
            })?,
            None => 0,
        };
        let mut metadata = BTreeMap::new();
        for (name, value) in &response.headers {
            if let Some(key) = name.as_str().strip_prefix("x-ms-meta-") {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                metadata.insert(key.to_string(), value);
            }
        }
        Ok(Some(BlobProperties { metadata, last_modified, size }))
    }

    /// Creates block blob `blob` with `bytes` unless a blob of that name exists (`If-None-Match: *`), with
    /// `metadata` as `x-ms-meta-*` headers. One request (Put Blob takes up to 5,000 MiB at this version).
    pub async fn put_if_absent(
        &self,
        container: &str,
        blob: &str,
        bytes: Bytes,
        content_type: &'static str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<PutOutcome, Error> {
        let url = self.target.url(container, Some(blob), &[]);
        let mut request = self
            .request(Method::PUT, &url)?
            .header("x-ms-blob-type", "BlockBlob")?
            .header("if-none-match", "*")?
            .body(bytes, content_type)
            .accept(&[409, 412]);
        request = with_metadata(request, metadata)?;
        let response = self.send(request, container, Access::Write).await?;
        match response.status {
            // 412 ConditionNotMet: the If-None-Match precondition failed, i.e. the blob exists.
            412 => Ok(PutOutcome::AlreadyExists),
            409 => {
                let err = response.into_status_error();
                if matches!(err.code.as_deref(), Some("BlobAlreadyExists") | None) {
                    Ok(PutOutcome::AlreadyExists)
                } else {
                    Err(self.target.map_error(err.into(), container, Access::Write))
                }
            }
            _ => Ok(PutOutcome::Created),
        }
    }

    /// Replaces the metadata of an existing blob (`?comp=metadata`).
    pub async fn set_metadata(
        &self,
        container: &str,
        blob: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let url = self.target.url(container, Some(blob), &[("comp", "metadata")]);
        // A PUT without a body goes out without Content-Length, which the service refuses (411).
        let request = with_metadata(self.request(Method::PUT, &url)?.header("content-length", "0")?, metadata)?;
        self.send(request, container, Access::Write).await?;
        Ok(())
    }

    fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, Error> {
        Ok(self
            .http
            .request(method, url)?
            .header("x-ms-version", STORAGE_API_VERSION)?
            .auth(self.target.http_auth.clone()))
    }

    async fn send(&self, request: RequestBuilder, container: &str, access: Access) -> Result<Response, Error> {
        request.send().await.map_err(|e| self.target.map_error(e.into(), container, access))
    }

    /// `None` for a 404 about the blob; the container's own absence is a configuration error.
    fn absent<T>(&self, response: Response, container: &str) -> Result<Option<T>, Error> {
        let err = response.into_status_error();
        if err.code.as_deref() == Some("ContainerNotFound") {
            return Err(self.target.map_error(err.into(), container, Access::Read));
        }
        Ok(None)
    }
}

/// Adds `x-ms-meta-{name}` headers. Names must be C# identifiers (the service's rule).
fn with_metadata(mut request: RequestBuilder, metadata: &BTreeMap<String, String>) -> Result<RequestBuilder, Error> {
    for (name, value) in metadata {
        request = request.header(&metadata_header(name)?, value)?;
    }
    Ok(request)
}

/// The `x-ms-meta-{name}` header name. Names must be C# identifiers (the service's rule).
fn metadata_header(name: &str) -> Result<String, Error> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::Usage(format!(
            "blob metadata name {name:?} is not valid: use letters, digits and '_', not starting with a digit"
        )));
    }
    Ok(format!("x-ms-meta-{}", name.to_ascii_lowercase()))
}

/// The first child element of `node` named `name`.
fn child<'a, 'input>(node: roxmltree::Node<'a, 'input>, name: &str) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|c| c.has_tag_name(name))
}

/// Decodes a List Blobs `EnumerationResults` document.
fn parse_list(response: &Response) -> Result<BlobPage, String> {
    let text = std::str::from_utf8(&response.body).map_err(|_| "the listing is not UTF-8".to_string())?;
    parse_list_xml(text)
}

fn parse_list_xml(text: &str) -> Result<BlobPage, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("the listing is not valid XML ({e})"))?;
    let root = doc.root_element();
    if !root.has_tag_name("EnumerationResults") {
        return Err(format!("expected <EnumerationResults>, got <{}>", root.tag_name().name()));
    }
    let mut page = BlobPage::default();
    if let Some(blobs) = child(root, "Blobs") {
        for (index, blob) in blobs.children().filter(|c| c.has_tag_name("Blob")).enumerate() {
            let fail = |what: &str| format!("blob #{index} of the listing: {what}");
            let name_node = child(blob, "Name").ok_or_else(|| fail("no <Name>"))?;
            let raw = name_node.text().unwrap_or("");
            // Names with characters XML cannot carry come percent-encoded and marked Encoded="true".
            let name = if name_node.attribute("Encoded") == Some("true") {
                encode::decode(raw).ok_or_else(|| fail("an encoded <Name> that does not decode to UTF-8"))?
            } else {
                raw.to_string()
            };
            let props = child(blob, "Properties").ok_or_else(|| fail("no <Properties>"))?;
            let prop = |n: &str| child(props, n).and_then(|p| p.text()).map(str::trim);
            let last_modified =
                prop("Last-Modified").and_then(parse_http_date).ok_or_else(|| fail("no valid <Last-Modified>"))?;
            let size = match prop("Content-Length") {
                Some(v) => v.parse::<u64>().map_err(|_| fail("<Content-Length> is not a size"))?,
                None => 0,
            };
            let etag = prop("Etag").unwrap_or("").to_string();
            page.items.push(BlobItem { name, last_modified, size, etag });
        }
    }
    page.next_marker =
        child(root, "NextMarker").and_then(|n| n.text()).map(str::trim).filter(|m| !m.is_empty()).map(str::to_string);
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_xml_as_the_service_writes_it() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="data">
  <Prefix>t/_delta_log/</Prefix><MaxResults>2</MaxResults>
  <Blobs>
    <Blob><Name>t/_delta_log/00000000000000000000.json</Name>
      <Properties><Creation-Time>Wed, 09 Sep 2009 09:20:02 GMT</Creation-Time>
        <Last-Modified>Wed, 09 Sep 2009 09:20:02 GMT</Last-Modified><Etag>0x8CBFF45D8A29A19</Etag>
        <Content-Length>1175</Content-Length><Content-Type>application/octet-stream</Content-Type>
        <BlobType>BlockBlob</BlobType></Properties><OrMetadata /></Blob>
    <Blob><Name Encoded="true">t/%EF%BF%BEodd</Name>
      <Properties><Last-Modified>Thu, 10 Sep 2009 10:00:00 GMT</Last-Modified><Etag>"0x1"</Etag>
        <Content-Length>0</Content-Length></Properties></Blob>
  </Blobs>
  <NextMarker>2!88!MDAwMDE2IXQvX2RlbHRhX2xvZy8wMDAw</NextMarker>
</EnumerationResults>"#;
        let page = parse_list_xml(xml).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].name, "t/_delta_log/00000000000000000000.json");
        assert_eq!(page.items[0].size, 1175);
        assert_eq!(page.items[0].etag, "0x8CBFF45D8A29A19");
        assert_eq!(page.items[0].last_modified.to_rfc3339(), "2009-09-09T09:20:02+00:00");
        assert_eq!(page.items[1].name, "t/\u{FFFE}odd");
        assert_eq!(page.next_marker.as_deref(), Some("2!88!MDAwMDE2IXQvX2RlbHRhX2xvZy8wMDAw"));

        let last =
            parse_list_xml(r#"<EnumerationResults ContainerName="c"><Blobs /><NextMarker /></EnumerationResults>"#)
                .unwrap();
        assert_eq!(last, BlobPage::default());
    }

    #[test]
    fn broken_listings_say_what_is_wrong() {
        for (xml, want) in [
            ("not xml", "not valid XML"),
            ("<Error><Code>X</Code></Error>", "expected <EnumerationResults>"),
            ("<EnumerationResults><Blobs><Blob><Name>a</Name></Blob></Blobs></EnumerationResults>", "no <Properties>"),
            (
                "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties><Last-Modified>soon</Last-Modified>\
                 </Properties></Blob></Blobs></EnumerationResults>",
                "blob #0 of the listing: no valid <Last-Modified>",
            ),
        ] {
            let err = parse_list_xml(xml).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }

    mod wire {
        use super::super::*;
        use std::collections::HashMap;

        use wiremock::matchers::{header, header_exists, method, path, query_param};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        use crate::cloud::CloudName;
        use crate::http::RetryPolicy;
        use crate::secret::Secret;

        /// The secret part of the test SAS; it must never appear in an error or log line.
        const SIG: &str = "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D";

        fn client(server: &MockServer, auth: StorageAuth) -> BlobClient {
            let env: HashMap<String, String> =
                [("DRIFT_BLOB_ENDPOINT".to_string(), format!("{}/{{account}}", server.uri()))].into_iter().collect();
            let endpoints = Endpoints::resolve(CloudName::AzureCloud, &env).unwrap();
            let http = HttpClient::new(RetryPolicy { max_retries: 0, ..RetryPolicy::default() }).unwrap();
            BlobClient::new(http, &endpoints, "acct", auth)
        }

        fn storage_error(status: u16, code: &str) -> ResponseTemplate {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>Denied.\nRequestId:1\
                 </Message></Error>"
            );
            ResponseTemplate::new(status).insert_header("x-ms-error-code", code).set_body_string(body)
        }

        #[tokio::test]
        async fn sas_rides_on_every_url_and_never_shows_in_errors() {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path("/acct/c/t/a.json"))
                .and(query_param("sv", "2022-11-02"))
                .and(query_param("sig", "c2VjcmV0LXNpZ25hdHVyZQ=="))
                .respond_with(storage_error(403, "AuthenticationFailed"))
                .mount(&server)
                .await;
            let sas = format!("?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig={SIG}");
            let blob = client(&server, StorageAuth::Sas(Secret::new(sas)));
            let err = blob.get("c", "t/a.json").await.unwrap_err();
            let text = err.chain();
            assert_eq!(err.exit_status().code(), 3, "{text}");
            // The message names the blob, not the URL; the URL kept on the error for debug logs is redacted.
            assert!(text.contains("rejected the SAS") && text.contains("/c/t/a.json"), "{text}");
            assert!(format!("{err:?}").contains("sig=REDACTED"), "{err:?}");
            assert!(!text.contains("c2VjcmV0") && !format!("{err:?}").contains("c2VjcmV0"), "{text}");
        }

        #[tokio::test]
        async fn put_head_and_metadata_on_the_wire() {
            let server = MockServer::start().await;
            Mock::given(method("PUT"))
                .and(path("/acct/c/new%20dir/MLTable"))
                .and(header("if-none-match", "*"))
                .and(header("x-ms-blob-type", "BlockBlob"))
                .and(header("content-type", "application/x-yaml"))
                .and(header("x-ms-meta-name", "sales"))
                .and(header("x-ms-version", STORAGE_API_VERSION))
                .respond_with(ResponseTemplate::new(201))
                .expect(1)
                .mount(&server)
                .await;
            Mock::given(method("PUT"))
                .and(path("/acct/c/exists"))
                .respond_with(storage_error(409, "BlobAlreadyExists"))
                .mount(&server)
                .await;
            Mock::given(method("PUT"))
                .and(path("/acct/c/cond"))
                .respond_with(storage_error(412, "ConditionNotMet"))
                .mount(&server)
                .await;
            Mock::given(method("PUT"))
                .and(path("/acct/c/leased"))
                .respond_with(storage_error(409, "LeaseIdMissing"))
                .mount(&server)
                .await;
            Mock::given(method("PUT"))
                .and(path("/acct/c/m"))
                .and(query_param("comp", "metadata"))
                .and(header("content-length", "0"))
                .and(header("x-ms-meta-upload_status", "completed"))
                .and(header_exists("authorization"))
                .respond_with(ResponseTemplate::new(200))
                .expect(1)
                .mount(&server)
                .await;
            Mock::given(method("HEAD"))
                .and(path("/acct/c/m"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header("last-modified", "Fri, 28 Nov 2025 03:20:00 GMT")
                        .insert_header("x-ms-meta-upload_status", "completed")
                        .insert_header("x-ms-meta-Version", "3")
                        .set_body_bytes(vec![0u8; 42]),
                )
                .mount(&server)
                .await;
            Mock::given(method("HEAD"))
                .and(path("/acct/nocontainer/m"))
                .respond_with(ResponseTemplate::new(404).insert_header("x-ms-error-code", "ContainerNotFound"))
                .mount(&server)
                .await;
            Mock::given(method("HEAD"))
                .and(path("/acct/c/none"))
                .respond_with(ResponseTemplate::new(404).insert_header("x-ms-error-code", "BlobNotFound"))
                .mount(&server)
                .await;
            let blob = client(&server, StorageAuth::SharedKey { account: "acct".into(), key: Secret::new("a2V5") });
            let meta: BTreeMap<String, String> = [("name".to_string(), "sales".to_string())].into_iter().collect();
            let put = |name: &'static str| {
                blob.put_if_absent("c", name, Bytes::from_static(b"x"), "application/x-yaml", &meta)
            };
            assert_eq!(put("new dir/MLTable").await.unwrap(), PutOutcome::Created);
            assert_eq!(put("exists").await.unwrap(), PutOutcome::AlreadyExists);
            assert_eq!(put("cond").await.unwrap(), PutOutcome::AlreadyExists);
            let err = put("leased").await.unwrap_err();
            assert!(err.to_string().contains("LeaseIdMissing"), "{err}");
            let status: BTreeMap<String, String> =
                [("upload_status".to_string(), "completed".to_string())].into_iter().collect();
            blob.set_metadata("c", "m", &status).await.unwrap();
            let props = blob.head("c", "m").await.unwrap().unwrap();
            assert_eq!(props.size, 42);
            assert_eq!(props.last_modified.to_rfc3339(), "2025-11-28T03:20:00+00:00");
            assert_eq!(props.metadata.get("upload_status").map(String::as_str), Some("completed"));
            assert_eq!(props.metadata.get("version").map(String::as_str), Some("3"));
            assert_eq!(blob.head("c", "none").await.unwrap(), None);
            let err = blob.head("nocontainer", "m").await.unwrap_err();
            assert_eq!(err.exit_status().code(), 2, "{err}");
        }
    }

    #[test]
    fn metadata_names() {
        assert_eq!(metadata_header("upload_status").unwrap(), "x-ms-meta-upload_status");
        assert_eq!(metadata_header("Name").unwrap(), "x-ms-meta-name");
        for bad in ["", "1abc", "a-b", "a b", "ü"] {
            assert_eq!(metadata_header(bad).unwrap_err().exit_status().code(), 2, "{bad}");
        }
    }
}

//! The Blob front end through real HTTP (signed with Shared Key): uploads with conditions, MD5 and metadata,
//! reads and properties, metadata updates, container operations, listing with prefix/delimiter/marker/maxresults,
//! and the XML errors.

mod common;

use common::*;
use drift_sandbox::Sandbox;
use reqwest::Method;

pub const ACCOUNT: &str = "acct01";
/// base64 of "drift-sandbox-test-account-key-0123456789".
pub const KEY: &str = "ZHJpZnQtc2FuZGJveC10ZXN0LWFjY291bnQta2V5LTAxMjM0NTY3ODk=";

fn storage() -> Sandbox {
    let sandbox = sandbox();
    sandbox.add_storage_account(ACCOUNT, KEY);
    sandbox.add_container(ACCOUNT, "data");
    sandbox
}

fn url(sandbox: &Sandbox, path: &str) -> String {
    format!("{}/blob/{ACCOUNT}/{path}", sandbox.url())
}

async fn send(
    sandbox: &Sandbox,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    signed(ACCOUNT, KEY, method, &url(sandbox, path), headers, body.to_vec()).await
}

/// Every `<Name>` of a list result, in order.
fn names(xml: &str) -> Vec<String> {
    xml.split("<Name>").skip(1).map(|s| s.split("</Name>").next().unwrap().to_string()).collect()
}

fn next_marker(xml: &str) -> Option<String> {
    xml.split("<NextMarker>").nth(1).map(|s| s.split("</NextMarker>").next().unwrap().to_string())
}

#[tokio::test]
async fn upload_read_properties_and_metadata() {
    let sandbox = storage();
    let path = "data/LocalUpload/abc/sales/MLTable";
    let body = b"paths:\n- folder: x\ntype: mltable\n";
    let put = send(
        &sandbox,
        Method::PUT,
        path,
        &[("x-ms-blob-type", "BlockBlob"), ("content-type", "application/x-yaml"), ("if-none-match", "*")],
        body,
    )
    .await;
    assert_eq!(put.status().as_u16(), 201, "{}", put.text().await.unwrap());
    let etag = put.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("\"0x8D") && etag.ends_with('"'), "{etag}");
    assert!(put.headers().contains_key("last-modified"));
    assert_eq!(put.headers()["x-ms-request-server-encrypted"], "true");
    assert_eq!(put.headers()["x-ms-version"], X_MS_VERSION);
    assert!(put.headers().contains_key("content-md5"));

    // If-None-Match: * on an existing blob.
    let again =
        send(&sandbox, Method::PUT, path, &[("x-ms-blob-type", "BlockBlob"), ("if-none-match", "*")], body).await;
    assert_eq!(again.status().as_u16(), 409);
    assert_eq!(again.headers()["x-ms-error-code"], "BlobAlreadyExists");
    assert_eq!(xml_code(&again.text().await.unwrap()), "BlobAlreadyExists");

    let head = send(&sandbox, Method::HEAD, path, &[], b"").await;
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-length"], body.len().to_string());
    assert_eq!(head.headers()["content-type"], "application/x-yaml");
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(head.headers()["x-ms-blob-type"], "BlockBlob");
    assert!(!head.headers().keys().any(|k| k.as_str().starts_with("x-ms-meta-")));

    let meta = send(
        &sandbox,
        Method::PUT,
        &format!("{path}?comp=metadata"),
        &[("x-ms-meta-upload_status", "completed"), ("x-ms-meta-name", "sales"), ("x-ms-meta-version", "1")],
        b"",
    )
    .await;
    assert_eq!(meta.status().as_u16(), 200, "{}", meta.text().await.unwrap_or_default());
    let head = send(&sandbox, Method::HEAD, path, &[], b"").await;
    assert_eq!(head.headers()["x-ms-meta-upload_status"], "completed");
    assert_eq!(head.headers()["x-ms-meta-name"], "sales");
    assert_ne!(head.headers()["etag"].to_str().unwrap(), etag, "a metadata change makes a new ETag");
    let stored = sandbox.blob(ACCOUNT, "data", "LocalUpload/abc/sales/MLTable").unwrap();
    assert_eq!(stored.bytes, body);
    assert_eq!(stored.metadata["upload_status"], "completed");

    let get = send(&sandbox, Method::GET, path, &[], b"").await;
    assert_eq!(get.status().as_u16(), 200);
    assert_eq!(get.bytes().await.unwrap().as_ref(), body);
    let part = send(&sandbox, Method::GET, path, &[("x-ms-range", "bytes=0-4")], b"").await;
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 0-4/{}", body.len()));
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"paths");
    let beyond = send(&sandbox, Method::GET, path, &[("x-ms-range", "bytes=999-")], b"").await;
    assert_eq!(beyond.status().as_u16(), 416);

    // If-Match with a stale ETag.
    let stale = send(&sandbox, Method::PUT, path, &[("x-ms-blob-type", "BlockBlob"), ("if-match", &etag)], body).await;
    assert_eq!(stale.status().as_u16(), 412);

    let missing = send(&sandbox, Method::HEAD, "data/nope", &[], b"").await;
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.headers()["x-ms-error-code"], "BlobNotFound");
    assert!(missing.bytes().await.unwrap().is_empty());
    let deleted = send(&sandbox, Method::DELETE, path, &[], b"").await;
    assert_eq!(deleted.status().as_u16(), 202);
    assert!(sandbox.blob(ACCOUNT, "data", "LocalUpload/abc/sales/MLTable").is_none());
}

/// (why, method, path, headers, body, status, error code)
type Case = (&'static str, Method, String, Vec<(&'static str, &'static str)>, Vec<u8>, u16, &'static str);

#[tokio::test]
async fn request_errors_are_xml_with_codes() {
    let sandbox = storage();
    let cases: Vec<Case> = vec![
        (
            "missing container",
            Method::PUT,
            "nocontainer/x".into(),
            vec![("x-ms-blob-type", "BlockBlob")],
            b"x".to_vec(),
            404,
            "ContainerNotFound",
        ),
        ("no blob type", Method::PUT, "data/x".into(), vec![], b"x".to_vec(), 400, "MissingRequiredHeader"),
        (
            "page blob",
            Method::PUT,
            "data/x".into(),
            vec![("x-ms-blob-type", "PageBlob")],
            b"x".to_vec(),
            400,
            "InvalidHeaderValue",
        ),
        (
            "wrong MD5",
            Method::PUT,
            "data/x".into(),
            vec![("x-ms-blob-type", "BlockBlob"), ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
            b"x".to_vec(),
            400,
            "Md5Mismatch",
        ),
        (
            "bad metadata name",
            Method::PUT,
            "data/x".into(),
            vec![("x-ms-blob-type", "BlockBlob"), ("x-ms-meta-1bad", "v")],
            b"x".to_vec(),
            400,
            "InvalidMetadata",
        ),
        (
            "block staging is not faked",
            Method::PUT,
            "data/x?comp=block&blockid=AAAA".into(),
            vec![],
            b"x".to_vec(),
            400,
            "UnsupportedQueryParameter",
        ),
        (
            "metadata of a missing blob",
            Method::PUT,
            "data/nope?comp=metadata".into(),
            vec![("x-ms-meta-a", "b")],
            vec![],
            404,
            "BlobNotFound",
        ),
        (
            "list without restype",
            Method::GET,
            "data?comp=list".into(),
            vec![],
            vec![],
            400,
            "InvalidQueryParameterValue",
        ),
        (
            "list maxresults=0",
            Method::GET,
            "data?restype=container&comp=list&maxresults=0".into(),
            vec![],
            vec![],
            400,
            "OutOfRangeQueryParameterValue",
        ),
        (
            "list bad marker",
            Method::GET,
            "data?restype=container&comp=list&marker=abc".into(),
            vec![],
            vec![],
            400,
            "InvalidQueryParameterValue",
        ),
        (
            "list bad include",
            Method::GET,
            "data?restype=container&comp=list&include=everything".into(),
            vec![],
            vec![],
            400,
            "InvalidQueryParameterValue",
        ),
        (
            "existing container",
            Method::PUT,
            "data?restype=container".into(),
            vec![],
            vec![],
            409,
            "ContainerAlreadyExists",
        ),
    ];
    for (why, method, path, headers, body, status, code) in cases {
        let response = send(&sandbox, method, &path, &headers, &body).await;
        assert_eq!(response.status().as_u16(), status, "{why}");
        assert_eq!(response.headers()["x-ms-error-code"], code, "{why}");
        assert_eq!(response.headers()["content-type"], "application/xml", "{why}");
        let text = response.text().await.unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>"), "{why}: {text}");
        assert_eq!(xml_code(&text), code, "{why}");
        assert!(text.contains("RequestId:") && text.contains("Time:"), "{why}: {text}");
    }
    // x-ms-version is required, checked before anything else.
    let response = client().get(url(&sandbox, "data/x")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let text = response.text().await.unwrap();
    assert_eq!(xml_code(&text), "MissingRequiredHeader");
    assert!(text.contains("<HeaderName>x-ms-version</HeaderName>"), "{text}");
    let unknown =
        signed("nosuchacct", KEY, Method::GET, &format!("{}/blob/nosuchacct/data/x", sandbox.url()), &[], vec![]).await;
    assert_eq!(unknown.status().as_u16(), 404);
}

#[tokio::test]
async fn containers_are_created_and_described() {
    let sandbox = storage();
    let created = send(&sandbox, Method::PUT, "fresh?restype=container", &[], b"").await;
    assert_eq!(created.status().as_u16(), 201);
    let props = send(&sandbox, Method::GET, "fresh?restype=container", &[], b"").await;
    assert_eq!(props.status().as_u16(), 200);
    assert!(props.headers().contains_key("etag") && props.headers().contains_key("last-modified"));
    let bad = send(&sandbox, Method::PUT, "Bad_Name?restype=container", &[], b"").await;
    assert_eq!(bad.status().as_u16(), 400);
    let missing = send(&sandbox, Method::HEAD, "nothing?restype=container", &[], b"").await;
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.headers()["x-ms-error-code"], "ContainerNotFound");
}

#[tokio::test]
async fn listing_pages_with_markers_prefixes_and_delimiters() {
    let sandbox = storage();
    for i in 0..7 {
        sandbox.add_blob(ACCOUNT, "data", &format!("t/_delta_log/{i:020}.json"), format!("{{\"v\":{i}}}"));
    }
    sandbox.add_blob(ACCOUNT, "data", "t/_delta_log/_last_checkpoint", "{}");
    sandbox.add_blob(ACCOUNT, "data", "t/part-0.parquet", "x");
    sandbox.add_blob(ACCOUNT, "data", "u/other", "x");
    let send_meta = send(
        &sandbox,
        Method::PUT,
        "data/t/_delta_log/00000000000000000000.json?comp=metadata",
        &[("x-ms-meta-k", "v&<")],
        b"",
    )
    .await;
    assert_eq!(send_meta.status().as_u16(), 200);

    let mut collected = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path =
            "data?restype=container&comp=list&prefix=t/_delta_log/&maxresults=3&include=metadata".to_string();
        if let Some(m) = &marker {
            path.push_str(&format!("&marker={}", form_urlencoded_encode(m)));
        }
        let response = send(&sandbox, Method::GET, &path, &[], b"").await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/xml");
        let xml = response.text().await.unwrap();
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\""),
            "{xml}"
        );
        assert!(
            xml.contains("ContainerName=\"data\"")
                && xml.contains("<Prefix>t/_delta_log/</Prefix>")
                && xml.contains("<MaxResults>3</MaxResults>"),
            "{xml}"
        );
        if pages == 0 {
            assert!(xml.contains("<Metadata><k>v&amp;&lt;</k></Metadata>"), "{xml}");
            assert!(
                xml.contains("<Content-Length>")
                    && xml.contains("<BlobType>BlockBlob</BlobType>")
                    && xml.contains("<Etag>0x8D"),
                "{xml}"
            );
        }
        collected.extend(names(&xml));
        pages += 1;
        match next_marker(&xml) {
            Some(m) if !m.is_empty() => marker = Some(m),
            _ => {
                assert!(xml.contains("<NextMarker />"), "{xml}");
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(collected.len(), 8);
    assert_eq!(collected.last().unwrap(), "t/_delta_log/_last_checkpoint");
    let mut sorted = collected.clone();
    sorted.sort();
    assert_eq!(collected, sorted);

    let response = send(&sandbox, Method::GET, "data?restype=container&comp=list&delimiter=/", &[], b"").await;
    let xml = response.text().await.unwrap();
    assert!(
        xml.contains("<BlobPrefix><Name>t/</Name></BlobPrefix>")
            && xml.contains("<BlobPrefix><Name>u/</Name></BlobPrefix>"),
        "{xml}"
    );
    assert!(xml.contains("<Delimiter>/</Delimiter>"));
    let response =
        send(&sandbox, Method::GET, "data?restype=container&comp=list&prefix=t/&delimiter=/", &[], b"").await;
    assert_eq!(names(&response.text().await.unwrap()), ["t/_delta_log/", "t/part-0.parquet"]);
    let response = send(
        &sandbox,
        Method::GET,
        "data?restype=container&comp=list&prefix=t/_delta_log/&startFrom=t/_delta_log/00000000000000000005.json",
        &[],
        b"",
    )
    .await;
    assert_eq!(names(&response.text().await.unwrap()).len(), 3);
}

fn form_urlencoded_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

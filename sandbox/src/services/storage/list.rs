//! List Blobs (`?restype=container&comp=list`): prefix, delimiter (`BlobPrefix` entries), opaque markers,
//! `maxresults`, `startFrom`, `include=metadata`, rendered as the service's XML `EnumerationResults`.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::crypto;
use super::errors::{StorageError, xml_escape};
use super::store::{Blob, Container};
use crate::wire::{Query, http_date};

/// The most a list page holds, and what it holds when `maxresults` is not given.
const MAX_LIST_RESULTS: usize = 5000;

/// `include=` values the List Blobs operation knows; only `metadata` changes what the sandbox lists.
const LIST_INCLUDES: &[&str] = &[
    "copy",
    "deleted",
    "metadata",
    "snapshots",
    "uncommittedblobs",
    "versions",
    "tags",
    "immutabilitypolicy",
    "legalhold",
    "deletedwithversions",
    "permissions",
];

/// List markers are opaque to clients; the sandbox's carry the name to resume at, hex-encoded.
fn encode_marker(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02X}")).collect();
    format!("2!{}!{hex}", hex.len())
}

fn decode_marker(marker: &str) -> Option<String> {
    let (len, hex) = marker.strip_prefix("2!")?.split_once('!')?;
    if len.parse::<usize>().ok()? != hex.len() || hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

enum Entry<'a> {
    Blob(&'a str, &'a Blob),
    Prefix(String),
}

pub(crate) fn list(
    base_url: &str,
    account: &str,
    container: &str,
    target: &Container,
    query: &Query,
) -> Result<Response, StorageError> {
    let prefix = query.get_raw("prefix").unwrap_or("");
    let delimiter = query.get_raw("delimiter").filter(|d| !d.is_empty());
    let max = match query.get_raw("maxresults") {
        None => MAX_LIST_RESULTS,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_LIST_RESULTS).min(MAX_LIST_RESULTS),
            Ok(_) => {
                return Err(StorageError::new(
                    StatusCode::BAD_REQUEST,
                    "OutOfRangeQueryParameterValue",
                    "One of the query parameters specified in the request URI is outside the permissible range.",
                )
                .with("QueryParameterName", "maxresults")
                .with("QueryParameterValue", raw)
                .with("MinimumAllowed", "1")
                .with("MaximumAllowed", "2147483647"));
            }
            Err(_) => return Err(StorageError::invalid_query("maxresults", raw, "maxresults must be an integer.")),
        },
    };
    let mut include_metadata = false;
    if let Some(include) = query.get_raw("include") {
        for item in include.split(',').filter(|i| !i.is_empty()) {
            if !LIST_INCLUDES.contains(&item.to_ascii_lowercase().as_str()) {
                return Err(StorageError::invalid_query("include", include, "Unknown include value."));
            }
            include_metadata |= item.eq_ignore_ascii_case("metadata");
        }
    }
    let marker =
        match query.get_raw("marker").filter(|m| !m.is_empty()) {
            None => None,
            Some(raw) => Some(decode_marker(raw).ok_or_else(|| {
                StorageError::invalid_query("marker", raw, "The marker is not one this service issued.")
            })?),
        };
    let start_from = query.get_raw("startFrom").filter(|s| !s.is_empty());
    let mut start = prefix.to_string();
    for bound in [marker.as_deref(), start_from].into_iter().flatten() {
        if bound > start.as_str() {
            start = bound.to_string();
        }
    }

    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut next_marker = None;
    for (name, blob) in target.blobs.range(start..) {
        if !name.starts_with(prefix) {
            break;
        }
        let entry = match delimiter.and_then(|d| name[prefix.len()..].find(d).map(|i| (d, i))) {
            Some((d, i)) => {
                let folder = &name[..prefix.len() + i + d.len()];
                if matches!(entries.last(), Some(Entry::Prefix(p)) if p == folder) {
                    continue;
                }
                Entry::Prefix(folder.to_string())
            }
            None => Entry::Blob(name, blob),
        };
        if entries.len() == max {
            next_marker = Some(match &entry {
                Entry::Blob(name, _) => name.to_string(),
                Entry::Prefix(p) => p.clone(),
            });
            break;
        }
        entries.push(entry);
    }

    let mut xml = String::with_capacity(256 + entries.len() * 600);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    let _ = write!(
        xml,
        "<EnumerationResults ServiceEndpoint=\"{}/blob/{}/\" ContainerName=\"{}\">",
        xml_escape(base_url),
        xml_escape(account),
        xml_escape(container)
    );
    for (element, value) in [
        ("Prefix", query.get_raw("prefix")),
        ("Marker", query.get_raw("marker")),
        ("MaxResults", query.get_raw("maxresults")),
        ("Delimiter", delimiter),
    ] {
        if let Some(value) = value {
            let _ = write!(xml, "<{element}>{}</{element}>", xml_escape(value));
        }
    }
    xml.push_str("<Blobs>");
    for entry in &entries {
        match entry {
            Entry::Prefix(p) => {
                let _ = write!(xml, "<BlobPrefix><Name>{}</Name></BlobPrefix>", xml_escape(p));
            }
            Entry::Blob(name, blob) => {
                let _ = write!(
                    xml,
                    "<Blob><Name>{}</Name><Properties><Creation-Time>{}</Creation-Time><Last-Modified>{}</Last-Modified>\
                     <Etag>{}</Etag><Content-Length>{}</Content-Length><Content-Type>{}</Content-Type>\
                     <Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5>{}</Content-MD5>\
                     <Cache-Control /><Content-Disposition /><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier>\
                     <AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus>\
                     <LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>",
                    xml_escape(name),
                    http_date(blob.created),
                    http_date(blob.modified),
                    blob.etag,
                    blob.data.len(),
                    xml_escape(&blob.content_type),
                    crypto::b64(&blob.md5)
                );
                if include_metadata {
                    if blob.metadata.is_empty() {
                        xml.push_str("<Metadata />");
                    } else {
                        xml.push_str("<Metadata>");
                        for (key, value) in &blob.metadata {
                            let _ = write!(xml, "<{key}>{}</{key}>", xml_escape(value));
                        }
                        xml.push_str("</Metadata>");
                    }
                }
                xml.push_str("</Blob>");
            }
        }
    }
    xml.push_str("</Blobs>");
    match next_marker {
        Some(name) => {
            let _ = write!(xml, "<NextMarker>{}</NextMarker>", encode_marker(&name));
        }
        None => xml.push_str("<NextMarker />"),
    }
    xml.push_str("</EnumerationResults>");
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_reject_garbage() {
        let marker = encode_marker("tables/sales/_delta_log/00000000000000000010.json");
        assert_eq!(decode_marker(&marker).as_deref(), Some("tables/sales/_delta_log/00000000000000000010.json"));
        assert_eq!(decode_marker("2!4!ZZ"), None);
        assert_eq!(decode_marker("garbage"), None);
    }
}

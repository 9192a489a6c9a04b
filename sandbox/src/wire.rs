//! Small wire helpers every service uses: JSON responses, query-string access, clock readings in the formats Azure
//! services print.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Azure services answer `application/json; charset=utf-8`; some clients check the charset.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A JSON response with the Azure content type.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// The decoded pairs of a query string, in order. Azure services treat parameter names case-sensitively for
/// `api-version`, so lookups here are exact.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
            .unwrap_or_default();
        Query(pairs)
    }

    /// The first value of `name`, if present and non-empty (Azure treats `?api-version=` like a missing one).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The first value of `name` even when empty: storage distinguishes `prefix=` from no prefix in signatures.
    pub fn get_raw(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every decoded pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Percent-decodes one URL path segment; `None` when the bytes are not UTF-8 (a name no Azure service accepts).
pub(crate) fn decode_segment(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment).decode_utf8().ok().map(|s| s.into_owned())
}

/// Nanoseconds since the Unix epoch: the sandbox's one timestamp type for stored resources (sortable, copyable).
pub(crate) fn unix_nanos(time: SystemTime) -> i64 {
    let nanos = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos();
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

pub(crate) fn now_nanos() -> i64 {
    unix_nanos(SystemTime::now())
}

fn utc(nanos: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_nanos(nanos)
}

/// What Azure ML prints in `systemData`: seven fractional digits and an explicit offset,
/// `2022-09-12T22:33:08.1697789+00:00` (as in the real pipeline-job GET).
pub(crate) fn ml_timestamp(nanos: i64) -> String {
    let t = utc(nanos);
    format!("{}.{:07}+00:00", t.format("%Y-%m-%dT%H:%M:%S"), t.timestamp_subsec_nanos() / 100)
}

/// The HTTP date of `Last-Modified` and of list results: `Thu, 01 Jan 2026 10:00:00 GMT`.
pub(crate) fn http_date(nanos: i64) -> String {
    utc(nanos).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The `Time:` line of storage error messages: `2026-01-01T10:00:00.1234567Z`.
pub(crate) fn storage_time(nanos: i64) -> String {
    let t = utc(nanos);
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), t.timestamp_subsec_nanos() / 100)
}

/// Parses an RFC 3339 timestamp (seed files, SAS times) into Unix nanoseconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().and_then(|t| t.timestamp_nanos_opt())
}

/// A header's value as text, if present and valid UTF-8.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

/// The timestamp format of AAD error bodies: `2025-08-18 15:26:14Z`.
pub(crate) fn aad_timestamp(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The US-style time ARM prints in token expiry messages: `11/28/2026 2:10:04 AM`.
pub(crate) fn arm_time(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decodes_and_ignores_empty_values() {
        let q = Query::parse(Some("api-version=7.5&resource=https%3A%2F%2Fvault.azure.net&x=&x=2"));
        assert_eq!(q.get("api-version"), Some("7.5"));
        assert_eq!(q.get("resource"), Some("https://vault.azure.net"));
        assert_eq!(q.get("x"), None, "first value wins, and it is empty");
        assert_eq!(Query::parse(None).get("a"), None);
    }

    #[test]
    fn time_formats() {
        let t = UNIX_EPOCH + Duration::from_secs(1_755_530_774);
        assert_eq!(aad_timestamp(t), "2025-08-18 15:26:14Z");
        assert_eq!(arm_time(t), "8/18/2025 3:26:14 PM");
        assert_eq!(unix_secs(t), 1_755_530_774);
        let nanos = 1_662_975_188_169_778_900;
        assert_eq!(ml_timestamp(nanos), "2022-09-12T09:33:08.1697789+00:00");
        assert_eq!(http_date(nanos), "Mon, 12 Sep 2022 09:33:08 GMT");
        assert_eq!(storage_time(nanos), "2022-09-12T09:33:08.1697789Z");
        assert_eq!(parse_rfc3339("2022-09-12T09:33:08.1697789+00:00"), Some(nanos));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn segments_and_raw_values() {
        assert_eq!(decode_segment("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(decode_segment("%FF"), None);
        let q = Query::parse(Some("prefix=&comp=list"));
        assert_eq!(q.get_raw("prefix"), Some(""));
        assert_eq!(q.get("prefix"), None);
        assert_eq!(q.pairs().len(), 2);
    }
}

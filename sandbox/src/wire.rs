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
    }
}

//! Storage error answers: Blob speaks XML (`<Error><Code/><Message/>...</Error>`), DFS speaks JSON
//! (`{"error":{"code","message"}}`); both put the code in `x-ms-error-code` and end the message with the request id
//! and time, and HEAD answers carry no body at all, as the real front ends do.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ids;
use crate::wire::{JSON_CONTENT_TYPE, now_nanos, storage_time};

/// Which storage front end answers; they differ in error format and `Server` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Blob,
    Dfs,
}

impl Service {
    fn server(self) -> &'static str {
        match self {
            Service::Blob => "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
            Service::Dfs => "Windows-Azure-HDFS/1.0 Microsoft-HTTPAPI/2.0",
        }
    }
}

/// A storage failure before it is rendered for one front end.
#[derive(Debug, Clone)]
pub(crate) struct StorageError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra XML elements of the Blob error body (`HeaderName`, `AuthenticationErrorDetail`, ...).
    pub extra: Vec<(&'static str, String)>,
    /// `WWW-Authenticate` for 401s, which bearer clients use to discover the tenant.
    pub challenge: Option<String>,
}

impl StorageError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> StorageError {
        StorageError { status, code, message: message.into(), extra: Vec::new(), challenge: None }
    }

    pub fn with(mut self, element: &'static str, value: impl Into<String>) -> StorageError {
        self.extra.push((element, value.into()));
        self
    }

    pub fn challenge(mut self, challenge: String) -> StorageError {
        self.challenge = Some(challenge);
        self
    }

    pub fn container_not_found() -> StorageError {
        StorageError::new(StatusCode::NOT_FOUND, "ContainerNotFound", "The specified container does not exist.")
    }

    pub fn blob_not_found() -> StorageError {
        StorageError::new(StatusCode::NOT_FOUND, "BlobNotFound", "The specified blob does not exist.")
    }

    pub fn missing_header(name: &str) -> StorageError {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified.",
        )
        .with("HeaderName", name)
    }

    pub fn invalid_query(name: &str, value: &str, reason: &str) -> StorageError {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameterValue",
            format!("Value for one of the query parameters specified in the request URI is invalid. {reason}"),
        )
        .with("QueryParameterName", name)
        .with("QueryParameterValue", value)
        .with("Reason", reason)
    }

    pub fn missing_query(name: &str) -> StorageError {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "MissingRequiredQueryParameter",
            "A query parameter that's mandatory for this request is not specified.",
        )
        .with("QueryParameterName", name)
    }

    /// Operations the sandbox does not fake: said plainly, so a drift change that needs one is noticed.
    pub fn unsupported(what: &str) -> StorageError {
        StorageError::new(
            StatusCode::BAD_REQUEST,
            "UnsupportedQueryParameter",
            format!("drift-sandbox does not implement {what}."),
        )
    }

    pub fn render(self, service: Service, head: bool, request: &HeaderMap) -> Response {
        let request_id = ids::uuid();
        let message = format!("{}\nRequestId:{request_id}\nTime:{}", self.message, storage_time(now_nanos()));
        let mut response = if head {
            self.status.into_response()
        } else {
            match service {
                Service::Blob => {
                    let mut body = format!(
                        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}</Message>",
                        self.code,
                        xml_escape(&message)
                    );
                    for (element, value) in &self.extra {
                        body.push_str(&format!("<{element}>{}</{element}>", xml_escape(value)));
                    }
                    body.push_str("</Error>");
                    let mut response = (self.status, body).into_response();
                    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
                    response
                }
                Service::Dfs => {
                    // DFS has no place for the extra elements; the authentication detail goes into the message.
                    let detail = self.extra.iter().find(|(e, _)| *e == "AuthenticationErrorDetail");
                    let message = match detail {
                        Some((_, d)) => format!("{message}\n{d}"),
                        None => message,
                    };
                    let mut response =
                        (self.status, json!({"error": {"code": self.code, "message": message}}).to_string())
                            .into_response();
                    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
                    response
                }
            }
        };
        let headers = response.headers_mut();
        headers.insert("x-ms-error-code", HeaderValue::from_static(self.code));
        if let Ok(value) = HeaderValue::try_from(request_id) {
            headers.insert("x-ms-request-id", value);
        }
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        stamp(service, request, headers);
        response
    }
}

/// Headers on every storage answer: the front end's `Server` and the echoed `x-ms-version`.
pub(crate) fn stamp(service: Service, request: &HeaderMap, response: &mut HeaderMap) {
    response.insert(header::SERVER, HeaderValue::from_static(service.server()));
    if let Some(version) = request.get("x-ms-version") {
        response.insert("x-ms-version", version.clone());
    }
}

pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("a<b>&'\""), "a&lt;b&gt;&amp;&apos;&quot;");
    }
}

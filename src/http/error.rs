//! The HTTP layer's own error, the only one it returns: what was called (secrets stripped), what Azure answered
//! (status, error code and message, request ids), how hard we tried, and — when the request never got its
//! credentials or a signal stopped it — why. It depends on nothing else in drift; `error::Error` maps it to exit
//! codes.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpErrorKind {
    /// The server answered with a status the caller did not accept.
    Status,
    /// No connection could be made (refused, DNS, TLS).
    Connect,
    /// The request or the response body timed out.
    Timeout,
    /// The connection broke while sending or reading.
    Transport,
    /// The response body did not have the expected shape.
    Decode,
    /// The request was refused before sending (bad URL, plain http to a remote host, nextLink loop).
    Request,
    /// The response body was larger than the request's limit (`MAX_RESPONSE_BYTES`).
    TooLarge,
    /// A shutdown signal stopped the request before it was sent or while it was under way (`signal` says which).
    Interrupted,
    /// The request could not be given its credentials (`credential` says why).
    Credential,
}

/// Why a request could not be given its token or signature. Token providers and signers outside the HTTP layer
/// report in these terms, so the layer needs nothing from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// The credential is missing, malformed or refused (an authentication problem).
    Rejected(String),
    /// Getting a token took an HTTP call, and that call failed.
    Http(Box<HttpError>),
    /// A shutdown signal stopped it.
    Interrupted(&'static str),
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::Rejected(message) => f.write_str(message),
            CredentialError::Http(e) => write!(f, "{e}"),
            CredentialError::Interrupted(signal) => write!(f, "interrupted by {signal}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub method: String,
    /// With SAS signatures and passwords replaced by `REDACTED`.
    pub url: String,
    pub status: Option<u16>,
    pub kind: HttpErrorKind,
    /// Azure's error code (`error.code`, AAD `error`, storage `x-ms-error-code`).
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
    pub retries: u32,
    pub elapsed: Duration,
    /// For [`HttpErrorKind::Interrupted`]: the signal.
    pub signal: Option<&'static str>,
    /// For [`HttpErrorKind::Credential`]: why the credential could not be had.
    pub credential: Option<Box<CredentialError>>,
}

impl HttpError {
    /// An error about a request to `url` (already redacted), before or without an answer.
    pub fn new(method: &str, url: &str, kind: HttpErrorKind, message: impl Into<String>) -> HttpError {
        HttpError {
            method: method.to_string(),
            url: url.to_string(),
            status: None,
            kind,
            code: None,
            message: message.into(),
            request_id: None,
            correlation_id: None,
            retries: 0,
            elapsed: Duration::ZERO,
            signal: None,
            credential: None,
        }
    }

    /// The request named short: the method and the part of the URL that says which resource — after the
    /// workspace for ARM (`PUT …/jobs/drift-churn-3f2a`), else host and path without the query, shortened in the
    /// middle past 100 characters. The whole URL (secrets stripped) is in `url` and in the debug log.
    pub fn resource(&self) -> String {
        let without_query = self.url.split('?').next().unwrap_or(&self.url);
        let after_scheme = without_query.split_once("://").map_or(without_query, |(_, rest)| rest);
        let short = match after_scheme.find("/workspaces/") {
            Some(at) => {
                let rest = &after_scheme[at + "/workspaces/".len()..];
                match rest.split_once('/') {
                    Some((_, inside)) => format!("…/{inside}"),
                    None => format!("workspace {rest}"),
                }
            }
            None => after_scheme.to_string(),
        };
        let chars: Vec<char> = short.chars().collect();
        let short = if chars.len() > 100 {
            format!(
                "{}…{}",
                chars[..40].iter().collect::<String>(),
                chars[chars.len() - 59..].iter().collect::<String>()
            )
        } else {
            short
        };
        format!("{} {short}", self.method)
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.credential.as_deref() {
            Some(CredentialError::Http(inner)) => Some(inner.as_ref()),
            _ => None,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: ", self.resource())?;
        if let Some(status) = self.status {
            let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
            write!(f, "HTTP {status} {reason}")?;
            if self.code.is_some() || !self.message.is_empty() {
                f.write_str(" — ")?;
            }
        }
        match &self.code {
            Some(code) if !self.message.is_empty() => write!(f, "{code}: {}", self.message)?,
            Some(code) => f.write_str(code)?,
            None => f.write_str(&self.message)?,
        }
        if self.retries > 0 {
            write!(f, " (after {} retries in {:.1} s)", self.retries, self.elapsed.as_secs_f64())?;
        }
        if let Some(id) = &self.request_id {
            write!(f, "; x-ms-request-id={id}")?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, "; x-ms-correlation-request-id={id}")?;
        }
        Ok(())
    }
}

/// Request ids from response headers, for support tickets.
pub fn request_ids(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    (get("x-ms-request-id"), get("x-ms-correlation-request-id"))
}

/// Longest piece of a non-JSON error body quoted in a message; proxies sometimes answer with whole HTML pages.
const MAX_QUOTED_BODY: usize = 300;

/// Azure's error code and message from an error response, whichever of its shapes the service used:
/// ARM/Key Vault `{"error":{"code","message"}}`, AAD `{"error","error_description"}`, storage XML
/// `<Error><Code/><Message/></Error>` with `x-ms-error-code`.
pub fn parse_error_body(headers: &HeaderMap, body: &[u8]) -> (Option<String>, String) {
    let header_code = headers.get("x-ms-error-code").and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(err) = json.get("error") {
            if let Some(obj) = err.as_object() {
                let code = obj.get("code").and_then(|c| c.as_str()).map(str::to_string);
                let message = obj.get("message").and_then(|m| m.as_str()).unwrap_or("").trim().to_string();
                return (code.or(header_code), message);
            }
            if let Some(code) = err.as_str() {
                let message = json.get("error_description").and_then(|m| m.as_str()).unwrap_or("");
                // AAD descriptions carry trace and correlation ids after the first line; keep the sentence.
                let first = message.lines().next().unwrap_or("").trim().to_string();
                return (Some(code.to_string()), first);
            }
        }
        if let Some(message) = json.get("message").and_then(|m| m.as_str()) {
            return (header_code, message.to_string());
        }
    }
    let text = String::from_utf8_lossy(body);
    if let Some(message) = xml_element(&text, "Message") {
        let code = xml_element(&text, "Code").or(header_code);
        let first = message.lines().next().unwrap_or("").trim().to_string();
        return (code, first);
    }
    let trimmed = text.trim();
    let quoted: String = trimmed.chars().take(MAX_QUOTED_BODY).collect();
    let ellipsis = if trimmed.chars().count() > MAX_QUOTED_BODY { "…" } else { "" };
    (header_code, format!("{quoted}{ellipsis}"))
}

fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(text[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn error_shapes() {
        let h = HeaderMap::new();
        let arm = br#"{"error":{"code":"ResourceNotFound","message":"The workspace was not found.","details":[]}}"#;
        assert_eq!(parse_error_body(&h, arm), (Some("ResourceNotFound".into()), "The workspace was not found.".into()));
        let aad = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}"#;
        assert_eq!(
            parse_error_body(&h, aad),
            (Some("invalid_client".into()), "AADSTS7000215: Invalid client secret provided.".into())
        );
        let mut sh = HeaderMap::new();
        sh.insert("x-ms-error-code", HeaderValue::from_static("AuthorizationPermissionMismatch"));
        let xml = b"<?xml version=\"1.0\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized.\nRequestId:1</Message></Error>";
        assert_eq!(
            parse_error_body(&sh, xml),
            (Some("AuthorizationPermissionMismatch".into()), "This request is not authorized.".into())
        );
        let (code, msg) = parse_error_body(&sh, b"");
        assert_eq!(code.as_deref(), Some("AuthorizationPermissionMismatch"));
        assert_eq!(msg, "");
        let html = "<html>".repeat(100);
        let (_, msg) = parse_error_body(&h, html.as_bytes());
        assert!(msg.ends_with('…') && msg.chars().count() == MAX_QUOTED_BODY + 1);
    }

    #[test]
    fn display_names_everything_a_support_ticket_needs() {
        let e = HttpError {
            method: "PUT".into(),
            url: "https://management.azure.com/x?api-version=1".into(),
            status: Some(409),
            kind: HttpErrorKind::Status,
            code: Some("Conflict".into()),
            message: "Asset paths cannot be updated.".into(),
            request_id: Some("req-1".into()),
            correlation_id: Some("corr-1".into()),
            retries: 2,
            elapsed: Duration::from_millis(1500),
            signal: None,
            credential: None,
        };
        assert_eq!(
            e.to_string(),
            "PUT management.azure.com/x failed: HTTP 409 Conflict — Conflict: Asset paths cannot be updated. (after 2 \
             retries in 1.5 s); x-ms-request-id=req-1; x-ms-correlation-request-id=corr-1"
        );
    }

    #[test]
    fn the_resource_is_named_short_and_the_url_kept() {
        let arm = "https://management.azure.com/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/\
                   rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/drift-churn-3f2a?api-version=2025-12-01";
        let e = HttpError::new("PUT", arm, HttpErrorKind::Connect, "connection failed");
        assert_eq!(e.resource(), "PUT …/jobs/drift-churn-3f2a");
        assert_eq!(e.to_string(), "PUT …/jobs/drift-churn-3f2a failed: connection failed");
        assert_eq!(e.url, arm, "the whole URL stays on the error for debug logs");
        let ws = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws?api-version=1";
        assert_eq!(HttpError::new("GET", ws, HttpErrorKind::Status, "").resource(), "GET workspace ws");
        let blob = "https://acct.blob.core.windows.net/c/delta/sales/_delta_log/00000000000000000006.json";
        assert_eq!(
            HttpError::new("GET", blob, HttpErrorKind::Status, "").resource(),
            "GET acct.blob.core.windows.net/c/delta/sales/_delta_log/00000000000000000006.json"
        );
        let long = format!("https://h/{}", "x".repeat(300));
        let r = HttpError::new("GET", &long, HttpErrorKind::Status, "").resource();
        assert!(r.chars().count() < 110 && r.contains('…'), "{r}");
    }
}

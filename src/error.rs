//! The top-level error funnel: every layer's error becomes a [`Error`], and each maps to one documented exit code.

use std::time::Duration;

use crate::cloud::EndpointError;
use crate::config::ConfigError;
use crate::http::{CredentialError, HttpError, HttpErrorKind};

/// Process exit codes. A public contract (README, `drift help`, the Databricks shim and JAR launcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Everything succeeded.
    Success = 0,
    /// The pipeline ran but its outcome failed: a training job failed or was canceled, nothing in scope.
    Failed = 1,
    /// Usage or configuration error.
    Usage = 2,
    /// Authentication or authorization error.
    Auth = 3,
    /// Azure or network error after retries.
    Azure = 4,
    /// Timed out waiting for training jobs.
    Timeout = 5,
    /// A local file drift had to write or read (besides the config) failed: the task-values file, stdout, a temp
    /// directory. Not Azure's fault, so not 4; not the user's input, so not 2.
    LocalIo = 6,
    /// Interrupted by SIGINT (128 + 2, the shell convention).
    Interrupted = 130,
    /// Terminated by SIGTERM (128 + 15): what Databricks, CI runners and orchestrators send to stop a task.
    Terminated = 143,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit-code table as printed by `drift help` and the README.
    pub const TABLE: &'static str = "\
Exit codes:
  0    success
  1    the pipeline ran but its outcome failed (a training job failed or was canceled; nothing in scope)
  2    usage or configuration error, or a request Azure rejected as invalid (400, a missing workspace)
  3    authentication or authorization error
  4    Azure or network error that a retry may fix (after drift's own retries)
  5    timed out waiting for training jobs
  6    local I/O error (the task-values file, stdout, a temporary directory)
  130  interrupted by SIGINT
  143  terminated by SIGTERM";

    /// The status for a shutdown requested by `signal` (`SIGTERM` → 143, anything else → 130).
    pub fn for_signal(signal: &str) -> ExitStatus {
        if signal == "SIGTERM" { ExitStatus::Terminated } else { ExitStatus::Interrupted }
    }
}

/// An authentication or authorization failure (exit 3): a credential is missing, rejected, or lacks a role.
/// `message` says what to fix; the HTTP answer that showed it, if any, is the `source`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    pub message: String,
    #[source]
    pub cause: Option<Box<HttpError>>,
}

impl AuthError {
    pub fn new(message: impl Into<String>) -> AuthError {
        AuthError { message: message.into(), cause: None }
    }

    /// An authorization failure that `cause` revealed; `message` says what to fix.
    pub fn caused_by(message: impl Into<String>, cause: HttpError) -> AuthError {
        AuthError { message: message.into(), cause: Some(Box::new(cause)) }
    }
}

/// Any failure of a drift command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line or flag value.
    #[error("{0}")]
    Usage(String),
    /// Azure refused a request because of what the config or flags named (a missing workspace or container, an
    /// invalid value): `message` says which setting to check, `cause` is Azure's answer.
    #[error("{message}")]
    Rejected {
        message: String,
        #[source]
        cause: Box<HttpError>,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An HTTP call failed (after retries). 401/403 count as authorization errors.
    #[error(transparent)]
    Http(#[from] Box<HttpError>),
    /// The pipeline ran and its outcome is a failure; the message says what failed.
    #[error("{0}")]
    Failed(String),
    #[error("timed out after {} s waiting: {message}", .after.as_secs())]
    Timeout { after: Duration, message: String },
    /// A shutdown signal stopped the run; `signal` decides the exit status.
    #[error("interrupted by {signal}: {during}")]
    Interrupted { signal: &'static str, during: String },
    /// Local I/O that is not about the config file (task values file, stdout, temp files).
    #[error("{0}")]
    Io(String),
    /// Azure answered something drift cannot go on from, though no single request failed (a repeated list
    /// marker, a commit listed but gone): a later run may succeed.
    #[error("{0}")]
    Remote(String),
}

impl From<HttpError> for Error {
    /// The HTTP layer's error, sorted back into drift's: a signal is an interruption, a credential that could not
    /// be had is what it was (an authentication problem, or the failed token request), anything else an HTTP error.
    fn from(e: HttpError) -> Error {
        match (e.kind, e.signal) {
            (HttpErrorKind::Interrupted, Some(signal)) => {
                Error::Interrupted { signal, during: format!("{} was {}", e.resource(), e.message) }
            }
            (HttpErrorKind::Credential, _) => match e.credential {
                Some(why) => Error::from(*why),
                None => Error::Auth(AuthError::new(e.message)),
            },
            _ => Error::Http(Box::new(e)),
        }
    }
}

impl From<CredentialError> for Error {
    fn from(e: CredentialError) -> Error {
        match e {
            CredentialError::Rejected(message) => Error::Auth(AuthError::new(message)),
            CredentialError::Http(h) => Error::from(*h),
            CredentialError::Interrupted(signal) => {
                Error::Interrupted { signal, during: "getting a token".to_string() }
            }
        }
    }
}

impl Error {
    /// The message with its causes, each said once: `advice: cause: cause…` (the HTTP cause names the resource,
    /// Azure's code and request id; its full URL is in the debug log).
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let next = cause.to_string();
            if !text.contains(&next) {
                text.push_str(": ");
                text.push_str(&next);
            }
            source = cause.source();
        }
        text
    }

    /// The HTTP answer behind this error, if one is: the error itself, or the cause that advice wraps.
    pub fn http_cause(&self) -> Option<&HttpError> {
        match self {
            Error::Http(h) => Some(h),
            Error::Rejected { cause, .. } => Some(cause),
            Error::Auth(a) => a.cause.as_deref(),
            _ => None,
        }
    }

    /// This error in the terms a token provider or request signer reports to the HTTP layer.
    pub fn into_credential_error(self) -> CredentialError {
        match self {
            Error::Http(h) => CredentialError::Http(h),
            Error::Interrupted { signal, .. } => CredentialError::Interrupted(signal),
            other => CredentialError::Rejected(other.to_string()),
        }
    }
}

impl Error {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Endpoint(_) | Error::Rejected { .. } => ExitStatus::Usage,
            Error::Auth(_) => ExitStatus::Auth,
            Error::Http(e) => http_exit_status(e),
            Error::Failed(_) => ExitStatus::Failed,
            Error::Timeout { .. } => ExitStatus::Timeout,
            Error::Interrupted { signal, .. } => ExitStatus::for_signal(signal),
            Error::Io(_) => ExitStatus::LocalIo,
            Error::Remote(_) => ExitStatus::Azure,
        }
    }
}

/// Which HTTP failures are whose: 401/403 are credentials (3); a status that says the request itself is wrong —
/// 400 (ARM's `BadRequest`, Azure ML's `UserError`/`ValidationError`), 404 of a resource the config names (a
/// missing workspace or resource group), 405, 410, 413–415, 422 — is the caller's mistake and no retry fixes it
/// (2); everything else (408, 409, 412, 429, 5xx, connection and timeout failures, bodies drift cannot read) may
/// pass on a later try (4). RFC 9110 §15.5 defines the 4xx class as "the client seems to have erred"; 408, 409,
/// 412 and 429 are the ones a repeat can resolve.
fn http_exit_status(e: &HttpError) -> ExitStatus {
    match e.status {
        Some(401 | 403) => ExitStatus::Auth,
        Some(400 | 404 | 405 | 410 | 413 | 414 | 415 | 422) => ExitStatus::Usage,
        _ => ExitStatus::Azure,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpErrorKind;

    fn http(status: Option<u16>) -> Error {
        let kind = if status.is_some() { HttpErrorKind::Status } else { HttpErrorKind::Connect };
        let mut e = HttpError::new("GET", "https://example.com/", kind, "x");
        e.status = status;
        Error::from(e)
    }

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let cases: Vec<(Error, u8)> = vec![
            (Error::Failed("job failed".into()), 1),
            (Error::Usage("bad flag".into()), 2),
            (
                Error::Config(ConfigError {
                    file: "c.yaml".into(),
                    key: None,
                    message: "empty".into(),
                    also: Vec::new(),
                }),
                2,
            ),
            (Error::Endpoint(EndpointError { name: "X".into(), value: "y".into(), reason: "z".into() }), 2),
            (Error::Auth(AuthError::new("no credential")), 3),
            (http(Some(401)), 3),
            (http(Some(403)), 3),
            (http(Some(400)), 2),
            (http(Some(404)), 2),
            (http(Some(422)), 2),
            (http(Some(408)), 4),
            (http(Some(409)), 4),
            (http(Some(429)), 4),
            (http(Some(503)), 4),
            (http(None), 4),
            (Error::Timeout { after: Duration::from_secs(5), message: "2 jobs running".into() }, 5),
            (Error::Io("disk full".into()), 6),
            (Error::Remote("marker repeated".into()), 4),
            (Error::Interrupted { signal: "SIGINT", during: "listing jobs".into() }, 130),
            (Error::Interrupted { signal: "SIGTERM", during: "listing jobs".into() }, 143),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_status().code(), code, "{err}");
        }
        assert_eq!(ExitStatus::Success.code(), 0);
    }

    #[test]
    fn causes_are_said_once_after_the_advice() {
        let cause = match http(Some(404)) {
            Error::Http(h) => *h,
            _ => unreachable!(),
        };
        let rejected =
            Error::Rejected { message: "workspace w not found (check azml.*)".into(), cause: Box::new(cause.clone()) };
        assert_eq!(rejected.exit_status().code(), 2);
        assert_eq!(rejected.chain(), format!("workspace w not found (check azml.*): {cause}"));
        let auth = Error::Auth(AuthError::caused_by("grant the Storage Blob Data Reader role", cause.clone()));
        assert_eq!(auth.exit_status().code(), 3);
        assert!(
            auth.chain().starts_with("grant the Storage Blob Data Reader role: GET example.com/ failed"),
            "{}",
            auth.chain()
        );
        assert_eq!(auth.chain().matches("example.com").count(), 1, "the URL's host appears once: {}", auth.chain());
        // The HTTP layer's own kinds come back as drift's errors.
        let stopped = HttpError {
            signal: Some("SIGTERM"),
            ..HttpError::new("GET", "https://h/x", HttpErrorKind::Interrupted, "abandoned")
        };
        assert_eq!(Error::from(stopped).exit_status().code(), 143);
        let refused = HttpError {
            credential: Some(Box::new(CredentialError::Rejected("no secret".into()))),
            ..HttpError::new("GET", "https://h/x", HttpErrorKind::Credential, "no credential")
        };
        assert_eq!(Error::from(refused).exit_status().code(), 3);
        let token_call = HttpError {
            credential: Some(Box::new(CredentialError::Http(Box::new(cause)))),
            ..HttpError::new("GET", "https://h/x", HttpErrorKind::Credential, "no credential")
        };
        assert_eq!(Error::from(token_call).exit_status().code(), 2, "the failed token request's own status decides");
    }

    #[test]
    fn the_printed_table_lists_exactly_the_exit_statuses() {
        // Each row's first word, so "130" can't stand in for "0" or "13".
        let listed: Vec<u8> = ExitStatus::TABLE
            .lines()
            .skip(1)
            .map(|row| row.split_whitespace().next().and_then(|c| c.parse().ok()).expect("a code per row"))
            .collect();
        let all = [
            ExitStatus::Success,
            ExitStatus::Failed,
            ExitStatus::Usage,
            ExitStatus::Auth,
            ExitStatus::Azure,
            ExitStatus::Timeout,
            ExitStatus::LocalIo,
            ExitStatus::Interrupted,
            ExitStatus::Terminated,
        ];
        assert_eq!(listed, all.iter().map(|s| s.code()).collect::<Vec<_>>());
        assert_eq!(ExitStatus::for_signal("SIGTERM"), ExitStatus::Terminated);
        assert_eq!(ExitStatus::for_signal("SIGINT"), ExitStatus::Interrupted);
    }
}

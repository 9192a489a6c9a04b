//! The top-level error funnel: every layer's error becomes a [`Error`], and each maps to one documented exit code.

use std::time::Duration;

use crate::cloud::EndpointError;
use crate::config::ConfigError;
use crate::http::HttpError;

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
    /// Interrupted by SIGINT/SIGTERM.
    Interrupted = 130,
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
  2    usage or configuration error
  3    authentication or authorization error
  4    Azure or network error after retries
  5    timed out waiting for training jobs
  130  interrupted (SIGINT/SIGTERM)";
}

/// An authentication or authorization failure (exit 3): a credential is missing, rejected, or lacks a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    pub message: String,
}

impl AuthError {
    pub fn new(message: impl Into<String>) -> AuthError {
        AuthError { message: message.into() }
    }
}

/// Any failure of a drift command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line or flag value.
    #[error("{0}")]
    Usage(String),
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
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// Local I/O that is not about the config file (task values file, temp files).
    #[error("{0}")]
    Io(String),
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Error {
        Error::Http(Box::new(e))
    }
}

impl Error {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Endpoint(_) => ExitStatus::Usage,
            Error::Auth(_) => ExitStatus::Auth,
            Error::Http(e) if matches!(e.status, Some(401 | 403)) => ExitStatus::Auth,
            Error::Http(_) => ExitStatus::Azure,
            Error::Failed(_) => ExitStatus::Failed,
            Error::Timeout { .. } => ExitStatus::Timeout,
            Error::Interrupted(_) => ExitStatus::Interrupted,
            Error::Io(_) => ExitStatus::Azure,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpErrorKind;

    fn http(status: Option<u16>) -> Error {
        Error::from(HttpError {
            method: "GET".into(),
            url: "https://example.com/".into(),
            status,
            kind: if status.is_some() { HttpErrorKind::Status } else { HttpErrorKind::Connect },
            code: None,
            message: "x".into(),
            request_id: None,
            correlation_id: None,
            retries: 0,
            elapsed: Duration::ZERO,
        })
    }

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let cases: Vec<(Error, u8)> = vec![
            (Error::Failed("job failed".into()), 1),
            (Error::Usage("bad flag".into()), 2),
            (Error::Config(ConfigError { file: "c.yaml".into(), key: None, message: "empty".into() }), 2),
            (Error::Endpoint(EndpointError { name: "X".into(), value: "y".into(), reason: "z".into() }), 2),
            (Error::Auth(AuthError::new("no credential")), 3),
            (http(Some(401)), 3),
            (http(Some(403)), 3),
            (http(Some(404)), 4),
            (http(Some(503)), 4),
            (http(None), 4),
            (Error::Timeout { after: Duration::from_secs(5), message: "2 jobs running".into() }, 5),
            (Error::Interrupted("SIGTERM".into()), 130),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_status().code(), code, "{err}");
        }
        assert_eq!(ExitStatus::Success.code(), 0);
        for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130 "] {
            assert!(ExitStatus::TABLE.contains(code));
        }
    }
}

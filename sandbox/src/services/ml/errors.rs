//! Error answers of the Azure ML resource provider. Its own errors (validation, not found, immutability) carry the
//! management front end's shape: `{"error": {"code": "UserError", "message", "details": [], "innerError",
//! "additionalInfo": [ComponentName, Correlation, Environment, Location, Time]}}`; errors ARM itself raises
//! (missing resource group or workspace, unreadable body) carry ARM's plain `{"error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::ids;
use crate::services::arm;
use crate::wire::{json, ml_timestamp, now_nanos};

/// The region the fake workspaces live in, as printed in error details.
pub(crate) const LOCATION: &str = "westeurope";

#[derive(Debug, Clone)]
pub(crate) struct MlError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `innerError` chain, e.g. `{"code": "NotFound"}`.
    pub inner: Option<Value>,
    pub parameters: Option<Value>,
    /// Raised by ARM rather than the provider: plain shape.
    pub arm: bool,
}

pub(crate) type MlResult<T> = Result<T, MlError>;

impl MlError {
    /// A 400 `UserError`, the provider's code for anything wrong in the request.
    pub fn user(message: impl Into<String>) -> MlError {
        MlError {
            status: StatusCode::BAD_REQUEST,
            code: "UserError".into(),
            message: message.into(),
            inner: None,
            parameters: None,
            arm: false,
        }
    }

    /// A 404 for a missing item inside an existing workspace.
    pub fn not_found(message: impl Into<String>) -> MlError {
        MlError { status: StatusCode::NOT_FOUND, inner: Some(json!({"code": "NotFound"})), ..MlError::user(message) }
    }

    /// An error in ARM's own shape.
    pub fn arm(status: StatusCode, code: &str, message: impl Into<String>) -> MlError {
        MlError { status, code: code.into(), arm: true, ..MlError::user(message) }
    }

    pub fn inner(mut self, inner: Value) -> MlError {
        self.inner = Some(inner);
        self
    }

    pub fn parameters(mut self, parameters: Value) -> MlError {
        self.parameters = Some(parameters);
        self
    }

    pub fn response(&self) -> Response {
        if self.arm {
            return arm::error(self.status, &self.code, &self.message);
        }
        let mut error = json!({
            "code": self.code,
            "severity": null,
            "message": self.message,
            "messageFormat": null,
            "messageParameters": self.parameters,
            "referenceCode": null,
            "detailsUri": null,
            "target": null,
            "details": [],
            "innerError": self.inner,
            "debugInfo": null,
            "additionalInfo": [
                {"type": "ComponentName", "info": {"value": "managementfrontend"}},
                {"type": "Correlation", "info": {"value": {"operation": ids::hex32(), "request": ids::hex32()[..16].to_string()}}},
                {"type": "Environment", "info": {"value": LOCATION}},
                {"type": "Location", "info": {"value": LOCATION}},
                {"type": "Time", "info": {"value": ml_timestamp(now_nanos())}},
            ],
        });
        if self.parameters.is_some() {
            error["messageFormat"] = Value::String(self.message.clone());
        }
        json(self.status, &json!({"error": error}))
    }
}

/// ARM's answer to a body that is not JSON (or not the right JSON type at the top).
pub(crate) fn invalid_content(detail: &str) -> MlError {
    MlError::arm(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

//! Managed identity token endpoints of the "machine" the sandbox plays: the Azure Instance Metadata Service
//! (`/imds/metadata/identity/oauth2/token`, header `Metadata: true`) and the App Service / Functions identity endpoint
//! (`/msi/token`, api-version 2019-08-01, header `X-IDENTITY-HEADER`). Both issue tokens from the shared table to the
//! principal set with `Sandbox::set_managed_identity`, and answer errors in each endpoint's own shape.

use std::time::SystemTime;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use serde_json::json;

use crate::identity::{DEFAULT_TENANT_ID, is_known_audience, normalize_audience};
use crate::ids;
use crate::state::{AppState, SandboxState, lock};
use crate::wire::{Query, header_str, json};

/// The only api-version of the App Service protocol that uses `X-IDENTITY-HEADER`.
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// The first IMDS api-version with the identity endpoint; IMDS accepts any later dated version.
const IMDS_FIRST_API_VERSION: &str = "2018-02-01";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/imds/metadata/identity/oauth2/token", any(imds_token))
        .route("/msi/token", any(app_service_token))
}

/// IMDS alone, at the path it has on its real address (`http://169.254.169.254/metadata/identity/oauth2/token`),
/// for a listener bound where drift's default endpoint points (see `Sandbox::serve_imds_at`).
pub(crate) fn imds_at_root() -> Router<AppState> {
    Router::new().route("/metadata/identity/oauth2/token", any(imds_token))
}

/// IMDS errors are OAuth-shaped: `{"error", "error_description"}`.
fn imds_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(status, &json!({"error": error, "error_description": description}))
}

async fn imds_token(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET {
        return imds_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "The identity endpoint accepts GET only");
    }
    // IMDS refuses requests without the header so that a server-side request forgery cannot reach it.
    if !header_str(&headers, "metadata").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return imds_error(StatusCode::BAD_REQUEST, "invalid_request", "Required metadata header not specified");
    }
    let query = Query::parse(uri.query());
    match query.get("api-version") {
        None => {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "api-version was not specified in the request",
            );
        }
        Some(version) if !is_dated_version_since(version, IMDS_FIRST_API_VERSION) => {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("api-version {version} is invalid"),
            );
        }
        Some(_) => {}
    }
    let Some(resource) = query.get("resource") else {
        return imds_error(StatusCode::BAD_REQUEST, "invalid_request", "Required audience parameter not specified");
    };
    let selectors = ["client_id", "object_id", "msi_res_id"];
    let Some(principal) = selected_identity(&state, &query, &selectors) else {
        return imds_error(StatusCode::BAD_REQUEST, "invalid_request", "Identity not found");
    };
    let audience = normalize_audience(resource);
    if !is_known_audience(&audience) {
        return imds_error(StatusCode::BAD_REQUEST, "invalid_resource", &unknown_resource(&state, resource));
    }
    let tenant = lock(&state.identity.directory).first_tenant().unwrap_or(DEFAULT_TENANT_ID).to_string();
    let issued = lock(&state.identity.tokens).issue(&principal, &audience, &tenant);
    // IMDS sends every number as a string.
    json(
        StatusCode::OK,
        &json!({
            "access_token": issued.access_token,
            "client_id": principal,
            "expires_in": issued.expires_in.to_string(),
            "expires_on": issued.expires_on.to_string(),
            "ext_expires_in": issued.expires_in.to_string(),
            "not_before": issued.not_before.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}

/// App Service errors: `{"statusCode", "message", "correlationId"}`.
fn app_service_error(status: StatusCode, message: &str) -> Response {
    json(status, &json!({"statusCode": status.as_u16(), "message": message, "correlationId": ids::uuid()}))
}

async fn app_service_token(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET {
        return app_service_error(StatusCode::METHOD_NOT_ALLOWED, "The identity endpoint accepts GET only.");
    }
    match header_str(&headers, "x-identity-header") {
        None => {
            return app_service_error(StatusCode::UNAUTHORIZED, "The X-IDENTITY-HEADER header is missing.");
        }
        Some(value) if value != state.identity_header => {
            return app_service_error(StatusCode::UNAUTHORIZED, "The X-IDENTITY-HEADER header is not valid.");
        }
        Some(_) => {}
    }
    let query = Query::parse(uri.query());
    let version = query.get("api-version").unwrap_or("");
    if version != APP_SERVICE_API_VERSION {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "The HTTP resource that matches the request URI '{uri}' does not support the API version \
                 '{version}'. Use api-version {APP_SERVICE_API_VERSION}."
            ),
        );
    }
    let Some(resource) = query.get("resource") else {
        return app_service_error(StatusCode::BAD_REQUEST, "The 'resource' query parameter is required.");
    };
    let selectors = ["client_id", "principal_id", "mi_res_id"];
    let Some(principal) = selected_identity(&state, &query, &selectors) else {
        return app_service_error(StatusCode::BAD_REQUEST, "Unable to load the proper Managed Identity.");
    };
    let audience = normalize_audience(resource);
    if !is_known_audience(&audience) {
        return app_service_error(StatusCode::BAD_REQUEST, &unknown_resource(&state, resource));
    }
    let tenant = lock(&state.identity.directory).first_tenant().unwrap_or(DEFAULT_TENANT_ID).to_string();
    let issued = lock(&state.identity.tokens).issue(&principal, &audience, &tenant);
    json(
        StatusCode::OK,
        &json!({
            "access_token": issued.access_token,
            "expires_on": issued.expires_on.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": principal,
        }),
    )
}

/// The managed identity's principal, if one is set and the request does not ask for a different (user-assigned)
/// identity through one of `selectors`. The sandbox has one identity, whose client, object and resource ids are all
/// its principal id.
fn selected_identity(state: &SandboxState, query: &Query, selectors: &[&str]) -> Option<String> {
    let principal = lock(&state.identity.directory).managed_identity()?.to_string();
    let asks_for_other =
        selectors.iter().filter_map(|s| query.get(s)).any(|wanted| !wanted.eq_ignore_ascii_case(&principal));
    (!asks_for_other).then_some(principal)
}

/// The AADSTS500011 text both endpoints pass through for a resource the directory does not know.
fn unknown_resource(state: &SandboxState, resource: &str) -> String {
    let tenant = lock(&state.identity.directory).first_tenant().unwrap_or(DEFAULT_TENANT_ID).to_string();
    format!(
        "AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}. \
         Timestamp: {}",
        crate::wire::aad_timestamp(SystemTime::now())
    )
}

/// `YYYY-MM-DD` (optionally `-preview`) not earlier than `first`. Dates compare correctly as text.
fn is_dated_version_since(version: &str, first: &str) -> bool {
    let date = version.strip_suffix("-preview").unwrap_or(version);
    let shape_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    shape_ok && date >= first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imds_versions() {
        assert!(is_dated_version_since("2018-02-01", IMDS_FIRST_API_VERSION));
        assert!(is_dated_version_since("2021-12-13", IMDS_FIRST_API_VERSION));
        assert!(!is_dated_version_since("2017-09-01", IMDS_FIRST_API_VERSION));
        assert!(!is_dated_version_since("latest", IMDS_FIRST_API_VERSION));
        assert!(!is_dated_version_since("2018-2-01", IMDS_FIRST_API_VERSION));
    }
}

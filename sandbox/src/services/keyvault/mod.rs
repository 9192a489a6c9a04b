//! Key Vault data plane under `/kv/{vault}`: GetSecret (`GET /kv/{vault}/secrets/{name}[/ | /{version}]`), behind
//! the bearer guard with Key Vault's challenge, error shapes and api-version rules.

mod store;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{any, get};
use serde_json::json;

use crate::auth::{self, Protection, Rejection};
use crate::identity::{DEFAULT_TENANT_ID, audiences};
use crate::state::{AppState, SandboxState, lock};
use crate::wire::{Query, json};

pub(crate) use store::{KeyVaultState, check_names, seed_vaults};

pub(crate) const PROTECTION: Protection = Protection { audiences: &[audiences::KEY_VAULT], reject };

/// Data-plane api-versions Key Vault recognises for secrets (stable ones; drift pins 2025-07-01).
const API_VERSIONS: &[&str] =
    &["2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-06-01", "2025-07-01"];
const LATEST_API_VERSION: &str = "2025-07-01";

/// The values GetSecret's `outContentType` accepts (certificate-backed secrets only, but validated for all).
const OUT_CONTENT_TYPES: &[&str] = &["application/x-pkcs12", "application/x-pem-file"];

/// What a soft-delete-enabled vault (the default since 2020) reports for every secret.
const RECOVERY_LEVEL: &str = "Recoverable+Purgeable";
const RECOVERABLE_DAYS: u32 = 90;

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new()
        .route("/kv/{vault}/secrets/{name}", get(get_latest).fallback(method_not_allowed))
        .route("/kv/{vault}/secrets/{name}/", get(get_latest).fallback(method_not_allowed))
        .route("/kv/{vault}/secrets/{name}/{version}", get(get_version).fallback(method_not_allowed))
        // A catch-all cannot share a segment with `{vault}` (matchit refuses a parameter and a catch-all at one
        // position), so unknown operations are caught per vault; both still pass the guard.
        .route("/kv/{vault}", any(unknown_operation))
        .route("/kv/{vault}/{*rest}", any(unknown_operation));
    auth::protect(router, state, &PROTECTION)
}

/// Key Vault's error body: `{"error": {"code", "message"}}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json(status, &json!({"error": {"code": code, "message": message}}))
}

async fn get_latest(State(state): State<AppState>, Path((vault, name)): Path<(String, String)>, uri: Uri) -> Response {
    get_secret(&state, &vault, &name, None, &uri)
}

async fn get_version(
    State(state): State<AppState>,
    Path((vault, name, version)): Path<(String, String, String)>,
    uri: Uri,
) -> Response {
    get_secret(&state, &vault, &name, Some(&version), &uri)
}

fn get_secret(state: &SandboxState, vault: &str, name: &str, version: Option<&str>, uri: &Uri) -> Response {
    let query = Query::parse(uri.query());
    match query.get("api-version") {
        None => {
            return error(StatusCode::BAD_REQUEST, "BadParameter", "The 'api-version' query parameter is missing.");
        }
        Some(v) if !API_VERSIONS.contains(&v) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                &format!(
                    "The specified version ({v}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION})."
                ),
            );
        }
        Some(_) => {}
    }
    if let Some(out) = query.get("outContentType")
        && !OUT_CONTENT_TYPES.contains(&out)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            &format!(
                "The outContentType '{out}' is not supported. Supported values: {}.",
                OUT_CONTENT_TYPES.join(", ")
            ),
        );
    }
    if !store::is_valid_secret_name(name) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            &format!("The request URI contains an invalid name: {name}"),
        );
    }
    let Some(found) = state.keyvault.get(vault, name, version) else {
        let id = version.map_or_else(|| name.to_string(), |v| format!("{name}/{v}"));
        return error(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            &format!(
                "A secret with (name/id) {id} was not found in this key vault. If you recently deleted this secret \
                 you may be able to recover it using the correct recovery command. For help resolving this issue, \
                 please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
        );
    };
    json(
        StatusCode::OK,
        &json!({
            "value": found.version.value,
            "id": format!("{}/kv/{}/secrets/{}/{}", state.base_url, found.vault, found.name, found.version.version),
            "attributes": {
                "enabled": true,
                "created": found.version.created,
                "updated": found.version.updated,
                "recoveryLevel": RECOVERY_LEVEL,
                "recoverableDays": RECOVERABLE_DAYS,
            },
            "tags": {},
        }),
    )
}

async fn method_not_allowed(method: Method) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "BadParameter",
        &format!("The method {method} is not allowed here; drift-sandbox Key Vault implements GetSecret (GET) only."),
    )
}

async fn unknown_operation(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("drift-sandbox Key Vault implements GetSecret only; no operation at {method} {}", uri.path()),
    )
}

fn reject(state: &SandboxState, rejection: &Rejection) -> Response {
    let (status, code, message) = match rejection {
        Rejection::MissingHeader | Rejection::MalformedHeader => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.".to_string(),
        ),
        Rejection::UnknownToken => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'. (drift-sandbox never issued this token)"
                .to_string(),
        ),
        Rejection::Expired { .. } => {
            (StatusCode::UNAUTHORIZED, "Unauthorized", "[TokenExpired] Error validating token: 'S2S12086'.".to_string())
        }
        Rejection::WrongAudience { found } => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            format!("AKV10022: Invalid audience. Expected {}, found: {found}.", audiences::KEY_VAULT),
        ),
        Rejection::Forbidden { principal, method, resource } => {
            let message = format!(
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or \
                 role definitions were changed recently, please observe propagation time.\r\nCaller: \
                 appid={principal};oid={principal}\r\nAction: '{method}'\r\nResource: '/{resource}'\r\nAssignment: \
                 (not found)\r\n"
            );
            return json(
                StatusCode::FORBIDDEN,
                &json!({"error": {"code": "Forbidden", "message": message, "innererror": {"code": "AccessDenied"}}}),
            );
        }
    };
    let mut response = error(status, code, &message);
    if let Ok(value) = HeaderValue::try_from(challenge(state)) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The challenge Key Vault clients use to discover where to get a token and for which resource.
fn challenge(state: &SandboxState) -> String {
    let tenant = lock(&state.identity.directory).first_tenant().unwrap_or(DEFAULT_TENANT_ID).to_string();
    format!("Bearer authorization=\"{}/{tenant}\", resource=\"{}\"", state.authority_host(), audiences::KEY_VAULT)
}

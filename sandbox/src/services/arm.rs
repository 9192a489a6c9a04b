//! Azure Resource Manager under `/arm`: the shared front door that every ARM-hosted provider (Azure ML) sits
//! behind. It authenticates (ARM error shape and `WWW-Authenticate`), requires `api-version`, and
//! answers ARM-shaped 404s for paths no provider serves.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::any;
use serde_json::json;

use crate::auth::{self, Protection, Rejection};
use crate::identity::audiences;
use crate::state::{AppState, SandboxState};
use crate::wire::{Query, arm_time, json};

pub(crate) const PROTECTION: Protection = Protection { audiences: &[audiences::ARM, audiences::ARM_LEGACY], reject };

/// `providers` are the resource-provider fragments (full paths under `/arm/...`); the guard and the api-version
/// check cover them and the catch-all alike. Provider paths must start with a static segment
/// (`/arm/subscriptions/...`): the router refuses a parameter where the catch-all `/arm/{*rest}` sits.
pub(crate) fn routes(state: &AppState, providers: Router<AppState>) -> Router<AppState> {
    let router = providers
        .route("/arm", any(not_found))
        .route("/arm/{*rest}", any(catch_all))
        .route_layer(middleware::from_fn(require_api_version));
    // Added last so it runs first: ARM authenticates before it looks at anything else.
    auth::protect(router, state, &PROTECTION)
}

/// ARM's error body: `{"error": {"code", "message"}}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json(status, &json!({"error": {"code": code, "message": message}}))
}

async fn not_found(request: Request) -> Response {
    not_found_response(request.method(), request.uri())
}

/// ARM matches literal segments case-insensitively, but the router does not: `/arm/SUBSCRIPTIONS/...` misses the
/// providers' `/arm/subscriptions/...` routes and lands here, so hand it to the (only) provider, which parses
/// the path itself and answers the ARM 404 for anything it does not serve.
async fn catch_all(state: State<AppState>, request: Request) -> Response {
    let first = request.uri().path().trim_start_matches("/arm/").split('/').next().unwrap_or_default();
    if first.eq_ignore_ascii_case("subscriptions") {
        return crate::services::ml::api::dispatch(state, request).await;
    }
    not_found_response(request.method(), request.uri())
}

/// The answer for ARM paths no provider fakes.
pub(crate) fn not_found_response(method: &Method, uri: &Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "drift-sandbox ARM has no resource provider route for {method} {}",
            uri.path().trim_start_matches("/arm")
        ),
    )
}

async fn require_api_version(request: Request, next: Next) -> Response {
    if Query::parse(request.uri().query()).get("api-version").is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    next.run(request).await
}

fn reject(state: &SandboxState, rejection: &Rejection) -> Response {
    let (status, code, message) = match rejection {
        Rejection::MissingHeader => (
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
        ),
        Rejection::MalformedHeader => (
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.".to_string(),
        ),
        Rejection::UnknownToken => {
            (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "The access token is invalid.".to_string())
        }
        Rejection::Expired { expired_at, now } => (
            StatusCode::UNAUTHORIZED,
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                arm_time(*expired_at),
                arm_time(*now)
            ),
        ),
        Rejection::WrongAudience { found } => (
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{found}'. It should exactly \
                 match with one of the allowed audiences '{}/','{}','{}/','{}'.",
                audiences::ARM_LEGACY,
                audiences::ARM_LEGACY,
                audiences::ARM,
                audiences::ARM
            ),
        ),
        Rejection::Forbidden { principal, method, resource } => (
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{principal}' with object id '{principal}' does not have authorization to perform \
                 action '{method}' over scope '/{}' or the scope is invalid. If access was recently granted, please \
                 refresh your credentials.",
                resource.strip_prefix("arm/").unwrap_or(resource)
            ),
        ),
    };
    let mut response = error(status, code, &message);
    if status == StatusCode::UNAUTHORIZED {
        // ARM's challenge names the authority and repeats the reason.
        let challenge = format!(
            "Bearer authorization_uri=\"{}/\", error=\"invalid_token\", error_description=\"{}\"",
            state.authority_host(),
            message.replace('"', "'")
        );
        if let Ok(value) = HeaderValue::try_from(challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

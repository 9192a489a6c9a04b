//! Entra ID (Azure AD) v2.0 token endpoint, client-credentials grant: `POST /aad/{tenant}/oauth2/v2.0/token`.
//! Authenticates with a client secret, a federated client assertion or a certificate's signed client assertion
//! (verified in `identity/certificates.rs`), requires a single `.default` scope, and
//! answers errors in AAD's JSON shape with the AADSTS codes the real service uses.

use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::any;
use serde_json::json;

use crate::identity::{ClientCredential, DirectoryAnswer, is_known_audience, normalize_audience};
use crate::ids;
use crate::state::{AppState, SandboxState, lock};
use crate::wire::{aad_timestamp, header_str, json};

/// The only `client_assertion_type` AAD knows.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/aad/{tenant}/oauth2/v2.0/token", any(token))
}

/// An AAD error: HTTP status, OAuth `error`, AADSTS number and message.
struct AadError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

fn bad_request(error: &'static str, code: u32, message: impl Into<String>) -> AadError {
    AadError { status: StatusCode::BAD_REQUEST, error, code, message: message.into() }
}

fn invalid_client(code: u32, message: impl Into<String>) -> AadError {
    AadError { status: StatusCode::UNAUTHORIZED, error: "invalid_client", code, message: message.into() }
}

fn missing(parameter: &str) -> AadError {
    bad_request(
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{parameter}'."),
    )
}

impl AadError {
    /// The body AAD sends: `error`, `error_description` (with trace, correlation and time appended, as AAD does),
    /// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
    fn into_response(self, state: &SandboxState, request_headers: &HeaderMap) -> Response {
        let trace_id = ids::uuid();
        // AAD echoes the caller's `client-request-id` as the correlation id.
        let correlation_id =
            header_str(request_headers, "client-request-id").map(str::to_string).unwrap_or_else(ids::uuid);
        let timestamp = aad_timestamp(SystemTime::now());
        let description = format!(
            "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
            self.code, self.message
        );
        let mut response = json(
            self.status,
            &json!({
                "error": self.error,
                "error_description": description,
                "error_codes": [self.code],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": format!("{}/error?code={}", state.authority_host(), self.code),
            }),
        );
        no_store(response.headers_mut());
        response
    }
}

/// Token answers must not be cached by anything in between.
fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

async fn token(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match issue_token(&state, &tenant, &method, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(&state, &headers),
    }
}

/// The checks in AAD's order: method, tenant, body format, grant, parameters, scope, client, resource.
fn issue_token(
    state: &SandboxState,
    tenant: &str,
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, AadError> {
    if method != Method::POST {
        return Err(bad_request(
            "invalid_request",
            900561,
            format!("The endpoint only accepts POST, OPTIONS requests. Received a {method} request."),
        ));
    }
    if !lock(&state.identity.directory).has_tenant(tenant) {
        return Err(bad_request(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing \
                 into the correct cloud. Check with your subscription administrator, this may happen if there are \
                 no active subscriptions for the tenant."
            ),
        ));
    }
    // AAD only reads form bodies; anything else reads as a body without parameters.
    let content_type = header_str(headers, "content-type").unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let mut error = missing("grant_type");
        error.message.push_str(&format!(
            " (drift-sandbox: the Content-Type was {content_type:?}; the token endpoint reads only \
             application/x-www-form-urlencoded bodies)"
        ));
        return Err(error);
    }
    let form = Form::parse(body)?;

    let grant_type = form.get("grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(bad_request(
            "unsupported_grant_type",
            70003,
            format!(
                "The app requested an unsupported grant type '{grant_type}'. drift-sandbox serves client_credentials only."
            ),
        ));
    }
    let client_id = form.get("client_id").ok_or_else(|| missing("client_id"))?;
    let scope = form.get("scope").ok_or_else(|| missing("scope"))?;
    // A certificate's client assertion names this URL in `aud`: the endpoint as the client addressed it.
    let token_endpoint = format!("{}/{tenant}/oauth2/v2.0/token", state.authority_host());
    let credential = client_credential(&form, &token_endpoint)?;
    let resource = resource_of_scope(scope)?;

    let principal = match lock(&state.identity.directory).authenticate(tenant, client_id, &credential) {
        DirectoryAnswer::Principal(principal) => principal,
        // The tenant was checked above; it can only vanish if seeding raced with this request.
        DirectoryAnswer::UnknownTenant | DirectoryAnswer::UnknownClient => {
            return Err(bad_request(
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can \
                     happen if the application has not been installed by the administrator of the tenant or \
                     consented to by any user in the tenant. You may have sent your authentication request to the \
                     wrong tenant."
                ),
            ));
        }
        DirectoryAnswer::WrongSecret => {
            return Err(invalid_client(
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client \
                     secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            ));
        }
        // Every assertion failure is `invalid_client` (401), as Entra answered in the reports each rule cites
        // (identity/certificates.rs).
        DirectoryAnswer::BadCertificateAssertion(rejection) => {
            return Err(invalid_client(rejection.code, rejection.message));
        }
        DirectoryAnswer::NoMatchingAssertion => {
            return Err(invalid_client(
                700213,
                "No matching federated identity record found for presented assertion. Check your federated \
                 identity credential Subject, Audience and Issuer against the presented assertion.",
            ));
        }
    };

    let audience = normalize_audience(&resource);
    if !is_known_audience(&audience) {
        return Err(bad_request(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can \
                 happen if the application has not been installed by the administrator of the tenant or consented \
                 to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        ));
    }

    let issued = lock(&state.identity.tokens).issue(&principal, &audience, tenant);
    let mut response = json(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "ext_expires_in": issued.expires_in,
            "access_token": issued.access_token,
        }),
    );
    no_store(response.headers_mut());
    Ok(response)
}

/// The decoded form body. AAD rejects a parameter sent twice rather than picking one.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Result<Form, AadError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(bad_request(
                    "invalid_request",
                    9000411,
                    format!("The request is not properly formatted. The parameter '{name}' is duplicated."),
                ));
            }
        }
        Ok(Form(pairs))
    }

    /// A parameter's value; AAD treats an empty value as a missing parameter.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// Exactly one of `client_secret` or `client_assertion` (with the jwt-bearer type).
fn client_credential<'a>(form: &'a Form, token_endpoint: &'a str) -> Result<ClientCredential<'a>, AadError> {
    let secret = form.get("client_secret");
    let assertion = form.get("client_assertion");
    match (secret, assertion) {
        (Some(_), Some(_)) => Err(bad_request(
            "invalid_request",
            9000411,
            "The request is not properly formatted. Send either 'client_secret' or 'client_assertion', not both.",
        )),
        (Some(secret), None) => Ok(ClientCredential::Secret(secret)),
        (None, Some(assertion)) => match form.get("client_assertion_type") {
            Some(JWT_BEARER) => Ok(ClientCredential::Assertion { assertion, token_endpoint, now: SystemTime::now() }),
            Some(other) => Err(bad_request(
                "invalid_request",
                7000216,
                format!(
                    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' \
                     grant type. The client_assertion_type '{other}' is not supported; use '{JWT_BEARER}'."
                ),
            )),
            None => Err(missing("client_assertion_type")),
        },
        (None, None) => Err(invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    }
}

/// The resource of a client-credentials scope: exactly one scope, `<resource>/.default`.
fn resource_of_scope(scope: &str) -> Result<String, AadError> {
    let invalid = |why: &str| {
        bad_request(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid. {why}"
            ),
        )
    };
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if scopes.len() != 1 {
        return Err(invalid("Client credential flows accept exactly one scope, the resource's '/.default' scope."));
    }
    match scopes[0].strip_suffix("/.default") {
        Some(resource) if !resource.is_empty() => Ok(resource.to_string()),
        _ => Err(invalid(
            "Client credential flows must have a scope value with /.default suffixed to the resource identifier \
             (application ID URI).",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(resource_of_scope("https://vault.azure.net/.default").ok(), Some("https://vault.azure.net".into()));
        assert_eq!(
            resource_of_scope("https://management.azure.com//.default").ok(),
            Some("https://management.azure.com/".into())
        );
        for bad in [
            "https://vault.azure.net",
            "/.default",
            "a/.default b/.default",
            "https://vault.azure.net/user_impersonation",
        ] {
            let error = resource_of_scope(bad).err().map(|e| (e.error, e.code));
            assert_eq!(error, Some(("invalid_scope", 70011)), "{bad}");
        }
    }

    #[test]
    fn duplicated_parameters_are_rejected() {
        assert_eq!(Form::parse(b"a=1&a=2").err().map(|e| e.code), Some(9000411));
        let form = Form::parse(b"a=1&b=&c=x%2By").ok();
        assert_eq!(form.as_ref().and_then(|f| f.get("a")), Some("1"));
        assert_eq!(form.as_ref().and_then(|f| f.get("b")), None);
        assert_eq!(form.as_ref().and_then(|f| f.get("c")), Some("x+y"));
    }
}

//! The HTTP side of the Azure ML provider: one handler behind `/arm/subscriptions/{*rest}` that parses the ARM
//! path (see `path`), answers ARM's errors for missing subscriptions, resource groups and workspaces, and routes
//! the workspace's child resources to `datastores`, `data`, `jobs` and (GET only) `computes`. Paged lists share the `nextLink` helpers here.

mod computes;
mod data;
mod datastores;
mod jobs;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use super::errors::{MlError, MlResult, invalid_content};
use super::path::{self, Parsed, WorkspacePath};
use crate::auth::Caller;
use crate::services::arm;
use crate::state::{AppState, SandboxState, lock};
use crate::wire::{Query, json};

/// One request, parsed.
pub(crate) struct Call<'a> {
    pub state: &'a SandboxState,
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub query: Query,
    pub body: &'a [u8],
    /// The principal of the ARM token (empty if the guard did not record one).
    pub caller: String,
    pub path: WorkspacePath,
}

impl Call<'_> {
    /// The JSON body, or ARM's error for one that is not JSON.
    pub fn json_body(&self) -> MlResult<Value> {
        serde_json::from_slice(self.body).map_err(|e| invalid_content(&e.to_string()))
    }

    pub fn api_version(&self) -> &str {
        self.query.get("api-version").unwrap_or_default()
    }

    /// The `nextLink` of a paged list: this URL with its query (minus any `$skip`) and the new `$skip` token,
    /// absolute like ARM's.
    pub fn next_link(&self, token: &str) -> String {
        let kept: Vec<&str> = self
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|part| {
                let key = part.split('=').next().unwrap_or_default();
                !part.is_empty() && key != "$skip" && key != "%24skip"
            })
            .collect();
        let mut query = kept.join("&");
        if !query.is_empty() {
            query.push('&');
        }
        format!("{}{}?{query}$skip={token}", self.state.base_url, self.uri.path())
    }
}

/// The provider's handler; also reached from ARM's catch-all for `subscriptions` spelt in another case.
pub(crate) async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // The traffic middleware has already buffered the body under its own cap.
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let caller = parts.extensions.get::<Caller>().map(|c| c.principal.clone()).unwrap_or_default();
    serve(&state, &parts.method, &parts.uri, &parts.headers, caller, &body)
}

fn serve(
    state: &SandboxState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    caller: String,
    body: &[u8],
) -> Response {
    let path = match path::parse(uri.path()) {
        Parsed::Workspace(path) => path,
        Parsed::BadEncoding => {
            return MlError::arm(StatusCode::BAD_REQUEST, "InvalidRequestUri", "The request URI is not valid UTF-8.")
                .response();
        }
        Parsed::Other => return arm::not_found_response(method, uri),
    };
    // ARM answers for missing parents before the provider sees anything.
    let resolved = lock(&state.ml.inner).resolve(&path);
    if let Err(error) = resolved {
        return error.response();
    }
    let call = Call { state, method, uri, headers, query: Query::parse(uri.query()), body, caller, path };
    match route(&call) {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

fn route(call: &Call<'_>) -> MlResult<Response> {
    let rest: Vec<&str> = call.path.rest.iter().map(String::as_str).collect();
    let is = |i: usize, word: &str| rest.get(i).is_some_and(|s| s.eq_ignore_ascii_case(word));
    let m = call.method;
    match rest.len() {
        0 if *m == Method::GET => {
            let ml = lock(&call.state.ml.inner);
            let at = ml.resolve(&call.path)?;
            Ok(json(StatusCode::OK, &ml.workspaces[at].to_json()))
        }
        1 if is(0, "datastores") && *m == Method::GET => datastores::list(call),
        2 if is(0, "datastores") && *m == Method::GET => datastores::get(call, rest[1]),
        2 if is(0, "datastores") && *m == Method::PUT => datastores::put(call, rest[1]),
        3 if is(0, "datastores") && is(2, "listSecrets") && *m == Method::POST => {
            datastores::list_secrets(call, rest[1])
        }
        1 if is(0, "data") && *m == Method::GET => data::list_containers(call),
        2 if is(0, "data") && *m == Method::GET => data::get_container(call, rest[1]),
        3 if is(0, "data") && is(2, "versions") && *m == Method::GET => data::list_versions(call, rest[1]),
        4 if is(0, "data") && is(2, "versions") && *m == Method::GET => data::get_version(call, rest[1], rest[3]),
        4 if is(0, "data") && is(2, "versions") && *m == Method::PUT => data::put_version(call, rest[1], rest[3]),
        1 if is(0, "jobs") && *m == Method::GET => jobs::list(call),
        2 if is(0, "jobs") && *m == Method::GET => jobs::get(call, rest[1]),
        2 if is(0, "jobs") && *m == Method::PUT => jobs::put(call, rest[1]),
        3 if is(0, "jobs") && is(2, "cancel") && *m == Method::POST => jobs::cancel(call, rest[1]),
        2 if is(0, "operationResults") && *m == Method::GET => jobs::operation(call, rest[1]),
        2 if is(0, "computes") && *m == Method::GET => computes::get(call, rest[1]),
        _ => Err(unrouted(call, &rest)),
    }
}

/// A known resource type with a method the sandbox does not fake, or an unknown resource type.
fn unrouted(call: &Call<'_>, rest: &[&str]) -> MlError {
    const KNOWN: &[&str] = &["datastores", "data", "jobs", "operationResults", "computes"];
    let kind = rest.first().copied().unwrap_or_default();
    if KNOWN.iter().any(|k| k.eq_ignore_ascii_case(kind)) {
        return MlError::arm(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("drift-sandbox does not fake {} {}", call.method, call.uri.path().trim_start_matches("/arm")),
        );
    }
    MlError::arm(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        format!(
            "The resource type '{kind}' could not be found in the namespace 'Microsoft.MachineLearningServices' for \
             api version '{}' (drift-sandbox fakes datastores, data, jobs and compute GETs).",
            call.api_version()
        ),
    )
}

/// List offsets (datastores, data): `$skip` tokens opaque to clients.
pub(crate) fn encode_offset(offset: usize) -> String {
    format!("o1.{offset:x}")
}

pub(crate) fn decode_offset(call: &Call<'_>) -> MlResult<usize> {
    match call.query.get("$skip") {
        None => Ok(0),
        Some(token) => token
            .strip_prefix("o1.")
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .ok_or_else(|| invalid_skip(token)),
    }
}

pub(crate) fn invalid_skip(token: &str) -> MlError {
    MlError::user(format!("The continuation token (\"$skip\") '{token}' is not valid. Follow nextLink verbatim."))
}

/// `listViewType`: ActiveOnly (default), ArchivedOnly or All; `Some(archived)` filters, `None` keeps all.
pub(crate) fn list_view(call: &Call<'_>) -> MlResult<Option<bool>> {
    match call.query.get("listViewType") {
        None => Ok(Some(false)),
        Some(v) if v.eq_ignore_ascii_case("ActiveOnly") => Ok(Some(false)),
        Some(v) if v.eq_ignore_ascii_case("ArchivedOnly") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("All") => Ok(None),
        Some(v) => Err(MlError::user(format!(
            "The value '{v}' is not valid for listViewType; allowed values: ActiveOnly, ArchivedOnly, All."
        ))),
    }
}

/// A resource name from the path that breaks the spec's pattern.
pub(crate) fn check_name(kind: &str, name: &str) -> MlResult<()> {
    if super::schema::is_resource_name(name) {
        Ok(())
    } else {
        Err(MlError::user(format!(
            "The {kind} '{name}' is not valid: it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{{0,254}}$."
        )))
    }
}

/// A list page body: `{"value": [...], "nextLink"?}`.
pub(crate) fn page(items: Vec<Value>, next_link: Option<String>) -> Response {
    let mut body = serde_json::json!({"value": items});
    if let Some(link) = next_link {
        body["nextLink"] = Value::String(link);
    }
    json(StatusCode::OK, &body)
}

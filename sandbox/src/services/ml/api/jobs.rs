//! `jobs` (filters `jobType`, `listViewType`, `tag`, `properties`; keyset `$skip` paging), `jobs/{id}` (GET
//! advances the job's lifecycle one step; PUT submits or updates), `jobs/{id}/cancel` (202 + `Location`) and the
//! cancel operation URL (202 once, then 200).

use std::io::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{Call, check_name, invalid_skip, list_view};
use crate::auth::{Rejection, check_token};
use crate::identity::audiences;
use crate::ids;
use crate::services::ml::errors::{MlError, MlResult};
use crate::services::ml::jobs::body::{self, Submission};
use crate::services::ml::jobs::lifecycle::{is_terminal, script_for};
use crate::services::ml::jobs::render::{job_json, write_list_item};
use crate::services::ml::jobs::table::{Job, decode_cursor, encode_cursor};
use crate::services::ml::store::CancelOperation;
use crate::state::lock;
use crate::wire::{JSON_CONTENT_TYPE, header_str, json, now_nanos};

/// What the cancel answers ask callers to wait before following `Location`, in seconds.
const CANCEL_RETRY_AFTER: &str = "1";

fn not_found(id: &str, workspace: &str) -> MlError {
    MlError::not_found(format!("Job '{id}' was not found in workspace '{workspace}'."))
}

/// `properties=` filter: `name` (present) or `name=value`, comma-separated.
fn property_filter(raw: Option<&str>) -> Vec<(String, Option<String>)> {
    raw.map(|r| {
        r.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (p.to_string(), None),
            })
            .collect()
    })
    .unwrap_or_default()
}

pub(crate) fn list(call: &Call<'_>) -> MlResult<Response> {
    let view = list_view(call)?;
    let job_type = call.query.get("jobType").map(str::to_string);
    let tag = call.query.get("tag").map(str::to_string);
    let properties = property_filter(call.query.get("properties"));
    let after = match call.query.get("$skip") {
        None => None,
        Some(token) => Some(decode_cursor(token).ok_or_else(|| invalid_skip(token))?),
    };
    let keep = |job: &Job| {
        view.is_none_or(|archived| job.archived == archived)
            && job_type.as_deref().is_none_or(|t| job.job_type.eq_ignore_ascii_case(t))
            && tag.as_deref().is_none_or(|t| job.tags.contains_key(t))
            && properties.iter().all(|(k, v)| match (job.properties.get(k), v) {
                (Some(found), Some(wanted)) => found.as_str() == Some(wanted.as_str()),
                (Some(_), None) => true,
                (None, _) => false,
            })
    };
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let size = ml.jobs_page_size;
    let ws = &mut ml.workspaces[at];
    let page = ws.jobs.page(keep, after, size);
    let id = ws.arm_id();
    // Written straight into one buffer: a 100,000-job workspace is listed in 1,000 of these.
    let mut out = Vec::with_capacity(page.jobs.len() * 1600 + 256);
    out.extend_from_slice(b"{\"value\":[");
    for (n, &i) in page.jobs.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_list_item(&mut out, &id, ws.jobs.at(i));
    }
    out.push(b']');
    if let Some(cursor) = page.next {
        let link = Value::String(call.next_link(&encode_cursor(cursor)));
        let _ = write!(out, ",\"nextLink\":{link}");
    }
    out.push(b'}');
    let mut response = (StatusCode::OK, out).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    Ok(response)
}

pub(crate) fn get(call: &Call<'_>, id: &str) -> MlResult<Response> {
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let ws = &mut ml.workspaces[at];
    let workspace_id = ws.arm_id();
    let name = ws.name.clone();
    let job = ws.jobs.get_mut(id).ok_or_else(|| not_found(id, &name))?;
    job.advance();
    Ok(json(StatusCode::OK, &job_json(&workspace_id, job, true)))
}

/// Pipeline submissions carry an Azure ML token in `x-azureml-token` (AAD, audience `https://ml.azure.com`): the
/// bare access token, no `Bearer ` scheme. Source: azure-ai-ml 1.35 `azure/ai/ml/operations/_job_operations.py`
/// sets `headers["x-azureml-token"] = credential.get_token(scope).token` before a pipeline-job PUT, and the
/// service accepts what its own SDK sends. A `Bearer `-prefixed value is rejected here so that a client adding the
/// scheme (as drift once did) fails its tests instead of a real workspace.
fn check_ml_token(call: &Call<'_>) -> MlResult<()> {
    let Some(header) = header_str(call.headers, "x-azureml-token") else {
        return Err(MlError::user(
            "The x-azureml-token header is required to submit a pipeline job: send the bare access token for \
             https://ml.azure.com (no 'Bearer ' prefix).",
        ));
    };
    let unauthorized = |code: &str, message: String| MlError {
        status: StatusCode::UNAUTHORIZED,
        code: code.into(),
        ..MlError::user(message)
    };
    let token = header.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(unauthorized(
            "InvalidAuthenticationToken",
            "The x-azureml-token header must be the bare access token, without a 'Bearer ' prefix.".into(),
        ));
    }
    match check_token(call.state, &[audiences::ML], call.method, call.uri.path(), token) {
        Ok(_) => Ok(()),
        Err(Rejection::Expired { .. }) => {
            Err(unauthorized("ExpiredAuthenticationToken", "The token in x-azureml-token has expired.".into()))
        }
        Err(Rejection::WrongAudience { found }) => Err(unauthorized(
            "InvalidAuthenticationTokenAudience",
            format!(
                "The token in x-azureml-token was obtained for the audience '{found}'; it must be for '{}'.",
                audiences::ML
            ),
        )),
        Err(Rejection::Forbidden { principal, .. }) => Err(MlError {
            status: StatusCode::FORBIDDEN,
            code: "AuthorizationFailed".into(),
            ..MlError::user(format!("The principal '{principal}' of x-azureml-token has no access to this workspace."))
        }),
        Err(_) => Err(unauthorized("InvalidAuthenticationToken", "The token in x-azureml-token is not valid.".into())),
    }
}

pub(crate) fn put(call: &Call<'_>, id: &str) -> MlResult<Response> {
    check_name("job id", id)?;
    let body = call.json_body()?;
    if body::job_type(&body)? == "Pipeline" {
        check_ml_token(call)?;
    }
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let submission = body::validate(&body, &ml.workspaces[at])?;
    let workspace_id = ml.workspaces[at].arm_id();
    if let Some(job) = ml.workspaces[at].jobs.get_mut(id) {
        body::check_immutable(job, &submission)?;
        job.description = submission.description;
        job.tags = submission.tags.into();
        job.display_name = submission.display_name;
        job.properties = submission.properties.into();
        job.archived = submission.archived;
        return Ok(json(StatusCode::OK, &job_json(&workspace_id, job, true)));
    }
    let steps = match script_for(&ml.scripts, id, submission.display_name.as_deref()) {
        Some(script) => script.steps(&ml.default_steps),
        None => ml.default_steps.clone(),
    };
    let seq = ml.next_seq();
    let job = new_job(id, seq, &call.caller, submission, steps);
    let shown = job_json(&workspace_id, &job, true);
    ml.workspaces[at].jobs.insert(job);
    Ok(json(StatusCode::CREATED, &shown))
}

fn new_job(id: &str, seq: u64, caller: &str, submission: Submission, steps: Vec<String>) -> Job {
    let mut properties = submission.properties;
    // What the service adds to every pipeline run's properties (see the real GET in the SDK fixtures).
    for (key, value) in [
        ("azureml.DevPlatv2", "true"),
        ("azureml.runsource", "azureml.PipelineRun"),
        ("runSource", "MFE"),
        ("runType", "HTTP"),
        ("azureml.defaultDataStoreName", "workspaceblobstore"),
    ] {
        properties.entry(key).or_insert_with(|| Value::String(value.into()));
    }
    Job {
        id: id.to_string(),
        seq,
        created: now_nanos(),
        created_by: caller.to_string(),
        job_type: submission.job_type,
        display_name: submission.display_name,
        description: submission.description,
        experiment_name: submission.experiment_name,
        tags: submission.tags.into(),
        properties: properties.into(),
        compute_id: submission.compute_id,
        inputs: submission.inputs,
        archived: submission.archived,
        rest: submission.rest.into(),
        steps: steps.into(),
        pos: 0,
    }
}

fn accepted(location: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::try_from(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static(CANCEL_RETRY_AFTER));
    response
}

pub(crate) fn cancel(call: &Call<'_>, id: &str) -> MlResult<Response> {
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let ws = &mut ml.workspaces[at];
    let workspace_id = ws.arm_id();
    let name = ws.name.clone();
    let job = ws.jobs.get_mut(id).ok_or_else(|| not_found(id, &name))?;
    if is_terminal(job.status()) {
        // Nothing left to cancel: the service acknowledges without an operation.
        return Ok(StatusCode::OK.into_response());
    }
    job.steps = vec!["CancelRequested".to_string(), "Canceled".to_string()].into();
    job.pos = 0;
    let operation = ids::uuid();
    ml.operations.insert(operation.clone(), CancelOperation { workspace: at, job_id: id.to_string(), polled: false });
    let location = format!(
        "{}/arm{workspace_id}/operationResults/{operation}?api-version={}",
        call.state.base_url,
        call.api_version()
    );
    Ok(accepted(&location))
}

pub(crate) fn operation(call: &Call<'_>, operation: &str) -> MlResult<Response> {
    let mut ml = lock(&call.state.ml.inner);
    let at = ml.resolve(&call.path)?;
    let found = ml.operations.get_mut(operation).filter(|o| o.workspace == at);
    let Some(found) = found else {
        return Err(MlError::not_found(format!("Operation '{operation}' was not found.")));
    };
    if !found.polled {
        found.polled = true;
        let location = format!("{}{}?{}", call.state.base_url, call.uri.path(), call.uri.query().unwrap_or_default());
        return Ok(accepted(&location));
    }
    let job_id = found.job_id.clone();
    if let Some(job) = ml.workspaces[at].jobs.get_mut(&job_id)
        && job.status() == "CancelRequested"
    {
        job.advance();
    }
    Ok(StatusCode::OK.into_response())
}

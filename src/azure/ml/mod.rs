//! Azure ML workspace REST (ARM): datastores, data versions and jobs at one pinned api-version. Each call is a
//! thin typed wrapper over `crate::http`; JSON shapes live in `models`.

pub mod data;
mod datastores;
mod jobs;
pub mod models;

use std::sync::Arc;

use crate::cloud::Endpoints;
use crate::config::Workspace;
use crate::error::Error;
use crate::http::{Auth, HttpClient, HttpError, RequestBuilder, TokenProvider};

pub use jobs::{CancelOutcome, JOB_ID_MAX_LEN};

/// ARM error codes meaning the workspace itself (not the item asked for) does not exist.
const WORKSPACE_MISSING_CODES: [&str; 4] =
    ["ResourceGroupNotFound", "SubscriptionNotFound", "WorkspaceNotFound", "ParentResourceNotFound"];

/// A client bound to one workspace.
#[derive(Clone)]
pub struct MlClient {
    http: HttpClient,
    credential: Arc<dyn TokenProvider>,
    /// `{arm}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`
    base: String,
    api_version: String,
    arm_scope: String,
    ml_scope: String,
    workspace: Workspace,
    studio_url: String,
}

impl MlClient {
    pub fn new(
        http: HttpClient,
        credential: Arc<dyn TokenProvider>,
        endpoints: &Endpoints,
        workspace: &Workspace,
        api_version: &str,
    ) -> MlClient {
        MlClient {
            http,
            credential,
            base: format!("{}{}", endpoints.arm, workspace_path(workspace)),
            api_version: api_version.to_string(),
            arm_scope: Endpoints::scope(endpoints.cloud.arm_audience),
            ml_scope: Endpoints::scope(endpoints.cloud.ml_audience),
            workspace: workspace.clone(),
            studio_url: endpoints.cloud.studio_url.to_string(),
        }
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The ARM id of the workspace (`/subscriptions/…/workspaces/{ws}`), as Studio's `wsid` takes it.
    pub fn workspace_id(&self) -> String {
        workspace_path(&self.workspace)
    }

    /// Link to a job in Azure ML Studio.
    pub fn studio_job_url(&self, job_id: &str) -> String {
        format!("{}/runs/{}?wsid={}", self.studio_url, seg(job_id), self.workspace_id())
    }

    fn url(&self, suffix: &str) -> String {
        format!("{}{}", self.base, suffix)
    }

    /// This client on an HTTP client without the shutdown binding, for the cancels the retrainer must still send
    /// after a signal ([`HttpClient::detached`]).
    pub fn detached(&self) -> MlClient {
        MlClient { http: self.http.detached(), ..self.clone() }
    }

    fn request(&self, method: reqwest::Method, suffix: &str) -> Result<RequestBuilder, Error> {
        Ok(self
            .http
            .request(method, &self.url(suffix))?
            .query(&[("api-version", self.api_version.as_str())])
            .auth(self.auth()))
    }

    /// A GET whose 404 means "no such item" (`None`), unless the 404 says the workspace itself is missing.
    async fn get_optional<T: serde::de::DeserializeOwned>(&self, request: RequestBuilder) -> Result<Option<T>, Error> {
        let response = request.accept(&[404]).send().await.map_err(|e| workspace_error(e, &self.workspace))?;
        if response.status == 404 {
            return match workspace_error(response.into_status_error(), &self.workspace) {
                Error::Http(_) => Ok(None),
                other => Err(other),
            };
        }
        Ok(Some(response.json()?))
    }

    fn auth(&self) -> Auth {
        Auth::bearer(self.credential.clone(), self.arm_scope.clone())
    }
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`.
pub fn workspace_path(ws: &Workspace) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
        seg(&ws.subscription_id),
        seg(&ws.resource_group),
        seg(&ws.workspace_name)
    )
}

/// Percent-encodes one path segment (names are validated, but a stray character must not change the path).
pub fn seg(s: &str) -> String {
    crate::http::encode::component(s)
}

/// Turns "the workspace does not exist" into a configuration error that says which keys to check.
fn workspace_error(h: HttpError, ws: &Workspace) -> Error {
    if h.status == Some(404) && h.code.as_deref().is_some_and(|c| WORKSPACE_MISSING_CODES.contains(&c)) {
        return Error::Rejected {
            message: format!(
                "workspace {}/{}/{} not found (check azml.subscriptionId, azml.resourceGroup, azml.mlWorkspaceName)",
                ws.subscription_id, ws.resource_group, ws.workspace_name
            ),
            cause: Box::new(h),
        };
    }
    Error::from(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_links() {
        let ws = Workspace {
            subscription_id: "00000000-1111-2222-3333-444444444444".into(),
            resource_group: "my-rg".into(),
            workspace_name: "my-ws".into(),
        };
        assert_eq!(
            workspace_path(&ws),
            "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/my-rg/providers/Microsoft.MachineLearningServices/workspaces/my-ws"
        );
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(seg("sales-data_v2"), "sales-data_v2");
    }
}

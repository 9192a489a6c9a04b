//! Datastores: get, create or update (the registrator's ADLS Gen2 datastore), and list secrets (for uploads to
//! `workspaceblobstore`).

use reqwest::Method;
use serde_json::Value;

use super::data::Written;
use super::models::{Datastore, DatastoreSecrets};
use super::{MlClient, seg, workspace_error};
use crate::error::Error;

impl MlClient {
    pub async fn get_datastore(&self, name: &str) -> Result<Option<Datastore>, Error> {
        self.get_optional(self.request(Method::GET, &format!("/datastores/{}", seg(name)))?).await
    }

    /// `PUT …/datastores/{name}?skipValidation=true`. The body carries a secret: it is never logged (the HTTP
    /// layer logs no bodies) and the service never returns it.
    pub async fn put_datastore(&self, name: &str, body: &Value) -> Result<Written, Error> {
        let response = self
            .request(Method::PUT, &format!("/datastores/{}", seg(name)))?
            .query(&[("skipValidation", "true")])
            .json(body)?
            .send()
            .await
            .map_err(|e| workspace_error(e, &self.workspace))?;
        Ok(if response.status == 201 { Written::Created } else { Written::Updated })
    }

    /// The datastore's storage secret. Read-only on the service side, so the POST may be retried.
    pub async fn list_datastore_secrets(&self, name: &str) -> Result<DatastoreSecrets, Error> {
        let response = self
            .request(Method::POST, &format!("/datastores/{}/listSecrets", seg(name)))?
            .retry_safe()
            .send()
            .await
            .map_err(|e| workspace_error(e, &self.workspace))?;
        Ok(response.json()?)
    }
}

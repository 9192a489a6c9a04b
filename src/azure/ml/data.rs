//! Data versions: get one, the newest one, create or update one.

use reqwest::Method;

use super::models::{DataVersion, DataVersionBody};
use super::{MlClient, seg, workspace_error};
use crate::error::Error;
use crate::http::Page;

/// Whether a PUT created the version or updated an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
}

impl MlClient {
    /// Version `version` of data asset `name`, or `None` if either does not exist.
    pub async fn get_data_version(&self, name: &str, version: &str) -> Result<Option<DataVersion>, Error> {
        self.get_optional(self.request(Method::GET, &format!("/data/{}/versions/{}", seg(name), seg(version)))?).await
    }

    /// The most recently created version of data asset `name` (`$orderBy=createdtime desc&$top=1`), or `None`
    /// when the asset has no versions.
    pub async fn latest_data_version(&self, name: &str) -> Result<Option<DataVersion>, Error> {
        let request = self
            .request(Method::GET, &format!("/data/{}/versions", seg(name)))?
            .query(&[("$orderBy", "createdtime desc"), ("$top", "1")]);
        let page: Option<Page<DataVersion>> = self.get_optional(request).await?;
        Ok(page.and_then(|p| p.value.into_iter().next()))
    }

    /// Creates or updates a data version.
    pub async fn put_data_version(
        &self,
        name: &str,
        version: &str,
        body: &DataVersionBody,
    ) -> Result<(Written, DataVersion), Error> {
        let response = self
            .request(Method::PUT, &format!("/data/{}/versions/{}", seg(name), seg(version)))?
            .json(body)?
            .send()
            .await
            .map_err(|e| workspace_error(e, &self.workspace))?;
        let written = if response.status == 201 { Written::Created } else { Written::Updated };
        Ok((written, response.json()?))
    }
}

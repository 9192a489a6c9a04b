//! Data versions: get one, the newest one, create or update one.

use reqwest::Method;

use super::models::{DataVersion, DataVersionBody};
use super::{MlClient, seg, workspace_error};
use crate::error::Error;
use crate::http::{Page, Pager};

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

    /// Every version of data asset `name`, newest first, one page at a time (follows `nextLink`). An asset without
    /// versions lists as empty.
    pub fn list_data_versions(&self, name: &str) -> Result<Pager<DataVersion>, Error> {
        let mut url = url::Url::parse(&self.url(&format!("/data/{}/versions", seg(name))))
            .map_err(|e| Error::Usage(format!("invalid ARM endpoint: {e}")))?;
        url.query_pairs_mut().append_pair("api-version", &self.api_version).append_pair("$orderBy", "createdtime desc");
        Ok(Pager::new(self.http.clone(), self.auth(), url.as_str())?)
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

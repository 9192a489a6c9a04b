//! ARM list paging: follows `nextLink` verbatim, one page at a time, so a 100,000-job workspace never sits in
//! memory whole; refuses a `nextLink` seen before (a server loop would otherwise never end).

use std::collections::HashSet;
use std::marker::PhantomData;

use futures_util::Stream;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::{Auth, HttpClient, HttpError, HttpErrorKind, redact};

/// One page of an ARM list: `{"value": [...], "nextLink": "..."}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(rename = "nextLink", default)]
    pub next_link: Option<String>,
}

/// Pulls pages of `T` on demand.
pub struct Pager<T> {
    client: HttpClient,
    auth: Auth,
    next: Option<Url>,
    seen: HashSet<String>,
    origin: url::Origin,
    pages: usize,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    /// A pager starting at `first` (which already carries its query, e.g. `api-version`).
    pub fn new(client: HttpClient, auth: Auth, first: &str) -> Result<Pager<T>, HttpError> {
        let url = Url::parse(first).map_err(|e| {
            HttpError::new("GET", &super::redact_url(first), HttpErrorKind::Request, format!("invalid URL ({e})"))
        })?;
        Ok(Pager {
            client,
            auth,
            origin: url.origin(),
            next: Some(url),
            seen: HashSet::new(),
            pages: 0,
            _item: PhantomData,
        })
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The next page's items, or `None` after the last page.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, HttpError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.seen.insert(url.as_str().to_string());
        let response = self.client.get(url.as_str())?.auth(self.auth.clone()).send().await?;
        let page: Page<T> = response.json()?;
        self.pages += 1;
        if let Some(link) = page.next_link.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            let fail = |message: String| response.error(HttpErrorKind::Decode, None, message);
            let next = Url::parse(link).map_err(|e| fail(format!("nextLink is not a URL ({e})")))?;
            if next.origin() != self.origin {
                // Following it would send our bearer token to another host.
                return Err(fail(format!("nextLink points to another host: {}", redact(&next))));
            }
            if self.seen.contains(next.as_str()) {
                return Err(fail(format!(
                    "the server returned a nextLink it had already returned ({}); stopping after {} pages \
                     instead of looping",
                    redact(&next),
                    self.pages
                )));
            }
            self.next = Some(next);
        }
        Ok(Some(page.value))
    }

    /// The pages as a stream.
    pub fn into_stream(self) -> impl Stream<Item = Result<Vec<T>, HttpError>> {
        futures_util::stream::try_unfold(self, |mut pager| async move {
            Ok(pager.next_page().await?.map(|page| (page, pager)))
        })
    }
}

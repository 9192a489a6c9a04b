//! Credentials: which identity drift acts as (service principal from the environment — client secret or
//! certificate — or from Key Vault), the token sources behind it, and a cached [`Credential`] that the HTTP layer
//! asks for bearer tokens.

mod cache;
pub mod certificate;
pub mod ids;
mod resolve;
pub mod sources;

use std::sync::Arc;

pub use cache::{AccessToken, MAX_REFRESH_MARGIN, TokenCache};
pub use certificate::ClientCertificate;
pub use resolve::{
    AuthInputs, PrincipalCredential, PrincipalSource, ServicePrincipal, ambient_credential, resolve_service_principal,
};
pub use sources::TokenSource;

use crate::error::Error;
use crate::http::{HttpClient, TokenFuture, TokenProvider};
use crate::secret::Secret;

/// A token source with its cache.
pub struct Credential {
    source: TokenSource,
    cache: TokenCache,
    http: HttpClient,
}

impl Credential {
    pub fn new(source: TokenSource, http: HttpClient) -> Arc<Credential> {
        Arc::new(Credential { source, cache: TokenCache::default(), http })
    }

    pub fn describe(&self) -> String {
        self.source.describe()
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }
}

impl TokenProvider for Credential {
    fn token<'a>(&'a self, scope: &'a str) -> TokenFuture<'a> {
        Box::pin(async move {
            self.cache
                .get_or_fetch(scope, || async {
                    tracing::debug!(target: "drift::auth", source = %self.source.describe(), scope, "requesting a token");
                    self.source.fetch(&self.http, scope).await
                })
                .await
                .map_err(Error::into_credential_error)
        })
    }

    fn invalidate(&self, scope: &str, token: &Secret) {
        self.cache.invalidate(scope, token);
    }
}

//! The bearer-token guard in front of every protected service (Key Vault, ARM with Azure ML, Blob and DFS): reads
//! `Authorization: Bearer`, looks the token up, checks expiry and audience, then the grants. The checks are
//! shared; each service renders the rejection in its own error shape, as the real services differ. Storage, which
//! also accepts Shared Key and SAS, and the `x-azureml-token` of pipeline jobs call [`check_token`] directly.

use std::time::SystemTime;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::identity::TokenProblem;
use crate::state::{AppState, SandboxState, lock};
use crate::wire::header_str;

/// Why a protected request was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// No `Authorization` header at all: the first, unauthenticated request of a challenge-driven client.
    MissingHeader,
    /// An `Authorization` header that is not `Bearer <token>`.
    MalformedHeader,
    /// A token the sandbox never issued.
    UnknownToken,
    Expired {
        expired_at: SystemTime,
        now: SystemTime,
    },
    /// A valid token for another service; `found` is its audience.
    WrongAudience {
        found: String,
    },
    /// Authenticated, but no grant covers `resource` (the request path without its leading `/`).
    Forbidden {
        principal: String,
        method: String,
        resource: String,
    },
}

/// How one service is protected.
pub(crate) struct Protection {
    /// Accepted token audiences (normalised, see `identity::normalize_audience`); the first is the one named in
    /// errors and challenges.
    pub audiences: &'static [&'static str],
    /// Renders a rejection in the service's error shape.
    pub reject: fn(&SandboxState, &Rejection) -> Response,
}

/// Who made an accepted request; put into the request extensions for handlers that record a creator.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub principal: String,
}

/// Puts the guard in front of every route of `router` (not its fallback: services give their fragment explicit
/// catch-all routes so unknown paths are authenticated too, as in the real services).
pub(crate) fn protect(router: Router<AppState>, state: &AppState, protection: &'static Protection) -> Router<AppState> {
    router.route_layer(middleware::from_fn_with_state((state.clone(), protection), guard))
}

async fn guard(
    State((state, protection)): State<(AppState, &'static Protection)>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    match check(&state, protection, request.method(), &path, request.headers()) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(rejection) => (protection.reject)(&state, &rejection),
    }
}

/// The checks, in the order the real services make them: token present, known, not expired, right audience, then
/// authorization.
pub(crate) fn check(
    state: &SandboxState,
    protection: &Protection,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Caller, Rejection> {
    let header = header_str(headers, "authorization").ok_or(Rejection::MissingHeader)?;
    let token = bearer_token(header).ok_or(Rejection::MalformedHeader)?;
    check_token(state, protection.audiences, method, path, token)
}

/// The checks after the header is parsed: the token is known, not expired, for one of `audiences`, and a grant
/// covers `path`.
pub(crate) fn check_token(
    state: &SandboxState,
    audiences: &[&str],
    method: &Method,
    path: &str,
    token: &str,
) -> Result<Caller, Rejection> {
    let now = SystemTime::now();
    let record = lock(&state.identity.tokens).validate(token, now).cloned().map_err(|problem| match problem {
        TokenProblem::Unknown => Rejection::UnknownToken,
        TokenProblem::Expired { expired_at } => Rejection::Expired { expired_at, now },
    })?;
    if !audiences.iter().any(|a| a.eq_ignore_ascii_case(&record.audience)) {
        return Err(Rejection::WrongAudience { found: record.audience });
    }
    let resource = path.trim_start_matches('/');
    if !lock(&state.identity.grants).allows(&record.principal, resource) {
        return Err(Rejection::Forbidden {
            principal: record.principal,
            method: method.to_string(),
            resource: resource.to_string(),
        });
    }
    Ok(Caller { principal: record.principal })
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 6750 follows RFC 7235 there).
pub(crate) fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer a b"), None);
    }
}

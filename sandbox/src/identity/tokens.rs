//! The table of issued access tokens: opaque string → (principal, audience, expiry). Expired tokens stay in the table
//! so services can tell "expired" (refresh and retry) from "never issued" (a bug), as the real ones do.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::ids;
use crate::wire::unix_secs;

#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub principal: String,
    /// Normalised (see `normalize_audience`).
    pub audience: String,
    pub expires_at: SystemTime,
}

/// What the token endpoints put in their answers.
pub(crate) struct Issued {
    pub access_token: String,
    /// Whole seconds of validity, as `expires_in`.
    pub expires_in: u64,
    /// Unix seconds, as `expires_on`.
    pub expires_on: u64,
    /// Unix seconds, as `not_before`.
    pub not_before: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired { expired_at: SystemTime },
}

pub(crate) struct TokenTable {
    tokens: HashMap<String, TokenRecord>,
    lifetime: Duration,
}

impl TokenTable {
    pub fn new(lifetime: Duration) -> TokenTable {
        TokenTable { tokens: HashMap::new(), lifetime }
    }

    pub fn set_lifetime(&mut self, lifetime: Duration) {
        self.lifetime = lifetime;
    }

    /// A new token for `principal` (client id or managed identity principal id) of `tenant`, for `audience`. Its
    /// claims are those of an Entra ID v1 app-only token (see `ids::access_token` for why they exist at all).
    pub fn issue(&mut self, principal: &str, audience: &str, tenant: &str) -> Issued {
        let now = SystemTime::now();
        let expires_at = now + self.lifetime;
        let access_token = ids::access_token(&json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": unix_secs(now),
            "nbf": unix_secs(now),
            "exp": unix_secs(expires_at),
            "appid": principal,
            "oid": principal,
            "sub": principal,
            "tid": tenant,
            "ver": "1.0",
        }));
        self.tokens.insert(
            access_token.clone(),
            TokenRecord { principal: principal.to_string(), audience: audience.to_string(), expires_at },
        );
        Issued {
            access_token,
            expires_in: self.lifetime.as_secs(),
            expires_on: unix_secs(expires_at),
            not_before: unix_secs(now),
        }
    }

    /// The record of a still-valid token.
    pub fn validate(&self, token: &str, now: SystemTime) -> Result<&TokenRecord, TokenProblem> {
        let record = self.tokens.get(token).ok_or(TokenProblem::Unknown)?;
        if now >= record.expires_at {
            return Err(TokenProblem::Expired { expired_at: record.expires_at });
        }
        Ok(record)
    }

    /// Makes every token issued so far expired (tokens issued afterwards are valid again).
    pub fn expire_all(&mut self) {
        let now = SystemTime::now();
        for record in self.tokens.values_mut() {
            record.expires_at = record.expires_at.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_validate_expire() {
        let mut table = TokenTable::new(Duration::from_secs(60));
        let issued = table.issue("p", "https://vault.azure.net", "t");
        let claims = crate::ids::tests::claims_of(&issued.access_token);
        assert_eq!((claims["aud"].as_str(), claims["tid"].as_str()), (Some("https://vault.azure.net"), Some("t")));
        assert_eq!(claims["exp"], issued.expires_on);
        assert_eq!(issued.expires_in, 60);
        assert_eq!(issued.expires_on, issued.not_before + 60);
        let now = SystemTime::now();
        assert_eq!(table.validate(&issued.access_token, now).map(|r| r.principal.clone()), Ok("p".to_string()));
        assert_eq!(table.validate("sbx.nope", now).map(|_| ()), Err(TokenProblem::Unknown));
        let later = now + Duration::from_secs(61);
        assert!(matches!(table.validate(&issued.access_token, later), Err(TokenProblem::Expired { .. })));
        table.expire_all();
        assert!(matches!(table.validate(&issued.access_token, SystemTime::now()), Err(TokenProblem::Expired { .. })));
        let fresh = table.issue("p", "a", "t");
        assert!(table.validate(&fresh.access_token, SystemTime::now()).is_ok());
    }
}

//! Shared access signatures. The sandbox accepts only SAS tokens it handed out itself (the `sasToken` of a Sas
//! datastore's `listSecrets`, or [`crate::Sandbox::issue_sas`]): a request's `sig` must name an issued grant and
//! every other SAS parameter must be exactly as issued (an edited `se` or `sp` breaks the signature in the real
//! service too). Then the time window, the container scope and the permission letters are checked.

use axum::http::StatusCode;

use super::crypto;
use super::errors::StorageError;
use super::store::Storage;
use crate::wire::{http_date, now_nanos};

/// The signed-version the sandbox writes into the tokens it issues.
const SAS_VERSION: &str = "2025-11-05";

/// Query parameters that belong to a SAS (service, account or user delegation); the rest of a query is the
/// operation's own.
const SAS_PARAMETERS: &[&str] = &[
    "sv", "ss", "srt", "sp", "se", "st", "spr", "sig", "sr", "si", "sip", "sdd", "skoid", "sktid", "skt", "ske", "sks",
    "skv", "saoid", "suoid", "scid", "rscc", "rscd", "rsce", "rscl", "rsct", "ses", "sduoid",
];

/// An issued SAS.
pub(crate) struct SasGrant {
    /// The SAS parameters as issued, decoded and sorted by name.
    params: Vec<(String, String)>,
    sig: String,
    account: String,
    /// `None` for an account-wide grant.
    container: Option<String>,
    permissions: String,
    start: i64,
    expiry: i64,
}

/// What an operation needs from a SAS's `sp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    Read,
    List,
    Write,
    Delete,
}

impl Permission {
    fn letter(self) -> char {
        match self {
            Permission::Read => 'r',
            Permission::List => 'l',
            Permission::Write => 'w',
            Permission::Delete => 'd',
        }
    }
}

/// Whether the query carries a SAS (the service looks for `sig`).
pub(crate) fn is_sas(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, _)| k == "sig")
}

impl Storage {
    /// Issues a SAS for a container (or the whole account when `container` is `None`) valid from five minutes
    /// ago until `expiry` (Unix nanoseconds), with permission letters `permissions` (`racwdl`...). Returns the query
    /// string without `?`.
    pub fn issue_sas(
        &mut self,
        account: &str,
        container: Option<&str>,
        permissions: &str,
        expiry: i64,
    ) -> Result<String, String> {
        if permissions.is_empty() || !permissions.chars().all(|c| "racwdxltmeopi".contains(c)) {
            return Err(format!("SAS permissions {permissions:?} are not valid letters (racwdxltmeopi)"));
        }
        let key =
            self.account(account).ok_or_else(|| format!("storage account {account:?} does not exist"))?.key.clone();
        let start = now_nanos() - 5 * 60 * 1_000_000_000;
        let iso = |nanos: i64| chrono::DateTime::from_timestamp_nanos(nanos).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let (st, se) = (iso(start), iso(expiry));
        let mut params: Vec<(String, String)> = vec![
            ("sv".into(), SAS_VERSION.into()),
            ("st".into(), st.clone()),
            ("se".into(), se.clone()),
            ("sp".into(), permissions.into()),
            ("spr".into(), "https,http".into()),
        ];
        let resource = match container {
            Some(c) => {
                params.push(("sr".into(), "c".into()));
                format!("/blob/{account}/{c}")
            }
            None => {
                params.push(("ss".into(), "b".into()));
                params.push(("srt".into(), "sco".into()));
                format!("/blob/{account}")
            }
        };
        // Signed like a service SAS so the token looks and varies like a real one; the sandbox itself recognises
        // it by lookup, not by recomputing.
        let to_sign = format!("{permissions}\n{st}\n{se}\n{resource}\n\n\nhttps,http\n{SAS_VERSION}\n{}", now_nanos());
        let sig = crypto::b64(&crypto::hmac_sha256(&key, to_sign.as_bytes()));
        params.push(("sig".into(), sig.clone()));
        let token = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
        params.sort();
        self.sas.push(SasGrant {
            params,
            sig,
            account: account.to_ascii_lowercase(),
            container: container.map(str::to_string),
            permissions: permissions.to_string(),
            start,
            expiry,
        });
        Ok(token)
    }

    /// Checks a SAS-bearing request against the issued grants.
    pub fn check_sas(
        &self,
        account: &str,
        container: Option<&str>,
        permission: Permission,
        pairs: &[(String, String)],
    ) -> Result<(), StorageError> {
        let mut sent: Vec<(String, String)> =
            pairs.iter().filter(|(k, _)| SAS_PARAMETERS.contains(&k.as_str())).cloned().collect();
        sent.sort();
        let sig = sent.iter().find(|(k, _)| k == "sig").map(|(_, v)| v.as_str()).unwrap_or_default();
        let mismatch = |detail: &str| {
            StorageError::new(
                StatusCode::FORBIDDEN,
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is formed \
                 correctly including the signature.",
            )
            .with("AuthenticationErrorDetail", detail)
        };
        let Some(grant) = self.sas.iter().find(|g| g.sig == sig) else {
            return Err(mismatch(
                "Signature did not match. (drift-sandbox accepts only SAS tokens it issued: the sasToken of a Sas \
                 datastore's listSecrets, or Sandbox::issue_sas.)",
            ));
        };
        if grant.params != sent {
            return Err(mismatch("Signature did not match. The SAS parameters differ from the ones that were signed."));
        }
        let in_scope = grant.account.eq_ignore_ascii_case(account)
            && grant.container.as_deref().is_none_or(|c| container == Some(c));
        if !in_scope {
            return Err(mismatch("Signature did not match. The SAS was issued for another account or container."));
        }
        let now = now_nanos();
        if now < grant.start || now > grant.expiry {
            return Err(mismatch(&format!(
                "Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
                http_date(grant.start),
                http_date(grant.expiry),
                http_date(now)
            )));
        }
        if !grant.permissions.contains(permission.letter()) {
            return Err(StorageError::new(
                StatusCode::FORBIDDEN,
                "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(token: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(token.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    #[test]
    fn issued_tokens_pass_and_edits_fail() {
        let mut storage = Storage::default();
        storage.add_account("acct01", "a2V5").unwrap();
        let hour = 3_600_000_000_000;
        let token = storage.issue_sas("acct01", Some("data"), "rl", now_nanos() + hour).unwrap();
        assert!(token.contains("sr=c") && token.contains("sig="), "{token}");
        let mut query = pairs(&token);
        assert!(is_sas(&query));
        query.push(("comp".into(), "list".into()));
        assert!(storage.check_sas("acct01", Some("data"), Permission::List, &query).is_ok());
        let denied = storage.check_sas("acct01", Some("data"), Permission::Write, &query).unwrap_err();
        assert_eq!(denied.code, "AuthorizationPermissionMismatch");
        assert_eq!(
            storage.check_sas("acct01", Some("other"), Permission::Read, &query).unwrap_err().code,
            "AuthenticationFailed"
        );
        let edited: Vec<_> = query
            .iter()
            .map(|(k, v)| if k == "sp" { (k.clone(), "rwl".to_string()) } else { (k.clone(), v.clone()) })
            .collect();
        assert_eq!(
            storage.check_sas("acct01", Some("data"), Permission::Read, &edited).unwrap_err().code,
            "AuthenticationFailed"
        );
        let expired = storage.issue_sas("acct01", None, "r", now_nanos() - hour).unwrap();
        let error = storage.check_sas("acct01", Some("data"), Permission::Read, &pairs(&expired)).unwrap_err();
        assert!(error.extra[0].1.starts_with("Signature not valid in the specified time frame"), "{error:?}");
        assert!(storage.issue_sas("acct01", None, "rq", now_nanos()).is_err());
    }
}

//! Storage Shared Key authorization ("Authorize with Shared Key", Blob/Queue/File/DFS scheme, version 2015-02-21
//! and later): the string-to-sign, its HMAC-SHA256 under the account key, and the `Authorization` header. A
//! [`RequestSigner`], so the HTTP layer re-signs every retry with a fresh `x-ms-date`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use sha2::Sha256;

use crate::error::{AuthError, Error};
use crate::http::{CredentialError, RequestSigner};
use crate::secret::Secret;

/// The standard headers signed by value, in string-to-sign order, after the verb. `Date` stays empty because
/// drift sends `x-ms-date` (which is signed among the canonicalized headers instead).
const SIGNED_HEADERS: [&str; 11] = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
];

/// Prefix of the storage headers that are signed as canonicalized headers.
const STORAGE_HEADER_PREFIX: &str = "x-ms-";

/// Signs requests with a storage account key.
pub struct SharedKeySigner {
    account: String,
    key: Secret,
}

impl std::fmt::Debug for SharedKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedKeySigner").field("account", &self.account).finish_non_exhaustive()
    }
}

impl SharedKeySigner {
    /// A signer for `account` with its base64 account key. The key is checked when the first request is signed.
    pub fn new(account: impl Into<String>, key: Secret) -> SharedKeySigner {
        SharedKeySigner { account: account.into(), key }
    }

    /// Sets `x-ms-date` to `now` and adds the `Authorization` header.
    pub fn sign_at(&self, request: &mut reqwest::Request, now: SystemTime) -> Result<(), Error> {
        let date = HeaderValue::from_str(&httpdate::fmt_http_date(now))
            .map_err(|_| AuthError::new("cannot format the x-ms-date header"))?;
        request.headers_mut().insert("x-ms-date", date);
        let string_to_sign = self.string_to_sign(request)?;
        let key = BASE64.decode(self.key.expose().trim()).map_err(|_| {
            AuthError::new(format!(
                "the account key for storage account {} is not valid base64 (copy key1 or key2 of the account as \
                 the portal shows it)",
                self.account
            ))
        })?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|_| AuthError::new(format!("the account key for storage account {} is empty", self.account)))?;
        mac.update(string_to_sign.as_bytes());
        let signature = BASE64.encode(mac.finalize().into_bytes());
        let mut value = HeaderValue::from_str(&format!("SharedKey {}:{signature}", self.account)).map_err(|_| {
            AuthError::new(format!("the storage account name {:?} cannot appear in a header", self.account))
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    /// The string-to-sign of `request` as it will be sent.
    pub(crate) fn string_to_sign(&self, request: &reqwest::Request) -> Result<String, Error> {
        let headers = request.headers();
        let text = |name: &str| -> Result<String, Error> {
            let mut values = Vec::new();
            for v in headers.get_all(name) {
                let v = std::str::from_utf8(v.as_bytes())
                    .map_err(|_| AuthError::new(format!("header {name} is not UTF-8 and cannot be signed")))?;
                values.push(v.trim());
            }
            Ok(values.join(","))
        };
        let mut out = String::with_capacity(256);
        out.push_str(request.method().as_str());
        out.push('\n');
        for name in SIGNED_HEADERS {
            let mut value = text(name)?;
            if name == "content-length" {
                if value.is_empty() {
                    // reqwest adds Content-Length on the wire from the body, after signing.
                    let len = request.body().and_then(|b| b.as_bytes()).map_or(0, <[u8]>::len);
                    value = len.to_string();
                }
                // Since version 2015-02-21 a zero length is signed as an empty line.
                if value == "0" {
                    value.clear();
                }
            }
            out.push_str(&value);
            out.push('\n');
        }
        let mut canonical: BTreeMap<String, String> = BTreeMap::new();
        for name in headers.keys() {
            let lower = name.as_str().to_ascii_lowercase();
            if lower.starts_with(STORAGE_HEADER_PREFIX) {
                canonical.insert(lower, text(name.as_str())?);
            }
        }
        for (name, value) in &canonical {
            out.push_str(name);
            out.push(':');
            out.push_str(value);
            out.push('\n');
        }
        out.push_str(&canonicalized_resource(&self.account, request.url()));
        Ok(out)
    }
}

impl RequestSigner for SharedKeySigner {
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), CredentialError> {
        self.sign_at(request, SystemTime::now()).map_err(Error::into_credential_error)
    }
}

/// `/{account}{encoded path}` then, per query parameter sorted by lower-cased name, `\n{name}:{v1,v2}` with the
/// decoded values sorted. The path is taken as sent, so a path-style emulator URL
/// (`/devstoreaccount1/container/blob`) yields the account twice, as the emulator expects.
fn canonicalized_resource(account: &str, url: &url::Url) -> String {
    let path = if url.path().is_empty() { "/" } else { url.path() };
    let mut out = format!("/{account}{path}");
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in url.query_pairs() {
        params.entry(name.to_ascii_lowercase()).or_default().push(value.into_owned());
    }
    for (name, mut values) in params {
        values.sort();
        out.push('\n');
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;
    use std::time::Duration;

    /// The documented, public key of the storage emulator account `devstoreaccount1`.
    const EMULATOR_KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    fn request(method: Method, url: &str) -> reqwest::Request {
        reqwest::Request::new(method, url::Url::parse(url).unwrap())
    }

    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_300_000)
    }

    #[test]
    fn string_to_sign_follows_the_documented_layout() {
        let signer = SharedKeySigner::new("devstoreaccount1", Secret::new(EMULATOR_KEY));
        let mut req = request(
            Method::PUT,
            "http://127.0.0.1:10000/devstoreaccount1/logs/dir%20a/00.json?comp=metadata&Timeout=30",
        );
        let h = req.headers_mut();
        h.insert("x-ms-version", HeaderValue::from_static("2025-05-05"));
        h.insert("x-ms-meta-name", HeaderValue::from_static("  MLTable "));
        h.insert("X-MS-Blob-Type", HeaderValue::from_static("BlockBlob"));
        h.insert("if-none-match", HeaderValue::from_static("*"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        *req.body_mut() = Some(reqwest::Body::from(b"{\"a\":1}".to_vec()));
        signer.sign_at(&mut req, at()).unwrap();
        let sts = signer.string_to_sign(&req).unwrap();
        assert_eq!(
            sts,
            "PUT\n\n\n7\n\napplication/json\n\n\n\n*\n\n\n\
             x-ms-blob-type:BlockBlob\nx-ms-date:Fri, 28 Nov 2025 03:20:00 GMT\nx-ms-meta-name:MLTable\n\
             x-ms-version:2025-05-05\n\
             /devstoreaccount1/devstoreaccount1/logs/dir%20a/00.json\ncomp:metadata\ntimeout:30"
        );
        // Computed independently: base64(HMAC-SHA256(base64decode(key), sts)) with Python's hmac module.
        assert_eq!(
            req.headers().get(AUTHORIZATION).unwrap().to_str().unwrap(),
            "SharedKey devstoreaccount1:z30nztIHrF2LTI+B7o1XJ9yQK3JXChVYW+0ZqSrYKCM="
        );
        assert!(req.headers().get(AUTHORIZATION).unwrap().is_sensitive());
    }

    #[test]
    fn account_style_urls_and_zero_length_and_repeated_parameters() {
        let signer = SharedKeySigner::new("acct", Secret::new(EMULATOR_KEY));
        let mut req = request(
            Method::GET,
            "https://acct.blob.core.windows.net/c?restype=container&comp=list&prefix=a%20b%2F\
             &include=metadata&include=tags",
        );
        req.headers_mut().insert("x-ms-version", HeaderValue::from_static("2025-05-05"));
        signer.sign_at(&mut req, at()).unwrap();
        let sts = signer.string_to_sign(&req).unwrap();
        assert!(sts.starts_with("GET\n\n\n\n\n\n\n\n\n\n\n\n"), "{sts:?}");
        assert!(sts.ends_with("/acct/c\ncomp:list\ninclude:metadata,tags\nprefix:a b/\nrestype:container"), "{sts:?}");
        let empty_path =
            canonicalized_resource("acct", &url::Url::parse("https://acct.blob.core.windows.net").unwrap());
        assert_eq!(empty_path, "/acct/");
    }

    #[test]
    fn a_fresh_date_per_attempt() {
        let signer = SharedKeySigner::new("acct", Secret::new(EMULATOR_KEY));
        let mut req = request(Method::GET, "https://acct.blob.core.windows.net/c/b");
        signer.sign_at(&mut req, at()).unwrap();
        let first = req.headers().get(AUTHORIZATION).cloned();
        signer.sign_at(&mut req, at() + Duration::from_secs(5)).unwrap();
        assert_eq!(req.headers().get_all("x-ms-date").iter().count(), 1);
        assert_eq!(req.headers().get("x-ms-date").unwrap(), "Fri, 28 Nov 2025 03:20:05 GMT");
        assert_ne!(req.headers().get(AUTHORIZATION).cloned(), first);
    }

    #[test]
    fn a_bad_key_is_an_auth_error_that_does_not_quote_it() {
        let signer = SharedKeySigner::new("acct", Secret::new("not base64 at all!"));
        let mut req = request(Method::GET, "https://acct.blob.core.windows.net/c/b");
        let err = signer.sign_at(&mut req, at()).unwrap_err();
        assert_eq!(err.exit_status().code(), 3);
        let text = err.to_string();
        assert!(text.contains("acct") && text.contains("base64") && !text.contains("not base64 at all"), "{text}");
        assert_eq!(format!("{signer:?}"), "SharedKeySigner { account: \"acct\", .. }");
    }
}

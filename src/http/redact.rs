//! Strips secrets from URLs before they reach a log line or an error message.

use url::Url;

/// Query parameters whose values are secrets: SAS signatures, OAuth codes and secrets, tokens.
const SECRET_QUERY_KEYS: [&str; 7] = ["sig", "signature", "code", "client_secret", "token", "access_token", "key"];

/// The URL with passwords and secret query values replaced by `REDACTED`. Unparseable input is dropped whole.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(url) => redact(&url),
        Err(_) => "[unparseable URL]".to_string(),
    }
}

pub fn redact(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("REDACTED"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_QUERY_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (k.into_owned(), if secret { "REDACTED".to_string() } else { v.into_owned() })
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_signature_and_passwords_are_removed() {
        let cases = [
            (
                "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc%2Bdef&se=2026-01-01",
                "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=REDACTED&se=2026-01-01",
            ),
            ("https://user:pw@host.example/x", "https://user:REDACTED@host.example/x"),
            ("https://h/p?api-version=2025-12-01", "https://h/p?api-version=2025-12-01"),
            ("https://h/p?SIG=1&Token=2", "https://h/p?SIG=REDACTED&Token=REDACTED"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected);
        }
        assert_eq!(redact_url("not a url sig=1"), "[unparseable URL]");
    }
}

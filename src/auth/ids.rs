//! The identifiers a credential is built from — tenant and client ids — checked before any of them becomes part
//! of a request. A tenant goes into the token URL's path (`{authority}/{tenant}/oauth2/v2.0/token`), so a value
//! such as `../x` or `t/y?` would change which endpoint receives the client secret; a client id goes into a form
//! body or an IMDS query. Pure; each check returns the rule when it fails.

/// Longest domain name (RFC 1035 §2.3.4: 255 octets on the wire, 253 characters written out).
const MAX_DOMAIN_CHARS: usize = 253;
/// Longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL_CHARS: usize = 63;

/// A GUID in its 8-4-4-4-12 hexadecimal form.
pub fn is_guid(v: &str) -> bool {
    let groups: Vec<&str> = v.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A Microsoft Entra tenant as the token endpoint takes it: the tenant id (a GUID) or one of the tenant's domain
/// names (`contoso.onmicrosoft.com`). Source: Microsoft Learn, "Microsoft identity platform and the OAuth 2.0
/// client credentials flow" (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow): the
/// `tenant` of the token request is "the directory tenant the application plans to operate against, in GUID or
/// domain-name format" (the search found the page; the wording of that row is from memory). The Azure SDKs check
/// only the characters (azure-sdk-for-java `ValidationUtil.validateTenantIdCharacterRange`: letters, digits, `.`
/// and `-`); drift also requires the shape of a domain name (RFC 1035 labels, at least two of them), which refuses
/// `..`, a leading `.`, and the multi-tenant aliases `common`/`organizations`, which the client credentials flow
/// does not take (from memory).
pub fn tenant(v: &str) -> Result<(), String> {
    if is_guid(v) || is_domain_name(v) {
        Ok(())
    } else {
        Err("a tenant is its id (a GUID, 8-4-4-4-12 hexadecimal digits) or one of its domain names such as \
             contoso.onmicrosoft.com (letters, digits, '-' and '.')"
            .to_string())
    }
}

/// An application (client) id: a GUID. Entra gives every application and managed identity a GUID client id
/// (Microsoft Learn, "Application and service principal objects in Microsoft Entra ID": "Application (client)
/// ID"; from memory).
pub fn client_id(v: &str) -> Result<(), String> {
    if is_guid(v) {
        Ok(())
    } else {
        Err("a client (application) id is a GUID: 8-4-4-4-12 hexadecimal digits".to_string())
    }
}

/// `label.label[.label…]`: each label 1-63 letters, digits and `-`, not starting or ending with `-`.
fn is_domain_name(v: &str) -> bool {
    let labels: Vec<&str> = v.split('.').collect();
    v.len() <= MAX_DOMAIN_CHARS
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=MAX_LABEL_CHARS).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants() {
        for good in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
            "contoso.onmicrosoft.com",
            "contoso.com",
            "x-1.example.co.uk",
        ] {
            assert!(tenant(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "t",
            "common",
            "..",
            ".",
            "a..b",
            ".contoso.com",
            "contoso.com.",
            "-a.com",
            "a-.com",
            "a/b.com",
            "../../x",
            "evil.com/x?",
            "a.com?x=1",
            "a.com#",
            "a b.com",
            "contoso.onmicrosoft.com\n",
            "ünï.com",
            "72f988bf-86f1-41af-91ab-2d7cd011db4",
            &format!("{}.com", "a".repeat(64)),
            &format!("{}.com", ["a"; 130].join(".")),
        ] {
            assert!(tenant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn client_ids() {
        assert!(client_id("9f3c1a52-6d0e-4b7a-8c21-5e4f3a2b1c0d").is_ok());
        for bad in ["", "app-id-1", "9f3c1a52-6d0e-4b7a-8c21-5e4f3a2b1c0d ", "9f3c1a52/6d0e", "OWYzYzFhNTIt"] {
            assert!(client_id(bad).is_err(), "{bad:?}");
        }
    }
}

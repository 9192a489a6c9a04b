//! Access control: which principal may touch which resource paths. Until the first grant is made everything is
//! allowed (the convenient default for tests that do not care); after that a principal needs a grant whose prefix
//! covers the request's resource path.

#[derive(Default)]
pub(crate) struct Grants {
    /// `(principal, prefix)`, both lower-cased; prefixes without leading or trailing `/`.
    entries: Vec<(String, String)>,
    /// Stays true once set: removing grants is not offered, so "ever made" is simply "any made".
    enforced: bool,
}

impl Grants {
    /// Allows `principal` everything under `resource_prefix`, e.g. `kv/myvault` or
    /// `arm/subscriptions/s1/resourceGroups/rg`. Compared case-insensitively: ARM resource ids and Key Vault names
    /// are case-insensitive.
    pub fn grant(&mut self, principal: &str, resource_prefix: &str) {
        self.enforced = true;
        let entry = (principal.to_ascii_lowercase(), resource_prefix.trim_matches('/').to_ascii_lowercase());
        if !self.entries.contains(&entry) {
            self.entries.push(entry);
        }
    }

    /// Whether `principal` may act on `resource` (a request path, with or without its leading `/`). A prefix
    /// matches whole path segments only: `kv/vault1` does not cover `kv/vault10`.
    pub fn allows(&self, principal: &str, resource: &str) -> bool {
        if !self.enforced {
            return true;
        }
        let resource = resource.trim_start_matches('/').to_ascii_lowercase();
        self.entries.iter().any(|(who, prefix)| {
            who.eq_ignore_ascii_case(principal)
                && (prefix.is_empty()
                    || resource == *prefix
                    || resource.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.starts_with('/')))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_until_first_grant_then_prefix_by_segment() {
        let mut grants = Grants::default();
        assert!(grants.allows("anyone", "/kv/v/secrets/s"));
        grants.grant("App-1", "/kv/vault1/");
        grants.grant("root", "");
        assert!(grants.allows("app-1", "/kv/vault1/secrets/s"));
        assert!(grants.allows("app-1", "kv/VAULT1"));
        assert!(!grants.allows("app-1", "/kv/vault10/secrets/s"));
        assert!(!grants.allows("app-2", "/kv/vault1/secrets/s"));
        assert!(grants.allows("root", "/arm/subscriptions/x"));
    }
}

//! The seed file (`drift-sandbox --seed FILE`, `Sandbox::load_seed`): one JSON object with one key per section.
//! Each section is parsed and checked by the module that owns its data; every section is checked before any is
//! applied, so a bad file leaves the sandbox untouched. Unknown keys are errors, because a misspelt section that is
//! silently ignored makes a test pass for the wrong reason.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::state::SandboxState;

/// Applies one checked section to the running sandbox.
pub(crate) type Apply = Box<dyn FnOnce(&SandboxState) + Send>;

/// Parses and checks a section's value; the error names what is wrong, without the section key (added here).
type Parse = fn(&Value, &Context) -> Result<Apply, String>;

/// Every known section, in the order they are applied: storage accounts before the workspaces whose default
/// datastores live in them, workspaces before the job settings whose scripts apply to their jobs.
const SECTIONS: &[(&str, Parse)] = &[
    ("tenants", crate::identity::seed::tenants),
    ("servicePrincipals", crate::identity::seed::service_principals),
    ("federatedCredentials", crate::identity::seed::federated_credentials),
    ("certificateCredentials", crate::identity::seed::certificate_credentials),
    ("managedIdentity", crate::identity::seed::managed_identity),
    ("vaults", crate::services::keyvault::seed_vaults),
    ("storageAccounts", crate::services::storage::seed::storage_accounts),
    ("workspaces", crate::services::ml::seed::workspaces),
    ("jobSettings", crate::services::ml::seed::job_settings),
    ("grants", crate::identity::seed::grants),
];

/// What a section may need beyond its value: where relative paths in it are rooted.
pub(crate) struct Context {
    /// The seed file's folder; `None` for documents passed as values (then the working directory).
    pub base_dir: Option<PathBuf>,
}

impl Context {
    pub fn resolve(&self, path: &str) -> PathBuf {
        match &self.base_dir {
            Some(base) if Path::new(path).is_relative() => base.join(path),
            _ => PathBuf::from(path),
        }
    }
}

pub(crate) fn load(state: &SandboxState, seed: &Value, context: &Context) -> Result<(), String> {
    let Value::Object(map) = seed else {
        return Err(format!("seed must be a JSON object with the keys {}; got {}", known_keys(), kind(seed)));
    };
    if let Some(unknown) = map.keys().find(|key| !SECTIONS.iter().any(|(known, _)| known == key)) {
        return Err(format!("seed has an unknown key {unknown:?}; known keys: {}", known_keys()));
    }
    let mut checked = Vec::new();
    for (key, parse) in SECTIONS {
        if let Some(value) = map.get(*key) {
            checked.push(parse(value, context).map_err(|e| format!("seed section {key:?}: {e}"))?);
        }
    }
    for apply in checked {
        apply(state);
    }
    Ok(())
}

fn known_keys() -> String {
    SECTIONS.iter().map(|(key, _)| *key).collect::<Vec<_>>().join(", ")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserializes a whole section value.
pub(crate) fn parse<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| e.to_string())
}

/// Deserializes a section that is a list, naming the failing entry by index.
pub(crate) fn parse_list<T: DeserializeOwned>(value: &Value) -> Result<Vec<T>, String> {
    let Value::Array(items) = value else {
        return Err(format!("expected an array, got {}", kind(value)));
    };
    items.iter().enumerate().map(|(i, item)| T::deserialize(item).map_err(|e| format!("entry {i}: {e}"))).collect()
}

/// Rejects empty or blank strings in seed fields, which would otherwise create unreachable tenants or principals.
pub(crate) fn require_text(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() { Err(format!("{what} must not be empty")) } else { Ok(()) }
}

//! The seed file (`drift-sandbox --seed FILE`, `Sandbox::load_seed`): one JSON object with one key per section.
//! Each section is parsed and checked by the module that owns its data; every section is checked before any is
//! applied, so a bad file leaves the sandbox untouched. Unknown keys are errors, because a misspelt section that is
//! silently ignored makes a test pass for the wrong reason.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::state::SandboxState;

/// Applies one checked section to the running sandbox.
pub(crate) type Apply = Box<dyn FnOnce(&SandboxState) + Send>;

/// Parses and checks a section's value; the error names what is wrong, without the section key (added here).
type Parse = fn(&Value) -> Result<Apply, String>;

/// Every known section, in the order they are applied. Later services (Azure ML workspaces and jobs, storage
/// accounts) add their own entries here.
const SECTIONS: &[(&str, Parse)] = &[
    ("tenants", crate::identity::seed::tenants),
    ("servicePrincipals", crate::identity::seed::service_principals),
    ("federatedCredentials", crate::identity::seed::federated_credentials),
    ("managedIdentity", crate::identity::seed::managed_identity),
    ("vaults", crate::services::keyvault::seed_vaults),
    ("grants", crate::identity::seed::grants),
];

pub(crate) fn load(state: &SandboxState, seed: &Value) -> Result<(), String> {
    let Value::Object(map) = seed else {
        return Err(format!("seed must be a JSON object with the keys {}; got {}", known_keys(), kind(seed)));
    };
    if let Some(unknown) = map.keys().find(|key| !SECTIONS.iter().any(|(known, _)| known == key)) {
        return Err(format!("seed has an unknown key {unknown:?}; known keys: {}", known_keys()));
    }
    let mut checked = Vec::new();
    for (key, parse) in SECTIONS {
        if let Some(value) = map.get(*key) {
            checked.push(parse(value).map_err(|e| format!("seed section {key:?}: {e}"))?);
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

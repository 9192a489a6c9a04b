//! Small checkers for request bodies, following the 2025-12-01 spec: objects declared `additionalProperties:
//! false` reject unknown members, `readOnly` members must not be sent (OpenAPI 2.0: "MUST NOT be sent as part of
//! the request"), required members must be present, enums hold their values. Messages name the JSON path, as the
//! provider's .NET deserializer does.

use serde_json::{Map, Value};

use super::errors::{MlError, MlResult};

pub(crate) type Obj = Map<String, Value>;

/// `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`: the spec's pattern for datastore, data and job names/ids.
pub(crate) fn is_resource_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=255).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// Data versions: like names, plus `.` (versions such as `1.0`); the spec gives the version no pattern, the service
/// still refuses path-hostile characters.
pub(crate) fn is_version(version: &str) -> bool {
    let bytes = version.as_bytes();
    (1..=255).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`, the workspace name pattern.
pub(crate) fn is_workspace_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=33).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// A GUID in its 8-4-4-4-12 hex form (`format: uuid`).
pub(crate) fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn object<'a>(value: &'a Value, path: &str) -> MlResult<&'a Obj> {
    value.as_object().ok_or_else(|| MlError::user(format!("The request is invalid: '{path}' must be a JSON object.")))
}

/// Rejects members not in `allowed` (the spec's `additionalProperties: false`) and members in `read_only`.
pub(crate) fn allow(obj: &Obj, allowed: &[&str], read_only: &[&str], type_name: &str, path: &str) -> MlResult<()> {
    for key in obj.keys() {
        if read_only.contains(&key.as_str()) {
            return Err(MlError::user(format!(
                "The request is invalid: '{}' is read-only in {type_name} and must not be sent.",
                join(path, key)
            )));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(MlError::user(format!(
                "The request is invalid: could not find member '{key}' on object of type '{type_name}'. Path '{}'.",
                join(path, key)
            )));
        }
    }
    Ok(())
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn wrong_type(path: &str, key: &str, expected: &str) -> MlError {
    MlError::user(format!("The request is invalid: '{}' must be {expected}.", join(path, key)))
}

pub(crate) fn missing(path: &str, key: &str) -> MlError {
    MlError::user(format!("The request is invalid: the required property '{}' is missing.", join(path, key)))
}

/// A string member that may be absent or null.
pub(crate) fn opt_str<'a>(obj: &'a Obj, key: &str, path: &str) -> MlResult<Option<&'a str>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(path, key, "a string")),
    }
}

/// A required, non-null string member.
pub(crate) fn req_str<'a>(obj: &'a Obj, key: &str, path: &str) -> MlResult<&'a str> {
    opt_str(obj, key, path)?.ok_or_else(|| missing(path, key))
}

pub(crate) fn opt_bool(obj: &Obj, key: &str, path: &str) -> MlResult<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(path, key, "a boolean")),
    }
}

/// A string-valued dictionary (`tags`, `properties`): absent or null become empty; values may be null.
pub(crate) fn string_map(obj: &Obj, key: &str, path: &str) -> MlResult<Obj> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Obj::new()),
        Some(Value::Object(map)) => {
            for (k, v) in map {
                if !matches!(v, Value::String(_) | Value::Null) {
                    return Err(wrong_type(&join(path, key), k, "a string"));
                }
            }
            Ok(map.clone())
        }
        Some(_) => Err(wrong_type(path, key, "an object of strings")),
    }
}

/// A dictionary of objects (`inputs`, `outputs`, `jobs`, `services`): absent or null become empty.
pub(crate) fn object_map<'a>(obj: &'a Obj, key: &str, path: &str) -> MlResult<Option<&'a Obj>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(wrong_type(path, key, "an object")),
    }
}

/// A member whose value must be one of `values` (compared exactly, as the spec's enums are).
pub(crate) fn enum_str<'a>(obj: &'a Obj, key: &str, values: &[&str], path: &str) -> MlResult<Option<&'a str>> {
    let value = opt_str(obj, key, path)?;
    match value {
        Some(v) if !values.contains(&v) => Err(MlError::user(format!(
            "The request is invalid: '{}' has the value '{v}'; allowed values: {}.",
            join(path, key),
            values.join(", ")
        ))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_guids() {
        assert!(is_resource_name("sales-data_v2"));
        assert!(!is_resource_name("_x"));
        assert!(!is_resource_name("a.b"));
        assert!(!is_resource_name(&"a".repeat(256)));
        assert!(is_version("20250101000000") && is_version("1.0"));
        assert!(!is_version("a/b"));
        assert!(is_workspace_name("ws1") && !is_workspace_name("ws"));
        assert!(is_guid("00000000-1111-2222-3333-444444444444"));
        assert!(!is_guid("00000000-1111-2222-3333-44444444444g"));
    }

    #[test]
    fn members() {
        let body = json!({"a": "x", "b": null, "t": {"k": "v", "n": null}, "bad": 1, "status": "Running"});
        let obj = body.as_object().unwrap();
        assert_eq!(opt_str(obj, "a", "p").unwrap(), Some("x"));
        assert_eq!(opt_str(obj, "b", "p").unwrap(), None);
        assert!(req_str(obj, "b", "p").unwrap_err().message.contains("'p.b' is missing"));
        assert!(opt_str(obj, "bad", "p").is_err());
        assert_eq!(string_map(obj, "t", "p").unwrap().len(), 2);
        assert!(string_map(obj, "bad", "p").is_err());
        let error = allow(obj, &["a", "b", "t", "bad"], &["status"], "JobBase", "properties").unwrap_err();
        assert!(error.message.contains("'properties.status' is read-only"), "{}", error.message);
        let error = allow(obj, &["a"], &[], "JobBase", "properties").unwrap_err();
        assert!(error.message.contains("could not find member 'b'"), "{}", error.message);
        assert!(enum_str(obj, "a", &["y"], "p").is_err());
    }
}

//! Typed reading of the YAML tree: mappings with duplicate and unknown-key checks, required keys with typo help,
//! and strings, booleans and integers extracted by hand so that every message names the key path and the line.
//! The reader collects problems instead of stopping at the first ([`Reader::keep`]), so one `drift validate`
//! lists every key to fix.

use std::cell::RefCell;

use super::ConfigError;
use super::keys;
use super::node::{Node, Value, quote};
use super::yaml::missing_space_after_colon;

/// Reading state: where the text came from, the text (to quote values as written), and the warnings and problems
/// so far. Interior mutability lets every read take `&self`, so a failed read can be recorded with
/// `r.keep(r.string(…))` in one expression.
pub(crate) struct Reader<'a> {
    pub origin: &'a str,
    pub text: &'a str,
    warnings: RefCell<Vec<String>>,
    problems: RefCell<Vec<ConfigError>>,
}

/// A mapping being read, with its string keys.
pub(crate) struct Map<'a> {
    /// Dotted path of the mapping (`Processing.parameters`); empty for the top level.
    pub path: String,
    /// Line of the key that holds the mapping (the mapping's own line at the top level).
    pub line: u64,
    entries: Vec<(String, &'a Node, &'a Node)>,
}

/// A value found at a key (or at a list index).
#[derive(Clone)]
pub(crate) struct Field<'a> {
    pub path: String,
    /// Line of the key, or of the list item.
    pub line: u64,
    pub node: &'a Node,
}

pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

impl<'a> Map<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<Field<'a>> {
        self.entries.iter().find(|(k, _, _)| k == key).map(|(k, key_node, value)| Field {
            path: join(&self.path, k),
            line: key_node.line,
            node: value,
        })
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| k == key)
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(origin: &'a str, text: &'a str) -> Reader<'a> {
        Reader { origin, text, warnings: RefCell::new(Vec::new()), problems: RefCell::new(Vec::new()) }
    }

    /// The warnings and the problems found, in the order found.
    pub(crate) fn finish(self) -> (Vec<String>, Vec<ConfigError>) {
        (self.warnings.into_inner(), self.problems.into_inner())
    }

    /// Records a problem; reading goes on with the next key.
    pub(crate) fn report(&self, problem: ConfigError) {
        self.problems.borrow_mut().push(problem);
    }

    /// The value of a successful read, or `None` after recording why it failed: the caller skips what depends on
    /// this value and goes on with the rest.
    pub(crate) fn keep<T>(&self, read: Result<T, ConfigError>) -> Option<T> {
        read.map_err(|problem| self.report(problem)).ok()
    }

    pub(crate) fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.origin, key, message)
    }

    fn warn(&self, key: &str, message: &str) {
        self.warnings.borrow_mut().push(ConfigError::at(self.origin, key, message).to_string());
    }

    /// A value of the wrong kind: `expected {expected}, found the number 123 (line 7)`, plus the fix when obvious.
    pub(crate) fn wrong_type(&self, field: &Field<'_>, expected: &str) -> ConfigError {
        let found = field.node.describe(self.text);
        let mut message = format!("expected {expected}, found {found} (line {})", field.line);
        match &field.node.value {
            Value::Str(s)
                if expected.contains("mapping")
                    && !s.contains(char::is_control)
                    && missing_space_after_colon(s).is_some() =>
            {
                message
                    .push_str(&format!("; `{s}` is missing a space after ':'? write `{}`", s.replacen(':', ": ", 1)));
            }
            Value::Int(_) | Value::Float(_) | Value::Bool(_) if expected.contains("string") => {
                // An alias (`*x`) has no digits to quote; the hint is for values written in place.
                if let Some(raw) = field.node.source(self.text).filter(|raw| !raw.starts_with('*')) {
                    message.push_str(&format!("; quote it: \"{raw}\""));
                }
            }
            _ => {}
        }
        self.error(&field.path, message)
    }

    /// Opens a mapping: rejects other kinds; records a duplicate key as a problem (the first occurrence is read,
    /// so the rest of the mapping is still checked); warns about keys that are not strings.
    pub(crate) fn map<'n>(&self, field: &Field<'n>, expected: &str) -> Result<Map<'n>, ConfigError> {
        let Value::Map(entries) = &field.node.value else {
            return Err(self.wrong_type(field, expected));
        };
        let mut map = Map { path: field.path.clone(), line: field.line, entries: Vec::new() };
        for (key, value) in entries {
            let Some(name) = key.key_text(self.text) else {
                let shape = match key.value {
                    Value::Seq(_) => "<list key>",
                    Value::Map(_) => "<mapping key>",
                    _ => "<empty key>",
                };
                let at = join(&field.path, shape);
                self.warn(&at, &format!("a key that is not a name (line {}), ignored", key.line));
                continue;
            };
            if let Some((_, first, _)) = map.entries.iter().find(|(k, _, _)| *k == name) {
                self.report(self.error(
                    &join(&field.path, &name),
                    format!("duplicate key (lines {} and {}); each key may appear only once", first.line, key.line),
                ));
                continue;
            }
            map.entries.push((name, key, value));
        }
        Ok(map)
    }

    /// A key that must be present; when it is missing but a near-miss is, says so.
    pub(crate) fn require<'n>(&self, map: &Map<'n>, key: &str, what: &str) -> Result<Field<'n>, ConfigError> {
        if let Some(field) = map.get(key) {
            return Ok(field);
        }
        let place = if map.path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("under `{}` (line {})", map.path.rsplit('.').next().unwrap_or(&map.path), map.line)
        };
        let mut message = format!("missing; expected {what} {place}");
        // A key drift knows (here or elsewhere) is not a typo of another one: `containerDataPath` is not a
        // misspelt `containerName`.
        let near = map.entries.iter().find(|(k, _, _)| !keys::is_known(k) && keys::suggest(k, &[key]).is_some());
        if let Some((k, key_node, _)) = near {
            message.push_str(&format!(
                "; found `{k}` (line {}): did you mean `{key}`? keys are case-sensitive",
                key_node.line
            ));
        }
        Err(self.error(&join(&map.path, key), message))
    }

    /// Warns about every key of `map` not in `known`; keys listed in `foreign` (another pipeline's keys) get
    /// "used only by …" instead of a typo hint.
    pub(crate) fn warn_unknown(&self, map: &Map<'_>, known: &[&str], foreign: &[&str], foreign_owner: &str) {
        let mut findings = Vec::new();
        for (name, key_node, _) in &map.entries {
            if known.contains(&name.as_str()) {
                continue;
            }
            let path = join(&map.path, name);
            let message = if foreign.contains(&name.as_str()) {
                format!("used only by the {foreign_owner} (line {}), ignored", key_node.line)
            } else {
                let mut all: Vec<&str> = known.to_vec();
                all.extend_from_slice(foreign);
                match keys::suggest(name, &all) {
                    Some(hint) => format!("unknown key (line {}), ignored; did you mean `{hint}`?", key_node.line),
                    None => format!("unknown key (line {}), ignored", key_node.line),
                }
            };
            findings.push((path, message));
        }
        for (path, message) in findings {
            self.warn(&path, &message);
        }
    }

    /// A non-empty string. YAML numbers and booleans are refused with "quote it": a name that YAML reads as a
    /// number (`0123`, `1e3`) would otherwise silently change.
    pub(crate) fn string(&self, field: &Field<'_>, expected: &str) -> Result<String, ConfigError> {
        match &field.node.value {
            Value::Str(s) if s.trim().is_empty() => {
                Err(self
                    .error(&field.path, format!("expected {expected}, found an empty string (line {})", field.line)))
            }
            Value::Str(s) => Ok(s.clone()),
            _ => Err(self.wrong_type(field, &format!("a string ({expected})"))),
        }
    }

    /// A string checked by one of the naming rules.
    pub(crate) fn named(
        &self,
        field: &Field<'_>,
        expected: &str,
        rule: fn(&str) -> Result<(), String>,
    ) -> Result<String, ConfigError> {
        let value = self.string(field, expected)?;
        rule(&value).map_err(|rule| self.invalid(field, &value, &rule))?;
        Ok(value)
    }

    /// `{quoted value} is not valid (line N): {rule}`.
    pub(crate) fn invalid(&self, field: &Field<'_>, value: &str, rule: &str) -> ConfigError {
        self.error(&field.path, format!("{} is not valid (line {}): {rule}", quote(value), field.line))
    }

    /// `true` or `false` only.
    pub(crate) fn boolean(&self, field: &Field<'_>) -> Result<bool, ConfigError> {
        match &field.node.value {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.wrong_type(field, "true or false")),
        }
    }

    /// A whole number in `min..=max`, written as a YAML number or a quoted one (`"2700"`, as the legacy files
    /// do). `expected` describes it for messages.
    pub(crate) fn whole(&self, field: &Field<'_>, min: u64, max: u64, expected: &str) -> Result<u64, ConfigError> {
        let (number, written): (Option<i128>, String) = match &field.node.value {
            Value::Int(i) => (Some(*i), i.to_string()),
            // `2.7e3` and integers too long for i128 arrive as floats; a whole one is as good as an integer
            // (`as` saturates, and a saturated value is out of range anyway).
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 => {
                (Some(*f as i128), field.node.source(self.text).unwrap_or_default().to_string())
            }
            Value::Str(s) => (s.trim().parse::<i128>().ok(), s.trim().to_string()),
            _ => (None, String::new()),
        };
        let Some(number) = number else {
            return Err(self.wrong_type(field, expected));
        };
        u64::try_from(number).ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            self.error(&field.path, format!("{written} is out of range (line {}); expected {expected}", field.line))
        })
    }

    /// A list, its items addressed as `path[i]`; `expected` describes it for messages.
    pub(crate) fn list<'n>(&self, field: &Field<'n>, expected: &str) -> Result<Vec<Field<'n>>, ConfigError> {
        let Value::Seq(items) = &field.node.value else {
            return Err(self.wrong_type(field, expected));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, node)| Field { path: format!("{}[{i}]", field.path), line: node.line, node })
            .collect())
    }
}

//! The generic YAML tree the config is read into: every node keeps its line, column and source bytes, so that
//! each later message can point at the place and quote what the user wrote instead of a serde dump.

use std::cell::Cell;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Upper bound on the text a document may expand to (scalars, counting every alias replay). The file itself is
/// at most 1 MiB; this stops a small file whose anchors are replayed many times from filling memory, which the
/// parser's event budgets alone do not bound (they count events, not bytes).
pub(crate) const MAX_EXPANDED_BYTES: usize = 4 * 1024 * 1024;

/// Upper bound on the number of nodes in the tree, for the same reason.
pub(crate) const MAX_NODES: usize = 100_000;

thread_local! {
    // Deserialize impls carry no state, so the expansion budget of the parse running on this thread lives here.
    // `ExpansionBudget` resets it around each parse.
    static EXPANDED_BYTES: Cell<usize> = const { Cell::new(0) };
    static NODES: Cell<usize> = const { Cell::new(0) };
    static EXCEEDED: Cell<bool> = const { Cell::new(false) };
}

/// Scope of one parse's expansion budget: counters are zero while it lives and after it is dropped.
pub(crate) struct ExpansionBudget;

impl ExpansionBudget {
    pub(crate) fn start() -> ExpansionBudget {
        reset();
        ExpansionBudget
    }

    /// Whether the last failure of this parse was the expansion budget.
    pub(crate) fn exceeded(&self) -> bool {
        EXCEEDED.with(Cell::get)
    }
}

impl Drop for ExpansionBudget {
    fn drop(&mut self) {
        reset();
    }
}

fn reset() {
    EXPANDED_BYTES.with(|c| c.set(0));
    NODES.with(|c| c.set(0));
    EXCEEDED.with(|c| c.set(false));
}

fn charge<E: serde::de::Error>(bytes: usize) -> Result<(), E> {
    let nodes = NODES.with(|c| {
        let n = c.get().saturating_add(1);
        c.set(n);
        n
    });
    let total = EXPANDED_BYTES.with(|c| {
        let n = c.get().saturating_add(bytes);
        c.set(n);
        n
    });
    if nodes > MAX_NODES || total > MAX_EXPANDED_BYTES {
        EXCEEDED.with(|c| c.set(true));
        return Err(E::custom("document expands beyond drift's budget"));
    }
    Ok(())
}

/// A YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    /// 1-based line where the node is used (for an alias: the `*alias` token).
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// Byte range of the node's source text, when the parser knows it (scalars).
    pub raw: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; duplicates are kept so the reader can report them with both lines.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node's text as written in the file (quotes included), if known.
    pub(crate) fn source<'a>(&self, text: &'a str) -> Option<&'a str> {
        let (start, len) = self.raw?;
        text.get(start..start.checked_add(len)?)
    }

    /// What the node is, for "expected X, found Y" messages: `a list`, `the number 123`, …
    pub(crate) fn describe(&self, text: &str) -> String {
        match &self.value {
            Value::Null => "an empty value".to_string(),
            Value::Bool(b) => format!("the boolean {b}"),
            Value::Int(i) => format!("the number {}", self.source(text).unwrap_or(&i.to_string())),
            Value::Float(f) => format!("the number {}", self.source(text).unwrap_or(&f.to_string())),
            Value::Str(s) => format!("the string {}", quote(s)),
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
        }
    }

    /// A string key as written, or `None` for keys that are not plain scalars (lists, mappings, null).
    pub(crate) fn key_text(&self, text: &str) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => self.source(text).map(str::to_string),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// Quotes a user string for a message, shortened so a huge value cannot flood the terminal.
pub(crate) fn quote(s: &str) -> String {
    const MAX_CHARS: usize = 80;
    if s.chars().count() > MAX_CHARS {
        let head: String = s.chars().take(MAX_CHARS).collect();
        format!("{head:?}… ({} characters)", s.chars().count())
    } else {
        format!("{s:?}")
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let at = spanned.referenced;
        let span = at.span();
        let raw = match (span.byte_offset(), span.byte_len()) {
            (Some(start), Some(len)) => usize::try_from(start).ok().zip(usize::try_from(len).ok()),
            _ => None,
        };
        Ok(Node { value: spanned.value, line: at.line(), column: at.column(), raw })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Int(i128::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Int(i128::from(v)))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Int(v))
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        charge(0)?;
        // Beyond i128 only as a float: the reader rejects it as out of range either way.
        Ok(i128::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        charge(0)?;
        Ok(Value::Float(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        charge(v.len())?;
        Ok(Value::Str(v.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        charge(v.len())?;
        Ok(Value::Str(v))
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Value, E> {
        // Only `!!binary` scalars arrive here; drift has no binary settings, so keep them as text for messages.
        charge(v.len())?;
        String::from_utf8(v.to_vec()).map(Value::Str).map_err(|_| E::custom("a !!binary value that is not text"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        charge::<A::Error>(0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        charge::<A::Error>(0)?;
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Node, Node>()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, _data: A) -> Result<Value, A::Error> {
        Err(A::Error::custom("an enum value"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser's own budgets stop every bomb found so far before this one; it is the backstop, so it is
    /// tested directly.
    #[test]
    fn expansion_budget_trips_and_resets() {
        let budget = ExpansionBudget::start();
        assert!(charge::<serde::de::value::Error>(MAX_EXPANDED_BYTES - 1).is_ok());
        assert!(!budget.exceeded());
        assert!(charge::<serde::de::value::Error>(2).is_err());
        assert!(budget.exceeded());
        drop(budget);
        let budget = ExpansionBudget::start();
        assert!(!budget.exceeded());
        for _ in 0..MAX_NODES {
            assert!(charge::<serde::de::value::Error>(0).is_ok());
        }
        assert!(charge::<serde::de::value::Error>(0).is_err());
    }
}

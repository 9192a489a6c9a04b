//! Bytes → YAML tree: text encoding checks, the parser's safety budgets, and turning parser errors into one
//! message with line, column and a hint for the mistakes people actually make (`key:value` without a space, tabs).

use serde_saphyr::{DuplicateKeyPolicy, Error as YamlError, MessageFormatter, NonFiniteFloatPolicy, Options};

use super::node::{ExpansionBudget, MAX_EXPANDED_BYTES, Node};
use super::{ConfigError, MAX_CONFIG_BYTES};

/// Parser budgets. A drift config is a dozen keys; these limits are far above that and far below anything that
/// could hurt: together with [`MAX_EXPANDED_BYTES`] they bound an anchor/alias bomb to a few MiB.
fn options() -> Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_nodes: 100_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: 32,
            max_documents: 4,
            max_total_scalar_bytes: 2 * 1024 * 1024,
            max_recorded_anchor_events: 20_000,
            max_recorded_anchor_bytes: 1024 * 1024,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
            max_replay_stack_depth: 16,
        },
        // Only `true`/`false` are booleans: `yes`, `on`, `no` stay strings and get a clear message where a
        // boolean is expected (YAML 1.1 made `country: no` a boolean, a classic trap).
        strict_booleans: true,
        // Duplicates reach the tree so the reader can name both lines; the parser's own message names one.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        // `.nan`/`.inf` become strings, so they fail as "not a whole number" instead of as a parser error.
        non_finite_float_policy: NonFiniteFloatPolicy::AsString,
        // Errors are rendered here without source snippets: one line, our words.
        with_snippet: false,
        emit_comments: false,
    }
}

/// Checks the encoding and returns the text to parse (a UTF-8 byte-order mark removed).
pub(crate) fn decode<'a>(origin: &str, bytes: &'a [u8]) -> Result<&'a str, ConfigError> {
    // Also bounded here, not only when reading a local file: bytes from storage come straight to `parse`.
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::file(
            origin,
            format!(
                "the config is {} bytes, larger than the {MAX_CONFIG_BYTES} bytes (1 MiB) a config may have; is this \
                 the right file?",
                bytes.len()
            ),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ConfigError::file(
            origin,
            "the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark); save it as UTF-8",
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        // `valid_up_to` is the index of the first bad byte, so it is in bounds.
        let offset = e.valid_up_to();
        let valid = String::from_utf8_lossy(&bytes[..offset]);
        let (line, column) = line_column(&valid);
        ConfigError::file(
            origin,
            format!(
                "the file is not valid UTF-8: invalid byte 0x{:02X} at byte offset {offset} (line {line}, column \
                 {column}); save it as UTF-8",
                bytes[offset]
            ),
        )
    })
}

/// 1-based line and column of the position just after `prefix`.
fn line_column(prefix: &str) -> (usize, usize) {
    let line = prefix.matches('\n').count() + 1;
    let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses one YAML document into a tree. `None` means the document has no content (empty or only comments).
pub(crate) fn parse_tree(origin: &str, text: &str) -> Result<Option<Node>, ConfigError> {
    let budget = ExpansionBudget::start();
    let result: Result<Node, YamlError> = serde_saphyr::from_str_with_options(text, options());
    match result {
        Ok(node) if node.value == super::node::Value::Null && is_blank(text) => Ok(None),
        Ok(node) => Ok(Some(node)),
        Err(_) if budget.exceeded() => Err(ConfigError::file(
            origin,
            format!(
                "the YAML expands to more than {} MiB of text or {} values (anchors and aliases replayed many \
                 times?); a drift config is a few hundred bytes",
                MAX_EXPANDED_BYTES / (1024 * 1024),
                super::node::MAX_NODES
            ),
        )),
        Err(err) => Err(syntax_error(origin, text, &err)),
    }
}

/// Whether the text holds nothing but whitespace, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

fn syntax_error(origin: &str, text: &str, err: &YamlError) -> ConfigError {
    let err = unwrap_error(err);
    let at = err.location().filter(|l| l.line() > 0);
    let position = at.map(|l| format!(" at line {}, column {}", l.line(), l.column())).unwrap_or_default();
    let message = match err {
        YamlError::Budget { breach, .. } => format!(
            "the YAML is too large or too complex for a config ({}){position}; a drift config is a dozen keys",
            budget_reason(breach)
        ),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. } => {
            format!("the YAML's aliases expand too much{position}; drift refuses anchor/alias bombs")
        }
        YamlError::MultipleDocuments { .. } => {
            format!("the file holds more than one YAML document (a second `---`{position}); keep one")
        }
        YamlError::UnknownAnchor { .. } => format!("invalid YAML{position}: an alias (`*name`) refers to no anchor"),
        other => {
            let detail = serde_saphyr::UserMessageFormatter.format_message(other);
            // The parser's text may hold control characters from the input; keep the message on one line.
            let detail: String = detail.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            format!("invalid YAML{position}: {detail}")
        }
    };
    let hint = at.and_then(|l| hint_near(text, usize::try_from(l.line()).unwrap_or(usize::MAX)));
    ConfigError::file(
        origin,
        match hint {
            Some(hint) => format!("{message}; {hint}"),
            None => message,
        },
    )
}

/// Looks through the wrappers the parser puts around errors (alias locations) for the original error.
fn unwrap_error(err: &YamlError) -> &YamlError {
    match err {
        YamlError::AliasError { error, .. } => unwrap_error(error),
        YamlError::WithSnippet { error, .. } => unwrap_error(error),
        other => other,
    }
}

fn budget_reason(breach: &serde_saphyr::budget::BudgetBreach) -> &'static str {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Aliases { .. } | B::Anchors { .. } | B::AliasAnchorRatio { .. } => "too many anchors or aliases",
        B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => "anchors and aliases expand too much",
        B::MergeKeys { .. } => "too many merge keys",
        B::Depth { .. } => "nested too deeply",
        B::Documents { .. } => "too many documents",
        B::Nodes { .. } | B::Events { .. } => "too many values",
        B::ScalarBytes { .. } => "too much text, counting each use of an alias",
        _ => "a parser limit was reached",
    }
}

/// A hint for the syntax error at `line`: the nearest `key:value` written without a space at or before it, or
/// a tab used for indentation on it.
fn hint_near(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let upto = line.min(lines.len());
    if let Some(l) = lines.get(line.saturating_sub(1))
        && l.chars().take_while(|c| c.is_whitespace()).any(|c| c == '\t')
    {
        return Some(format!("line {line} is indented with a tab; YAML indentation must use spaces"));
    }
    (1..=upto).rev().take(3).find_map(|n| {
        let candidate = missing_space_after_colon(lines[n - 1])?;
        Some(format!(
            "line {n}: `{candidate}` is missing a space after ':'? write `{}`",
            candidate.replacen(':', ": ", 1)
        ))
    })
}

/// `containerName:abc` (a key glued to its value, which YAML reads as one string) → the glued text.
pub(crate) fn missing_space_after_colon(line: &str) -> Option<&str> {
    let body = line.trim();
    let body = body.strip_prefix("- ").unwrap_or(body).trim_start();
    if body.starts_with('#') {
        return None;
    }
    let (key, rest) = body.split_once(':')?;
    let first = rest.chars().next()?;
    let key_like = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    // `dbfs:/x` and `abfss://…` are values, not glued keys.
    let glued = !first.is_whitespace() && first != '/' && first != ':';
    let printable = !body.contains(char::is_control);
    (key_like && glued && printable && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())).then_some(body)
}

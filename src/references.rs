//! Databricks dynamic value references (`{{tasks.<task>.values.<key>}}`, `{{job.parameters.<name>}}`, …): how to
//! spot one that reached drift unresolved, and the escaping rule their identifiers follow. Pure.
//!
//! The rule, from Databricks' "dynamic value references" page (docs.databricks.com/jobs/dynamic-value-references,
//! also docs.azure.cn/databricks/workflows/jobs/parameter-value-references): "User-provided identifiers, for
//! example, task names, task value keys, or job parameter names containing special characters must be escaped by
//! surrounding the identifiers with backticks. Only alphanumeric and underscore characters can be used without
//! escaping", and "Syntax errors in references … are ignored and the value is treated as a literal string". So a
//! hyphenated task key written without backticks reaches the task as the literal text `{{tasks.a-b.values.k}}`.
//! Secret references (`{{secrets/<scope>/<key>}}`) are a different syntax, resolved in cluster configuration.

/// The first `{{…}}` in `text`, braces included.
pub fn find(text: &str) -> Option<&str> {
    find_all(text).into_iter().next()
}

/// Every `{{…}}` in `text`, braces included.
pub fn find_all(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find("{{").map(|i| at + i) {
        let Some(len) = text[start..].find("}}") else { break };
        let end = start + len + 2;
        found.push(&text[start..end]);
        at = end;
    }
    found
}

/// Whether a reference follows the escaping rule. Secret references are not dynamic value references and pass.
/// Returns the corrected reference when it does not.
pub fn check_escaping(reference: &str) -> Result<(), String> {
    let inner = reference.trim_start_matches("{{").trim_end_matches("}}").trim();
    if inner.starts_with("secrets/") {
        return Ok(());
    }
    let segments = split_segments(inner);
    let bad = segments.iter().any(|s| !is_escaped(s) && !is_plain(s));
    if bad { Err(escaped(&segments)) } else { Ok(()) }
}

/// The message for a command-line value that still holds a `{{…}}` reference: Databricks could not resolve it.
pub fn unresolved_message(flag: &str, value: &str) -> Option<String> {
    let reference = find(value)?;
    let fix = match check_escaping(reference) {
        Err(corrected) => format!(
            " Identifiers with characters other than letters, digits and '_' must be in backticks: write {corrected}."
        ),
        Ok(()) => " Check that the task key and value key are spelled as in the job, and that this task depends on \
                   the task that sets the value (depends_on)."
            .to_string(),
    };
    Some(format!(
        "{flag} is {value:?}: a Databricks dynamic value reference that was not resolved (Databricks passes a \
         reference it cannot resolve as literal text).{fix}"
    ))
}

/// Dot-separated segments, keeping backtick-quoted ones whole (they may contain dots).
fn split_segments(inner: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in inner.chars() {
        match c {
            '`' => {
                quoted = !quoted;
                current.push(c);
            }
            '.' if !quoted => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    segments
}

fn is_plain(segment: &str) -> bool {
    !segment.is_empty() && segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_escaped(segment: &str) -> bool {
    segment.len() >= 2
        && segment.starts_with('`')
        && segment.ends_with('`')
        && !segment[1..segment.len() - 1].contains('`')
}

fn escaped(segments: &[String]) -> String {
    let parts: Vec<String> = segments
        .iter()
        .map(|s| if is_plain(s) || is_escaped(s) { s.clone() } else { format!("`{}`", s.trim_matches('`')) })
        .collect();
    format!("{{{{{}}}}}", parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_rule() {
        for ok in [
            "{{tasks.`training-dataset-registrator`.values.data_asset_version}}",
            "{{tasks.registrator.values.data_asset_version}}",
            "{{job.parameters.`param$@`}}",
            "{{job.run_id}}",
            "{{secrets/drift-kv/ApplicationID}}",
            "{{tasks.`a.b`.values.k}}",
        ] {
            assert_eq!(check_escaping(ok), Ok(()), "{ok}");
        }
        for (bad, fixed) in [
            (
                "{{tasks.training-dataset-registrator.values.data_asset_version}}",
                "{{tasks.`training-dataset-registrator`.values.data_asset_version}}",
            ),
            ("{{job.parameters.my-param}}", "{{job.parameters.`my-param`}}"),
            ("{{tasks.t.values.a key}}", "{{tasks.t.values.`a key`}}"),
        ] {
            assert_eq!(check_escaping(bad), Err(fixed.to_string()), "{bad}");
        }
    }

    #[test]
    fn finds_references_in_text() {
        assert_eq!(find("v{{job.id}}x"), Some("{{job.id}}"));
        assert_eq!(find("20261201000000"), None);
        assert_eq!(find("{{unterminated"), None);
        assert_eq!(find_all("a {{x.y}} b {{secrets/s/k}} c"), vec!["{{x.y}}", "{{secrets/s/k}}"]);
        assert!(find_all("none").is_empty());
    }

    #[test]
    fn unresolved_values_get_a_fix() {
        let m = unresolved_message(
            "--data_asset_version",
            "{{tasks.training-dataset-registrator.values.data_asset_version}}",
        )
        .unwrap();
        assert!(m.contains("not resolved"), "{m}");
        assert!(m.contains("{{tasks.`training-dataset-registrator`.values.data_asset_version}}"), "{m}");
        let m = unresolved_message("--data_asset_version", "{{tasks.registrator.values.data_asset_versoin}}").unwrap();
        assert!(m.contains("depends_on"), "{m}");
        assert_eq!(unresolved_message("--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47"), None);
    }
}

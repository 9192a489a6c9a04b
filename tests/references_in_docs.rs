//! Every Databricks dynamic value reference (`{{…}}`) shown to users — in `examples/`, `docs/`, the README and the
//! Python shim's docs — follows Databricks' escaping rule (identifiers other than letters, digits and `_` in
//! backticks; `drift::references`), so nobody copies a reference that Databricks would pass on as literal text.
//! GitHub Actions expressions (`${{ … }}`) are another syntax and are skipped.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| ["md", "yml", "yaml", "json", "py", "java"].contains(&e.to_str().unwrap_or("")))
        {
            out.push(path);
        }
    }
}

/// The references in `text` that are not GitHub Actions `${{ … }}` expressions, with their line numbers.
fn databricks_references(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for reference in drift::references::find_all(line) {
            let start = reference.as_ptr() as usize - line.as_ptr() as usize;
            // `${{ … }}` is a GitHub Actions expression; `{{…}}` with no identifier is prose about the syntax.
            let names_something = reference[2..].trim_start().starts_with(|c: char| c.is_ascii_alphabetic());
            if !line[..start].ends_with('$') && names_something {
                found.push((n + 1, reference.to_string()));
            }
        }
    }
    found
}

#[test]
fn every_reference_in_examples_and_docs_is_escaped() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = vec![root.join("README.md")];
    for dir in ["examples", "docs", "python/drift", "jvm/src"] {
        files(&root.join(dir), &mut all);
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in &all {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, reference) in databricks_references(&text) {
            checked += 1;
            if let Err(fixed) = drift::references::check_escaping(&reference) {
                problems.push(format!("{}:{line}: {reference} should be {fixed}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "unescaped Databricks references:\n{}", problems.join("\n"));
    // The bundle example's task-value hand-off is among them: the scan saw real references.
    assert!(checked >= 5, "only {checked} references found; is the scan looking in the right places?");
}

#[test]
fn the_scan_catches_an_unescaped_reference_and_skips_github_expressions() {
    let text = "a: \"{{tasks.training-dataset-registrator.values.data_asset_version}}\"\nb: ${{ steps.x.outputs.y }}\nc: {{…}}\n";
    let found = databricks_references(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(drift::references::check_escaping(&found[0].1).is_err());
}

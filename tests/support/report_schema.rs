//! The JSON report's contract, checked: `docs/report.schema.json` (draft 2020-12) compiled once, and a parser
//! every test uses to read a report, so each report the tests produce — in-process runs (`common::drift`), the
//! real binary (`tests/cli.rs`, the fault suite) and the demo's nested step reports — is validated against it.
#![allow(dead_code)]

use std::sync::OnceLock;

use serde_json::Value;

/// The schema file: the single truth docs/report.md describes.
pub const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.schema.json");

/// The schema document, parsed.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(SCHEMA_PATH).expect("docs/report.schema.json is readable");
        serde_json::from_str(&text).expect("docs/report.schema.json is JSON")
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::options()
            // `format` is only an annotation in 2020-12 unless asked: `date-time` is part of the contract.
            .should_validate_formats(true)
            .build(schema())
            .unwrap_or_else(|e| panic!("docs/report.schema.json is not a valid draft 2020-12 schema: {e}"))
    })
}

/// Every way `report` breaks the schema, as `path: message` lines; empty when it conforms.
pub fn violations(report: &Value) -> Vec<String> {
    validator()
        .iter_errors(report)
        .map(|e| format!("{} (schema {}): {e}", e.instance_path(), e.schema_path()))
        .collect()
}

/// Panics, naming each violation, unless `report` conforms to the schema.
pub fn assert_valid(report: &Value, what: &str) {
    let problems = violations(report);
    assert!(
        problems.is_empty(),
        "{what}: the report does not match docs/report.schema.json:\n  {}\nreport: {report}",
        problems.join("\n  ")
    );
}

/// Reads a report line (the last line of a `--output json` run's stdout) and checks it against the schema.
pub fn parse(line: &str, what: &str) -> Value {
    let report: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: the last stdout line is not JSON ({e}): {line}"));
    assert_valid(&report, what);
    report
}

/// Whether a command line (after the program name) and environment ask for the JSON report, the way drift reads
/// them (`OutputFormat::requested`): the last `--output X` before `--`, else `DRIFT_OUTPUT`.
pub fn wants_json<'a>(args: impl IntoIterator<Item = &'a str>, env: &[(String, String)]) -> bool {
    let mut flag: Option<String> = None;
    let mut words = args.into_iter();
    while let Some(word) = words.next() {
        match word {
            "--" => break,
            "--output" => flag = words.next().map(str::to_string),
            w if w.starts_with("--output=") => flag = Some(w["--output=".len()..].to_string()),
            _ => {}
        }
    }
    match flag {
        Some(f) => f == "json",
        None => env.iter().any(|(k, v)| k == "DRIFT_OUTPUT" && v.trim().eq_ignore_ascii_case("json")),
    }
}

//! The JSON report's contract (docs/report.schema.json, described by docs/report.md): every report the other
//! tests produce is validated where it is parsed (`common::drift`, `Outcome::report`, the fault suite's `finish`,
//! tests/cli.rs). Here: that check catches a report that drifts from the schema, usage errors get their report
//! too, the schema's codes are drift's own, and docs/report.md names every field and code the schema has.

mod common;

use std::collections::BTreeSet;

use common::report_schema::{self, schema, violations};
use common::*;
use serde_json::{Value, json};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// A real report of each shape, from drift itself.
fn validate_report() -> Value {
    drift(&["--output", "json", "validate", "--config", &format!("{EXAMPLES}/registrator.yaml")], &[])
        .assert_code(0)
        .report()
}

/// A retrainer report with excluded jobs, from a run against the sandbox.
fn retrainer_report() -> Value {
    let (sb, ws) = ml::ml_sandbox();
    ml::add_versions(&sb, &ws, "sales", &["1", "2"]);
    sb.add_job(
        &ws,
        ml::job("j1", "churn_20261101000000_a", ml::at(0), &[("training_data", &ml::arm_data_id("sales", "1"))]),
    );
    sb.add_job(&ws, ml::job("j2", "notebook run", ml::at(1), &[("training_data", &ml::arm_data_id("sales", "1"))]));
    sb.add_job(
        &ws,
        ml::job("j3", "fraud_20261101000000_a", ml::at(2), &[("training_data", &ml::arm_data_id("sales_v2", "1"))]),
    );
    let (_d, config) = ml::retrainer_config(&[("training_data", "sales")], 60, 1, "");
    drift(&["--output", "json", "plan", "--config", &config], &sp_env(&sb)).assert_code(0).report()
}

/// A change to a valid report.
type Mutation = Box<dyn Fn(&mut Value)>;

/// Each change is one way a report could drift from the documented shape; each must be caught, by name.
#[test]
fn a_report_that_drifts_from_the_schema_fails_the_check() {
    let valid = retrainer_report();
    assert_eq!(valid["details"]["scan"]["excluded"], json!({"name_mismatch": 1, "other_asset": 1}));
    assert_eq!(
        valid["details"]["scan"]["exclusionReasons"]["other_asset"],
        "input training_data reads another data asset than sales"
    );
    assert!(violations(&valid).is_empty());
    let mutations: Vec<(&str, Mutation, &str)> = vec![
        (
            "an English reason as a key",
            Box::new(|r| r["details"]["scan"]["excluded"] = json!({"reads another data asset": 1})),
            "/details/scan/excluded",
        ),
        ("an unknown outcome", Box::new(|r| r["outcome"] = json!("done")), "/outcome"),
        ("an undocumented field", Box::new(|r| r["details"]["elapsed"] = json!(3)), "/details"),
        (
            "a field gone",
            Box::new(|r| {
                r["details"].as_object_mut().unwrap().remove("canceled");
            }),
            "/details",
        ),
        ("the old schema", Box::new(|r| r["schema"] = json!(1)), "/schema"),
        (
            "an action outside the list",
            Box::new(|r| r["details"]["groups"][0]["action"] = json!("pending")),
            "/details/groups/0/action",
        ),
        ("an exit code drift never uses", Box::new(|r| r["exit_code"] = json!(7)), "/exit_code"),
        ("a failure without its error", Box::new(|r| r["exit_code"] = json!(1)), ""),
        ("Debug output as a value", Box::new(|r| r["command"] = json!("Plan")), "/command"),
    ];
    for (what, mutate, path) in mutations {
        let mut report = valid.clone();
        mutate(&mut report);
        let found = violations(&report);
        assert!(!found.is_empty(), "{what}: not caught");
        assert!(found.iter().any(|v| v.starts_with(&format!("{path} "))), "{what}: caught elsewhere: {found:?}");
        let caught = std::panic::catch_unwind(|| report_schema::assert_valid(&report, what));
        assert!(caught.is_err(), "{what}: the check the tests use lets it pass");
    }
    // Codes, not Rust's Debug output: `validate`'s pin and the registrator's time source.
    let mut validated = validate_report();
    assert_eq!(validated["details"]["parameters"]["pinBy"], "version");
    validated["details"]["parameters"]["pinBy"] = json!("Version");
    assert!(
        violations(&validated).iter().any(|v| v.starts_with("/details/parameters ")),
        "{:?}",
        violations(&validated)
    );
    let (sb, _ws) = ml::ml_sandbox();
    sb.add_storage_account("lake", "ZHJpZnQtdGVzdC1rZXktZm9yLWRhdGFsYWtlcHJvZA==");
    sb.add_directory("lake", "curated", "delta/t", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delta/small"))
        .unwrap();
    let (_d, cfg) = write_temp(
        "reg.yaml",
        &format!(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml: {{subscriptionId: {SUBSCRIPTION}, resourceGroup: {}, mlWorkspaceName: {}}}\n    storageAccountName: lake\n    containerName: curated\n    containerDataPath: delta/t\n",
            ml::RG,
            ml::WS
        ),
    );
    let mut registered = drift(&["--output", "json", "run", "--config", &cfg], &sp_env(&sb)).assert_code(0).report();
    assert_eq!(registered["details"]["deltaTimeSource"], "commit_info_timestamp");
    registered["details"]["deltaTimeSource"] = json!("CommitInfoTimestamp");
    assert!(violations(&registered).iter().any(|v| v.starts_with("/details/deltaTimeSource ")));
}

#[test]
fn usage_errors_still_print_the_report_with_output_json() {
    // Rejected by the parser: it cannot tell the command, so `command` is null.
    for args in [
        &["--output", "json", "--bogus"][..],
        &["--output=json", "validate"][..],
        &["run", "--vault_name", "--output", "json"][..],
        &["--output", "json"][..],
    ] {
        let out = drift(args, &[]);
        out.assert_code(2);
        let r = out.report();
        assert_eq!(
            (r["command"].clone(), r["outcome"].clone(), r["exit_code"].clone()),
            (Value::Null, json!("error"), json!(2)),
            "{args:?}"
        );
        assert!(!r["error"].as_str().unwrap().starts_with("error:"), "{r}");
        assert!(!out.stderr.is_empty(), "the parser's message and usage stay on stderr");
    }
    let r = drift(&["--output", "json", "--bogus"], &[]).report();
    assert_eq!(r["error"], "unexpected argument '--bogus' found");
    // DRIFT_OUTPUT asks for it as well.
    let env = [("DRIFT_OUTPUT".to_string(), "json".to_string())];
    assert_eq!(drift(&["--bogus"], &env).assert_code(2).report()["outcome"], "error");
    // Parsed, then refused while reading the settings: the command is known.
    let config = format!("{EXAMPLES}/retrainer.yaml");
    for (name, value) in [("DRIFT_LOG", "chatty"), ("DRIFT_TEST_NOW", "tomorrow")] {
        let env = [(name.to_string(), value.to_string())];
        let out = drift(&["--output", "json", "validate", "--config", &config], &env);
        out.assert_code(2);
        let r = out.report();
        assert_eq!(r["command"], "validate", "{name}");
        assert!(r["error"].as_str().unwrap().contains(name), "{r}");
    }
    // The format itself unreadable: nobody can tell a report was wanted, so stdout stays empty (docs/report.md).
    let out = drift(&["--output", "yaml", "validate", "--config", &config], &[]);
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    // Text output: no report on a usage error, as before.
    let out = drift(&["--bogus"], &[]);
    out.assert_code(2);
    assert_eq!(out.stdout, "");
}

/// Every `enum` in a schema (draft 2020-12 `enum` and `const` strings), by the path that holds it.
fn enums_at(schema: &Value, path: &[&str]) -> BTreeSet<String> {
    let mut node = schema;
    for key in path {
        node = &node[*key];
    }
    node["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("no enum at {path:?}"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_schemas_codes_are_drifts_own() {
    let s = schema();
    let outcomes: BTreeSet<String> = drift::output::Outcome::ALL.iter().map(|o| o.as_str().to_string()).collect();
    assert_eq!(enums_at(s, &["properties", "outcome"]), outcomes);
    use drift::pipeline::retrainer::{report::GroupAction, select::Exclusion};
    let exclusions: BTreeSet<String> = Exclusion::ALL.iter().map(|e| e.code().to_string()).collect();
    assert_eq!(enums_at(s, &["$defs", "exclusion_code"]), exclusions);
    let actions: BTreeSet<String> = GroupAction::ALL.iter().map(|a| a.as_str().to_string()).collect();
    assert_eq!(enums_at(s, &["$defs", "group", "properties", "action"]), actions);
    // Reason codes: the selection's and the retrain policy's.
    use drift::pipeline::retrainer::policy::PolicyReason;
    let reasons = enums_at(s, &["$defs", "group", "properties", "reasonCode"]);
    for code in PolicyReason::ALL.iter().map(|r| r.code()) {
        assert!(reasons.contains(code), "{code} missing from reasonCode");
    }
    let states: BTreeSet<String> =
        drift::history::model::GroupState::ALL.iter().map(|s| s.code().to_string()).collect();
    assert_eq!(enums_at(s, &["$defs", "history_group", "properties", "state"]), states);
    let codes: BTreeSet<u64> =
        s["properties"]["exit_code"]["enum"].as_array().unwrap().iter().filter_map(Value::as_u64).collect();
    let table: BTreeSet<u64> = drift::ExitStatus::TABLE
        .lines()
        .skip(1)
        .filter_map(|row| row.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(codes, table, "exit codes: the schema and the documented table");
    assert_eq!(s["properties"]["schema"]["const"], drift::output::REPORT_SCHEMA);
}

/// docs/report.md describes the schema: every property name and every string code in it appears there in code
/// (backticks), so neither can gain a field or a code the other lacks silently.
#[test]
fn report_md_names_every_field_and_code_of_the_schema() {
    fn collect(node: &Value, names: &mut BTreeSet<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    names.extend(props.keys().cloned());
                }
                if let Some(Value::Array(values)) = map.get("enum") {
                    names.extend(values.iter().filter_map(|v| v.as_str().map(str::to_string)));
                }
                for (key, child) in map {
                    // `$defs` names and descriptions are the schema's own words, not the report's.
                    if key != "description" {
                        collect(child, names);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| collect(i, names)),
            _ => {}
        }
    }
    let mut names = BTreeSet::new();
    collect(schema(), &mut names);
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report.md")).unwrap();
    // The words inside backticks: `{name, action, body}` names all three. Dotted words count whole too, for the
    // tag names that are keys (`drift.rowsExact`).
    let spans: Vec<&str> = doc.split('`').skip(1).step_by(2).collect();
    let in_code: BTreeSet<&str> = spans
        .iter()
        .flat_map(|span| span.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .chain(spans.iter().flat_map(|span| span.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))))
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !in_code.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "docs/report.md does not mention: {missing:?}");
    assert!(doc.contains("report.schema.json"), "docs/report.md points at its schema");
}

//! Rejected configs: each case names the exact key path reported and the words the message must contain.
//! Run with `--nocapture` to see every message.

use super::{REGISTRATOR, RETRAINER, edit, parse_str, with_params, without};

struct Case {
    yaml: String,
    key: Option<&'static str>,
    words: &'static [&'static str],
}

fn case(yaml: impl Into<String>, key: Option<&'static str>, words: &'static [&'static str]) -> Case {
    Case { yaml: yaml.into(), key, words }
}

fn check(cases: Vec<Case>) {
    for Case { yaml, key, words } in cases {
        let err = match parse_str(&yaml) {
            Ok(config) => panic!("accepted:\n{yaml}\n{config:?}"),
            Err(err) => err,
        };
        println!("{err}");
        assert_eq!(err.file, "test.yaml");
        assert_eq!(err.key.as_deref(), key, "{err}\n{yaml}");
        for word in words {
            assert!(err.message.contains(word), "{err}\nlacks {word:?}\n{yaml}");
        }
        assert!(!err.message.contains('\n'), "one line: {err}");
    }
}

#[test]
fn every_required_key_missing() {
    check(vec![
        case(
            "Other: 1\n",
            Some("Processing"),
            &["missing", "expected a mapping with `type` and `parameters` at the top level"],
        ),
        case(
            "processing:\n  type: x\n",
            Some("Processing"),
            &["missing", "found `processing` (line 1): did you mean `Processing`?", "case-sensitive"],
        ),
        case(
            "Processing:\n  type: DatasetRegistrator\n",
            Some("Processing.parameters"),
            &["missing", "under `Processing` (line 1)"],
        ),
        case(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    storageAccountName: acct01\n    \
             containerName: raw\n    containerDataPath: t\n",
            Some("Processing.parameters.azml"),
            &["missing", "expected a mapping with `subscriptionId`", "under `parameters` (line 3)"],
        ),
        case(
            without(REGISTRATOR, "subscriptionId"),
            Some("Processing.parameters.azml.subscriptionId"),
            &["missing", "subscription id", "under `azml` (line 4)"],
        ),
        case(
            without(REGISTRATOR, "resourceGroup"),
            Some("Processing.parameters.azml.resourceGroup"),
            &["missing", "resource group"],
        ),
        case(
            without(REGISTRATOR, "mlWorkspaceName"),
            Some("Processing.parameters.azml.mlWorkspaceName"),
            &["missing", "workspace name"],
        ),
        case(
            without(REGISTRATOR, "storageAccountName"),
            Some("Processing.parameters.storageAccountName"),
            &["missing", "storage account"],
        ),
        case(
            without(REGISTRATOR, "containerName"),
            Some("Processing.parameters.containerName"),
            &["missing", "container"],
        ),
        case(
            without(REGISTRATOR, "containerDataPath"),
            Some("Processing.parameters.containerDataPath"),
            &["missing", "folder"],
        ),
        case(
            RETRAINER
                .lines()
                .filter(|l| !l.contains("name:") && !l.contains("value:") && !l.contains("dataAssets"))
                .collect::<Vec<_>>()
                .join("\n"),
            Some("Processing.parameters.dataAssets"),
            &["missing", "expected a list of `{name: <pipeline input>, value: <data asset>}`"],
        ),
        case(
            edit(RETRAINER, "      - name: training_data\n", "      - nam: training_data\n"),
            Some("Processing.parameters.dataAssets[0].name"),
            &["missing", "pipeline input name", "found `nam`", "did you mean `name`?"],
        ),
        case(
            edit(
                RETRAINER,
                "        value: curated-delta-sales-daily-uri",
                "        asset: curated-delta-sales-daily-uri",
            ),
            Some("Processing.parameters.dataAssets[1].value"),
            &["missing", "data asset"],
        ),
        case(
            edit(REGISTRATOR, "      subscriptionId:", "      subscription_id:"),
            Some("Processing.parameters.azml.subscriptionId"),
            &["missing", "found `subscription_id` (line 5): did you mean `subscriptionId`?"],
        ),
    ]);
}

#[test]
fn pipeline_type() {
    check(vec![
        case(
            edit(REGISTRATOR, "drift.registrating.dataset_registrator.DatasetRegistrator", "DatasetRegistrar"),
            Some("Processing.type"),
            &[
                "unknown pipeline type \"DatasetRegistrar\" (line 2)",
                "expected one of",
                "ModelRetrainer",
                "did you mean `DatasetRegistrator`?",
            ],
        ),
        case(
            edit(REGISTRATOR, "drift.registrating.dataset_registrator.DatasetRegistrator", "[a]"),
            Some("Processing.type"),
            &["expected a string (the pipeline class), found a list"],
        ),
        case(
            with_params(&without(REGISTRATOR, "type"), "dataAssets: [{name: x, value: y}]"),
            Some("Processing.type"),
            &["missing", "cannot be inferred", "both `containerDataPath`", "`dataAssets`", "DatasetRegistrator"],
        ),
        case(
            without(&without(REGISTRATOR, "type"), "containerDataPath"),
            Some("Processing.type"),
            &["missing", "cannot be inferred", "neither", "ModelRetrainer"],
        ),
    ]);
}

#[test]
fn wrong_types() {
    check(vec![
        case(
            "Processing: [1, 2]\n",
            Some("Processing"),
            &["expected a mapping with `type` and `parameters`, found a list (line 1)"],
        ),
        case("Processing:\n", Some("Processing"), &["found an empty value"]),
        case(
            "Processing:\n  type: DatasetRegistrator\n  parameters: x\n",
            Some("Processing.parameters"),
            &["expected a mapping", "found the string \"x\" (line 3)"],
        ),
        case(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml:\n      - x\n",
            Some("Processing.parameters.azml"),
            &["expected a mapping with `subscriptionId`", "found a list (line 4)"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: 123"),
            Some("Processing.parameters.containerName"),
            &["expected a string", "found the number 123 (line 9)", "quote it: \"123\""],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: 0123"),
            Some("Processing.parameters.containerName"),
            &["found the number 0123", "quote it: \"0123\""],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: true"),
            Some("Processing.parameters.containerName"),
            &["found the boolean true", "quote it"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName:"),
            Some("Processing.parameters.containerName"),
            &["expected a string", "found an empty value (line 9)"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: ''"),
            Some("Processing.parameters.containerName"),
            &["found an empty string (line 9)"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: {a: b}"),
            Some("Processing.parameters.containerName"),
            &["found a mapping"],
        ),
        case(
            edit(
                RETRAINER,
                "dataAssets:\n      - name: training_data\n        value: curated-delta-sales-daily-mltable\n      - name: raw_folder\n        value: curated-delta-sales-daily-uri",
                "dataAssets: {name: training_data, value: x}",
            ),
            Some("Processing.parameters.dataAssets"),
            &["expected a list of", "found a mapping (line 8)"],
        ),
        case(
            edit(
                RETRAINER,
                "      - name: raw_folder\n        value: curated-delta-sales-daily-uri",
                "      - raw_folder",
            ),
            Some("Processing.parameters.dataAssets[1]"),
            &["expected a mapping with `name`", "found the string \"raw_folder\" (line 11)"],
        ),
        case(
            edit(RETRAINER, "- name: training_data", "- name: 42"),
            Some("Processing.parameters.dataAssets[0].name"),
            &["expected a string", "quote it"],
        ),
        case(
            with_params(RETRAINER, "cancelOnTimeout: yes"),
            Some("Processing.parameters.cancelOnTimeout"),
            &["expected true or false", "found the string \"yes\" (line 15)"],
        ),
        case(
            with_params(RETRAINER, "cancelOnTimeout: 1"),
            Some("Processing.parameters.cancelOnTimeout"),
            &["expected true or false", "found the number 1"],
        ),
        case(
            with_params(RETRAINER, "maxConcurrentSubmissions: eight"),
            Some("Processing.parameters.maxConcurrentSubmissions"),
            &["expected a whole number from 1 to 64", "found the string \"eight\""],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: 45m"),
            Some("Processing.parameters.refreshTimeout"),
            &["expected a whole number of seconds from 1 to 604800 (7 days)", "found the string \"45m\" (line 13)"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: 2700.5"),
            Some("Processing.parameters.refreshTimeout"),
            &["expected a whole number", "found the number 2700.5"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: .nan"),
            Some("Processing.parameters.refreshTimeout"),
            &["expected a whole number", ".nan"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: [1]"),
            Some("Processing.parameters.refreshTimeout"),
            &["found a list"],
        ),
    ]);
}

#[test]
fn invalid_values() {
    check(vec![
        case(
            edit(REGISTRATOR, "0b1f6471-1bf0-4dda-aec3-cb9272f09590", "my-subscription"),
            Some("Processing.parameters.azml.subscriptionId"),
            &["\"my-subscription\" is not valid (line 5)", "GUID", "8-4-4-4-12"],
        ),
        case(
            edit(REGISTRATOR, "rg-mlops-prod", "rg-mlops-prod."),
            Some("Processing.parameters.azml.resourceGroup"),
            &["is not valid (line 6)", "1-90 characters", "not ending in '.'"],
        ),
        case(
            edit(REGISTRATOR, "rg-mlops-prod", &"r".repeat(91)),
            Some("Processing.parameters.azml.resourceGroup"),
            &["1-90 characters"],
        ),
        case(
            edit(REGISTRATOR, "mlw-forecast", "ml"),
            Some("Processing.parameters.azml.mlWorkspaceName"),
            &["3-33 characters"],
        ),
        case(
            edit(REGISTRATOR, "mlw-forecast", "mlw.forecast"),
            Some("Processing.parameters.azml.mlWorkspaceName"),
            &["letters, digits, '_' and '-'"],
        ),
        case(
            edit(REGISTRATOR, "datalakeprod01", "DataLakeProd01"),
            Some("Processing.parameters.storageAccountName"),
            &["3-24 characters", "lowercase letters and digits only"],
        ),
        case(
            edit(REGISTRATOR, "datalakeprod01", "data-lake"),
            Some("Processing.parameters.storageAccountName"),
            &["lowercase letters and digits only"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: Curated_Data"),
            Some("Processing.parameters.containerName"),
            &["3-63 characters", "lowercase letters, digits and '-'"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: raw--data"),
            Some("Processing.parameters.containerName"),
            &["without '--'"],
        ),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName: $root"),
            Some("Processing.parameters.containerName"),
            &["lowercase letters"],
        ),
        case(
            edit(REGISTRATOR, "delta/sales/daily", "/"),
            Some("Processing.parameters.containerDataPath"),
            &["must not be empty"],
        ),
        case(
            edit(REGISTRATOR, "delta/sales/daily", "delta/../sales"),
            Some("Processing.parameters.containerDataPath"),
            &["'..' is not allowed"],
        ),
        case(
            edit(REGISTRATOR, "delta/sales/daily", "'delta\\sales'"),
            Some("Processing.parameters.containerDataPath"),
            &["not '\\'"],
        ),
        case(
            edit(RETRAINER, "- name: training_data", "- name: training-data"),
            Some("Processing.parameters.dataAssets[0].name"),
            &["\"training-data\" is not valid (line 9)", "^[A-Za-z_][A-Za-z0-9_]*$"],
        ),
        case(
            edit(RETRAINER, "        value: curated-delta-sales-daily-uri", "        value: ' '"),
            Some("Processing.parameters.dataAssets[1].value"),
            &["found an empty string"],
        ),
        case(
            edit(RETRAINER, "- name: raw_folder", "- name: training_data"),
            Some("Processing.parameters.dataAssets[1].name"),
            &["duplicate input name \"training_data\" (lines 9 and 11)"],
        ),
        case(
            edit(
                RETRAINER,
                "dataAssets:\n      - name: training_data\n        value: curated-delta-sales-daily-mltable\n      - name: raw_folder\n        value: curated-delta-sales-daily-uri",
                "dataAssets: []",
            ),
            Some("Processing.parameters.dataAssets"),
            &["the list is empty (line 8)"],
        ),
        case(
            with_params(REGISTRATOR, "cloud: Mars"),
            Some("Processing.parameters.cloud"),
            &["\"Mars\" is not valid", "AzureCloud, AzureChinaCloud, AzureUSGovernment"],
        ),
        case(with_params(REGISTRATOR, "apiVersion: latest"), Some("Processing.parameters.apiVersion"), &["YYYY-MM-DD"]),
        case(
            with_params(REGISTRATOR, "secretsEncoding: hex"),
            Some("Processing.parameters.secretsEncoding"),
            &["expected one of plain, base64"],
        ),
        case(
            with_params(REGISTRATOR, "pinBy: date"),
            Some("Processing.parameters.pinBy"),
            &["expected one of version, timestamp"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: 0"),
            Some("Processing.parameters.refreshTimeout"),
            &["0 is out of range (line 13)", "from 1 to 604800"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: 604801"),
            Some("Processing.parameters.refreshTimeout"),
            &["604801 is out of range"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: \"-5\""),
            Some("Processing.parameters.refreshTimeout"),
            &["-5 is out of range"],
        ),
        case(
            edit(RETRAINER, "refreshDelay: \"60\"", "refreshDelay: 0"),
            Some("Processing.parameters.refreshDelay"),
            &["0 is out of range"],
        ),
        case(
            edit(RETRAINER, "refreshDelay: \"60\"", "refreshDelay: \"3000\""),
            Some("Processing.parameters.refreshDelay"),
            &["3000 s is longer than refreshTimeout (2700 s) (line 14)"],
        ),
        case(
            with_params(RETRAINER, "maxConcurrentSubmissions: 65"),
            Some("Processing.parameters.maxConcurrentSubmissions"),
            &["65 is out of range", "from 1 to 64"],
        ),
        case(
            with_params(RETRAINER, "maxConcurrentSubmissions: 0"),
            Some("Processing.parameters.maxConcurrentSubmissions"),
            &["0 is out of range"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: 99999999999999999999999999999999999999999"),
            Some("Processing.parameters.refreshTimeout"),
            &["99999999999999999999999999999999999999999 is out of range"],
        ),
        case(
            edit(RETRAINER, "refreshTimeout: \"2700\"", "refreshTimeout: 1e40"),
            Some("Processing.parameters.refreshTimeout"),
            &["1e40 is out of range"],
        ),
    ]);
}

#[test]
fn document_level() {
    check(vec![
        case("", None, &["the file is empty", "Processing"]),
        case("  \n\n", None, &["the file is empty"]),
        case("# nothing\n---\n", None, &["only comments"]),
        case("- a\n- b\n", None, &["top level must be a mapping", "found a list (line 1)"]),
        case("just text\n", None, &["top level must be a mapping", "found the string \"just text\""]),
        case("~\n", None, &["top level must be a mapping", "found an empty value"]),
        case(format!("{REGISTRATOR}Processing: {{}}\n"), Some("Processing"), &["duplicate key (lines 1 and 11)"]),
        case(
            edit(REGISTRATOR, "    containerName: curated\n", "    containerName: curated\n    containerName: raw\n"),
            Some("Processing.parameters.containerName"),
            &["duplicate key (lines 9 and 10)"],
        ),
        case("a: [1, 2\n", None, &["invalid YAML at line 1", "bracket"]),
        case("a: b: c\n", None, &["invalid YAML at line 1, column"]),
        case("a: 'open\n", None, &["invalid YAML"]),
        case("a: *nope\n", None, &["invalid YAML at line 1, column 4", "refers to no anchor"]),
        case("Processing:\n\ttype: x\n", None, &["invalid YAML at line 2", "indented with a tab"]),
        case("a: 1\n---\nb: 2\n", None, &["more than one YAML document"]),
        case(
            edit(REGISTRATOR, "containerName: curated", "containerName:curated"),
            None,
            &[
                "invalid YAML at line 9, column 5",
                "line 9: `containerName:curated` is missing a space after ':'? write `containerName: curated`",
            ],
        ),
        case(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    containerName:curated\n",
            Some("Processing.parameters"),
            &["expected a mapping", "found the string \"containerName:curated\" (line 3)", "missing a space after ':'"],
        ),
        case(format!("x: {}\n", "[".repeat(40)), None, &["invalid YAML"]),
        case(format!("x: {}{}\n", "[".repeat(100), "]".repeat(100)), None, &["too complex", "nested too deeply"]),
    ]);
}

#[test]
fn alias_bombs_are_bounded() {
    // Billion laughs, nine levels deep: refused by the parser's replay budget.
    let bomb = std::fs::read_to_string(super::fixture("alias_bomb.yaml")).unwrap();
    // A few large scalars replayed many times: refused by drift's own expansion budget (bytes, not events).
    let big = "x".repeat(100_000);
    let wide = format!("a: &a \"{big}\"\nb: [{}]\n", vec!["*a"; 99].join(", "));
    for yaml in [bomb, wide] {
        let err = parse_str(&yaml).unwrap_err();
        println!("{err}");
        assert_eq!(err.key, None);
        assert!(err.message.contains("too large or too complex for a config"), "{err}");
        assert!(err.message.contains("alias"), "{err}");
    }
}

#[test]
fn a_known_key_is_not_taken_for_a_typo() {
    // `containerDataPath` is close to `containerName` but is a key of its own: no "did you mean" here.
    let err = parse_str(&without(REGISTRATOR, "containerName")).unwrap_err();
    assert!(!err.message.contains("did you mean"), "{err}");
}

/// Every truncation and many single-byte corruptions of a valid config give an error or a config, never a panic.
#[test]
fn never_panics_on_mangled_input() {
    for base in [REGISTRATOR, RETRAINER] {
        let bytes = base.as_bytes();
        for len in 0..bytes.len() {
            let _ = crate::config::parse("t.yaml", &bytes[..len]);
        }
        for i in 0..bytes.len() {
            for replacement in [b' ', b':', b'-', b'\t', b'"', b'[', b'{', b'&', b'*', b'!', b'#', 0x00, 0xFF] {
                let mut mangled = bytes.to_vec();
                mangled[i] = replacement;
                if let Err(err) = crate::config::parse("t.yaml", &mangled) {
                    // One line per problem, each a complete message.
                    let problems = err.problems();
                    assert!(problems.iter().all(|p| !p.message.is_empty() && !p.message.contains('\n')), "{err}");
                    assert_eq!(err.to_string().lines().count(), problems.len(), "{err}");
                }
            }
        }
    }
}

/// `drift validate` lists every problem, not only the first: each on its own line with file, key path and line.
#[test]
fn several_problems_are_reported_together() {
    let yaml = edit(
        &edit(&edit(REGISTRATOR, "0b1f6471-1bf0-4dda-aec3-cb9272f09590", "my-subscription"), "mlw-forecast", "ml"),
        "datalakeprod01",
        "DataLakeProd01",
    );
    let yaml = with_params(&yaml, "pinBy: date\napiVersion: latest");
    let err = parse_str(&yaml).unwrap_err();
    println!("{err}");
    let keys: Vec<Option<String>> = err.problems().into_iter().map(|p| p.key).collect();
    let want = [
        "Processing.parameters.azml.subscriptionId",
        "Processing.parameters.azml.mlWorkspaceName",
        "Processing.parameters.apiVersion",
        "Processing.parameters.storageAccountName",
        "Processing.parameters.pinBy",
    ];
    assert_eq!(keys, want.iter().map(|k| Some(k.to_string())).collect::<Vec<_>>(), "{err}");
    // The first problem leads, as it always did; the rendering has one complete line per problem.
    assert_eq!(err.key.as_deref(), Some(want[0]));
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), want.len(), "{text}");
    for (line, key) in lines.iter().zip(want) {
        assert!(line.starts_with(&format!("config test.yaml: {key}: ")), "{line}");
        assert!(line.contains("(line "), "{line}");
    }
    assert!(
        lines[0].contains("GUID") && lines[1].contains("3-33 characters") && lines[4].contains("version, timestamp")
    );
}

#[test]
fn problems_in_several_list_entries_and_missing_keys_are_all_reported() {
    let yaml = "\
Processing:
  type: ModelRetrainer
  parameters:
    azml:
      resourceGroup: rg.
    dataAssets:
      - name: 1st
        value: sales
      - name: ok
      - value: ../../x
      - name: ok
        value: sales
    refreshTimeout: 45m
    refreshDelay: 0
    maxConcurrentSubmissions: 65
    cancelOnTimeout: yes
";
    let err = parse_str(yaml).unwrap_err();
    println!("{err}");
    let keys: Vec<String> = err.problems().into_iter().filter_map(|p| p.key).collect();
    for key in [
        "Processing.parameters.azml.subscriptionId",
        "Processing.parameters.azml.mlWorkspaceName",
        "Processing.parameters.azml.resourceGroup",
        "Processing.parameters.dataAssets[0].name",
        "Processing.parameters.dataAssets[1].value",
        "Processing.parameters.dataAssets[2].name",
        "Processing.parameters.dataAssets[2].value",
        "Processing.parameters.refreshTimeout",
        "Processing.parameters.refreshDelay",
        "Processing.parameters.maxConcurrentSubmissions",
        "Processing.parameters.cancelOnTimeout",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} not reported:\n{err}");
    }
    // `dataAssets[3]` repeats the name of `[1]`, but `[1]` is itself broken: no duplicate is claimed for it.
    assert!(!err.to_string().contains("duplicate"), "{err}");
}

#[test]
fn a_duplicate_key_does_not_hide_the_rest() {
    let yaml =
        edit(REGISTRATOR, "    containerName: curated\n", "    containerName: curated\n    containerName: raw\n");
    let yaml = edit(&yaml, "datalakeprod01", "Data-Lake");
    let err = parse_str(&yaml).unwrap_err();
    let keys: Vec<Option<String>> = err.problems().into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [Some("Processing.parameters.containerName".into()), Some("Processing.parameters.storageAccountName".into())],
        "{err}"
    );
}

/// Names that would become URL segments or ARM ids the registrator or retrainer writes (issue 9, rows 2 and 14).
#[test]
fn names_that_would_become_urls_or_ids() {
    let other_ws = "/subscriptions/99999999-1111-2222-3333-444444444444/resourceGroups/rg-mlops-prod/providers/\
                    Microsoft.MachineLearningServices/workspaces/mlw-forecast/data/sales/versions/1";
    check(vec![
        case(
            edit(REGISTRATOR, "delta/sales/daily", "delta/sales.v2/daily"),
            Some("Processing.parameters.containerDataPath"),
            &[
                "data asset name \"curated-delta-sales.v2-daily-mltable\"",
                "(line 10)",
                "^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$",
            ],
        ),
        case(
            edit(REGISTRATOR, "delta/sales/daily", "delta/sales data"),
            Some("Processing.parameters.containerDataPath"),
            &["not a valid Azure ML asset name"],
        ),
        case(
            edit(REGISTRATOR, "delta/sales/daily", &"p/".repeat(130)),
            Some("Processing.parameters.containerDataPath"),
            &["at most 255 characters"],
        ),
        case(
            edit(RETRAINER, "value: curated-delta-sales-daily-uri", &format!("value: {other_ws}")),
            Some("Processing.parameters.dataAssets[1].value"),
            &["not of this config's workspace", "only in the config's workspace (azml)"],
        ),
        case(
            edit(
                RETRAINER,
                "value: curated-delta-sales-daily-uri",
                "value: azureml://subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/rg-other/workspaces/mlw-forecast/data/sales",
            ),
            Some("Processing.parameters.dataAssets[1].value"),
            &["an asset of workspace 0b1f6471-1bf0-4dda-aec3-cb9272f09590/rg-other/mlw-forecast"],
        ),
        case(
            edit(RETRAINER, "value: curated-delta-sales-daily-uri", "value: azureml://registries/shared/data/sales"),
            Some("Processing.parameters.dataAssets[1].value"),
            &["registry shared"],
        ),
        case(
            edit(RETRAINER, "value: curated-delta-sales-daily-uri", "value: ../../x"),
            Some("Processing.parameters.dataAssets[1].value"),
            &["\"../../x\" is not valid (line 12)", "not a data asset reference"],
        ),
        case(
            with_params(REGISTRATOR, "apiVersion: 2025-12-01&x=1"),
            Some("Processing.parameters.apiVersion"),
            &["YYYY-MM-DD"],
        ),
    ]);
}

#[test]
fn a_flood_of_problems_is_cut_short() {
    let mut yaml = without(RETRAINER, "refreshDelay").replace("    refreshTimeout: \"2700\"\n", "");
    let entries: String = (0..200).map(|i| format!("      - name: bad-{i}\n        value: ok\n")).collect();
    yaml = yaml.replacen("    dataAssets:\n", &format!("    dataAssets:\n{entries}"), 1);
    let err = parse_str(&yaml).unwrap_err();
    assert!(err.problems().len() >= 200);
    let text = err.to_string();
    assert_eq!(text.lines().count(), crate::config::MAX_SHOWN_PROBLEMS + 1, "{text}");
    assert!(text.lines().last().unwrap().contains("more problems"), "{text}");
}

/// `retrainPolicy`: each bad value names its key path and line; several are reported at once.
#[test]
fn retrain_policy_errors() {
    check(vec![
        case(
            with_params(RETRAINER, "retrainPolicy:\n  minRowsChanged: -5"),
            Some("Processing.parameters.retrainPolicy.minRowsChanged"),
            &["-5 is out of range (line 16)", "from 0 to 1000000000000000"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  minRowsChanged: lots"),
            Some("Processing.parameters.retrainPolicy.minRowsChanged"),
            &["found the string \"lots\""],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  onSchemaChange: ignore"),
            Some("Processing.parameters.retrainPolicy.onSchemaChange"),
            &["\"ignore\" is not valid (line 16)", "expected one of retrain, skip, fail"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  maxModelAge: 30days"),
            Some("Processing.parameters.retrainPolicy.maxModelAge"),
            &["\"30days\" is not valid (line 16)", "m (minutes), h (hours) or d (days)"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  maxModelAge: 30"),
            Some("Processing.parameters.retrainPolicy.maxModelAge"),
            &["found the number 30 (line 16)"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  maxModelAge: 0d"),
            Some("Processing.parameters.retrainPolicy.maxModelAge"),
            &["\"0d\" is not valid"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  maxModelAge: 3651d"),
            Some("Processing.parameters.retrainPolicy.maxModelAge"),
            &["from 1m to 3650d"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy:\n  maxModelAge: 1.5d"),
            Some("Processing.parameters.retrainPolicy.maxModelAge"),
            &["\"1.5d\" is not valid"],
        ),
        case(
            with_params(RETRAINER, "retrainPolicy: 10000"),
            Some("Processing.parameters.retrainPolicy"),
            &["expected a mapping with `minRowsChanged`"],
        ),
    ]);
    // All three wrong: three problems, in the file's order, one run of `drift validate`.
    let yaml = with_params(
        RETRAINER,
        "retrainPolicy:\n  minRowsChanged: x\n  onSchemaChange: maybe\n  maxModelAge: 99999999999999999999d",
    );
    let problems = parse_str(&yaml).unwrap_err().problems();
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(
        keys,
        vec![
            Some("Processing.parameters.retrainPolicy.minRowsChanged"),
            Some("Processing.parameters.retrainPolicy.onSchemaChange"),
            Some("Processing.parameters.retrainPolicy.maxModelAge"),
        ],
        "{problems:?}"
    );
}

//! The CLI contract through the real binaries: flag spellings, help and version, exit codes 2 and 3, config
//! errors as users see them, output and log formats.

use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DRIFT_IMDS_ENDPOINT", "http://127.0.0.1:9")
        .envs(env.iter().copied())
        .output()
        .expect("binary runs")
}

fn drift(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_drift"), args, &[])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

#[test]
fn version_and_help() {
    let o = drift(&["--version"]);
    assert_eq!(code(&o), 0);
    assert_eq!(text(&o.stdout).trim(), concat!("drift ", env!("CARGO_PKG_VERSION")));
    for args in [&["--help"][..], &["help"][..]] {
        let o = drift(args);
        assert_eq!(code(&o), 0);
        let help = text(&o.stdout);
        for expected in [
            "Exit codes:",
            "130",
            "--vault_name",
            "--data_asset_version",
            "--model_name_prefix",
            "plan",
            "validate",
            "demo",
        ] {
            assert!(help.contains(expected), "{expected} missing from help:\n{help}");
        }
    }
    let o = run(env!("CARGO_BIN_EXE_spark_job"), &["--help"], &[]);
    assert_eq!(code(&o), 0);
    assert!(text(&o.stdout).contains("Usage: spark_job"));
}

#[test]
fn usage_errors_are_exit_2() {
    for args in [
        &["--bogus"][..],
        &["run", "--vault_name"][..],
        &["--log-level", "loud", "validate", "--config", "x"][..],
        &["--config", "c.yaml", "run"][..],
        &["run"][..],
        &["validate"][..],
    ] {
        let o = drift(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(!text(&o.stderr).is_empty());
    }
    let o = drift(&["run"]);
    assert!(text(&o.stderr).contains("missing --config"), "{}", text(&o.stderr));
    let o = run(env!("CARGO_BIN_EXE_drift"), &["validate", "--config", "x"], &[("DRIFT_LOG", "chatty")]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("DRIFT_LOG"), "{}", text(&o.stderr));
}

#[test]
fn legacy_form_reaches_the_config_in_both_flag_styles() {
    for args in [
        &[
            "--config",
            "/nonexistent/cfg.yaml",
            "--tenant",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "--vault_name",
            "kv-prod",
            "--data_asset_version",
            "1",
        ][..],
        &[
            "--config=/nonexistent/cfg.yaml",
            "--tenant=contoso.onmicrosoft.com",
            "--vault_name=kv_prod",
            "--data_asset_version=",
            "--model_name_prefix=a,b",
        ][..],
    ] {
        let o = run(env!("CARGO_BIN_EXE_spark_job"), args, &[]);
        assert_eq!(code(&o), 2, "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("config /nonexistent/cfg.yaml: file not found"), "{}", text(&o.stderr));
    }
}

#[test]
fn validate_examples_in_text_and_json() {
    let reg = format!("{EXAMPLES}/registrator.yaml");
    let o = drift(&["validate", "--config", &reg]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let summary = text(&o.stdout);
    assert!(summary.contains("valid"));
    // The names the registrator will write, derived offline.
    assert!(summary.contains("-mltable (mltable)") && summary.contains("-uri (uri_folder)"), "{summary}");
    assert!(summary.contains(".dfs.core.windows.net/"), "{summary}");
    let o = run(
        env!("CARGO_BIN_EXE_drift"),
        &["validate", "--config", &format!("{EXAMPLES}/retrainer.yaml")],
        &[("DRIFT_OUTPUT", "json")],
    );
    assert_eq!(code(&o), 0);
    let report: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(report["schema"], 1);
    assert_eq!(report["command"], "validate");
    assert_eq!(report["pipeline"], "retrainer");
    assert_eq!(report["outcome"], "valid");
}

#[test]
fn bad_configs_name_file_and_key_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "missing-key.yaml",
            "Processing:\n  type: ModelRetrainer\n  parameters:\n    azml:\n      resourceGroup: rg\n      mlWorkspaceName: ws\n    dataAssets: [{name: a, value: b}]\n",
            "Processing.parameters.azml.subscriptionId",
        ),
        (
            "no-space.yaml",
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    storageAccountName: acct\n    containerName:<x>\n",
            "missing a space after ':'",
        ),
        ("empty.yaml", "", "empty"),
    ];
    for (name, body, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let p = path.display().to_string();
        let o = drift(&["validate", "--config", &p]);
        assert_eq!(code(&o), 2, "{name}");
        let err = text(&o.stderr);
        assert!(err.contains(&p) && err.contains(expected), "{name}: {err}");
        assert!(!err.contains("panicked") && !err.contains("Error {"), "{err}");
    }
    let o = drift(&["validate", "--config", dir.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("directory"));
}

#[test]
fn no_credentials_is_exit_3() {
    let o = drift(&["run", "--config", &format!("{EXAMPLES}/retrainer.yaml")]);
    assert_eq!(code(&o), 3, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no service principal credentials"));
}

#[test]
fn json_logs_and_report_on_separate_streams() {
    let o = run(
        env!("CARGO_BIN_EXE_drift"),
        &["--log-format", "json", "--output", "json", "run", "--config", &format!("{EXAMPLES}/retrainer.yaml")],
        &[],
    );
    assert_eq!(code(&o), 3);
    let report: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["exit_code"], 3);
    assert!(report["error"].as_str().unwrap().contains("no service principal credentials"));
    for line in text(&o.stderr).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v.get("level").is_some());
    }
}

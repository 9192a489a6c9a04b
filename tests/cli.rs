//! The CLI contract through the real binaries: flag spellings, help and version, exit codes 2 and 3, config
//! errors as users see them, output and log formats, verbosity and colour, completions and the man page.

use std::process::{Command, Output};

#[path = "support/report_schema.rs"]
mod report_schema;

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
    // `--version` is one line; `drift version` says more.
    let o = drift(&["--version"]);
    assert_eq!(code(&o), 0);
    assert_eq!(text(&o.stdout), concat!("drift ", env!("CARGO_PKG_VERSION"), "\n"));
    let o = run(env!("CARGO_BIN_EXE_spark_job"), &["--version"], &[]);
    assert_eq!(text(&o.stdout), concat!("spark_job ", env!("CARGO_PKG_VERSION"), "\n"));
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
            "completions",
            "man",
            "Global options:",
        ] {
            assert!(help.contains(expected), "{expected} missing from help:\n{help}");
        }
        // A build without the demo does not offer it.
        let lists_demo = help.lines().any(|l| l.trim_start().starts_with("demo "));
        assert_eq!(lists_demo, cfg!(feature = "demo"), "{help}");
    }
    let o = run(env!("CARGO_BIN_EXE_spark_job"), &["--help"], &[]);
    assert_eq!(code(&o), 0);
    assert!(text(&o.stdout).contains("Usage: spark_job"));
}

#[test]
fn version_command_names_commit_date_and_target() {
    let o = drift(&["version"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let field = |label: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {label} in:\n{out}"))
    };
    assert_eq!(out.lines().next(), Some(concat!("drift ", env!("CARGO_PKG_VERSION"))));
    let commit = field("commit:");
    let hash = commit.split_whitespace().next().unwrap();
    let in_git = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists();
    if in_git || hash != "unknown" {
        assert!(hash.len() == 40 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{commit}");
    }
    let date = field("build date:");
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-', "{date}");
    assert!(field("target:").starts_with(std::env::consts::ARCH), "{out}");
    assert_eq!(field("features:").contains("demo"), cfg!(feature = "demo"));
}

/// Bare `drift` asked for nothing: the help, on stderr, exit 2 (as a usage error; stdout stays clean).
#[test]
fn bare_command_prints_help_as_a_usage_error() {
    for bin in [env!("CARGO_BIN_EXE_drift"), env!("CARGO_BIN_EXE_spark_job")] {
        let o = run(bin, &[], &[]);
        assert_eq!(code(&o), 2);
        assert!(o.stdout.is_empty());
        let err = text(&o.stderr);
        assert!(err.contains("Usage:") && err.contains("Commands:") && err.contains("--config <PATH>"), "{err}");
    }
}

fn help_at(args: &[&str], columns: &str) -> String {
    let o = run(env!("CARGO_BIN_EXE_drift"), args, &[("COLUMNS", columns)]);
    assert_eq!(code(&o), 0, "{args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn help_reads_well_at_80_columns() {
    for args in [
        &["--help"][..],
        &["-h"][..],
        &["run", "--help"][..],
        &["plan", "--help"][..],
        &["validate", "--help"][..],
        &["auth", "describe", "--help"][..],
        &["completions", "--help"][..],
        &["man", "--help"][..],
        &["version", "--help"][..],
    ] {
        let help = help_at(args, "80");
        for line in help.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {} columns: {line:?}", line.chars().count());
        }
        assert!(help.contains("Global options:\n"), "{args:?}:\n{help}");
    }
    // Wider terminals get at most 100 columns; the exit-code table keeps its shape at any width.
    let wide = help_at(&["--help"], "250");
    assert!(wide.lines().all(|l| l.chars().count() <= 100));
    assert!(wide.contains("  143  terminated by SIGTERM"));
}

#[test]
fn each_subcommand_lists_only_its_own_options() {
    let run_help = help_at(&["run", "--help"], "100");
    for flag in ["--config <PATH>", "--no-wait", "--cancel-on-timeout", "--task-values-file", "--force"] {
        assert!(run_help.contains(flag), "{flag}:\n{run_help}");
    }
    // Required flags are shown as required.
    assert!(run_help.contains("Usage: drift run [OPTIONS] --config <PATH>"), "{run_help}");
    let plan = help_at(&["plan", "--help"], "100");
    for flag in ["--no-wait", "--cancel-on-timeout", "--task-values-file"] {
        assert!(!plan.contains(flag), "plan lists {flag}:\n{plan}");
    }
    let validate = help_at(&["validate", "--help"], "100");
    assert!(validate.contains("Usage: drift validate") && validate.contains("--config <PATH>"), "{validate}");
    for flag in ["--task-values-file", "--tenant", "--no-wait"] {
        assert!(!validate.contains(flag), "validate lists {flag}:\n{validate}");
    }
    // One spelling per flag; the hidden aliases still parse.
    for page in [&run_help, &plan, &help_at(&["--help"], "100")] {
        for alias in ["--vault-name", "--data-asset-version", "--model-name-prefix", "--log_level", "--no_wait"] {
            assert!(!page.contains(alias), "{alias} shown:\n{page}");
        }
    }
    let o = drift(&["--log_level", "warn", "validate", "--config", &format!("{EXAMPLES}/retrainer.yaml")]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    // The old global position of --task-values-file keeps working, for every command.
    let dir = tempfile::tempdir().unwrap();
    let tv = dir.path().join("tv.json");
    let o = drift(&[
        "--task-values-file",
        tv.to_str().unwrap(),
        "validate",
        "--config",
        &format!("{EXAMPLES}/retrainer.yaml"),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&tv).unwrap().trim(), "{}");
    // But plan does not take it after the subcommand.
    let o = drift(&["plan", "--config", "x", "--task-values-file", "y"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = drift(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", text(&o.stderr));
        let script = text(&o.stdout);
        for word in ["run", "plan", "validate", "auth", "completions", "man", "vault_name", "log-level"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        assert_eq!(script.contains("demo"), cfg!(feature = "demo"), "{shell}");
    }
    if std::path::Path::new("/bin/bash").exists() {
        // The bash script at least parses and defines its function.
        let o = drift(&["completions", "bash"]);
        let check = Command::new("/bin/bash")
            .args(["-c", "eval \"$(cat)\" && declare -F _drift >/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(&o.stdout)?;
                child.wait()
            })
            .unwrap();
        assert!(check.success());
    }
    assert_eq!(code(&drift(&["completions", "tcsh"])), 2);
}

#[test]
fn man_page_is_roff() {
    let o = drift(&["man"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let page = text(&o.stdout);
    assert!(page.lines().any(|l| l.starts_with(".TH drift 1 ")), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH \"GLOBAL OPTIONS\"", ".SH SUBCOMMANDS", ".SH \"EXIT STATUS\""] {
        assert!(page.contains(section), "{section} missing:\n{page}");
    }
    let o = drift(&["man", "run"]);
    assert_eq!(code(&o), 0);
    assert!(text(&o.stdout).lines().any(|l| l.starts_with(".TH drift-run 1 ")));
    assert_eq!(code(&drift(&["man", "nope"])), 2);
    // Rendered by a real formatter where there is one: no warnings, and the exit codes come out.
    if let Ok(mut child) = Command::new("groff")
        // -k: preconv, as man(1) runs it, for the UTF-8 in the help text.
        .args(["-k", "-man", "-Tutf8", "-ww"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success() && text(&out.stderr).is_empty(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("terminated by SIGTERM"));
    }
}

/// A run that logs at every level quickly: a service principal whose token endpoint refuses connections, with
/// the retry sleeps scaled to nothing. DEBUG "requesting a token", TRACE "sending", INFO "retrying", then the
/// error line (always shown).
fn log_levels(flags: &[&str]) -> String {
    let mut args = flags.to_vec();
    args.extend(["auth", "describe"]);
    let o = run(
        env!("CARGO_BIN_EXE_drift"),
        &args,
        &[
            ("DRIFT_HTTP_RETRY_DELAY_SCALE", "0"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
            ("AZURE_CLIENT_SECRET", "not-a-secret"),
            ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000002"),
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9"),
        ],
    );
    assert_eq!(code(&o), 4, "{}", text(&o.stderr));
    text(&o.stderr)
}

#[test]
fn verbose_and_quiet_shorthands() {
    let levels = |stderr: &str| -> Vec<&str> {
        ["TRACE", "DEBUG", "INFO", "error:"].into_iter().filter(|l| stderr.contains(l)).collect()
    };
    assert_eq!(levels(&log_levels(&[])), ["INFO", "error:"]);
    assert_eq!(levels(&log_levels(&["-v"])), ["DEBUG", "INFO", "error:"]);
    assert_eq!(levels(&log_levels(&["-vv"])), ["TRACE", "DEBUG", "INFO", "error:"]);
    assert_eq!(levels(&log_levels(&["-q"])), ["error:"]);
    assert_eq!(levels(&log_levels(&["--quiet", "--quiet"])), ["error:"]);
    // -q keeps warnings, -qq drops them: a config key with a typo is a warning.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("typo.yaml");
    let body = std::fs::read_to_string(format!("{EXAMPLES}/retrainer.yaml")).unwrap();
    std::fs::write(&cfg, body.replace("refreshDelay", "refreshDelai")).unwrap();
    let warned = |flag: &str| {
        let o = drift(&[flag, "validate", "--config", cfg.to_str().unwrap()]);
        text(&o.stderr).contains("WARN")
    };
    assert!(warned("-q") && !warned("-qq"));
    // A flag beats the environment; -v/-q and --log-level exclude each other.
    let o = run(
        env!("CARGO_BIN_EXE_drift"),
        &["-q", "validate", "--config", cfg.to_str().unwrap()],
        &[("DRIFT_LOG", "trace")],
    );
    assert!(!text(&o.stderr).contains("INFO"));
    for args in [
        &["-v", "--log-level", "info", "validate", "--config", "x"][..],
        &["-v", "-q", "validate", "--config", "x"][..],
        &["-q", "validate", "--config", "x", "--log-level", "info"][..],
        &["-v", "validate", "--config", "x", "-q"][..],
    ] {
        let o = drift(args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(text(&o.stderr).contains("--log-level") || text(&o.stderr).contains("cannot be used with"), "{args:?}");
    }
}

#[test]
fn color_flag_and_no_color() {
    let ansi = |s: &str| s.contains("\x1b[");
    // Piped stderr: no colour unless asked.
    assert!(!ansi(&log_levels(&[])));
    assert!(ansi(&log_levels(&["--color", "always"])));
    assert!(!ansi(&log_levels(&["--color", "never"])));
    // On a terminal (a pty from script(1)), `auto` follows NO_COLOR when it is set and not empty. The log line
    // is the warning about a config key with a typo.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped the terminal half: no script(1)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("typo.yaml");
    let body = std::fs::read_to_string(format!("{EXAMPLES}/retrainer.yaml")).unwrap();
    std::fs::write(&cfg, body.replace("refreshDelay", "refreshDelai")).unwrap();
    let on_tty = |flags: &str, no_color: Option<&str>| -> bool {
        let mut cmd = Command::new("script");
        cmd.args(["-q", "-e", "-c"])
            .arg(format!("{} {flags} validate --config {}", env!("CARGO_BIN_EXE_drift"), cfg.display()))
            .arg("/dev/null")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DRIFT_LOG_FORMAT", "text");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let o = cmd.output().expect("script runs");
        assert_eq!(code(&o), 0, "{}", text(&o.stdout));
        assert!(text(&o.stdout).contains("WARN"), "{}", text(&o.stdout));
        ansi(&text(&o.stdout))
    };
    assert!(on_tty("", None));
    assert!(on_tty("", Some("")), "an empty NO_COLOR leaves colour on");
    assert!(!on_tty("", Some("1")));
    assert!(!on_tty("", Some("false")), "any non-empty value counts");
    assert!(on_tty("--color always", Some("1")), "the command line overrides NO_COLOR");
    assert!(!on_tty("--color never", None));
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
    // Required flags are named by the parser.
    let o = drift(&["run"]);
    assert!(text(&o.stderr).contains("--config <PATH>"), "{}", text(&o.stderr));
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
    let report = report_schema::parse(text(&o.stdout).trim(), "validate");
    assert_eq!(report["schema"], 2);
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
    let report = report_schema::parse(text(&o.stdout).trim(), "no credentials");
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["exit_code"], 3);
    assert!(report["error"].as_str().unwrap().contains("no service principal credentials"));
    for line in text(&o.stderr).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v.get("level").is_some());
    }
}

//! Shared test harness: run drift in-process with a captured stdout/stderr and a chosen environment, start a
//! seeded sandbox (which checks drift's ARM bodies against the spec when the test ends), and find recorded requests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::sync::{Arc, Mutex};

use drift_sandbox::SandboxOptions;

pub mod delta;
pub mod ml;
#[path = "../support/report_schema.rs"]
pub mod report_schema;
pub mod schema;

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT_ID: &str = "9f3c1a52-6d0e-4b7a-8c21-5e4f3a2b1c0d";
pub const CLIENT_SECRET: &str = "sp-secret-Zq8~Vx3.Lm9_Pt4Kw7";
pub const SUBSCRIPTION: &str = "00000000-1111-2222-3333-444444444444";
pub const VAULT: &str = "drift-test-kv";

/// A `Write` that appends into a shared buffer.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What one in-process run produced.
#[derive(Debug)]
pub struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The JSON report (the last stdout line) of a `--output json` run, checked against docs/report.schema.json.
    pub fn report(&self) -> serde_json::Value {
        let line = self.stdout.lines().last().unwrap_or_else(|| panic!("no stdout; stderr:\n{}", self.stderr));
        report_schema::parse(line, "drift's report")
    }

    pub fn assert_code(&self, code: u8) -> &Outcome {
        assert_eq!(self.code, code, "exit code; stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// Runs drift in-process (on a separate thread, so tests may call it from inside a runtime). A run that asks for
/// the JSON report must end with one that matches docs/report.schema.json — checked here, whether or not the test
/// reads it; help and version (exit 0, plain text) have none.
pub fn drift(args: &[&str], env: &[(String, String)]) -> Outcome {
    let outcome = drift_unchecked(args, env);
    if report_schema::wants_json(args.iter().copied(), env) {
        match outcome.stdout.lines().last() {
            Some(line) if line.starts_with('{') => {
                report_schema::parse(line, &format!("drift {}", args.join(" ")));
            }
            _ if outcome.code == 0 => {}
            _ => panic!(
                "drift {} asked for a JSON report and exited {} without one; stdout:\n{}\nstderr:\n{}",
                args.join(" "),
                outcome.code,
                outcome.stdout,
                outcome.stderr
            ),
        }
    }
    outcome
}

/// [`drift`] without the report check.
pub fn drift_unchecked(args: &[&str], env: &[(String, String)]) -> Outcome {
    let stdout = Capture::default();
    let stderr = Capture::default();
    let mut argv: Vec<OsString> = vec!["drift".into()];
    argv.extend(args.iter().map(OsString::from));
    let env: HashMap<String, String> = env.iter().cloned().collect();
    let (out, err) = (stdout.clone(), stderr.clone());
    let code =
        std::thread::spawn(move || drift::run(drift::Invocation::new(argv, env, Box::new(out), Box::new(err))).code())
            .join()
            .expect("drift panicked");
    Outcome { code, stdout: stdout.text(), stderr: stderr.text() }
}

/// The sandbox of the integration tests: a [`drift_sandbox::Sandbox`] (every method through `Deref`) that, when the
/// test is over and drops it, checks every JSON body drift sent to its ARM routes against the 2025-12-01 spec
/// (`schema.rs`) and fails the test on a violation. Tests get it from [`sandbox`] and never call the check.
#[derive(Debug)]
pub struct Sandbox(drift_sandbox::Sandbox);

impl Sandbox {
    pub fn start(options: SandboxOptions) -> std::io::Result<Sandbox> {
        drift_sandbox::Sandbox::start(options).map(Sandbox)
    }
}

impl std::ops::Deref for Sandbox {
    type Target = drift_sandbox::Sandbox;
    fn deref(&self) -> &drift_sandbox::Sandbox {
        &self.0
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // A test that is already failing keeps its own message: a second panic while unwinding would abort the
        // whole test binary and bury it.
        if std::thread::panicking() {
            return;
        }
        schema::assert_valid(&self.0.requests(), "recorded by this test's sandbox");
    }
}

/// A sandbox with one tenant and service principal.
pub fn sandbox() -> Sandbox {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox starts");
    sb.add_service_principal(TENANT, CLIENT_ID, CLIENT_SECRET);
    sb
}

/// The sandbox's endpoint overrides, plus no retry sleeps and a PATH without an Azure CLI.
pub fn base_env(sb: &Sandbox) -> Vec<(String, String)> {
    let mut env = sb.env();
    env.push(("DRIFT_HTTP_RETRY_DELAY_SCALE".into(), "0".into()));
    env.push(("PATH".into(), "/nonexistent".into()));
    env
}

/// `base_env` with the service principal in AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_TENANT_ID.
pub fn sp_env(sb: &Sandbox) -> Vec<(String, String)> {
    let mut env = base_env(sb);
    env.push(("AZURE_CLIENT_ID".into(), CLIENT_ID.into()));
    env.push(("AZURE_CLIENT_SECRET".into(), CLIENT_SECRET.into()));
    env.push(("AZURE_TENANT_ID".into(), TENANT.into()));
    env
}

/// Requests whose path contains `needle`, as `METHOD path`.
pub fn calls(sb: &Sandbox, needle: &str) -> Vec<String> {
    sb.requests().iter().filter(|r| r.path.contains(needle)).map(|r| format!("{} {}", r.method, r.path)).collect()
}

/// Token requests made to the sandbox's AAD.
pub fn token_requests(sb: &Sandbox) -> usize {
    sb.requests().iter().filter(|r| r.path.starts_with("/aad/") && r.path.ends_with("/token")).count()
}

/// Writes `text` to a file in a fresh temp dir and returns (dir, path).
pub fn write_temp(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let p = path.display().to_string();
    (dir, p)
}

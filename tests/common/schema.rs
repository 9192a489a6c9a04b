//! The request-schema oracle of the integration tests (issue 8, oracle item 5): which recorded requests are JSON
//! writes drift sent to ARM, and the check of each against the vendored Azure ML spec (`tests/support/openapi.rs`).
//! [`super::Sandbox`] runs it when a test's sandbox is dropped; `tests/demo.rs` runs it over the demo's traffic file.

use std::io::Write;

use drift_sandbox::RecordedRequest;

#[path = "../support/openapi.rs"]
pub mod openapi;

/// Set to a file path to have every check append `{requests checked}\t{test}\t{their operations}` to it, for counting coverage across a
/// whole `cargo test` run (e.g. `DRIFT_SCHEMA_TALLY=/tmp/tally cargo test; awk '{n+=$1} END {print n}' /tmp/tally`).
pub const TALLY_ENV: &str = "DRIFT_SCHEMA_TALLY";

/// The requests the spec check covers: sent by drift (its `User-Agent`, `drift/{version}`, so a test's own probes of
/// the sandbox are left out), to the ARM front door (`/arm/...`, `Sandbox::env`'s `DRIFT_ARM_ENDPOINT`), with a
/// method that carries a body in ARM (PUT, POST, PATCH). POSTs without a body (job cancel) are checked too: the spec
/// must have the operation and must not require one.
pub fn drift_arm_writes(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.header("user-agent").is_some_and(|ua| ua.starts_with("drift/")))
        .filter(|r| r.path.starts_with("/arm/"))
        .filter(|r| ["PUT", "POST", "PATCH"].iter().any(|m| r.method.eq_ignore_ascii_case(m)))
        .collect()
}

/// What [`check`] found: the operation of every checked request, and one text per failing request (method, path,
/// every violation, the body).
#[derive(Debug, Default)]
pub struct Checked {
    pub operations: Vec<String>,
    pub failures: Vec<String>,
}

/// Checks every request [`drift_arm_writes`] selects against the spec.
pub fn check(requests: &[RecordedRequest]) -> Checked {
    let spec = openapi::Spec::azureml();
    let mut checked = Checked::default();
    for r in drift_arm_writes(requests) {
        let path = &r.path["/arm".len()..];
        match spec.check_request(&r.method, path, &r.body) {
            Ok(op) => checked.operations.push(op.id.clone()),
            Err(violations) => {
                let lines: Vec<String> = violations.iter().map(|v| format!("    {v}")).collect();
                checked.operations.push(format!("{} {path}", r.method));
                checked.failures.push(format!(
                    "{} {path}\n{}\n    body: {}",
                    r.method,
                    lines.join("\n"),
                    r.body_text()
                ));
            }
        }
    }
    checked
}

/// [`check`], panicking with every failure; `what` says whose traffic it was. Returns the operations checked.
pub fn assert_valid(requests: &[RecordedRequest], what: &str) -> Vec<String> {
    let Checked { operations, failures } = check(requests);
    tally(&operations);
    assert!(
        failures.is_empty(),
        "{} of the {} ARM writes drift sent ({what}) break the 2025-12-01 spec ({}/mfe.json):\n{}",
        failures.len(),
        operations.len(),
        openapi::AZUREML_SPEC_DIR,
        failures.join("\n")
    );
    operations
}

/// One line per check, written with a single `write` so parallel tests do not interleave.
fn tally(operations: &[String]) {
    let Ok(path) = std::env::var(TALLY_ENV) else { return };
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let line = format!("{}\t{test}\t{}\n", operations.len(), operations.join(","));
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// Reads a sandbox traffic file (`SandboxOptions::traffic_file`, one JSON line per request: sandbox README) back
/// into recorded requests.
pub fn read_traffic(path: &std::path::Path) -> Vec<RecordedRequest> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("traffic lines are JSON");
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let body = match (&v["body"], &v["bodyBase64"]) {
                (serde_json::Value::String(b), _) => b.clone().into_bytes(),
                (_, serde_json::Value::String(b)) => {
                    base64::engine::general_purpose::STANDARD.decode(b).expect("bodyBase64 is base64")
                }
                _ => Vec::new(),
            };
            RecordedRequest {
                method: text("method"),
                path: text("path"),
                query: v["query"].as_str().map(str::to_string),
                headers: v["headers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|h| (h[0].as_str().unwrap_or_default().into(), h[1].as_str().unwrap_or_default().into()))
                    .collect(),
                body,
                status: v["status"].as_u64().unwrap_or_default() as u16,
            }
        })
        .collect()
}

//! `drift demo`: the whole flow against an in-process sandbox — no Azure account, no network. It seeds a small
//! workspace, then runs drift's own commands through the same code paths a real run takes.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::sync::{Arc, Mutex};

use drift_sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};

use crate::cli::DemoArgs;
use crate::error::Error;
use crate::output::Report;
use crate::shutdown::Shutdown;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID: &str = "66666666-7777-8888-9999-000000000000";
const VAULT: &str = "drift-demo-kv";

/// Buffers a sub-command's output so the demo can show it indented under its step.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

struct Step {
    title: &'static str,
    code: u8,
    report: Value,
    output: String,
}

pub async fn run(args: DemoArgs, shutdown: Shutdown) -> Result<Report, Error> {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .map_err(|e| Error::Io(format!("cannot start the sandbox on 127.0.0.1: {e}")))?;
    let secret = demo_secret();
    sandbox.add_service_principal(TENANT, CLIENT_ID, &secret);
    sandbox.set_managed_identity("demo-vm-identity");
    sandbox.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sandbox.add_vault_secret(VAULT, "ApplicationPassword", &secret);
    sandbox.add_vault_secret(VAULT, "TenantID", TENANT);
    tracing::info!(target: "drift::demo", url = %sandbox.url(), "sandbox started");

    let mut env: HashMap<String, String> = sandbox.env().into_iter().collect();
    env.insert("PATH".into(), String::new());
    let dir = tempfile::tempdir().map_err(|e| Error::Io(format!("cannot create a temporary directory: {e}")))?;

    let mut steps = Vec::new();
    steps.push(
        step(
            "credentials: service principal from Key Vault, read with the machine's managed identity",
            &["auth", "describe", "--vault_name", VAULT],
            &env,
        )
        .await,
    );
    let _ = (&dir, &shutdown);

    let mut report = Report::new("demo", "completed");
    let failed = steps.iter().find(|s| s.code != 0).map(|s| (s.title, s.code));
    let mut text = vec![format!("drift demo — sandbox at {}", sandbox.url())];
    for (i, s) in steps.iter().enumerate() {
        text.push(format!("\n[{}] {} → exit {}", i + 1, s.title, s.code));
        text.extend(s.output.lines().map(|l| format!("    {l}")));
    }
    if let Some((title, code)) = failed {
        report.outcome = "failed".into();
        report.exit_code = code;
        report.error = Some(format!("demo step failed: {title}"));
    }
    if args.keep {
        text.push(format!("\nsandbox still running at {} — press Ctrl-C to stop", sandbox.url()));
    }
    report.details = json!({
        "sandbox": sandbox.url(),
        "steps": steps.iter().map(|s| json!({"title": s.title, "exitCode": s.code, "report": s.report})).collect::<Vec<_>>(),
    });
    report.text = text;
    if args.keep {
        shutdown.wait().await;
    }
    Ok(report)
}

/// Runs one drift command in-process against the sandbox with a JSON report, on its own thread (each drift run
/// owns its runtime).
async fn step(title: &'static str, args: &[&str], env: &HashMap<String, String>) -> Step {
    let out = Buffer::default();
    let err = Buffer::default();
    let mut argv: Vec<OsString> = vec!["drift".into(), "--output".into(), "json".into()];
    argv.extend(args.iter().map(OsString::from));
    let invocation = crate::Invocation::new(argv, env.clone(), Box::new(out.clone()), Box::new(err.clone()));
    let code = tokio::task::spawn_blocking(move || crate::run(invocation).code()).await.unwrap_or(70);
    let stdout = out.text();
    let report = stdout.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    let mut output = String::new();
    if let Some(lines) = report.get("error").and_then(Value::as_str) {
        output.push_str(&format!("error: {lines}\n"));
    }
    output.push_str(&summarize(&report));
    if code != 0 {
        output.push_str(&err.text());
    }
    Step { title, code, report, output }
}

fn summarize(report: &Value) -> String {
    let d = &report["details"];
    match report["command"].as_str() {
        Some("auth describe") => format!(
            "client {} in tenant {}; secret from {} ({}); token verified: {}\n",
            d["clientId"].as_str().unwrap_or("?"),
            d["tenantId"].as_str().unwrap_or("?"),
            d["source"].as_str().unwrap_or("?"),
            d["vaultReadWith"].as_str().unwrap_or("-"),
            d["tokenVerified"]
        ),
        _ => format!("outcome: {}\n", report["outcome"].as_str().unwrap_or("?")),
    }
}

/// A fresh secret per demo, so nothing in the repository looks like a credential.
fn demo_secret() -> String {
    use rand::Rng;
    let s: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect();
    format!("demo~{s}")
}

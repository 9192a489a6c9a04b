//! One Azurite (Blob service) per test binary, shared by its tests: started on first use through
//! `scripts/azurite.sh` on a free loopback port, stopped when the test process exits (the script watches the
//! stdin pipe this process holds). `DRIFT_AZURITE_BLOB_ENDPOINT=http://127.0.0.1:10000/{account}` uses an
//! Azurite started elsewhere instead.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The emulator's fixed account and its documented, public key.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An endpoint template (with `{account}`) of an external Azurite.
pub const ENDPOINT_ENV: &str = "DRIFT_AZURITE_BLOB_ENDPOINT";

/// Covers a cold `npm install` (about a minute) plus Azurite's start (4–16 s).
const START_TIMEOUT: Duration = Duration::from_secs(240);

const HOW_TO: &str = "These tests need Azurite (Node.js 20 + npm). Run them with\n    \
    cargo test --test azurite_storage -- --include-ignored\nwhich starts scripts/azurite.sh itself (it installs \
    azurite@3.35.0 into .ci/cache/azurite with npm when missing), or start Azurite yourself and set\n    \
    DRIFT_AZURITE_BLOB_ENDPOINT=http://127.0.0.1:10000/{account}";

pub struct Azurite {
    /// `http://127.0.0.1:PORT/{account}`, the form `DRIFT_BLOB_ENDPOINT` takes.
    pub endpoint_template: String,
    /// How long installing (if needed) and starting took, for the test log.
    pub startup: Duration,
    /// Kept for the life of the process: its stdin pipe closing at exit is what stops Azurite.
    _child: Option<Mutex<Child>>,
}

/// The shared Azurite, started on first call. Panics with instructions when it cannot be started: these tests
/// must fail loudly, never pass without a peer.
pub fn azurite() -> &'static Azurite {
    static AZURITE: OnceLock<Result<Azurite, String>> = OnceLock::new();
    match AZURITE.get_or_init(start) {
        Ok(a) => a,
        Err(e) => panic!("Azurite is not available: {e}\n\n{HOW_TO}"),
    }
}

fn start() -> Result<Azurite, String> {
    if let Ok(template) = std::env::var(ENDPOINT_ENV) {
        if !template.contains("{account}") {
            return Err(format!("{ENDPOINT_ENV}={template:?} must contain {{account}}"));
        }
        return Ok(Azurite { endpoint_template: template, startup: Duration::ZERO, _child: None });
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/azurite.sh");
    let port = free_port()?;
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(&script)
        .args(["--port", &port.to_string(), "--until-stdin-closes"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    // Drain stderr for the whole run (a full pipe would stall Azurite) and keep it for error messages.
    let log = Arc::new(Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("AZURITE_READY ") {
                let _ = tx.send(Some(line));
                return;
            }
        }
        let _ = tx.send(None);
    });
    let stderr_tail =
        || log.lock().map(|s| s.lines().rev().take(20).collect::<Vec<_>>().join("\n")).unwrap_or_default();
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(Some(line)) => {
            let startup = started.elapsed();
            eprintln!("azurite: {line} (ready after {:.1} s)", startup.as_secs_f64());
            Ok(Azurite {
                endpoint_template: format!("http://127.0.0.1:{port}/{{account}}"),
                startup,
                _child: Some(Mutex::new(child)),
            })
        }
        Ok(None) => {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("scripts/azurite.sh stopped ({status}) before Azurite was ready:\n{}", stderr_tail()))
        }
        Err(_) => {
            let _ = child.kill();
            Err(format!("no answer from Azurite within {} s:\n{}", START_TIMEOUT.as_secs(), stderr_tail()))
        }
    }
}

/// A port nobody listens on right now (the OS picks it; another process could take it before Azurite does,
/// which the script reports as "exited before answering").
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

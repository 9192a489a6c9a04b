//! Managed identity through IMDS at its default address, with no endpoint override: inside a network namespace this
//! test makes itself, 169.254.169.254 is put on the loopback device, the sandbox serves IMDS there on port 80, and
//! the real `drift auth describe --vault_name` must get its Key Vault token through it while proxy variables point
//! at a trap that must never be used (IMDS is to be reached without a proxy). Nothing leaves the namespace.
//!
//! A plain program (`harness = false`): it re-runs itself under `unshare --net` and does the work in the child.
//! Where namespaces cannot be made (not root, no `unshare`) it says so loudly and passes, unless
//! `DRIFT_REQUIRE_NETNS=1` (set by `.ci/run`, which runs as root) turns that into a failure.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{CLIENT_ID, CLIENT_SECRET, TENANT, VAULT, base_env, sandbox};

/// Set in the child that runs inside the namespace.
const INNER: &str = "DRIFT_IMDS_NETNS_INNER";

fn main() -> ExitCode {
    if std::env::var_os(INNER).is_some() {
        inner();
        println!("imds_netns: drift reached IMDS at http://169.254.169.254 without a proxy: ok");
        return ExitCode::SUCCESS;
    }
    let required = std::env::var("DRIFT_REQUIRE_NETNS").is_ok_and(|v| v == "1");
    if let Err(why) = can_make_namespaces() {
        let message = format!("imds_netns: SKIPPED, cannot make a network namespace here ({why})");
        eprintln!("\n{}\n{message}\n{}\n", "!".repeat(message.len()), "!".repeat(message.len()));
        return if required { ExitCode::FAILURE } else { ExitCode::SUCCESS };
    }
    let exe = std::env::current_exe().expect("own path");
    let status = Command::new("unshare").arg("--net").arg("--").arg(exe).env(INNER, "1").status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("imds_netns: the namespaced run failed ({s})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("imds_netns: cannot run unshare: {e}");
            ExitCode::FAILURE
        }
    }
}

fn can_make_namespaces() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().next());
    if uid != Some("0") {
        return Err(format!("not root (uid {})", uid.unwrap_or("?")));
    }
    for probe in [vec!["unshare", "--net", "true"], vec!["ip", "-V"]] {
        match Command::new(probe[0]).args(&probe[1..]).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!("`{}` failed: {}", probe.join(" "), String::from_utf8_lossy(&o.stderr).trim()));
            }
            Err(e) => return Err(format!("`{}`: {e}", probe[0])),
        }
    }
    Ok(())
}

/// Runs inside the fresh namespace: only a loopback device, down, exists here.
fn inner() {
    for args in [&["link", "set", "lo", "up"][..], &["addr", "add", "169.254.169.254/32", "dev", "lo"]] {
        let out = Command::new("ip").args(args).output().expect("ip runs");
        assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }

    let sb = sandbox();
    sb.add_vault_secret(VAULT, "ApplicationID", CLIENT_ID);
    sb.add_vault_secret(VAULT, "ApplicationPassword", CLIENT_SECRET);
    sb.add_vault_secret(VAULT, "TenantID", TENANT);
    sb.set_managed_identity("vm-principal");
    let imds = sb.serve_imds_at(SocketAddr::from((Ipv4Addr::new(169, 254, 169, 254), 80))).expect("bind IMDS");
    assert_eq!(imds.port(), 80);

    // A proxy that must stay unused: it counts the connections it gets.
    let trap = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind trap");
    let trap_url = format!("http://{}", trap.local_addr().expect("trap address"));
    let trapped = Arc::new(AtomicUsize::new(0));
    {
        let trapped = trapped.clone();
        std::thread::spawn(move || {
            for stream in trap.incoming() {
                trapped.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
    }

    // The sandbox's overrides for Entra ID and Key Vault (loopback), but none for IMDS: drift uses its default.
    let mut command = Command::new(env!("CARGO_BIN_EXE_drift"));
    command.env_clear().args(["--output", "json", "auth", "describe", "--vault_name", VAULT]);
    for (name, value) in base_env(&sb) {
        if name != "DRIFT_IMDS_ENDPOINT" {
            command.env(name, value);
        }
    }
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        command.env(name, &trap_url);
    }
    let out = command.output().expect("drift runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "drift auth describe failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    let report = common::report_schema::parse(stdout.lines().last().unwrap_or_default(), "auth describe over IMDS");
    assert_eq!(report["details"]["vaultReadWith"], "managed identity (IMDS)", "{report}");
    assert_eq!(report["details"]["clientId"], CLIENT_ID, "{report}");

    let imds_calls: Vec<_> =
        sb.requests().into_iter().filter(|r| r.path == "/metadata/identity/oauth2/token").collect();
    assert!(!imds_calls.is_empty(), "no request reached IMDS at 169.254.169.254");
    for call in &imds_calls {
        assert_eq!(call.header("metadata"), Some("true"), "IMDS needs the Metadata header");
        assert_eq!(call.query_param("resource").as_deref(), Some("https://vault.azure.net"));
    }
    assert_eq!(trapped.load(Ordering::SeqCst), 0, "a request went through the proxy");
}

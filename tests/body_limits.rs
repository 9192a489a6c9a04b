//! Giant response bodies against drift's limits, with memory measured in this process (a plain program, not the
//! test harness, so nothing else runs beside it): the in-process sandbox streams 1 GiB answers without holding
//! them, drift refuses them with exit 4, and the process's peak resident memory (VmHWM) stays within the
//! documented limit plus a fixed allowance for everything else.

mod common;

use std::process::ExitCode;

use common::ml::*;
use common::*;
use drift_sandbox::Fault;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;
/// What drift and the sandbox hold besides the body (runtime, TLS tables, the test's own buffers).
const ALLOWANCE: u64 = 64 * MIB;

/// Peak resident set size of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

struct Case {
    name: &'static str,
    fault: Fault,
    limit: u64,
    retrainer: bool,
}

fn main() -> ExitCode {
    let cases = [
        Case {
            name: "job list, 1 GiB declared in Content-Length",
            fault: Fault::giant_body("/jobs?", GIB, true),
            limit: drift::http::MAX_RESPONSE_BYTES as u64,
            retrainer: true,
        },
        Case {
            name: "job list, 1 GiB chunked (no length)",
            fault: Fault::giant_body("/jobs?", GIB, false),
            limit: drift::http::MAX_RESPONSE_BYTES as u64,
            retrainer: true,
        },
        Case {
            name: "Delta commit blob, 1 GiB chunked",
            fault: Fault::giant_body("_delta_log/0000", GIB, false).method("GET"),
            limit: drift::azure::storage::MAX_BLOB_READ_BYTES as u64,
            retrainer: false,
        },
    ];
    let mut failed = 0;
    for case in cases {
        let before = peak_rss();
        let (sb, ws) = ml_sandbox();
        let (_d, config) = if case.retrainer {
            add_versions(&sb, &ws, "sales", &["1"]);
            retrainer_config(&[("training_data", "sales")], 30, 1, "")
        } else {
            sb.add_storage_account("datalakeprod", "ZHJpZnQtdGVzdC1rZXktZm9yLWRhdGFsYWtlcHJvZA==");
            let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delta/small");
            sb.add_directory("datalakeprod", "curated-data", "delta/sales/daily", fixture).unwrap();
            write_temp(
                "registrator.yaml",
                &format!(
                    "Processing:\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: datalakeprod\n    containerName: curated-data\n    containerDataPath: delta/sales/daily\n"
                ),
            )
        };
        sb.push_fault(case.fault);
        let out = drift(&["--output", "json", "run", "--config", &config], &sp_env(&sb));
        let grew = peak_rss().saturating_sub(before);
        let error = out.report()["error"].as_str().unwrap_or_default().to_string();
        let ok = out.code == 4 && error.contains("larger than drift's limit") && grew <= case.limit + ALLOWANCE;
        println!(
            "body_limits: {}: exit {}, peak memory grew {} MiB (limit {} MiB + {} MiB allowance): {}",
            case.name,
            out.code,
            grew / MIB,
            case.limit / MIB,
            ALLOWANCE / MIB,
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            println!("  error: {error}\n  stderr: {}", out.stderr);
            failed += 1;
        }
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

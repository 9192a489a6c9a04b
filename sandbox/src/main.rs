//! `drift-sandbox`: runs the sandbox as a process. Prints where it listens and the `export` lines a shell needs to
//! point drift at it, then serves until SIGINT or SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use drift_sandbox::{Sandbox, SandboxOptions};

#[derive(Debug, Parser)]
#[command(name = "drift-sandbox", version, about = "Local fake of the Azure services drift talks to")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the first line printed names it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// JSON seed file: tenants, servicePrincipals, federatedCredentials, managedIdentity, vaults, storageAccounts,
    /// workspaces, jobSettings, grants.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Delay added before answering every request, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "N", default_value_t = 3599)]
    token_lifetime_secs: u64,
    /// Print one line per request to stderr.
    #[arg(long)]
    log_requests: bool,
    /// Append every request as one JSON line to FILE: seq, method, path, query, headers, status, body (text) or
    /// bodyBase64. Used by the oracle suite (tests/oracle/) to compare drift's requests with the Azure SDK's.
    #[arg(long, value_name = "FILE")]
    traffic_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Read the seed before binding so a bad file fails fast without a half-started server.
    let seed = match args.seed.as_deref().map(read_seed).transpose() {
        Ok(seed) => seed,
        Err(message) => {
            eprintln!("drift-sandbox: {message}");
            return ExitCode::from(2);
        }
    };
    let options = SandboxOptions {
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        token_lifetime: Duration::from_secs(args.token_lifetime_secs),
        log_requests: args.log_requests,
        traffic_file: args.traffic_file.clone(),
    };
    let sandbox = match Sandbox::start(options) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            // The error names the traffic file when that is what failed.
            eprintln!("drift-sandbox: cannot start on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    // Loaded from the file (not the value read above) so that relative `localDir`s resolve against its folder.
    if let (Some(_), Some(path)) = (&seed, &args.seed)
        && let Err(message) = sandbox.load_seed_file(path)
    {
        eprintln!("drift-sandbox: {}: {message}", path.display());
        return ExitCode::from(2);
    }

    let mut out = std::io::stdout().lock();
    let mut lines = vec![format!("drift-sandbox listening on {}", sandbox.url())];
    lines.extend(sandbox.env().iter().map(|(name, value)| format!("export {name}={}", shell_quote(value))));
    for line in lines {
        // Whoever started us may have closed stdout already; serving is still useful then.
        let _ = writeln!(out, "{line}");
    }
    // Flushed explicitly: scripts read these lines through a pipe while the process keeps running.
    let _ = out.flush();
    drop(out);

    match wait_for_signal() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drift-sandbox: cannot wait for signals: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_seed(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("seed file {} is not valid JSON: {e}", path.display()))
}

/// Quotes a value for `eval` in POSIX shells only when it needs it (the `{vault}` templates do).
fn shell_quote(value: &str) -> String {
    let plain = value.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./:@%+=,".contains(&b));
    if plain { value.to_string() } else { format!("'{}'", value.replace('\'', r"'\''")) }
}

/// Blocks until SIGINT or (on Unix) SIGTERM. The sandbox serves from its own thread meanwhile.
fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                result = tokio::signal::ctrl_c() => result,
                _ = terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("http://127.0.0.1:1/arm"), "http://127.0.0.1:1/arm");
        assert_eq!(shell_quote("http://127.0.0.1:1/kv/{vault}"), "'http://127.0.0.1:1/kv/{vault}'");
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn arguments() {
        let args = Args::try_parse_from(["drift-sandbox", "--port", "8080", "--latency-ms", "20"]).expect("parse");
        assert_eq!((args.port, args.latency_ms, args.token_lifetime_secs), (8080, 20, 3599));
        assert_eq!(args.traffic_file, None);
        let args = Args::try_parse_from(["drift-sandbox", "--traffic-file", "t.jsonl"]).expect("parse");
        assert_eq!(args.traffic_file, Some(PathBuf::from("t.jsonl")));
        assert!(Args::try_parse_from(["drift-sandbox", "--bogus"]).is_err());
    }
}

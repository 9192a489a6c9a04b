//! Pipeline benchmarks (not tests): the shipped (`dist` profile) `drift` binary against the in-process sandbox,
//! timed from the outside with `/usr/bin/time -v` (wall time, peak RSS) and counted by the sandbox (requests). Run
//! it with `scripts/bench.sh`, which builds the binaries and prints the tables that go into docs/performance.md.
//!
//! Sections: `registrator`, `changes` (the registrator recording 1, 100 and 10,000 commits' changes), `plan`,
//! `history` (`drift history` over the same workspace as `plan`, with the default window and with every run listed),
//! `polling`, `fanout` (one drift process per table, N tables in sequence and all
//! at once, as a Databricks For each runs them). All run by default; name some to run only those:
//! `cargo bench --bench pipelines -- fanout`.
//!
//! Environment: `DRIFT_BENCH_BIN` (the drift binary; default target/dist/drift), `DRIFT_BENCH_PYTHON` (a
//! Python with azure-ai-ml installed, for the SDK comparison; skipped with a note when unset), `DRIFT_BENCH_JOBS`
//! (default 100000), `DRIFT_BENCH_TABLES` (the fan-out's table counts, default `1,10,50`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use drift_sandbox::{GenerateSpec, GeneratedJobs, JobSeed, Sandbox, SandboxOptions, WorkspaceRef};
use serde_json::{Map, Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "9f3c1a52-6d0e-4b7a-8c21-5e4f3a2b1c0d";
const CLIENT_SECRET: &str = "bench-secret-value";
const SUB: &str = "00000000-1111-2222-3333-444444444444";
const RG: &str = "rg-bench";
const WS: &str = "ws-bench";

struct Measured {
    code: i32,
    wall: Duration,
    max_rss_kb: u64,
    stdout: String,
    stderr: String,
}

fn drift_bin() -> PathBuf {
    std::env::var_os("DRIFT_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dist/drift"))
}

/// The environment a drift run gets: the sandbox's endpoints and the service principal.
fn drift_env(sb: &Sandbox) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = sb.env().into_iter().collect();
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    env.insert("AZURE_CLIENT_SECRET".into(), CLIENT_SECRET.into());
    env.insert("AZURE_TENANT_ID".into(), TENANT.into());
    env
}

/// Runs drift under `/usr/bin/time -v` with the sandbox's environment.
fn measure(sb: &Sandbox, args: &[&str]) -> Measured {
    measure_with(&drift_env(sb), args)
}

/// Runs drift under `/usr/bin/time -v` with the given environment only.
fn measure_with(env: &HashMap<String, String>, args: &[&str]) -> Measured {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(drift_bin())
        .args(args)
        .env_clear()
        .envs(env)
        .output()
        .expect("/usr/bin/time runs (apt-get install time)");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let max_rss_kb = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Measured {
        code: out.status.code().unwrap_or(-1),
        wall,
        max_rss_kb,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

fn sandbox(latency_ms: u64) -> (Sandbox, WorkspaceRef) {
    let sb = Sandbox::start(SandboxOptions::default()).expect("sandbox");
    sb.add_service_principal(TENANT, CLIENT_ID, CLIENT_SECRET);
    let ws = sb.add_workspace(SUB, RG, WS);
    sb.set_latency(Duration::from_millis(latency_ms));
    (sb, ws)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn counts(sb: &Sandbox) -> (usize, usize) {
    let all = sb.requests();
    let tokens = all.iter().filter(|r| r.path.starts_with("/aad/")).count();
    (all.len(), tokens)
}

fn registrator(latency_ms: u64) {
    let (sb, _ws) = sandbox(latency_ms);
    sb.add_storage_account("benchlake", "YmVuY2gtbGFrZS1rZXk=");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delta/small");
    sb.add_directory("benchlake", "curated", "delta/sales", &fixture).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "reg.yaml",
        &format!(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml: {{subscriptionId: {SUB}, resourceGroup: {RG}, mlWorkspaceName: {WS}}}\n    storageAccountName: benchlake\n    containerName: curated\n    containerDataPath: delta/sales\n"
        ),
    );
    let m = measure(&sb, &["--output", "json", "run", "--config", &cfg]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let (total, tokens) = counts(&sb);
    println!(
        "| registrator, first registration | {latency_ms} ms | {:.3} s | {} MB | {total} ({tokens} token) |",
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024
    );
    for r in sb.requests() {
        println!("|  | | | | `{} {}` |", r.method, r.path.split("/workspaces/").last().unwrap_or(&r.path));
    }
    sb.clear_requests();
    let m = measure(&sb, &["--output", "json", "run", "--config", &cfg]);
    assert_eq!(m.code, 0);
    let (total, tokens) = counts(&sb);
    println!(
        "| registrator, rerun (unchanged) | {latency_ms} ms | {:.3} s | {} MB | {total} ({tokens} token) |",
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024
    );
}

/// The registrator's extra cost of recording changes: a table with a registration at Delta version 0 and
/// `commits` newer commits (Spark-shaped appends), registered once. The range's newest commit is the one the state
/// read fetches anyway; every other commit in it is one GET, 16 in flight.
fn registrator_changes(commits: u64, latency_ms: u64) {
    let (sb, ws) = sandbox(latency_ms);
    sb.add_storage_account("benchlake", "YmVuY2gtbGFrZS1rZXk=");
    for v in 0..=commits {
        let ms = 1_796_000_000_000_i64 + v as i64 * 1000;
        let text = format!(
            "{}\n{}\n",
            json!({"commitInfo": {"timestamp": ms, "operation": "WRITE", "operationMetrics": {"numFiles": "1", "numOutputRows": "10"}}}),
            json!({"add": {"path": format!("part-{v}.parquet"), "partitionValues": {}, "size": 1, "modificationTime": ms, "dataChange": true}})
        );
        sb.add_blob("benchlake", "curated", &format!("delta/events/_delta_log/{v:020}.json"), text);
    }
    sb.add_data_version(
        &ws,
        "curated-delta-events-mltable",
        "20260101000000",
        json!({"dataType": "mltable", "dataUri": "azureml://datastores/workspaceblobstore/paths/x/", "tags": {"drift.deltaVersion": "0"}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "reg.yaml",
        &format!(
            "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml: {{subscriptionId: {SUB}, resourceGroup: {RG}, mlWorkspaceName: {WS}}}\n    storageAccountName: benchlake\n    containerName: curated\n    containerDataPath: delta/events\n"
        ),
    );
    sb.clear_requests();
    let m = measure(&sb, &["--output", "json", "run", "--config", &cfg]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let report: Value = serde_json::from_str(m.stdout.lines().next_back().unwrap()).unwrap();
    assert_eq!(report["details"]["changes"]["drift.commits"], commits.to_string(), "{report}");
    assert_eq!(report["details"]["changes"]["drift.rowsInserted"], (commits * 10).to_string(), "{report}");
    let requests = sb.requests();
    let commit_gets = requests.iter().filter(|r| r.method == "GET" && r.path.ends_with(".json")).count();
    let list_pages = requests.iter().filter(|r| r.query.as_deref().unwrap_or_default().contains("comp=list")).count();
    println!(
        "| {commits} | {latency_ms} ms | {:.3} s | {} MB | {} | {commit_gets} (1 newest + {} range) | {list_pages} |",
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024,
        requests.len(),
        commit_gets.saturating_sub(1)
    );
}

fn retrainer_config(dir: &Path) -> String {
    write(
        dir,
        "ret.yaml",
        &format!(
            "Processing:\n  type: ModelRetrainer\n  parameters:\n    azml: {{subscriptionId: {SUB}, resourceGroup: {RG}, mlWorkspaceName: {WS}}}\n    dataAssets: [{{name: training_data, value: sales}}]\n    refreshTimeout: \"600\"\n    refreshDelay: \"1\"\n"
        ),
    )
}

/// Version 3 of the generated jobs' asset: what `plan --data_asset_version 3` retrains on (drift checks it exists).
fn add_target_version(sb: &Sandbox, ws: &WorkspaceRef) {
    sb.add_data_version(
        ws,
        "sales",
        "3",
        json!({"dataType": "mltable", "dataUri": "azureml://datastores/workspaceblobstore/paths/sales/3/"}),
    );
}

/// A bare HTTP walk of the job list: GET, read `nextLink`, repeat — the floor any client pays.
fn bare_walk(sb: &Sandbox) -> (Duration, usize) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let token: Value = http
            .post(format!("{}/aad/{TENANT}/oauth2/v2.0/token", sb.url()))
            .form(&[("grant_type", "client_credentials"), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET), ("scope", "https://management.azure.com/.default")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        #[derive(serde::Deserialize)]
        struct Link {
            #[serde(rename = "nextLink")]
            next_link: Option<String>,
        }
        let started = Instant::now();
        let mut url = Some(format!(
            "{}/arm/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/jobs?api-version=2025-12-01&jobType=Pipeline&listViewType=ActiveOnly",
            sb.url()
        ));
        let mut pages = 0;
        while let Some(u) = url {
            let body = http.get(&u).header("authorization", &bearer).send().await.unwrap().bytes().await.unwrap();
            pages += 1;
            url = serde_json::from_slice::<Link>(&body).unwrap().next_link;
        }
        (started.elapsed(), pages)
    })
}

/// The official Python SDK listing the same jobs (azure-ai-ml's MLClient.jobs.list), when a Python with it is given.
fn python_sdk(sb: &Sandbox) -> Option<(Duration, u64, String)> {
    let python = std::env::var("DRIFT_BENCH_PYTHON").ok()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/sdk_list.py");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(&python)
        .arg(script)
        .env("AZUREML_DEV_URL_MFE", format!("{}/arm", sb.url()))
        .env("BENCH_TOKEN_URL", format!("{}/aad/{TENANT}/oauth2/v2.0/token", sb.url()))
        .env("BENCH_CLIENT_ID", CLIENT_ID)
        .env("BENCH_CLIENT_SECRET", CLIENT_SECRET)
        .env("BENCH_SUB", SUB)
        .env("BENCH_RG", RG)
        .env("BENCH_WS", WS)
        .output()
        .ok()?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() {
        return Some((wall, rss, format!("failed: {}", stderr.lines().rfind(|l| !l.starts_with('\t')).unwrap_or(""))));
    }
    Some((wall, rss, stdout))
}

/// A sandbox whose workspace holds `jobs` generated jobs in 50 groups on versions 1 and 2 of `sales`, listed in
/// pages of 100, with version 3 registered as the target; the folder the retrainer config goes in.
fn large_workspace(jobs: usize, latency_ms: u64) -> (Sandbox, GeneratedJobs, tempfile::TempDir) {
    let (sb, ws) = sandbox(latency_ms);
    let generated = sb.generate_jobs(
        &ws,
        GenerateSpec {
            jobs,
            groups: 50,
            asset: "sales".into(),
            versions: vec!["1".into(), "2".into()],
            ..GenerateSpec::default()
        },
    );
    sb.set_jobs_page_size(100);
    add_target_version(&sb, &ws);
    (sb, generated, tempfile::tempdir().unwrap())
}

fn retrainer_plan(jobs: usize, latency_ms: u64) {
    let (sb, generated, dir) = large_workspace(jobs, latency_ms);
    let cfg = retrainer_config(dir.path());
    sb.clear_requests();
    let m = measure(&sb, &["--output", "json", "plan", "--config", &cfg, "--data_asset_version", "3"]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let report: Value = serde_json::from_str(m.stdout.lines().next_back().unwrap()).unwrap();
    let pages = report["details"]["scan"]["pages"].as_u64().unwrap();
    let groups = report["details"]["groups"].as_array().unwrap().len();
    let (total, tokens) = counts(&sb);
    sb.clear_requests();
    let (walk, walk_pages) = bare_walk(&sb);
    assert_eq!(walk_pages as u64, pages);
    let overhead = (m.wall.as_secs_f64() - walk.as_secs_f64()) / walk.as_secs_f64() * 100.0;
    println!(
        "| drift plan | {jobs} ({} listed) | {latency_ms} ms | {:.2} s | {} MB | {total} = {pages} pages + {groups} group GETs + {tokens} token | {overhead:+.0} % vs. bare walk |",
        generated.active_pipeline,
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024
    );
    println!(
        "| bare HTTP walk (Rust, nextLink only) | {jobs} | {latency_ms} ms | {:.2} s | – | {walk_pages} pages | |",
        walk.as_secs_f64()
    );
    match python_sdk(&sb) {
        Some((wall, rss, result)) => println!(
            "| azure-ai-ml `MLClient.jobs.list()` | {jobs} | {latency_ms} ms | {:.2} s | {} MB | {result} | |",
            wall.as_secs_f64(),
            rss / 1024
        ),
        None => println!("| azure-ai-ml | {jobs} | {latency_ms} ms | (set DRIFT_BENCH_PYTHON) | | | |"),
    }
}

/// `drift history` over the workspace `plan` scans: the same streamed list plus one list of the asset's versions.
/// `window` `30d` lists no run (the generated jobs are from 2025) and measures the scan and the states alone;
/// `3650d` keeps every in-scope run, the most `history` can hold.
fn history(jobs: usize, latency_ms: u64, window: &str) {
    let (sb, _, dir) = large_workspace(jobs, latency_ms);
    let cfg = retrainer_config(dir.path());
    let page = dir.path().join("history.html");
    sb.clear_requests();
    let m = measure(
        &sb,
        &["--output", "json", "history", "--config", &cfg, "--since", window, "--out", page.to_str().unwrap()],
    );
    assert_eq!(m.code, 0, "{}", m.stderr);
    let report: Value = serde_json::from_str(m.stdout.lines().next_back().unwrap()).unwrap();
    let d = &report["details"];
    let runs: usize = d["groups"].as_array().unwrap().iter().map(|g| g["runs"].as_array().unwrap().len()).sum();
    let (total, tokens) = counts(&sb);
    let writes = sb.requests().iter().filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD")).count() - tokens;
    let html_kb = std::fs::metadata(&page).map(|m| m.len() / 1024).unwrap_or(0);
    println!(
        "| drift history --since {window} | {jobs} | {latency_ms} ms | {:.2} s | {} MB | {total} = {} pages + {} other + {tokens} token, {writes} writes | {} groups, {runs} runs listed, page {html_kb} KB |",
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024,
        d["scan"]["pages"],
        total - tokens - d["scan"]["pages"].as_u64().unwrap() as usize,
        d["groups"].as_array().unwrap().len(),
    );
}

fn at(minutes: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_793_491_200 + minutes * 60)
}

fn polling(groups: usize, latency_ms: u64) {
    let (sb, ws) = sandbox(latency_ms);
    for v in ["1", "2"] {
        sb.add_data_version(&ws, "sales", v, json!({"dataType": "mltable", "dataUri": format!("azureml://datastores/workspaceblobstore/paths/sales/{v}/")}));
    }
    let uri = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}/data/sales/versions/1"
    );
    for g in 0..groups {
        let mut inputs = Map::new();
        inputs.insert("training_data".into(), json!({"jobInputType": "mltable", "uri": uri, "mode": "ReadOnlyMount"}));
        sb.add_job(
            &ws,
            JobSeed {
                id: format!("job-{g}"),
                display_name: Some(format!("m{g:03}_20261101000000_x")),
                created_at: Some(at(g as u64)),
                inputs,
                ..JobSeed::default()
            },
        );
    }
    sb.set_job_steps(&["Queued", "Running", "Running", "Completed"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = retrainer_config(dir.path());
    let m = measure(
        &sb,
        &[
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "--output",
            "json",
            "run",
            "--config",
            &cfg,
            "--data_asset_version",
            "2",
        ],
    );
    assert_eq!(m.code, 0, "{}", m.stderr);
    let cycles: Vec<(u64, u64)> = m
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "poll cycle")
        .map(|v| (v["requests"].as_u64().unwrap_or(0), v["ms"].as_u64().unwrap_or(0)))
        .collect();
    for (i, (requests, ms)) in cycles.iter().enumerate() {
        println!("| polling {groups} jobs, cycle {} | {latency_ms} ms | {requests} requests | {ms} ms |", i + 1);
    }
    println!(
        "| whole run ({groups} submissions + waiting) | {latency_ms} ms | {} requests | {:.2} s |",
        counts(&sb).0,
        m.wall.as_secs_f64()
    );
}

/// Runs drift once per argument list, in sequence (`parallel` false) or all at once, each under `/usr/bin/time`;
/// returns the wall time of the whole batch and every run's measurement.
fn batch(env: &HashMap<String, String>, runs: &[Vec<String>], parallel: bool) -> (Duration, Vec<Measured>) {
    let started = Instant::now();
    let measured = if parallel {
        std::thread::scope(|s| {
            let handles: Vec<_> = runs
                .iter()
                .map(|args| s.spawn(move || measure_with(env, &args.iter().map(String::as_str).collect::<Vec<_>>())))
                .collect();
            handles.into_iter().map(|h| h.join().expect("a drift run")).collect()
        })
    } else {
        runs.iter().map(|args| measure_with(env, &args.iter().map(String::as_str).collect::<Vec<_>>())).collect()
    };
    (started.elapsed(), measured)
}

/// One table row of the fan-out: batch wall time, per-run wall (median, max), peak RSS of one run, the sum of the
/// runs' peaks (what N processes at once can hold), requests.
fn fanout_row(
    what: &str,
    n: usize,
    parallel: bool,
    latency_ms: u64,
    wall: Duration,
    runs: &[Measured],
    requests: usize,
) {
    for m in runs {
        assert_eq!(m.code, 0, "{what}: a drift run failed:\n{}", m.stderr);
    }
    let mut walls: Vec<f64> = runs.iter().map(|m| m.wall.as_secs_f64()).collect();
    walls.sort_by(f64::total_cmp);
    let rss_max = runs.iter().map(|m| m.max_rss_kb).max().unwrap_or(0);
    let rss_sum: u64 = runs.iter().map(|m| m.max_rss_kb).sum();
    println!(
        "| {what} | {n} | {} | {latency_ms} ms | {:.2} s | {:.2} s / {:.2} s | {} MB | {} MB | {requests} |",
        if parallel { "all at once" } else { "in sequence" },
        wall.as_secs_f64(),
        walls[walls.len() / 2],
        walls[walls.len() - 1],
        rss_max / 1024,
        rss_sum / 1024,
    );
}

/// Many tables, one drift process per table (what a Databricks For each over examples/databricks-for-each.yml's
/// per-table job runs): N first registrations in sequence and N more all at once, against one sandbox; then N
/// retrainer plans over one workspace of `jobs` jobs, in sequence and all at once (each lists the whole workspace).
fn fanout(tables: &[usize], jobs: usize, latency_ms: u64) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delta/small");
    for &n in tables {
        let (sb, _ws) = sandbox(latency_ms);
        sb.add_storage_account("benchlake", "YmVuY2gtbGFrZS1rZXk=");
        let dir = tempfile::tempdir().unwrap();
        let configs: Vec<Vec<String>> = (0..2 * n)
            .map(|i| {
                let path = format!("delta/t{i:04}");
                sb.add_directory("benchlake", "curated", &path, &fixture).unwrap();
                let cfg = write(
                    dir.path(),
                    &format!("reg{i}.yaml"),
                    &format!(
                        "Processing:\n  type: DatasetRegistrator\n  parameters:\n    azml: {{subscriptionId: {SUB}, resourceGroup: {RG}, mlWorkspaceName: {WS}}}\n    storageAccountName: benchlake\n    containerName: curated\n    containerDataPath: {path}\n"
                    ),
                );
                ["--output", "json", "run", "--config", &cfg].map(String::from).to_vec()
            })
            .collect();
        let env = drift_env(&sb);
        for (half, parallel) in [(&configs[..n], false), (&configs[n..], true)] {
            sb.clear_requests();
            let (wall, runs) = batch(&env, half, parallel);
            fanout_row("registrator, first registration", n, parallel, latency_ms, wall, &runs, sb.requests().len());
        }
    }
    let (sb, _, dir) = large_workspace(jobs, latency_ms);
    let cfg = retrainer_config(dir.path());
    let env = drift_env(&sb);
    let plan: Vec<String> =
        ["--output", "json", "plan", "--config", &cfg, "--data_asset_version", "3"].map(String::from).to_vec();
    for &n in &[1, 4] {
        for parallel in [false, true] {
            if n == 1 && parallel {
                continue;
            }
            sb.clear_requests();
            let (wall, runs) = batch(&env, &vec![plan.clone(); n], parallel);
            let what = format!("retrainer plan, {jobs} jobs each");
            fanout_row(&what, n, parallel, latency_ms, wall, &runs, sb.requests().len());
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` builds benches only with --benches.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let run = |section: &str| args.is_empty() || args.iter().any(|a| a == section);
    assert!(drift_bin().exists(), "build the dist binary first: cargo build --profile dist (or scripts/bench.sh)");
    let jobs: usize = std::env::var("DRIFT_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    if run("registrator") {
        println!(
            "\n### Registrator end to end\n\n| case | latency | wall | peak RSS | requests |\n|---|---|---|---|---|"
        );
        registrator(20);
    }
    if run("changes") {
        println!(
            "\n### Registrator: recording the changes of a range of commits\n\n| commits since the previous version | latency | wall | peak RSS | requests | commit GETs | list pages |\n|---|---|---|---|---|---|---|"
        );
        for commits in [1, 100, 10_000] {
            registrator_changes(commits, 20);
        }
    }
    if run("plan") {
        println!(
            "\n### Retrainer plan over a large workspace (pages of 100, 50 groups)\n\n| client | jobs | latency | wall | peak RSS | requests | overhead |\n|---|---|---|---|---|---|---|"
        );
        retrainer_plan(jobs, 0);
        retrainer_plan(jobs, 20);
    }
    if run("history") {
        println!(
            "\n### History over a large workspace (pages of 100, 50 groups)\n\n| command | jobs | latency | wall | peak RSS | requests | listed |\n|---|---|---|---|---|---|---|"
        );
        for window in ["30d", "3650d"] {
            history(jobs, 0, window);
            history(jobs, 20, window);
        }
    }
    if run("polling") {
        println!("\n### Polling\n\n| what | latency | requests | duration |\n|---|---|---|---|");
        polling(50, 20);
    }
    if run("fanout") {
        let tables: Vec<usize> = std::env::var("DRIFT_BENCH_TABLES")
            .unwrap_or_else(|_| "1,10,50".into())
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        println!(
            "\n### Many tables: one drift process per table\n\n| what | tables | how | latency | wall, all | wall per run (median / max) | peak RSS, one run | peak RSS, sum | requests |\n|---|---|---|---|---|---|---|---|---|"
        );
        fanout(&tables, jobs, 20);
    }
}

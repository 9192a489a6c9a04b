//! `drift history` end to end against the sandbox: both config kinds, every format, the window, prefixes, runs
//! drift did not submit, an empty workspace, hostile names, and that it never writes.

mod common;

use common::ml::*;
use common::*;
use drift_sandbox::{JobSeed, WorkspaceRef};
use serde_json::{Value, json};

/// 2026-11-02T00:00:00Z: a day after `at(0)`.
const NOW: &str = "2026-11-02T00:00:00Z";

fn display(group: &str, minutes: u64, suffix: &str) -> String {
    let t: chrono::DateTime<chrono::Utc> = at(minutes).into();
    format!("{group}_{}_{suffix}", t.format("%Y%m%d%H%M%S"))
}

/// A data version as the registrator tags it: Delta version `delta`, `rows` inserted since the previous one.
fn tagged(delta: u64, rows: u64) -> Value {
    json!({
        "dataType": "mltable",
        "dataUri": format!("azureml://datastores/workspaceblobstore/paths/sales/{delta}/"),
        "tags": {
            "drift.deltaVersion": delta.to_string(),
            "drift.deltaCommitTimestamp": "2026-11-01T00:00:00.000Z",
            "drift.previousDeltaVersion": (delta - 1).to_string(),
            "drift.commits": "1",
            "drift.rowsInserted": rows.to_string(),
            "drift.rowsUpdated": "0",
            "drift.rowsDeleted": "0",
            "drift.rowsExact": "true",
            "drift.operations": "WRITE",
            "drift.schemaChanged": if delta == 3 { "true" } else { "false" },
        }
    })
}

fn seeded(id: &str, name: &str, minutes: u64, version: &str, status: &str, by_drift: bool) -> JobSeed {
    let mut seed = job(id, name, at(minutes), &[("training_data", &arm_data_id("sales", version))]);
    seed.status = status.into();
    if by_drift {
        seed.tags.insert("drift.baseJob".into(), "churn-1".into());
        seed.tags.insert("drift.dataAssetVersion".into(), version.into());
    }
    seed
}

/// `sales` has versions 1..3 (registered at minutes 10, 20, 30); churn is up to date (drift retrained it on 3),
/// fraud completed on 1 (behind by 2), gamma is running, delta failed last; none of fraud's runs are drift's.
fn workspace() -> (Sandbox, WorkspaceRef) {
    let (sb, ws) = ml_sandbox();
    for (i, rows) in [(1u64, 100u64), (2, 50), (3, 200)] {
        sb.add_data_version_at(&ws, "sales", &i.to_string(), tagged(i, rows), at(i * 10));
    }
    sb.add_job(&ws, seeded("churn-1", &display("churn", 5, "a"), 5, "1", "Completed", false));
    sb.add_job(&ws, seeded("churn-2", &display("churn", 35, "b"), 35, "3", "Completed", true));
    sb.add_job(&ws, seeded("fraud-1", &display("fraud", 6, "c"), 6, "1", "Failed", false));
    sb.add_job(&ws, seeded("fraud-2", &display("fraud", 12, "d"), 12, "1", "Completed", false));
    sb.add_job(&ws, seeded("gamma-1", &display("gamma", 40, "e"), 40, "3", "Running", true));
    sb.add_job(&ws, seeded("delta-1", &display("delta", 41, "f"), 41, "2", "Failed", false));
    (sb, ws)
}

fn env(sb: &Sandbox) -> Vec<(String, String)> {
    let mut env = sp_env(sb);
    env.push(("DRIFT_TEST_NOW".into(), NOW.into()));
    env
}

fn history(sb: &Sandbox, config: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["history", "--config", config];
    args.extend_from_slice(extra);
    drift(&args, &env(sb))
}

/// Nothing but reads reached the sandbox: every request is a GET or HEAD, token requests aside.
fn assert_read_only(sb: &Sandbox) {
    let writes: Vec<String> = sb
        .requests()
        .iter()
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD") && !r.path.starts_with("/aad/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "history wrote: {writes:?}");
    assert!(arm_writes(sb).is_empty());
}

fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["details"]["groups"].as_array().unwrap().iter().find(|g| g["group"] == name).unwrap()
}

#[test]
fn retrainer_history_tells_every_groups_state_in_every_format() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");

    let report = history(&sb, &config, &["--output", "json"]).assert_code(0).report();
    assert_eq!((report["command"].clone(), report["pipeline"].clone()), (json!("history"), json!("retrainer")));
    assert_eq!(report["outcome"], "listed");
    let d = &report["details"];
    assert_eq!(d["latestVersion"], "3");
    let versions: Vec<&str> =
        d["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["3", "2", "1"], "newest first");
    assert_eq!(d["versions"][0]["rowsChanged"], 200);
    assert_eq!(d["versions"][0]["schemaChanged"], true);
    let states: Vec<(&str, &str)> = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap(), g["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("churn", "up_to_date"), ("delta", "failed_last"), ("fraud", "behind"), ("gamma", "running")]);
    let fraud = group(&report, "fraud");
    assert_eq!((fraud["versionsBehind"].clone(), fraud["rowsChangedSince"].clone()), (json!(2), json!(250)));
    // Runs drift did not submit are listed too, marked as not drift's; newest first.
    let runs: Vec<(&str, &str, bool)> = fraud["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["job"].as_str().unwrap(), r["status"].as_str().unwrap(), r["byDrift"].as_bool().unwrap()))
        .collect();
    assert_eq!(runs, [("fraud-2", "Completed", false), ("fraud-1", "Failed", false)]);
    let churn = group(&report, "churn");
    assert_eq!(churn["runs"][0]["byDrift"], true);
    assert_eq!(churn["runs"][0]["baseJob"], "churn-1");
    assert_eq!(churn["runs"][0]["dataVersion"], "3");
    assert_eq!(d["scan"]["inScope"], 6);

    let text = history(&sb, &config, &[]).assert_code(0).stdout.clone();
    assert!(text.contains("fraud: behind by 2 versions, 250 rows changed since (trained on 1)"), "{text}");
    assert!(text.contains("churn: up to date on 3"), "{text}");
    assert!(text.contains("gamma: running (Running) on 3"), "{text}");
    assert!(text.contains("delta: failed last (Failed) on 2"), "{text}");
    // Aligned: the header's columns start where the rows' cells do.
    let header = text.lines().find(|l| l.trim_start().starts_with("SUBMITTED")).unwrap();
    let row = text.lines().find(|l| l.contains("fraud_20261101001200_d")).unwrap();
    assert_eq!(header.find("JOB"), row.find("fraud_"), "{text}");

    let md = history(&sb, &config, &["--output", "markdown"]).assert_code(0).stdout.clone();
    assert!(md.starts_with("## Training history on data asset sales"), "{md}");
    assert!(md.contains("| GROUP | STATE | NOW |") && md.contains("| fraud | behind |"), "{md}");
    assert!(md.contains("### gamma: running"), "{md}");

    let html = history(&sb, &config, &["--output", "html"]).assert_code(0).stdout.clone();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for g in ["churn", "delta", "fraud", "gamma"] {
        assert!(html.contains(&format!("data-group=\"{g}\"")), "{g}");
    }
    assert!(!html.contains("<script") && !html.contains("https://"), "self-contained");
    assert_read_only(&sb);
}

#[test]
fn the_window_and_prefixes_narrow_what_is_listed() {
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    // Now is minute 1440; the last 23h35m start at minute 25: versions 3 and runs from minute 35 on.
    let report = history(&sb, &config, &["--output", "json", "--since", "1415m"]).assert_code(0).report();
    let d = &report["details"];
    assert_eq!((d["window"].clone(), d["versionsTotal"].clone()), (json!("1415m"), json!(3)));
    assert_eq!(d["versions"].as_array().unwrap().len(), 1);
    assert_eq!(group(&report, "fraud")["runs"], json!([]), "fraud's runs are older");
    assert_eq!(group(&report, "fraud")["state"], "behind", "the state does not depend on the window");
    assert_eq!(group(&report, "churn")["runs"].as_array().unwrap().len(), 1);

    let only =
        history(&sb, &config, &["--output", "json", "--model_name_prefix", "churn,gamma"]).assert_code(0).report();
    let names: Vec<&str> =
        only["details"]["groups"].as_array().unwrap().iter().map(|g| g["group"].as_str().unwrap()).collect();
    assert_eq!(names, ["churn", "gamma"]);

    for bad in ["30", "0d", "3w", "99999d"] {
        let out = history(&sb, &config, &["--output", "json", "--since", bad]).assert_code(2).report();
        assert!(out["error"].as_str().unwrap().contains("--since"), "{bad}: {out}");
    }
    assert_read_only(&sb);
}

#[test]
fn registrator_history_lists_the_versions_newest_first() {
    let (sb, ws) = ml_sandbox();
    let asset = "raw-tables-sales-mltable";
    for (i, rows) in [(1u64, 10u64), (2, 20)] {
        sb.add_data_version_at(&ws, asset, &format!("2026110100{i}000"), tagged(i, rows), at(i * 10));
    }
    let yaml = format!(
        "Processing:\n  type: drift.registrating.dataset_registrator.DatasetRegistrator\n  parameters:\n    azml:\n      subscriptionId: {SUBSCRIPTION}\n      resourceGroup: {RG}\n      mlWorkspaceName: {WS}\n    storageAccountName: acct\n    containerName: raw\n    containerDataPath: tables/sales\n"
    );
    let (_d, config) = write_temp("registrator.yaml", &yaml);
    let report = history(&sb, &config, &["--output", "json"]).assert_code(0).report();
    assert_eq!(report["pipeline"], "registrator");
    let d = &report["details"];
    assert_eq!(d["asset"], asset);
    assert_eq!(d["versions"][0]["version"], "20261101002000");
    assert_eq!(d["versions"][0]["deltaVersion"], 2);
    assert_eq!(d["versions"][1]["rowsChanged"], 10);
    assert!(d.get("groups").is_none());
    let text = history(&sb, &config, &[]).assert_code(0).stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("History of data asset {asset}, last 30d"));
    assert!(lines[2].trim_start().starts_with("VERSION"), "{text}");
    assert!(lines[3].trim_start().starts_with("20261101002000") && lines[3].contains("same"), "{text}");
    assert!(history(&sb, &config, &["--output", "markdown"]).stdout.contains("| 20261101001000 |"));
    assert_read_only(&sb);
}

#[test]
fn an_empty_workspace_is_a_clear_empty_state() {
    let (sb, _ws) = ml_sandbox();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let text = history(&sb, &config, &[]).assert_code(0).stdout.clone();
    assert!(text.contains("No training run reads sales: nothing to show (0 pipeline jobs seen, 0 in scope)"), "{text}");
    let report = history(&sb, &config, &["--output", "json"]).assert_code(0).report();
    assert_eq!(
        (report["details"]["groups"].clone(), report["details"]["versionsTotal"].clone()),
        (json!([]), json!(0))
    );
    let html = history(&sb, &config, &["--output", "html"]).assert_code(0).stdout.clone();
    assert!(html.contains("class=\"empty\""), "{html}");
    assert_read_only(&sb);
}

#[test]
fn hostile_names_are_escaped_in_html_and_markdown() {
    let (sb, ws) = workspace();
    let evil = "churn_20261101010000_<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>";
    sb.add_job(&ws, seeded("churn-evil", evil, 60, "3", "Completed", false));
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let html = history(&sb, &config, &["--output", "html"]).assert_code(0).stdout.clone();
    assert!(!html.contains("<script") && !html.contains("<img"), "unescaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert(2)&gt;"));
    let md = history(&sb, &config, &["--output", "markdown"]).assert_code(0).stdout.clone();
    assert!(!md.contains("<script") && !md.contains("<img"), "{md}");
}

#[test]
fn out_writes_the_page_and_other_commands_refuse_documents() {
    let (sb, _ws) = workspace();
    let (dir, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let page = dir.path().join("history.html");
    let text = history(&sb, &config, &["--out", page.to_str().unwrap()]).assert_code(0).stdout.clone();
    assert!(text.ends_with(&format!("HTML history written to {}\n", page.display())), "{text}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("data-group=\"fraud\""));
    let plan = drift(&["plan", "--config", &config, "--output", "markdown"], &env(&sb));
    plan.assert_code(2);
    assert!(plan.stderr.contains("formats of drift history"), "{}", plan.stderr);
}

/// With `$GITHUB_STEP_SUMMARY` set, history appends its Markdown and plan its outcome and text summary.
#[test]
fn github_step_summary_gets_the_markdown() {
    let (sb, _ws) = workspace();
    let (dir, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let mut env = env(&sb);
    env.push(("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()));
    drift(&["history", "--config", &config], &env).assert_code(0);
    drift(&["plan", "--config", &config], &env).assert_code(0);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("earlier step\n## Training history on data asset sales"), "{md}");
    assert!(md.contains("| fraud | behind |"), "{md}");
    assert!(md.contains("### drift plan: `planned` (exit 0)\n\n```text\n"), "{md}");
}

/// The headless Chromium to render with: `None` (the test says it is skipped) when there is none, unless
/// `DRIFT_REQUIRE_CHROMIUM=1` (CI installs it) makes its absence a failure.
fn chromium() -> Option<std::path::PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|dir| dir.join(name)).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("DRIFT_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "DRIFT_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)"
        );
        eprintln!("SKIPPED: no chromium on PATH; the browser check of the history page did not run");
    }
    found
}

/// Runs headless Chromium on `url` with `args`, returning stdout.
fn render(chromium: &std::path::Path, args: &[&str], url: &str) -> String {
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    let out = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600"])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Distinct pixel colours of a PNG and the colour of its top-left pixel.
fn colours(path: &std::path::Path) -> (std::collections::HashSet<Vec<u8>>, Vec<u8>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let per_pixel = info.color_type.samples() * usize::from(info.bit_depth as u8).div_ceil(8);
    let pixels: Vec<Vec<u8>> = buf[..info.buffer_size()].chunks(per_pixel).map(|p| p[..3].to_vec()).collect();
    let first = pixels[0].clone();
    (pixels.into_iter().collect(), first)
}

#[test]
fn the_page_renders_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let (sb, _ws) = workspace();
    let (_d, config) = retrainer_config(&[("training_data", "sales")], 60, 1, "");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("history-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let page = shots.join("history.html");
    history(&sb, &config, &["--out", page.to_str().unwrap()]).assert_code(0);
    let url = format!("file://{}", page.display());

    // The DOM the browser built: every group with its state, every version, the statuses.
    let dom = render(&chromium, &["--dump-dom"], &url);
    for (group, state) in [("churn", "up_to_date"), ("delta", "failed_last"), ("fraud", "behind"), ("gamma", "running")]
    {
        assert!(dom.contains(&format!("data-group=\"{group}\" data-state=\"{state}\"")), "{group}: {dom}");
    }
    for version in ["1", "2", "3"] {
        assert!(dom.contains(&format!("<span class=\"version-name\">{version}</span>")), "version {version}");
    }
    for (class, status) in [("s-completed", "Completed"), ("s-failed", "Failed"), ("s-active", "Running")] {
        assert!(dom.contains(&format!("class=\"status {class}\">{status}</span>")), "{status}");
        assert!(dom.contains(&format!("<rect class=\"{class}\"")), "a {status} bar in the timeline");
    }

    // Screenshots, light and dark: not blank, the completed bars' green drawn, the background follows the scheme.
    for (name, extra, background) in
        [("light.png", None, [255u8, 255, 255]), ("dark.png", Some("--force-dark-mode"), [13, 17, 23])]
    {
        let shot = shots.join(name);
        let _ = std::fs::remove_file(&shot);
        let mut args = vec![format!("--screenshot={}", shot.display())];
        args.extend(extra.map(str::to_string));
        render(&chromium, &args.iter().map(String::as_str).collect::<Vec<_>>(), &url);
        let (distinct, corner) = colours(&shot);
        assert!(distinct.len() > 50, "{name}: {} colours, a blank page?", distinct.len());
        assert_eq!(corner, background, "{name}: the page's background");
        let green = if extra.is_some() { [63u8, 185, 80] } else { [26, 127, 55] };
        assert!(distinct.contains(green.as_slice()), "{name}: no completed bar drawn");
    }
}

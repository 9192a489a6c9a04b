//! The large-workspace generator: what it makes (counts, names, input forms, newest per group) as seen through
//! the list API, and how fast a 100,000-job workspace is made and listed in pages of 100.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::*;
use drift_sandbox::GenerateSpec;
use serde_json::Value;

/// Every item of a list, following nextLink.
async fn list_all(arm: &Arm, query: &[(&str, &str)]) -> (Vec<Value>, usize) {
    let (status, mut page) = arm.get("/jobs", query).await;
    assert_eq!(status, 200, "{page}");
    let mut items = Vec::new();
    let mut pages = 1;
    loop {
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        let Some(link) = page["nextLink"].as_str().map(str::to_string) else { break };
        let (status, next) = status_json(arm.follow(&link).await).await;
        assert_eq!(status, 200, "{next}");
        page = next;
        pages += 1;
    }
    (items, pages)
}

#[tokio::test]
async fn generated_jobs_list_as_reported() {
    let (sandbox, ws) = ml_sandbox();
    let spec = GenerateSpec {
        jobs: 3000,
        groups: 12,
        asset: "sales".into(),
        input_name: "training_data".into(),
        versions: vec!["20260101000000".into(), "20260201000000".into()],
        seed_rng: 7,
        ..GenerateSpec::default()
    };
    let report = sandbox.generate_jobs(&ws, spec);
    assert_eq!(report.total, 3000);
    assert_eq!(report.pipeline + report.non_pipeline, 3000);
    assert_eq!(report.newest_per_group.len(), 12);
    let arm = Arm::new(&sandbox, &ws).await;

    let (active, pages) = list_all(&arm, &[("jobType", "Pipeline"), ("listViewType", "ActiveOnly")]).await;
    assert_eq!(active.len(), report.active_pipeline);
    assert_eq!(pages, report.active_pipeline.div_ceil(100));
    let (all, _) = list_all(&arm, &[("jobType", "Pipeline"), ("listViewType", "All")]).await;
    assert_eq!(all.len(), report.pipeline);

    // Names, input forms and the newest job per group, recomputed from what the API returns.
    let pattern = |name: &str| {
        let parts: Vec<&str> = name.splitn(3, '_').collect();
        parts.len() == 3
            && parts[0].len() >= 2
            && parts[0].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && parts[1].len() == 14
            && parts[1].bytes().all(|b| b.is_ascii_digit())
    };
    let mut forms = BTreeMap::new();
    let mut newest: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut in_scope = 0;
    let mut stamps = std::collections::BTreeSet::new();
    for job in &active {
        let name = job["properties"]["displayName"].as_str().unwrap();
        let uri = job["properties"]["inputs"]["training_data"]["uri"].as_str().unwrap();
        let form = if uri.starts_with("azureml://") {
            "long"
        } else if uri.starts_with("azureml:/") {
            "prefixed id"
        } else if uri.starts_with('/') {
            "bare id"
        } else {
            "short"
        };
        *forms.entry(form).or_insert(0) += 1;
        let reads_sales = uri.contains("/data/sales/") || uri.starts_with("azureml:sales:");
        if pattern(name) && reads_sales {
            in_scope += 1;
            let mut parts = name.splitn(3, '_');
            let group = parts.next().unwrap().to_string();
            let stamp = parts.next().unwrap().to_string();
            assert!(stamps.insert(stamp.clone()), "timestamps are distinct: {stamp}");
            let id = job["name"].as_str().unwrap().to_string();
            if newest.get(&group).is_none_or(|(s, _)| stamp > *s) {
                newest.insert(group, (stamp, id));
            }
        }
    }
    assert_eq!(forms.len(), 4, "{forms:?}");
    assert_eq!(in_scope, report.in_scope);
    let newest: BTreeMap<String, String> = newest.into_iter().map(|(g, (_, id))| (g, id)).collect();
    assert_eq!(newest, report.newest_per_group);
    // The asset's versions exist, the last one being the latest.
    let (_, latest) = arm.get("/data/sales/versions", &[("$orderBy", "createdtime desc"), ("$top", "1")]).await;
    assert_eq!(latest["value"][0]["name"], "20260201000000");
}

#[tokio::test]
async fn a_100k_workspace_is_made_fast_and_listed_fast() {
    let (sandbox, ws) = ml_sandbox();
    let started = Instant::now();
    let report = sandbox.generate_jobs(&ws, GenerateSpec { jobs: 100_000, groups: 50, ..GenerateSpec::default() });
    let generated = started.elapsed();
    let arm = Arm::new(&sandbox, &ws).await;
    // Pages are read as text and counted by their item openings: the figure is the sandbox's throughput through
    // HTTP, not this test's JSON decoding (drift decodes only the few members it needs).
    let started = Instant::now();
    let mut url = format!("{}/jobs?api-version={ARM_API}&jobType=Pipeline&listViewType=ActiveOnly", arm.base);
    let (mut jobs, mut pages, mut bytes) = (0, 0, 0);
    loop {
        let text = arm.follow(&url).await.text().await.unwrap();
        jobs += text.matches("{\"id\":\"/subscriptions/").count();
        pages += 1;
        bytes += text.len();
        let Some(at) = text.rfind("\"nextLink\":\"") else { break };
        let rest = &text[at + 12..];
        url = rest[..rest.find('"').unwrap()].to_string();
    }
    let listed = started.elapsed();
    assert_eq!(jobs, report.active_pipeline);
    assert_eq!(pages, report.active_pipeline.div_ceil(100));
    eprintln!(
        "generated 100,000 jobs in {:.0} ms; listed {jobs} jobs ({:.0} MB) in {pages} pages in {:.0} ms: {:.0} jobs/s \
         through HTTP ({} build)",
        generated.as_secs_f64() * 1000.0,
        bytes as f64 / 1e6,
        listed.as_secs_f64() * 1000.0,
        jobs as f64 / listed.as_secs_f64(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    // Loose bounds that hold for debug builds on a loaded 2-core machine; release builds are ~5x faster
    // (about 0.3 s to generate and 0.3 s to list).
    assert!(generated.as_secs_f64() < 10.0, "generation took {generated:?}");
    assert!(listed.as_secs_f64() < 30.0, "listing took {listed:?}");
}

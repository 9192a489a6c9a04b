//! `drift demo` runs the whole story and every step ends as expected (the README's first command), and every
//! JSON body its drift runs send to ARM validates against the spec (the demo's sandbox is its own, so its traffic
//! file is checked here rather than by `common::Sandbox`).

mod common;

#[test]
fn the_demo_tells_the_whole_story() {
    let dir = tempfile::tempdir().unwrap();
    let traffic = dir.path().join("traffic.jsonl");
    let out = common::drift(&["--output", "json", "demo", "--traffic-file", traffic.to_str().unwrap()], &[]);
    out.assert_code(0);
    let operations = common::schema::assert_valid(&common::schema::read_traffic(&traffic), "the demo's runs");
    // Both registrations (datastore + two data versions each) and both retrainings (a job per group) were checked.
    let count = |id: &str| operations.iter().filter(|o| *o == id).count();
    assert_eq!(count("Datastores_CreateOrUpdate"), 2, "{operations:?}");
    assert_eq!(count("DataVersions_CreateOrUpdate"), 4, "{operations:?}");
    // Only fraud is retrained: churn stays below retrainPolicy's threshold throughout.
    assert_eq!(count("Jobs_CreateOrUpdate"), 1, "{operations:?}");
    let r = out.report();
    let outcomes: Vec<(String, u64)> = r["details"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["report"]["outcome"].as_str().unwrap_or("?").to_string(), s["exitCode"].as_u64().unwrap()))
        .collect();
    let expected = [
        "verified",
        "registered",
        "completed",
        "unchanged",
        "up_to_date",
        "registered",
        "planned",
        "up_to_date",
        "listed",
    ];
    assert_eq!(outcomes, expected.iter().map(|o| (o.to_string(), 0)).collect::<Vec<_>>());
    let steps = r["details"]["steps"].as_array().unwrap();
    // The retrainer used the version the registrator published, and the rerun published the same one.
    let v1 = steps[1]["taskValues"]["data_asset_version"].as_str().unwrap();
    assert_eq!(steps[2]["report"]["details"]["targetVersion"], v1);
    assert_eq!(steps[3]["taskValues"]["data_asset_version"], v1);
    let v2 = steps[5]["taskValues"]["data_asset_version"].as_str().unwrap();
    assert!(v2 > v1);
    assert_eq!(steps[7]["report"]["details"]["targetVersion"], v2);
    // The policy's decisions: churn skipped below the threshold, fraud retrained for its schema change.
    let decisions = |step: usize| -> Vec<(String, String, String)> {
        steps[step]["report"]["details"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["group"].as_str().unwrap().into(),
                    g["action"].as_str().unwrap().into(),
                    g["reasonCode"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let d = |g: &str, a: &str, r: &str| (g.to_string(), a.to_string(), r.to_string());
    assert_eq!(
        decisions(2),
        vec![d("churn", "skipped_by_policy", "below_threshold"), d("fraud", "submitted", "schema_changed")]
    );
    assert_eq!(
        decisions(4),
        vec![d("churn", "skipped_by_policy", "below_threshold"), d("fraud", "up_to_date", "up_to_date")]
    );
    assert_eq!(
        decisions(7),
        vec![d("churn", "skipped_by_policy", "below_threshold"), d("fraud", "skipped_by_policy", "below_threshold")]
    );
    assert_eq!(steps[1]["report"]["details"]["changes"]["drift.rowsDeleted"], "1");
    // The history step: both groups with their state now, drift's own run among fraud's, and the page on disk.
    let history = &steps[8]["report"]["details"];
    let states: Vec<(&str, &str)> = history["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap(), g["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("churn", "behind"), ("fraud", "behind")]);
    assert_eq!(history["latestVersion"], v2);
    let fraud = &history["groups"][1];
    assert_eq!(
        (fraud["runs"][0]["byDrift"].clone(), fraud["runs"][0]["dataVersion"].clone()),
        (true.into(), v1.into())
    );
    let page = std::path::PathBuf::from(history["htmlFile"].as_str().unwrap());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("data-group=\"churn\"") && html.contains("data-group=\"fraud\""));
    let _ = std::fs::remove_dir_all(page.parent().unwrap());
}

/// The text the README shows ends by saying where the page is, and the page is there.
#[test]
fn the_demo_ends_with_where_its_history_page_is() {
    let out = common::drift(&["demo"], &[]);
    out.assert_code(0);
    let last = out.stdout.lines().last().unwrap();
    let path = last.strip_prefix("The demo workspace's history, as a web page: ").unwrap_or_else(|| panic!("{last}"));
    assert!(std::fs::read_to_string(path).unwrap().starts_with("<!DOCTYPE html>"));
    let _ = std::fs::remove_dir_all(std::path::Path::new(path).parent().unwrap());
}

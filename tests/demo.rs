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
    let expected =
        ["verified", "registered", "completed", "unchanged", "up_to_date", "registered", "planned", "up_to_date"];
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
}

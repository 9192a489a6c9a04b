//! Two runs of the same pipeline at once: two registrators publish the same version and leave one data version
//! per Delta version; two retrainers leave one job per group whose display name is the one both reports give.

use std::time::Duration;

use super::setup::*;
use crate::common::*;

/// The two runs start together with their clocks a second apart (`DRIFT_TEST_NOW`, the session's clock, instead
/// of waiting for the next wall-clock second), and both decide before either has written its data version: a version
/// taken from the clock would differ between the two.
#[test]
fn two_registrators_at_once_publish_one_version() {
    let (sb, ws) = lake();
    // 100 ms a round trip: a run writes its mltable version about 1.2 s after it starts.
    sb.set_latency(Duration::from_millis(100));
    let (_d, config) = registrator_config();
    let args = ["run", "--config", config.as_str()];
    let now = chrono::Utc::now();
    let at = |t: chrono::DateTime<chrono::Utc>| {
        let mut env = sp_env(&sb);
        env.push(("DRIFT_TEST_NOW".into(), t.to_rfc3339()));
        env
    };
    let a = spawn(&args, &at(now));
    let b = spawn(&args, &at(now + chrono::Duration::seconds(1)));
    let (a, b) = (finish(a), finish(b));
    assert_eq!((a.code, b.code), (Some(0), Some(0)), "{}\n{}", a.stderr, b.stderr);
    let published = |f: &Finished| f.report["task_values"]["data_asset_version"].as_str().map(str::to_string);
    assert_eq!(published(&a), published(&b), "both runs publish the same data_asset_version");
    let versions = data_versions_written(&sb, MLTABLE);
    assert_eq!(versions.len(), 1, "one data version for one Delta version: {versions:?}");
    assert_eq!(data_versions_written(&sb, URI), versions);
    assert_eq!(published(&a).as_deref(), Some(versions[0].as_str()));
    assert!(sb.data_version(&ws, URI, &versions[0]).is_some());
    // Both really registered (neither saw the other's finished version first): the race was run.
    assert_eq!((a.report["outcome"].as_str(), b.report["outcome"].as_str()), (Some("registered"), Some("registered")));
}

#[test]
fn two_retrainers_at_once_make_one_job_per_group_and_both_tell_the_truth() {
    for _ in 0..3 {
        let (sb, ws) = trained_workspace();
        sb.set_latency(Duration::from_millis(15));
        let (_d, config) = retrainer_yaml("");
        let args = ["run", "--config", config.as_str()];
        let (a, b) = (spawn(&args, &sp_env(&sb)), spawn(&args, &sp_env(&sb)));
        let (a, b) = (finish(a), finish(b));
        assert_eq!((a.code, b.code), (Some(0), Some(0)), "{}\n{}", a.stderr, b.stderr);
        for group in GROUPS {
            let (ids, same_bodies) = jobs_put_for(&sb, group);
            assert_eq!(ids.len(), 1, "{group}: {ids:?}");
            assert!(same_bodies, "{group}: the second PUT must not rewrite the job");
            let job = sb.job(&ws, &ids[0]).unwrap();
            let actual = job["properties"]["displayName"].as_str().unwrap().to_string();
            for (run, report) in [("first", &a.report), ("second", &b.report)] {
                let entry =
                    report["details"]["groups"].as_array().unwrap().iter().find(|g| g["group"] == group).unwrap();
                // A run that listed jobs after the other's job had finished finds the group up to date and names
                // that job as its base; otherwise it submitted or adopted it.
                let named = if entry["action"] == "up_to_date" { &entry["baseJob"] } else { &entry["job"] };
                assert_eq!(named["id"], ids[0].as_str(), "{run} run's report for {group}: {entry}");
                assert_eq!(named["displayName"], actual.as_str(), "{run} run's report for {group}: {entry}");
            }
        }
    }
}

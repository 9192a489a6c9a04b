//! The large-workspace generator: N jobs over G model groups, named `{group}_{YYYYmmddHHMMSS}_{random}` with
//! distinct timestamps, reading the asset in every stored form, mixed with jobs on another asset, jobs whose names
//! break the convention, non-pipeline jobs and archived jobs, all from a seeded RNG. Parts the jobs share live
//! behind one `Arc`, so 100,000 jobs take well under a second and little memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::super::schema::Obj;
use super::super::store::Workspace;
use super::table::Job;

/// What to generate. Build it with `..Default::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSpec {
    /// How many jobs, all kinds together.
    pub jobs: usize,
    /// How many model groups the convention-following jobs spread over.
    pub groups: usize,
    /// The data asset the jobs train on.
    pub asset: String,
    /// The top-level pipeline input that carries the asset.
    pub input_name: String,
    /// Versions of the asset the jobs read (each job picks one); created as data versions when missing, in this
    /// order, so the last is the asset's latest.
    pub versions: Vec<String>,
    pub seed_rng: u64,
    /// Group names are `{group_prefix}{n:03}` (2+ chars of `[a-z0-9]`, the convention's group).
    pub group_prefix: String,
    /// The asset the "other asset" jobs read (`sales` vs `sales_v2`); default `{asset}_v2`.
    pub other_asset: Option<String>,
    /// Percentages of the job kinds (the rest follow the convention and read `asset`).
    pub other_asset_percent: u8,
    pub non_matching_percent: u8,
    pub non_pipeline_percent: u8,
    /// Percentage of jobs (of any kind) that are archived, hidden by `listViewType=ActiveOnly`.
    pub archived_percent: u8,
    /// Display-name timestamp (and `createdAt`) of the oldest job, Unix seconds; one job per `step_secs` after it.
    pub start_unix_secs: i64,
    pub step_secs: i64,
}

impl Default for GenerateSpec {
    fn default() -> GenerateSpec {
        GenerateSpec {
            jobs: 1000,
            groups: 10,
            asset: "training-data".into(),
            input_name: "training_data".into(),
            versions: vec!["1".into()],
            seed_rng: 42,
            group_prefix: "model".into(),
            other_asset: None,
            other_asset_percent: 10,
            non_matching_percent: 5,
            non_pipeline_percent: 5,
            archived_percent: 2,
            // 2025-01-01T00:00:00Z
            start_unix_secs: 1_735_689_600,
            step_secs: 60,
        }
    }
}

/// What was generated, for assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedJobs {
    pub total: usize,
    /// Pipeline jobs (what `jobType=Pipeline&listViewType=All` lists).
    pub pipeline: usize,
    /// Pipeline jobs not archived (what `jobType=Pipeline&listViewType=ActiveOnly` lists).
    pub active_pipeline: usize,
    pub archived: usize,
    pub non_pipeline: usize,
    /// Pipeline jobs whose display names break the convention.
    pub non_matching_name: usize,
    /// Convention-following pipeline jobs reading the other asset.
    pub other_asset: usize,
    /// Active, convention-following pipeline jobs reading `asset`: what a retrainer selects from.
    pub in_scope: usize,
    /// The newest in-scope job of each group (by display-name timestamp), group → job id.
    pub newest_per_group: BTreeMap<String, String>,
}

/// What a job of each kind looks like.
enum Kind {
    InScope,
    OtherAsset,
    NonMatching,
    NonPipeline,
}

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_text(rng: &mut StdRng, len: usize) -> String {
    (0..len).map(|_| char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())])).collect()
}

/// `YYYYmmddHHMMSS` in UTC, written by hand: chrono's formatter re-parses its pattern on every call, a tenth of the
/// generator's time at 100,000 jobs.
fn compact_stamp(unix_secs: i64) -> String {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp(unix_secs, 0).unwrap_or_default();
    format!("{:04}{:02}{:02}{:02}{:02}{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

/// One of the four forms an asset reference is stored in.
fn asset_uri(rng: &mut StdRng, workspace: &Workspace, asset: &str, version: &str) -> String {
    let id = format!("{}/data/{asset}/versions/{version}", workspace.arm_id());
    match rng.random_range(0..4) {
        0 => id,
        1 => format!("azureml:{id}"),
        2 => format!("azureml:{asset}:{version}"),
        _ => format!(
            "azureml://subscriptions/{}/resourcegroups/{}/workspaces/{}/data/{asset}/versions/{version}",
            workspace.subscription, workspace.resource_group, workspace.name
        ),
    }
}

/// Pipeline parts every generated job shares (the graph, settings, outputs).
fn shared_rest(spec: &GenerateSpec, workspace: &Workspace) -> Arc<Obj> {
    let rest = json!({
        "jobs": {
            "train": {
                "type": "command",
                "componentId": format!("{}/components/train/versions/1", workspace.arm_id()),
                "inputs": {"data": {"job_input_type": "literal", "value": format!("${{{{parent.inputs.{}}}}}", spec.input_name)}},
                "outputs": {"model": {"value": "${{parent.outputs.model}}", "type": "literal"}},
            }
        },
        "settings": {"default_compute": format!("{}/computes/cpu-cluster", workspace.arm_id()), "continue_on_step_failure": false},
        "outputs": {"model": {"description": null, "jobOutputType": "mlflow_model", "mode": "ReadWriteMount", "uri": null}},
    });
    Arc::new(rest.as_object().cloned().unwrap_or_default())
}

/// Appends the jobs to the workspace. `next_seq` numbers them in creation order.
pub(crate) fn generate(
    workspace: &mut Workspace,
    spec: &GenerateSpec,
    mut next_seq: impl FnMut() -> u64,
) -> GeneratedJobs {
    let mut rng = StdRng::seed_from_u64(spec.seed_rng);
    let groups: Vec<String> = (0..spec.groups.max(1)).map(|g| format!("{}{g:03}", spec.group_prefix)).collect();
    let other_asset = spec.other_asset.clone().unwrap_or_else(|| format!("{}_v2", spec.asset));
    let versions: Vec<String> = if spec.versions.is_empty() { vec!["1".into()] } else { spec.versions.clone() };
    let input_type = if spec.asset.contains("mltable") { "mltable" } else { "uri_folder" };
    let rest = shared_rest(spec, workspace);
    let compute = Value::String(format!("{}/computes/cpu-cluster", workspace.arm_id()));
    let completed: Arc<[String]> = vec!["Completed".to_string()].into();
    let failed: Arc<[String]> = vec!["Failed".to_string()].into();
    let properties = json!({"azureml.runsource": "azureml.PipelineRun", "runSource": "MFE", "runType": "HTTP",
        "azureml.DevPlatv2": "true", "azureml.defaultDataStoreName": "workspaceblobstore"});
    let properties = Arc::new(properties.as_object().cloned().unwrap_or_default());
    let tags = Arc::new(Obj::new());
    workspace.jobs.reserve(spec.jobs);
    let mut report = GeneratedJobs::default();
    let mut newest: BTreeMap<String, (i64, String)> = BTreeMap::new();

    for i in 0..spec.jobs {
        let at = spec.start_unix_secs.saturating_add((i as i64).saturating_mul(spec.step_secs.max(1)));
        let stamp = compact_stamp(at);
        let roll = rng.random_range(0..100u8);
        let np = spec.non_pipeline_percent;
        let nm = np.saturating_add(spec.non_matching_percent);
        let oa = nm.saturating_add(spec.other_asset_percent);
        let kind = if roll < np {
            Kind::NonPipeline
        } else if roll < nm {
            Kind::NonMatching
        } else if roll < oa {
            Kind::OtherAsset
        } else {
            Kind::InScope
        };
        let group = &groups[rng.random_range(0..groups.len())];
        let suffix = random_text(&mut rng, 6);
        let display_name = match kind {
            Kind::NonMatching => match rng.random_range(0..4) {
                0 => format!("{}_{stamp}_{suffix}", group.to_uppercase()),
                1 => format!("{group}-{stamp}-{suffix}"),
                2 => format!("adhoc_run_{suffix}"),
                _ => format!("{group}_{}_{suffix}", &stamp[..12]),
            },
            _ => format!("{group}_{stamp}_{suffix}"),
        };
        let version = &versions[rng.random_range(0..versions.len())];
        let asset = if matches!(kind, Kind::OtherAsset) { other_asset.as_str() } else { spec.asset.as_str() };
        let uri = asset_uri(&mut rng, workspace, asset, version);
        let archived = rng.random_range(0..100u8) < spec.archived_percent;
        let status = if rng.random_range(0..20) == 0 { failed.clone() } else { completed.clone() };
        let created = at.saturating_mul(1_000_000_000).saturating_add(rng.random_range(0..1_000_000_000i64));
        let mut inputs = Obj::new();
        inputs.insert(
            spec.input_name.clone(),
            json!({"description": null, "uri": uri, "mode": "ReadOnlyMount", "jobInputType": input_type}),
        );
        let id = format!("{}_{i:06}", random_text(&mut rng, 10));

        report.total += 1;
        report.archived += usize::from(archived);
        match kind {
            Kind::NonPipeline => report.non_pipeline += 1,
            Kind::NonMatching => report.non_matching_name += 1,
            Kind::OtherAsset => report.other_asset += 1,
            Kind::InScope if !archived => {
                report.in_scope += 1;
                // Timestamps grow with i, so the last one seen per group is its newest.
                newest.insert(group.clone(), (at, id.clone()));
            }
            Kind::InScope => {}
        }
        let non_pipeline = matches!(kind, Kind::NonPipeline);
        report.pipeline += usize::from(!non_pipeline);
        report.active_pipeline += usize::from(!non_pipeline && !archived);
        workspace.jobs.insert(Job {
            id,
            seq: next_seq(),
            created,
            created_by: "drift-sandbox generator".into(),
            job_type: if non_pipeline { "Command".into() } else { "Pipeline".into() },
            display_name: Some(display_name),
            description: Value::Null,
            experiment_name: format!("{group}-training"),
            tags: tags.clone(),
            properties: properties.clone(),
            compute_id: compute.clone(),
            inputs,
            archived,
            rest: rest.clone(),
            steps: status,
            pos: 0,
        });
    }
    report.newest_per_group = newest.into_iter().map(|(group, (_, id))| (group, id)).collect();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(compact_stamp(1_735_689_600), "20250101000000");
        assert_eq!(compact_stamp(1_767_225_599), "20251231235959");
    }

    #[test]
    fn counts_add_up_and_generation_is_deterministic() {
        let spec = GenerateSpec { jobs: 2000, groups: 7, ..GenerateSpec::default() };
        let mut a = Workspace::new("s", "rg", "ws1", 0);
        let mut seq = 0;
        let report = generate(&mut a, &spec, || {
            seq += 1;
            seq
        });
        assert_eq!(report.total, 2000);
        assert_eq!(report.pipeline + report.non_pipeline, 2000);
        assert!(report.in_scope > 1400 && report.other_asset > 100 && report.non_matching_name > 40, "{report:?}");
        assert!(report.non_pipeline > 40 && report.archived > 10, "{report:?}");
        assert_eq!(report.newest_per_group.len(), 7);
        let mut b = Workspace::new("s", "rg", "ws1", 0);
        let mut seq = 0;
        assert_eq!(
            generate(&mut b, &spec, || {
                seq += 1;
                seq
            }),
            report
        );
    }
}

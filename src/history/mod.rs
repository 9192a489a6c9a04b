//! `drift history`: what was registered and trained so far, read-only. The I/O lives here (one paged list of data
//! versions, and for a retrainer the one streamed job list the retrainer scans, through its own selection); the
//! model is pure (`model.rs`), and so is drawing it (`render.rs` for text and Markdown, `html.rs` for the page).

pub mod html;
pub mod model;
pub mod render;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use self::model::{GroupRow, RunCollector, VersionRow};
use crate::azure::ml::MlClient;
use crate::azure::ml::models::DataVersion;
use crate::config::PipelineParams;
use crate::config::naming::Names;
use crate::error::Error;
use crate::output::{CommandName, Documents, Outcome, PipelineName, Report};
use crate::pipeline::Session;
use crate::pipeline::retrainer;

/// `--since` when not given: the last 30 days.
pub const DEFAULT_SINCE: Duration = Duration::from_secs(30 * 86_400);

/// The history a report carries as `details` (docs/report.md, "History `details`").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryDetails {
    /// The window, as `--since` takes it (`30d`).
    pub window: String,
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// The data asset whose versions are listed (the registrator's mltable asset; the retrainer's first input's).
    pub asset: Option<String>,
    /// Its newest version, in or out of the window.
    pub latest_version: Option<String>,
    /// How many versions it has in all.
    pub versions_total: usize,
    /// The versions registered in the window, newest first.
    pub versions: Vec<VersionRow>,
    /// Retrainer: the configured inputs and their assets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<Input>>,
    /// Retrainer: every model group with a run on the configured assets, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRow>>,
    /// Retrainer: the job list as scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<Scan>,
    /// Where `--out` wrote the HTML page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Input {
    pub input: String,
    pub asset: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scan {
    pub pages: usize,
    pub jobs_seen: usize,
    pub in_scope: usize,
    /// The scan in words (what was left out and why), as `plan` logs it.
    pub summary: String,
}

/// `30d`, `12h`, `90m`: the largest unit that divides the window.
pub fn window_words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ => format!("{}m", s / 60),
    }
}

/// Lists, builds and renders the history of the session's config. Writes nothing to Azure; `out` receives the
/// HTML page.
pub async fn run(session: &Session, since: Duration, out: Option<&Path>) -> Result<Report, Error> {
    let now = session.clock.now();
    let start = now - chrono::Duration::from_std(since).unwrap_or(chrono::Duration::zero());
    let ml = session.ml_client();
    let (pipeline, mut details) = match &session.config.params {
        PipelineParams::Registrator(p) => {
            let names = Names::new(p).map_err(|m| Error::Usage(format!("{}: {m}", session.config.origin)))?;
            let all = list_versions(&ml, &names.mltable).await?;
            (PipelineName::Registrator, details(since, start, now, Some(names.mltable), &all))
        }
        PipelineParams::Retrainer(p) => {
            let bindings = retrainer::bindings(p, &session.config.origin)?;
            let asset = bindings.first().map(|b| b.asset.name.clone());
            let all = match &asset {
                Some(a) => list_versions(&ml, a).await?,
                None => Vec::new(),
            };
            let inputs =
                bindings.iter().map(|b| Input { input: b.input_name.clone(), asset: b.asset.name.clone() }).collect();
            let mut runs = RunCollector::new(start);
            let (selection, pages) =
                retrainer::scan_with(&ml, session, bindings, |candidate, job| runs.see(candidate, job)).await?;
            let groups = model::groups(&selection.newest_per_group(), &mut runs, &all);
            let mut d = details(since, start, now, asset, &all);
            d.inputs = Some(inputs);
            d.groups = Some(groups);
            d.scan = Some(Scan {
                pages,
                jobs_seen: selection.seen,
                in_scope: selection.in_scope,
                summary: selection.explain(),
            });
            (PipelineName::Retrainer, d)
        }
    };
    let page = html::page(&details);
    if let Some(path) = out {
        write_page(path, &page)?;
        details.html_file = Some(path.display().to_string());
    }
    let mut report = Report::new(CommandName::History, Outcome::Listed);
    report.pipeline = Some(pipeline);
    report.set_details(&details)?;
    report.text = render::text(&details);
    report.documents = Some(Documents { markdown: render::markdown(&details), html: page });
    Ok(report)
}

fn details(
    since: Duration,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    asset: Option<String>,
    all: &[DataVersion],
) -> HistoryDetails {
    HistoryDetails {
        window: window_words(since),
        since: start,
        now,
        asset,
        latest_version: all.first().map(|v| v.name.clone()),
        versions_total: all.len(),
        versions: model::versions_in_window(all, start),
        inputs: None,
        groups: None,
        scan: None,
        html_file: None,
    }
}

/// Every version of `asset`, newest first (one paged list).
async fn list_versions(ml: &MlClient, asset: &str) -> Result<Vec<DataVersion>, Error> {
    let mut all = Vec::new();
    let mut pager = ml.list_data_versions(asset)?;
    while let Some(page) = pager.next_page().await? {
        all.extend(page);
    }
    tracing::debug!(target: "drift::history", asset, versions = all.len(), pages = pager.pages(), "listed the data versions");
    Ok(all)
}

/// The page, whole or not at all: a temp file beside it, then a rename.
fn write_page(path: &Path, page: &str) -> Result<(), Error> {
    let fail = |what: &str, e: std::io::Error| Error::Io(format!("cannot {what} {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| fail("create a temporary file beside", e))?;
    std::io::Write::write_all(&mut tmp, page.as_bytes()).map_err(|e| fail("write", e))?;
    tmp.persist(path).map_err(|e| fail("rename into place", e.error))?;
    tracing::info!(target: "drift::history", file = %path.display(), "HTML history written");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_said_in_their_largest_unit() {
        assert_eq!(window_words(DEFAULT_SINCE), "30d");
        assert_eq!(window_words(Duration::from_secs(12 * 3600)), "12h");
        assert_eq!(window_words(Duration::from_secs(90 * 60)), "90m");
    }
}

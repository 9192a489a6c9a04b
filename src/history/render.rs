//! The history as aligned text tables (`--output text`) and as Markdown (`--output markdown`, for
//! `$GITHUB_STEP_SUMMARY`, Azure Pipelines summaries and Databricks job output). Pure.

use chrono::{DateTime, Utc};

use super::HistoryDetails;
use super::model::{GroupRow, RunRow, VersionRow, thousands};

/// A table: a header row and rows of cells.
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

pub fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn rows_cell(v: &VersionRow) -> String {
    match (v.rows_changed, v.rows_exact) {
        (Some(n), Some(false)) => format!("≥{}", thousands(n)),
        (Some(n), _) => thousands(n),
        (None, _) => "-".to_string(),
    }
}

fn schema_cell(flag: Option<bool>) -> String {
    match flag {
        Some(true) => "changed".into(),
        Some(false) => "same".into(),
        None => "-".into(),
    }
}

fn versions_table(versions: &[VersionRow]) -> Table {
    Table {
        header: vec!["VERSION", "REGISTERED", "DELTA", "COMMITTED", "COMMITS", "ROWS CHANGED", "SCHEMA"],
        rows: versions
            .iter()
            .map(|v| {
                vec![
                    v.version.clone(),
                    time(v.registered_at),
                    opt(v.delta_version),
                    time(v.commit_time),
                    opt(v.commits),
                    rows_cell(v),
                    schema_cell(v.schema_changed),
                ]
            })
            .collect(),
    }
}

fn runs_table(runs: &[RunRow]) -> Table {
    Table {
        header: vec!["SUBMITTED", "JOB", "DATA VERSION", "STATUS", "SUBMITTED BY"],
        rows: runs
            .iter()
            .map(|r| {
                let by = match (&r.submitted_by, r.by_drift) {
                    (Some(b), true) => format!("drift ({b})"),
                    (None, true) => "drift".to_string(),
                    (Some(b), false) => b.clone(),
                    (None, false) => "-".to_string(),
                };
                vec![time(r.submitted_at), r.display_name.clone(), opt(r.data_version.as_deref()), r.status.clone(), by]
            })
            .collect(),
    }
}

/// Columns padded to their widest cell (by characters), two spaces apart.
fn aligned(table: &Table, indent: &str) -> Vec<String> {
    let mut widths: Vec<usize> = table.header.iter().map(|h| h.chars().count()).collect();
    for row in &table.rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        format!("{indent}{}", padded.join("  ").trim_end())
    };
    let mut out = vec![line(table.header.clone())];
    out.extend(table.rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    out
}

/// What the history is about, in one line.
pub fn title(d: &HistoryDetails) -> String {
    let asset = d.asset.as_deref().unwrap_or("(no data asset)");
    match &d.groups {
        None => format!("History of data asset {asset}, last {}", d.window),
        Some(_) => format!("Training history on data asset {asset}, last {}", d.window),
    }
}

/// The line said when there is nothing to list.
pub fn empty_state(d: &HistoryDetails) -> Option<String> {
    let asset = d.asset.as_deref().unwrap_or("(no data asset)");
    match (&d.groups, &d.scan) {
        (None, _) if d.versions_total == 0 => Some(format!("No versions of {asset} are registered yet.")),
        (Some(groups), scan) if groups.is_empty() => Some(format!(
            "No training run reads {asset}: nothing to show ({}).",
            scan.as_ref().map_or("no scan", |s| s.summary.as_str())
        )),
        _ => None,
    }
}

fn versions_line(d: &HistoryDetails) -> String {
    format!(
        "{} of {} versions registered since {} UTC; newest {}",
        d.versions.len(),
        d.versions_total,
        time(Some(d.since)),
        d.latest_version.as_deref().unwrap_or("-")
    )
}

fn group_line(g: &GroupRow) -> String {
    format!("{}: {}", g.group, g.summary)
}

pub fn text(d: &HistoryDetails) -> Vec<String> {
    let mut out = vec![title(d)];
    if let Some(empty) = empty_state(d) {
        out.push(empty);
    } else {
        out.push(versions_line(d));
        if !d.versions.is_empty() {
            out.extend(aligned(&versions_table(&d.versions), "  "));
        }
        for g in d.groups.iter().flatten() {
            out.push(String::new());
            out.push(group_line(g));
            if g.runs.is_empty() {
                out.push(format!("  no run submitted in the last {}", d.window));
            } else {
                out.extend(aligned(&runs_table(&g.runs), "  "));
            }
        }
    }
    if let Some(file) = &d.html_file {
        out.push(String::new());
        out.push(format!("HTML history written to {file}"));
    }
    out
}

/// A Markdown table cell: no line breaks, pipes escaped, and no raw HTML (GitHub renders some of it).
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn md_table(table: &Table, out: &mut String) {
    out.push_str(&format!("| {} |\n", table.header.join(" | ")));
    out.push_str(&format!("|{}\n", " --- |".repeat(table.header.len())));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}

pub fn markdown(d: &HistoryDetails) -> String {
    let mut out = format!("## {}\n\n", md_cell(&title(d)));
    if let Some(empty) = empty_state(d) {
        out.push_str(&format!("{}\n", md_cell(&empty)));
        return out;
    }
    if let Some(groups) = &d.groups {
        let states = Table {
            header: vec!["GROUP", "STATE", "NOW"],
            rows: groups.iter().map(|g| vec![g.group.clone(), g.state.code().to_string(), g.summary.clone()]).collect(),
        };
        md_table(&states, &mut out);
        out.push('\n');
    }
    out.push_str(&format!("{}\n\n", md_cell(&versions_line(d))));
    if !d.versions.is_empty() {
        md_table(&versions_table(&d.versions), &mut out);
        out.push('\n');
    }
    for g in d.groups.iter().flatten() {
        out.push_str(&format!("### {}\n\n", md_cell(&group_line(g))));
        if g.runs.is_empty() {
            out.push_str(&format!("No run submitted in the last {}.\n\n", d.window));
        } else {
            md_table(&runs_table(&g.runs), &mut out);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_cannot_break_the_table_or_carry_html() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
        assert_eq!(md_cell("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(md_cell("churn_2026_x"), "churn\\_2026\\_x");
    }

    #[test]
    fn columns_line_up() {
        let t = Table { header: vec!["A", "BB"], rows: vec![vec!["long".into(), "x".into()]] };
        assert_eq!(aligned(&t, ""), ["A     BB", "long  x"]);
    }
}

//! The history as one self-contained web page (`--output html`, `--out FILE`): inline CSS and inline SVG, no
//! script, no font or image from anywhere. A timeline per model group (data versions as marks on a time axis,
//! runs as bars coloured by status) and the tables. Light and dark (`prefers-color-scheme`), and printable. Every
//! string from Azure goes through [`escape`]: display names, user names and tags are anyone's to write.

use chrono::{DateTime, Utc};

use super::HistoryDetails;
use super::model::{GroupRow, RunRow, VersionRow, thousands};
use super::render::{empty_state, time, title};

/// The timeline's drawing size (SVG user units; it scales to the page width).
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 74.0;
const LEFT: f64 = 10.0;
const RIGHT: f64 = 10.0;
/// Where the axis runs, and the run bars' band above it.
const AXIS_Y: f64 = 52.0;
const BAR_Y: f64 = 26.0;
const BAR_H: f64 = 16.0;
/// A finished run is drawn this wide: the job list tells when a run was submitted, not when it ended.
const FINISHED_W: f64 = 6.0;

/// Text made safe for HTML text, attribute values and SVG alike.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --grid: #d1d9e0; --panel: #f6f8fa;
  --ok: #1a7f37; --fail: #cf222e; --cancel: #9a6700; --active: #0969da; --version: #8250df; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --grid: #3d444d; --panel: #151b23;
    --ok: #3fb950; --fail: #f85149; --cancel: #d29922; --active: #4493f8; --version: #ab7df8; }
}
* { box-sizing: border-box; }
body { margin: 2rem auto; padding: 0 1rem; max-width: 1100px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .25rem; }
p.meta, footer { color: var(--muted); }
section.group { border: 1px solid var(--grid); border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0;
  background: var(--panel); }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; width: 100%; }
th, td { text-align: left; padding: .2rem .6rem .2rem 0; border-bottom: 1px solid var(--grid); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
.state { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .8rem; border: 1px solid; }
.state-up_to_date, .s-completed { color: var(--ok); }
.state-failed_last, .s-failed { color: var(--fail); }
.s-canceled { color: var(--cancel); }
.state-running, .s-active { color: var(--active); }
.state-behind, .state-unknown { color: var(--cancel); }
svg.timeline { width: 100%; height: auto; display: block; }
svg .axis, svg .tick { stroke: var(--grid); stroke-width: 1; }
svg text { fill: var(--muted); font: 11px system-ui, sans-serif; }
svg .version { stroke: var(--version); stroke-width: 2; }
svg .version-dot { fill: var(--version); }
svg rect.s-completed { fill: var(--ok); } svg rect.s-failed { fill: var(--fail); }
svg rect.s-canceled { fill: var(--cancel); } svg rect.s-active { fill: var(--active); }
.legend span { margin-right: 1rem; white-space: nowrap; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px;
  margin-right: .3rem; }
.swatch.s-completed { background: var(--ok); } .swatch.s-failed { background: var(--fail); }
.swatch.s-canceled { background: var(--cancel); } .swatch.s-active { background: var(--active); }
.swatch.version { background: var(--version); width: .2rem; }
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --grid: #bbb; --panel: #fff; }
  body { margin: 0; max-width: none; font-size: 11px; }
  section.group { break-inside: avoid; border-color: #999; }
  svg rect, .swatch { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"#;

/// The status's colour class: completed, failed, canceled, or still going.
fn status_class(status: &str) -> &'static str {
    match status {
        "Completed" => "s-completed",
        "Failed" => "s-failed",
        "Canceled" => "s-canceled",
        _ => "s-active",
    }
}

/// Where on the axis an instant falls, clamped to it.
struct Axis {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Axis {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let span = (self.to - self.from).num_seconds().max(1) as f64;
        let at = (t - self.from).num_seconds() as f64 / span;
        LEFT + at.clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }
}

/// The timeline: the axis with five dated ticks, a mark per data version, a bar per run.
fn timeline(d: &HistoryDetails, runs: &[RunRow], label: &str) -> String {
    let axis = Axis { from: d.since, to: d.now };
    let mut svg = format!(
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">",
        escape(label)
    );
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{AXIS_Y}\" x2=\"{}\" y2=\"{AXIS_Y}\"/>",
        WIDTH - RIGHT
    ));
    for i in 0..=4 {
        let t = d.since + (d.now - d.since) * i / 4;
        let x = axis.x(t);
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        svg.push_str(&format!(
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{AXIS_Y}\" x2=\"{x:.1}\" y2=\"{}\"/><text x=\"{x:.1}\" y=\"{}\" \
             text-anchor=\"{anchor}\">{}</text>",
            AXIS_Y + 4.0,
            AXIS_Y + 17.0,
            escape(&t.format("%Y-%m-%d %H:%M").to_string())
        ));
    }
    for v in &d.versions {
        let Some(at) = v.registered_at else { continue };
        let x = axis.x(at);
        svg.push_str(&format!(
            "<g class=\"version-mark\"><title>data version {} registered {} UTC</title>\
             <line class=\"version\" x1=\"{x:.1}\" y1=\"6\" x2=\"{x:.1}\" y2=\"{AXIS_Y}\"/>\
             <circle class=\"version-dot\" cx=\"{x:.1}\" cy=\"6\" r=\"3\"/></g>",
            escape(&v.version),
            escape(&time(Some(at)))
        ));
    }
    for r in runs {
        let Some(at) = r.submitted_at else { continue };
        let x = axis.x(at);
        let w = if r.is_active() { (axis.x(d.now) - x).max(FINISHED_W) } else { FINISHED_W };
        svg.push_str(&format!(
            "<rect class=\"{}\" x=\"{x:.1}\" y=\"{BAR_Y}\" width=\"{w:.1}\" height=\"{BAR_H}\" rx=\"2\">\
             <title>{} · {} · data version {} · submitted {} UTC</title></rect>",
            status_class(&r.status),
            escape(&r.display_name),
            escape(&r.status),
            escape(r.data_version.as_deref().unwrap_or("-")),
            escape(&time(Some(at)))
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn table(header: &[&str], rows: Vec<Vec<String>>, class: &str) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        // Cells arrive already escaped (some carry a status span).
        for cell in row {
            out.push_str(&format!("<td>{cell}</td>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn versions_table(versions: &[VersionRow]) -> String {
    let rows = versions
        .iter()
        .map(|v| {
            let rows = match (v.rows_changed, v.rows_exact) {
                (Some(n), Some(false)) => format!("≥{}", thousands(n)),
                (Some(n), _) => thousands(n),
                (None, _) => "-".into(),
            };
            let schema = match v.schema_changed {
                Some(true) => "changed",
                Some(false) => "same",
                None => "-",
            };
            vec![
                format!("<span class=\"version-name\">{}</span>", escape(&v.version)),
                escape(&time(v.registered_at)),
                v.delta_version.map_or("-".into(), |n| n.to_string()),
                escape(&time(v.commit_time)),
                v.commits.map_or("-".into(), |n| n.to_string()),
                rows,
                schema.into(),
            ]
        })
        .collect();
    table(
        &["Version", "Registered (UTC)", "Delta", "Committed (UTC)", "Commits", "Rows changed", "Schema"],
        rows,
        "versions",
    )
}

fn runs_table(runs: &[RunRow]) -> String {
    let rows = runs
        .iter()
        .map(|r| {
            let by = r.submitted_by.as_deref().unwrap_or("-");
            vec![
                escape(&time(r.submitted_at)),
                format!("{}<br><small>{}</small>", escape(&r.display_name), escape(&r.job)),
                escape(r.data_version.as_deref().unwrap_or("-")),
                format!("<span class=\"status {}\">{}</span>", status_class(&r.status), escape(&r.status)),
                if r.by_drift { format!("drift ({})", escape(by)) } else { escape(by) },
            ]
        })
        .collect();
    table(&["Submitted (UTC)", "Run", "Data version", "Status", "Submitted by"], rows, "runs")
}

fn group_section(d: &HistoryDetails, g: &GroupRow) -> String {
    format!(
        "<section class=\"group\" data-group=\"{group}\" data-state=\"{state}\"><h2>{group} \
         <span class=\"state state-{state}\">{state_words}</span></h2><p class=\"meta\">{summary}</p>{svg}{runs}</section>",
        group = escape(&g.group),
        state = g.state.code(),
        state_words = g.state.code().replace('_', " "),
        summary = escape(&g.summary),
        svg = timeline(d, &g.runs, &format!("timeline of {}", g.group)),
        runs = if g.runs.is_empty() {
            format!("<p class=\"meta\">No run submitted in the last {}.</p>", escape(&d.window))
        } else {
            runs_table(&g.runs)
        },
    )
}

const LEGEND: &str = "<p class=\"legend meta\"><span><i class=\"swatch version\"></i>data version registered</span>\
<span><i class=\"swatch s-completed\"></i>completed</span><span><i class=\"swatch s-failed\"></i>failed</span>\
<span><i class=\"swatch s-canceled\"></i>canceled</span><span><i class=\"swatch s-active\"></i>not finished \
(bar runs to now)</span><span>Bars start at submission; Azure ML's job list does not say when a run ended.</span></p>";

/// The whole page.
pub fn page(d: &HistoryDetails) -> String {
    let heading = title(d);
    let mut body = format!(
        "<h1>{}</h1><p class=\"meta\">From {} to {} UTC · newest version {} · {} of {} versions in the window</p>",
        escape(&heading),
        escape(&time(Some(d.since))),
        escape(&time(Some(d.now))),
        escape(d.latest_version.as_deref().unwrap_or("-")),
        d.versions.len(),
        d.versions_total
    );
    if let Some(empty) = empty_state(d) {
        body.push_str(&format!("<p class=\"empty\">{}</p>", escape(&empty)));
    } else {
        body.push_str(LEGEND);
        match &d.groups {
            Some(groups) => {
                for g in groups {
                    body.push_str(&group_section(d, g));
                }
            }
            None => {
                body.push_str("<section class=\"group\" data-group=\"\">");
                body.push_str(&timeline(d, &[], "timeline of the data versions"));
                body.push_str("</section>");
            }
        }
        body.push_str("<h2>Data versions</h2>");
        body.push_str(&versions_table(&d.versions));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>{}</title><style>{STYLE}</style></head>\
         <body>{body}<footer>drift {} · generated {} UTC</footer></body></html>\n",
        escape(&format!("drift · {heading}")),
        env!("CARGO_PKG_VERSION"),
        escape(&time(Some(d.now)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let d = HistoryDetails {
            window: "30d".into(),
            since: now - chrono::Duration::days(30),
            now,
            asset: Some("a<b".into()),
            latest_version: None,
            versions_total: 0,
            versions: Vec::new(),
            inputs: None,
            groups: None,
            scan: None,
            html_file: None,
        };
        let page = page(&d);
        for banned in ["<script", "http://", "https://", "@import", "url(", "<link"] {
            assert!(!page.replace("http://www.w3.org/2000/svg", "").contains(banned), "{banned}");
        }
        assert!(page.contains("a&lt;b") && !page.contains("a<b"));
    }
}

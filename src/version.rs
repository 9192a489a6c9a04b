//! What this binary is: version, git commit, build date, target triple and features, for `drift version` and the
//! man page. The values are embedded at build time by `build.rs` (which says where each comes from); an empty one
//! means it was not known there (a build outside git), and is shown as "unknown".

use chrono::DateTime;

/// The package version, as `drift --version` prints it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const GIT_COMMIT: &str = env!("DRIFT_BUILD_GIT_COMMIT");
const GIT_EPOCH: &str = env!("DRIFT_BUILD_GIT_EPOCH");
const BUILD_EPOCH: &str = env!("DRIFT_BUILD_EPOCH");
const TARGET: &str = env!("DRIFT_BUILD_TARGET");

/// The cargo features this binary was built with that change what it can do.
pub fn features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(feature = "demo") {
        features.push("demo");
    }
    if cfg!(feature = "spark-job-bin") {
        features.push("spark-job-bin");
    }
    features
}

/// The build date as `YYYY-MM-DD` (UTC), or None when unknown.
pub fn build_date() -> Option<String> {
    date(BUILD_EPOCH)
}

/// `YYYY-MM-DD` (UTC) of a Unix time written in decimal, or None.
fn date(epoch: &str) -> Option<String> {
    let secs = epoch.parse::<i64>().ok()?;
    Some(DateTime::from_timestamp(secs, 0)?.format("%Y-%m-%d").to_string())
}

/// `drift version`: one `label: value` line each, after the same first line as `--version`.
pub fn text(bin: &str) -> String {
    let unknown = || "unknown".to_string();
    let commit = match (GIT_COMMIT, date(GIT_EPOCH)) {
        ("", _) => unknown(),
        (commit, Some(date)) => format!("{commit} ({date})"),
        (commit, None) => commit.to_string(),
    };
    let features = features();
    let rows = [
        ("commit", commit),
        ("build date", build_date().unwrap_or_else(unknown)),
        ("target", if TARGET.is_empty() { unknown() } else { TARGET.to_string() }),
        ("features", if features.is_empty() { "none".to_string() } else { features.join(", ") }),
    ];
    let mut out = format!("{bin} {VERSION}\n");
    for (label, value) in rows {
        out.push_str(&format!("{:<12}{value}\n", format!("{label}:")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_every_field_on_its_own_line() {
        let text = text("drift");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("drift {VERSION}"));
        for (line, label) in lines[1..].iter().zip(["commit:", "build date:", "target:", "features:"]) {
            assert!(line.starts_with(label), "{line}");
            assert!(line.len() > 12, "a value follows {label}");
        }
        assert_eq!(lines.len(), 5);
        // build.rs always knows the target (cargo sets TARGET for build scripts).
        assert!(text.contains(TARGET) && !TARGET.is_empty());
        assert_eq!(text.contains("demo"), cfg!(feature = "demo"));
    }

    #[test]
    fn epoch_to_date() {
        assert_eq!(date("0").as_deref(), Some("1970-01-01"));
        assert_eq!(date("1796358992").as_deref(), Some("2026-12-04"));
        assert_eq!(date(""), None);
        assert_eq!(date("soon"), None);
    }
}

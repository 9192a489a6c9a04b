//! How a job's status moves: a submitted job walks a list of steps, one step per GET of that job (the default
//! `NotStarted → Queued → Running → Completed`), and stays on the last. Scripts chosen by id or display-name prefix
//! replace the walk for matching jobs (fail, cancel, hang, an unknown status, any steps).

/// The default walk of a submitted job.
pub(crate) const DEFAULT_STEPS: &[&str] = &["NotStarted", "Queued", "Running", "Completed"];

/// Statuses after which nothing happens to a job (what cancel treats as "already over"). Source: the 2025-12-01
/// spec's `JobStatus` descriptions (mfe.json): NotResponding "is the only state that is exempt from strict
/// transition orders. A run can go from NotResponding to any of the previous states"; Paused means "paused by
/// users" and can be resumed. Neither is final, so neither is here.
pub(crate) const TERMINAL: &[&str] = &["Completed", "Failed", "Canceled"];

/// A scripted outcome for jobs, chosen with [`crate::Sandbox::script_job`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobScript {
    /// The default walk, ending `Completed`.
    Complete,
    /// The default walk with `Failed` as its last step.
    Fail,
    /// The default walk with `Canceled` as its last step (canceled by someone else).
    Cancel,
    /// The default walk with `NotResponding` as its last step (a job whose heartbeat never comes back; not final,
    /// so a cancel still applies). A job that recovers is `Steps(["Running", "NotResponding", "Running", ...])`.
    NotResponding,
    /// The default walk without its last step: with the default steps the job stays `Running` forever.
    Hang,
    /// The default walk with this status as its last step, kept forever: e.g. a status a future service version
    /// might add (`Hibernating`).
    Status(String),
    /// Exactly these steps.
    Steps(Vec<String>),
}

impl JobScript {
    /// The steps a job under this script walks, given the default walk.
    pub(crate) fn steps(&self, default: &[String]) -> Vec<String> {
        let ending = |last: &str| {
            let mut steps: Vec<String> = default[..default.len().saturating_sub(1)].to_vec();
            steps.push(last.to_string());
            steps
        };
        match self {
            JobScript::Complete => default.to_vec(),
            JobScript::Fail => ending("Failed"),
            JobScript::Cancel => ending("Canceled"),
            JobScript::NotResponding => ending("NotResponding"),
            JobScript::Status(status) => ending(status),
            JobScript::Hang if default.len() > 1 => default[..default.len() - 1].to_vec(),
            JobScript::Hang => default.to_vec(),
            JobScript::Steps(steps) => steps.clone(),
        }
    }

    /// Why a script cannot be used, if it cannot (empty steps or statuses).
    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            JobScript::Status(s) if s.trim().is_empty() => Err("JobScript::Status needs a status".into()),
            JobScript::Steps(steps) if steps.is_empty() || steps.iter().any(|s| s.trim().is_empty()) => {
                Err("JobScript::Steps needs at least one non-empty status".into())
            }
            _ => Ok(()),
        }
    }
}

/// The script for a job: the last one whose pattern equals its id or prefixes its display name.
pub(crate) fn script_for<'a>(
    scripts: &'a [(String, JobScript)],
    id: &str,
    display_name: Option<&str>,
) -> Option<&'a JobScript> {
    scripts
        .iter()
        .rev()
        .find(|(pattern, _)| pattern == id || display_name.is_some_and(|d| d.starts_with(pattern.as_str())))
        .map(|(_, script)| script)
}

pub(crate) fn is_terminal(status: &str) -> bool {
    TERMINAL.contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Vec<String> {
        DEFAULT_STEPS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scripts_shape_the_walk() {
        let d = default();
        assert_eq!(JobScript::Complete.steps(&d), d);
        assert_eq!(JobScript::Fail.steps(&d).last().map(String::as_str), Some("Failed"));
        assert_eq!(JobScript::Hang.steps(&d).last().map(String::as_str), Some("Running"));
        assert_eq!(
            JobScript::Status("Hibernating".into()).steps(&d),
            ["NotStarted", "Queued", "Running", "Hibernating"]
        );
        assert_eq!(JobScript::Steps(vec!["Queued".into()]).steps(&d), ["Queued"]);
        assert_eq!(JobScript::Hang.steps(&["Running".to_string()]), ["Running"]);
        assert!(JobScript::Steps(Vec::new()).check().is_err());
        assert!(JobScript::Fail.check().is_ok());
    }

    #[test]
    fn last_matching_script_wins() {
        let scripts = vec![
            ("churn".to_string(), JobScript::Fail),
            ("job-1".to_string(), JobScript::Hang),
            ("churn_2025".to_string(), JobScript::Cancel),
        ];
        assert_eq!(script_for(&scripts, "x", Some("churn_20250101000000_ab")), Some(&JobScript::Cancel));
        assert_eq!(script_for(&scripts, "x", Some("churn_1999")), Some(&JobScript::Fail));
        assert_eq!(script_for(&scripts, "job-1", None), Some(&JobScript::Hang));
        assert_eq!(script_for(&scripts, "job-2", Some("sales")), None);
        assert!(is_terminal("Canceled") && !is_terminal("Hibernating"));
        for not_final in ["NotResponding", "Paused", "CancelRequested", "Running"] {
            assert!(!is_terminal(not_final), "{not_final}");
        }
    }
}

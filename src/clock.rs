//! The wall clock a run reads, injected through the session so that no pipeline code calls `Utc::now()` itself:
//! tests that need runs at different moments set the clock instead of sleeping. Deadlines and backoff still use
//! tokio's monotonic time, which a wall clock must not steer.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

/// Test-only override: `DRIFT_TEST_NOW=<RFC 3339 instant>` starts the run's clock at that instant, and it runs on
/// from there at real speed. For tests that run the binary (a second run "a day later" without waiting a day);
/// in-process tests may set it the same way. Not for production use, so it is not in `--help`.
pub const TEST_NOW_ENV: &str = "DRIFT_TEST_NOW";

/// Reads the current time; cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that reads `start` now and advances at real speed (durations stay real).
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        let origin = Instant::now();
        Clock(Arc::new(move || start + origin.elapsed()))
    }

    /// A clock that never moves.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(move || at))
    }

    /// The system clock, or the one `DRIFT_TEST_NOW` asks for. A value that is not RFC 3339 is a usage error.
    pub fn from_env(env: &std::collections::HashMap<String, String>) -> Result<Clock, String> {
        match env.get(TEST_NOW_ENV).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(Clock::system()),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|t| Clock::starting_at(t.with_timezone(&Utc)))
                .map_err(|e| format!("{TEST_NOW_ENV}={v:?} is not an RFC 3339 instant: {e}")),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now().to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_can_start_the_clock_elsewhere() {
        let env = |v: &str| [(TEST_NOW_ENV.to_string(), v.to_string())].into_iter().collect();
        let at = DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z").unwrap().with_timezone(&Utc);
        let clock = Clock::from_env(&env("2030-01-02T03:04:05Z")).unwrap();
        let read = clock.now();
        assert!(read >= at && read - at < chrono::Duration::seconds(5), "{read}");
        assert!(Clock::from_env(&env("yesterday")).unwrap_err().contains(TEST_NOW_ENV));
        let system = Clock::from_env(&Default::default()).unwrap().now();
        assert!((Utc::now() - system).num_seconds().abs() < 5);
        assert_eq!(Clock::fixed(at).now(), at);
    }

    /// The promise tests rely on when they move the clock instead of sleeping: no pipeline code reads the wall
    /// clock itself (monotonic `Instant`s for deadlines and log timings are fine).
    #[test]
    fn pipeline_code_reads_time_only_through_the_session_clock() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pipeline"), &mut files);
        assert!(files.len() >= 7, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for direct in ["Utc::now", "Local::now", "SystemTime::now"] {
                assert!(
                    !text.contains(direct),
                    "{} reads the wall clock ({direct}); use session.clock",
                    file.display()
                );
            }
        }
    }
}

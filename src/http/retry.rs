//! When and how long to wait before retrying a request: the retryable statuses, backoff with jitter, and the
//! server's own `Retry-After` / `x-ms-retry-after-ms` hints.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// Statuses worth retrying: timeouts, throttling and transient server faults. Anything else is the caller's
/// problem and retrying would only delay the error.
pub const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Retries after the first attempt. With the default steps (0.8, 1.6, 3.2, 6.4 s, each jittered to 50–100 %) four
/// retries wait 6–12 s in all, plus whatever `Retry-After` the server asks for: enough for a brief throttling window
/// or a front-door hiccup without hiding an outage for long.
pub const DEFAULT_MAX_RETRIES: u32 = 4;

/// First backoff step; doubled on each retry.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(800);

/// Ceiling of a computed backoff step.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(20);

/// Ceiling of a server-requested delay; ARM asks for at most a minute in practice, and a longer ask is capped
/// rather than obeyed so a run never stalls for hours on one header.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// Environment variable that scales every retry delay (0 removes the sleeps; tests use it).
pub const DELAY_SCALE_ENV: &str = "DRIFT_HTTP_RETRY_DELAY_SCALE";

/// Environment variable that scales the connect, read and whole-request timeouts (the fault suite uses small
/// values so a hung server costs seconds, not minutes). Not for production use.
pub const TIMEOUT_SCALE_ENV: &str = "DRIFT_HTTP_TIMEOUT_SCALE";

/// Environment variable that overrides [`DEFAULT_MAX_RETRIES`].
pub const MAX_RETRIES_ENV: &str = "DRIFT_HTTP_MAX_RETRIES";

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Multiplies every delay, server-requested ones included. 1.0 in production.
    pub delay_scale: f64,
    /// Multiplies the connect, read and request timeouts (`CONNECT_TIMEOUT`, … in `http`). 1.0 in production.
    pub timeout_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            delay_scale: 1.0,
            timeout_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// The default policy adjusted by [`DELAY_SCALE_ENV`] and [`MAX_RETRIES_ENV`] when they hold valid numbers.
    pub fn from_env(env: &std::collections::HashMap<String, String>) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(scale) = env.get(DELAY_SCALE_ENV).and_then(|v| v.trim().parse::<f64>().ok())
            && scale.is_finite()
            && scale >= 0.0
        {
            policy.delay_scale = scale;
        }
        if let Some(scale) = env.get(TIMEOUT_SCALE_ENV).and_then(|v| v.trim().parse::<f64>().ok())
            && scale.is_finite()
            && scale > 0.0
        {
            policy.timeout_scale = scale.min(1.0);
        }
        if let Some(n) = env.get(MAX_RETRIES_ENV).and_then(|v| v.trim().parse::<u32>().ok()) {
            policy.max_retries = n.min(20);
        }
        policy
    }

    /// Delay before retry number `retry` (1-based): the server's hint when it gave one, else exponential backoff
    /// with jitter in [50 %, 100 %] of the step so many clients throttled together do not return together.
    pub fn delay(&self, retry: u32, server_hint: Option<Duration>, jitter: f64) -> Duration {
        let raw = match server_hint {
            Some(hint) => hint.min(MAX_SERVER_DELAY),
            None => {
                let step = self.base_delay.saturating_mul(1u32 << (retry.saturating_sub(1)).min(16));
                step.min(self.max_delay).mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
            }
        };
        raw.mul_f64(self.delay_scale)
    }
}

pub fn is_retryable_status(status: u16) -> bool {
    RETRYABLE_STATUSES.contains(&status)
}

/// Where a request stands after an attempt that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Retries made so far (0 after the first attempt).
    pub retries: u32,
    pub max_retries: u32,
    /// Repeating the request has the same effect as sending it once.
    pub idempotent: bool,
    /// The attempt carried bearer tokens (so a 401 may mean "expired").
    pub had_tokens: bool,
    /// A 401 already led to one token refresh.
    pub refreshed_after_401: bool,
}

/// The next step after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Sleep this long, then send again (counts as a retry).
    Retry(Duration),
    /// Forget the tokens used and send again at once (does not count as a retry).
    RefreshTokens,
    /// Report the failure.
    GiveUp,
}

/// After an answer with a status the caller does not accept. A 401 with tokens is retried once with fresh
/// tokens (an expired or revoked token; a second 401 is a real denial). The server saw the request, so only an
/// idempotent one may be repeated, and only for a retryable status.
pub fn after_status(
    status: u16,
    attempts: Attempts,
    policy: &RetryPolicy,
    hint: Option<Duration>,
    jitter: f64,
) -> Step {
    if status == 401 && attempts.had_tokens && !attempts.refreshed_after_401 {
        return Step::RefreshTokens;
    }
    if is_retryable_status(status) && attempts.idempotent && attempts.retries < attempts.max_retries {
        return Step::Retry(policy.delay(attempts.retries + 1, hint, jitter));
    }
    Step::GiveUp
}

/// After a transport failure. A refused connection never reached the server, so even a POST may be repeated;
/// a timeout or a broken connection may have, so only an idempotent request is.
pub fn after_transport_failure(
    never_reached_server: bool,
    attempts: Attempts,
    policy: &RetryPolicy,
    jitter: f64,
) -> Step {
    if (attempts.idempotent || never_reached_server) && attempts.retries < attempts.max_retries {
        Step::Retry(policy.delay(attempts.retries + 1, None, jitter))
    } else {
        Step::GiveUp
    }
}

/// The delay the server asked for: `x-ms-retry-after-ms` / `retry-after-ms` (milliseconds), else `Retry-After`
/// as seconds or an HTTP date.
pub fn server_hint(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    for name in ["x-ms-retry-after-ms", "retry-after-ms"] {
        if let Some(ms) = text(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retryable_statuses_are_pinned() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 201, 202, 400, 401, 403, 404, 409, 412, 501, 505] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn what_happens_after_a_failed_attempt() {
        let p = RetryPolicy::default();
        let a = Attempts { retries: 0, max_retries: 4, idempotent: true, had_tokens: true, refreshed_after_401: false };
        let step_1 = Step::Retry(Duration::from_millis(800));
        let cases: Vec<(&str, Step, Step)> = vec![
            ("503 idempotent", after_status(503, a, &p, None, 1.0), step_1),
            (
                "429 with hint",
                after_status(429, a, &p, Some(Duration::from_secs(7)), 1.0),
                Step::Retry(Duration::from_secs(7)),
            ),
            ("503 POST", after_status(503, Attempts { idempotent: false, ..a }, &p, None, 1.0), Step::GiveUp),
            ("503 out of retries", after_status(503, Attempts { retries: 4, ..a }, &p, None, 1.0), Step::GiveUp),
            ("400", after_status(400, a, &p, None, 1.0), Step::GiveUp),
            ("404", after_status(404, a, &p, None, 1.0), Step::GiveUp),
            ("401 first", after_status(401, a, &p, None, 1.0), Step::RefreshTokens),
            ("401 again", after_status(401, Attempts { refreshed_after_401: true, ..a }, &p, None, 1.0), Step::GiveUp),
            ("401 no token", after_status(401, Attempts { had_tokens: false, ..a }, &p, None, 1.0), Step::GiveUp),
            ("refused POST", after_transport_failure(true, Attempts { idempotent: false, ..a }, &p, 1.0), step_1),
            ("reset POST", after_transport_failure(false, Attempts { idempotent: false, ..a }, &p, 1.0), Step::GiveUp),
            ("reset GET", after_transport_failure(false, a, &p, 1.0), step_1),
            (
                "reset GET, no retries left",
                after_transport_failure(false, Attempts { retries: 4, ..a }, &p, 1.0),
                Step::GiveUp,
            ),
            (
                "second retry backs off",
                after_transport_failure(false, Attempts { retries: 1, ..a }, &p, 1.0),
                Step::Retry(Duration::from_millis(1600)),
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(800));
        assert_eq!(p.delay(2, None, 1.0), Duration::from_millis(1600));
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(400));
        assert_eq!(p.delay(10, None, 1.0), DEFAULT_MAX_DELAY);
        assert_eq!(p.delay(1, Some(Duration::from_secs(7)), 0.3), Duration::from_secs(7));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), 0.3), MAX_SERVER_DELAY);
        let fast = RetryPolicy { delay_scale: 0.0, ..RetryPolicy::default() };
        assert_eq!(fast.delay(3, Some(Duration::from_secs(5)), 1.0), Duration::ZERO);
    }

    #[test]
    fn server_hints_in_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        assert_eq!(server_hint(&h, now), None);
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(server_hint(&h, now), Some(Duration::from_secs(3)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(12));
        h.insert("retry-after", HeaderValue::from_str(&date).unwrap());
        assert_eq!(server_hint(&h, now), Some(Duration::from_secs(12)));
        h.insert("x-ms-retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(server_hint(&h, now), Some(Duration::from_millis(250)));
        let mut past = HeaderMap::new();
        past.insert("retry-after", HeaderValue::from_str(&httpdate::fmt_http_date(now)).unwrap());
        assert_eq!(server_hint(&past, now + Duration::from_secs(5)), Some(Duration::ZERO));
    }

    #[test]
    fn env_knobs() {
        let env: std::collections::HashMap<String, String> =
            [(DELAY_SCALE_ENV, "0"), (MAX_RETRIES_ENV, "2"), (TIMEOUT_SCALE_ENV, "0.01")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let p = RetryPolicy::from_env(&env);
        assert_eq!(p.delay_scale, 0.0);
        assert_eq!(p.max_retries, 2);
        assert_eq!(p.timeout_scale, 0.01);
        for bad in ["0", "-1", "nan", "x"] {
            let env = [(TIMEOUT_SCALE_ENV.to_string(), bad.to_string())].into_iter().collect();
            assert_eq!(RetryPolicy::from_env(&env).timeout_scale, 1.0, "{bad}");
        }
        let bad: std::collections::HashMap<String, String> =
            [(DELAY_SCALE_ENV.to_string(), "-1".to_string())].into_iter().collect();
        assert_eq!(RetryPolicy::from_env(&bad).delay_scale, 1.0);
    }
}

//! Per-scope token cache: reuses a token until shortly before it expires, and lets only one request per scope be
//! in flight, so fifty concurrent polls that start together cause one token request, not fifty.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::secret::Secret;

/// Never keep using a token closer than this to its expiry; Azure SDKs refresh five minutes early too.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A bearer token and when it stops being valid.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: Instant,
    pub lifetime: Duration,
}

impl AccessToken {
    pub fn new(token: Secret, lifetime: Duration) -> AccessToken {
        AccessToken { token, expires_at: Instant::now() + lifetime, lifetime }
    }

    /// Whether the token may still be handed out at `now`. Short-lived tokens (minutes) are renewed at half
    /// their life so the margin never exceeds the life itself.
    pub fn is_fresh(&self, now: Instant) -> bool {
        let margin = MAX_REFRESH_MARGIN.min(self.lifetime / 2);
        now + margin < self.expires_at
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<AccessToken>>>;

#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl TokenCache {
    /// The cached token of `scope`, or the one `fetch` obtains while every other caller of this scope waits.
    pub async fn get_or_fetch<F, Fut>(&self, scope: &str, fetch: F) -> Result<Secret, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, Error>>,
    {
        let slot = self.slot(scope);
        let mut guard = slot.lock().await;
        if let Some(cached) = guard.as_ref()
            && cached.is_fresh(Instant::now())
        {
            return Ok(cached.token.clone());
        }
        let fresh = fetch().await?;
        let token = fresh.token.clone();
        *guard = Some(fresh);
        Ok(token)
    }

    /// Drops `token` if it is still the cached one for `scope` (another caller may have refreshed it already).
    pub fn invalidate(&self, scope: &str, token: &Secret) {
        let slot = self.slot(scope);
        if let Ok(mut guard) = slot.try_lock()
            && guard.as_ref().is_some_and(|t| &t.token == token)
        {
            *guard = None;
        }
    }

    fn slot(&self, scope: &str) -> Slot {
        // A poisoned map only means another thread panicked mid-insert; the map itself is still usable.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(scope.to_string()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn freshness_margin() {
        let now = Instant::now();
        let hour = AccessToken {
            token: Secret::new("t"),
            expires_at: now + Duration::from_secs(3600),
            lifetime: Duration::from_secs(3600),
        };
        assert!(hour.is_fresh(now));
        assert!(hour.is_fresh(now + Duration::from_secs(3299)));
        assert!(!hour.is_fresh(now + Duration::from_secs(3301)));
        let short = AccessToken {
            token: Secret::new("t"),
            expires_at: now + Duration::from_secs(4),
            lifetime: Duration::from_secs(4),
        };
        assert!(short.is_fresh(now + Duration::from_millis(1900)));
        assert!(!short.is_fresh(now + Duration::from_millis(2100)));
    }

    #[tokio::test]
    async fn one_fetch_for_concurrent_callers_and_refetch_after_invalidate() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch("s", || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(AccessToken::new(Secret::new("tok-1"), Duration::from_secs(3600)))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().expose(), "tok-1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        cache.invalidate("s", &Secret::new("other"));
        let again = cache.get_or_fetch("s", || async { unreachable!("still cached") }).await.unwrap();
        assert_eq!(again.expose(), "tok-1");
        cache.invalidate("s", &Secret::new("tok-1"));
        let fresh = cache
            .get_or_fetch("s", || async { Ok(AccessToken::new(Secret::new("tok-2"), Duration::from_secs(60))) })
            .await
            .unwrap();
        assert_eq!(fresh.expose(), "tok-2");
    }
}

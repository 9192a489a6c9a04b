//! Interruption: SIGINT/SIGTERM (or a test) flips one flag that long waits watch, so they can cancel what they
//! started and exit 130 instead of dying mid-request.

use tokio::sync::watch;

/// Receiving side, cloned into whatever waits.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<Option<&'static str>>);

/// Sending side.
#[derive(Clone)]
pub struct ShutdownTrigger(watch::Sender<Option<&'static str>>);

pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(None);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Requests shutdown; `why` names the signal for messages.
    pub fn trigger(&self, why: &'static str) {
        self.0.send_replace(Some(why));
    }
}

impl Shutdown {
    /// The reason, if shutdown was requested.
    pub fn requested(&self) -> Option<&'static str> {
        *self.0.borrow()
    }

    /// Resolves when shutdown is requested (never, if every trigger is gone without firing).
    pub async fn wait(&self) -> &'static str {
        let mut rx = self.0.clone();
        loop {
            if let Some(why) = *rx.borrow_and_update() {
                return why;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Forwards SIGINT and SIGTERM to `trigger`. Must be called inside the runtime.
pub fn install_signal_handlers(trigger: ShutdownTrigger) {
    let on_ctrl_c = trigger.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.trigger("SIGINT");
        }
    });
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate())
            && term.recv().await.is_some()
        {
            trigger.trigger("SIGTERM");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_the_reason() {
        let (tx, rx) = channel();
        assert_eq!(rx.requested(), None);
        let waiter = tokio::spawn({
            let rx = rx.clone();
            async move { rx.wait().await }
        });
        tx.trigger("SIGTERM");
        assert_eq!(waiter.await.unwrap(), "SIGTERM");
        assert_eq!(rx.requested(), Some("SIGTERM"));
    }
}

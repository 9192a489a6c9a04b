//! Interruption: SIGINT/SIGTERM (or a test) flips one flag. The HTTP layer watches it on every request (nothing
//! new is sent, whatever is in flight is abandoned), so every phase stops within moments; the retrainer may then
//! cancel the jobs it started, and the run exits 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once.

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

/// Forwards SIGINT and SIGTERM to `trigger`; a second signal of either kind ends the process at once with that
/// signal's exit status (the user or the orchestrator does not want to wait for the cleanup). Must be called
/// inside the runtime.
pub fn install_signal_handlers(trigger: ShutdownTrigger) {
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let on_signal = move |name: &'static str| {
        if seen.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let status = crate::ExitStatus::for_signal(name);
            eprintln!("drift: second signal ({name}); exiting now with {}", status.code());
            std::process::exit(i32::from(status.code()));
        }
        trigger.trigger(name);
    };
    let on_ctrl_c = on_signal.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c("SIGINT");
        }
    });
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            while term.recv().await.is_some() {
                on_signal("SIGTERM");
            }
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

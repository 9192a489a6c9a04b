//! The server's life: an OS thread of its own running a single-threaded tokio runtime. That makes
//! `Sandbox::start` synchronous and usable from plain code and from inside any other runtime (current-thread or
//! multi-thread) without ever blocking or nesting in the caller's runtime. Dropping the handle stops it.

use std::io;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread::JoinHandle;

use axum::Router;
use tokio::sync::oneshot;

/// A running server; dropping it stops the server and waits for its thread.
pub(crate) struct Server {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Serves `router` on the already-bound `listener` from a new thread; returns once the listener is registered with
/// the server's runtime. Connections made before that wait in the kernel's backlog, so "bound" already means
/// "reachable".
pub(crate) fn spawn(listener: TcpListener, router: Router) -> io::Result<Server> {
    listener.set_nonblocking(true)?;
    let (ready_tx, ready_rx) = mpsc::channel::<io::Result<()>>();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    // Everything tokio is created and dropped on the server thread: dropping a runtime inside the caller's async
    // context would panic.
    let thread = std::thread::Builder::new().name("drift-sandbox".to_string()).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            tokio::select! {
                result = axum::serve(listener, router).into_future() => {
                    if let Err(e) = result {
                        eprintln!("drift-sandbox: server stopped: {e}");
                    }
                }
                // Not graceful on purpose: a test's pooled keep-alive connections must not hold the drop up. Open
                // connections end when the runtime is dropped right after.
                _ = shutdown_rx => {}
            }
        });
    })?;
    let server = Server { shutdown: Some(shutdown_tx), thread: Some(thread) };
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(server),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::other("drift-sandbox server thread ended before it was ready")),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

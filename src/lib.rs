//! drift: keeps Azure Machine Learning models fresh when their Delta Lake training data changes.
//!
//! Data flows one way: CLI → config → credentials → typed Azure clients → pipeline → outputs.

mod app;
pub mod assets;
pub mod auth;
pub mod azure;
pub mod cli;
pub mod clock;
pub mod cloud;
pub mod config;
pub mod delta;
#[cfg(feature = "demo")]
mod demo;
pub mod error;
mod flags;
pub mod history;
pub mod http;
pub mod logging;
pub mod mltable;
pub mod output;
pub mod pipeline;
pub mod references;
pub mod secret;
pub mod shutdown;
mod version;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;

pub use error::{Error, ExitStatus};
pub use shutdown::{Shutdown, ShutdownTrigger};

/// Everything one run of drift reads from and writes to; the real process or a test.
pub struct Invocation {
    /// Arguments including the program name.
    pub args: Vec<OsString>,
    /// The environment drift sees (tests pass their own; drift never reads the process environment itself).
    pub env: HashMap<String, String>,
    pub stdout: Box<dyn Write + Send>,
    pub stderr: Box<dyn Write + Send>,
    /// Shutdown requests; the real binary wires SIGINT/SIGTERM to it.
    pub shutdown: Option<(ShutdownTrigger, Shutdown)>,
    /// Install SIGINT/SIGTERM handlers (the binary does; in-process tests must not).
    pub handle_signals: bool,
}

impl Invocation {
    /// An invocation with the given arguments and environment, output captured by the caller's writers.
    pub fn new(
        args: Vec<OsString>,
        env: HashMap<String, String>,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> Invocation {
        Invocation { args, env, stdout, stderr, shutdown: None, handle_signals: false }
    }

    /// The current process: its arguments, environment (non-UTF-8 variables skipped), stdout and stderr.
    pub fn from_process() -> Invocation {
        let env =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        Invocation {
            args: std::env::args_os().collect(),
            env,
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
            shutdown: None,
            handle_signals: true,
        }
    }
}

/// Runs one invocation to completion and returns its exit status.
pub fn run(invocation: Invocation) -> ExitStatus {
    app::run(invocation)
}

/// The binaries' `main`.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(run(Invocation::from_process()).code())
}

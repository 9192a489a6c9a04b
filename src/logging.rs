//! Logs: level and format from flags or environment, always to stderr (stdout carries only the report).

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A writer shared between the log subscriber and the code that prints errors, so lines never interleave
/// mid-line and tests can capture both.
#[derive(Clone)]
pub struct SharedWriter(Arc<Mutex<Box<dyn Write + Send>>>);

impl SharedWriter {
    pub fn new(inner: Box<dyn Write + Send>) -> SharedWriter {
        SharedWriter(Arc::new(Mutex::new(inner)))
    }

    /// Writes whole lines under the lock.
    pub fn write_locked(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.write_all(bytes)?;
        guard.flush()
    }
}

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_locked(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.flush()
    }
}

impl<'a> MakeWriter<'a> for SharedWriter {
    type Writer = SharedWriter;

    fn make_writer(&'a self) -> SharedWriter {
        self.clone()
    }
}

/// The filter: drift's own targets at `level`, dependencies at `warn` (their trace output can include wire
/// details we do not vet for secrets). A value with `=` is taken as a full filter directive for experts.
pub fn filter(level: LogLevel, directive: Option<&str>) -> EnvFilter {
    if let Some(d) = directive.filter(|d| d.contains('='))
        && let Ok(f) = EnvFilter::try_new(d)
    {
        return f;
    }
    let l = level.as_str();
    EnvFilter::new(format!("warn,drift={l},spark_job={l}"))
}

/// Builds the subscriber for one invocation.
pub fn subscriber(
    level: LogLevel,
    directive: Option<&str>,
    format: LogFormat,
    writer: SharedWriter,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync> {
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter(level, directive)).with_writer(writer).with_target(false);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).with_current_span(false).finish()),
    }
}

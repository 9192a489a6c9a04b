//! Logs: level, format and colour from flags or environment, always to stderr (stdout carries only the report);
//! and the one place that shares stderr with a progress bar, so a log line never lands on the bar's line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, WeakProgressBar};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

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

impl LogLevel {
    /// The level `-v`/`-q` ask for: each `-v` one step more detail than the default (info), each `-q` one step
    /// less, saturating at trace and error (errors are always shown). None when neither is given.
    pub fn from_verbosity(verbose: u8, quiet: u8) -> Option<LogLevel> {
        match (verbose, quiet) {
            (0, 0) => None,
            (1, _) => Some(LogLevel::Debug),
            (2.., _) => Some(LogLevel::Trace),
            (0, 1) => Some(LogLevel::Warn),
            (0, 2..) => Some(LogLevel::Error),
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

/// `--color`: whether text log lines carry ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    // Colour when stderr is a terminal, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`. (A `//` comment:
    // a doc comment would become help text and switch `--help` to its long layout.)
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Decides colour for this run. `NO_COLOR` counts only "when present and not an empty string (regardless of
    /// its value)", and per-instance command-line arguments override it (https://no-color.org, text and FAQ), so
    /// `--color always` wins over it and `NO_COLOR=` (empty) leaves colour on. `TERM=dumb` is the older convention
    /// for a terminal that cannot show escapes.
    pub fn use_color(self, no_color: Option<&str>, term: Option<&str>, stderr_is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stderr_is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb"),
        }
    }
}

/// A writer shared between the log subscriber and the code that prints errors, so lines never interleave
/// mid-line and tests can capture both. While a progress bar shows on the same terminal, every write clears the
/// bar first and redraws it after (indicatif's `suspend`): without that, a line written after the bar is drawn
/// either lands on the bar's line or leaves a stale copy of the bar above each log line.
#[derive(Clone)]
pub struct SharedWriter {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    bar: ProgressSlot,
}

impl SharedWriter {
    pub fn new(inner: Box<dyn Write + Send>) -> SharedWriter {
        SharedWriter { out: Arc::new(Mutex::new(inner)), bar: ProgressSlot::default() }
    }

    /// Writes whole lines under the lock, with any progress bar out of the way.
    pub fn write_locked(&self, bytes: &[u8]) -> std::io::Result<()> {
        let write = || {
            let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
            guard.write_all(bytes)?;
            guard.flush()
        };
        match self.bar.active() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// The progress bar currently attached (see [`attach_progress_bar`]), if it is still running.
    pub fn progress_bar(&self) -> Option<ProgressBar> {
        self.bar.active()
    }
}

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_locked(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
        guard.flush()
    }
}

impl<'a> MakeWriter<'a> for SharedWriter {
    type Writer = SharedWriter;

    fn make_writer(&'a self) -> SharedWriter {
        self.clone()
    }
}

/// The progress bar an invocation's log writer keeps out of the way. Held weakly: a bar that is dropped
/// detaches itself, so the pipeline never has to. It is also a (do-nothing) tracing layer of the invocation's
/// subscriber, which is how [`attach_progress_bar`] finds it from deep inside the pipeline without a handle
/// being threaded through every call: the subscriber is per invocation (`with_default` in `app.rs`), so two
/// in-process runs never see each other's bar.
#[derive(Clone, Default)]
struct ProgressSlot(Arc<Mutex<WeakProgressBar>>);

impl ProgressSlot {
    fn set(&self, bar: &ProgressBar) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = bar.downgrade();
    }

    fn active(&self) -> Option<ProgressBar> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).upgrade().filter(|bar| !bar.is_finished())
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProgressSlot {}

/// Makes the current invocation's log lines suspend `bar` while they are written. Does nothing outside a drift
/// subscriber (a unit test calling the pipeline directly).
pub fn attach_progress_bar(bar: &ProgressBar) {
    tracing::dispatcher::get_default(|dispatch| {
        if let Some(slot) = dispatch.downcast_ref::<ProgressSlot>() {
            slot.set(bar);
        }
    });
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
    let slot = writer.bar.clone();
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter(level, directive)).with_writer(writer).with_target(false);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish().with(slot)),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).with_current_span(false).finish().with(slot)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::{ProgressDrawTarget, ProgressStyle, TermLike};

    /// A terminal small enough to reason about: rows of characters and a cursor, with the deferred wrap real
    /// terminals have (a character written past the last column starts the next row). indicatif draws on it
    /// through `TermLike`, the log writer through `Write`, so both land on one screen as they would on a tty.
    #[derive(Debug, Clone)]
    struct Screen(Arc<Mutex<ScreenState>>);

    #[derive(Debug)]
    struct ScreenState {
        width: usize,
        rows: Vec<Vec<char>>,
        row: usize,
        col: usize,
    }

    impl ScreenState {
        fn put(&mut self, c: char) {
            match c {
                '\n' => {
                    self.row += 1;
                    self.col = 0;
                }
                '\r' => self.col = 0,
                c => {
                    if self.col >= self.width {
                        self.row += 1;
                        self.col = 0;
                    }
                    let col = self.col;
                    let row = self.row_mut();
                    if row.len() <= col {
                        row.resize(col + 1, ' ');
                    }
                    row[col] = c;
                    self.col += 1;
                }
            }
        }

        fn row_mut(&mut self) -> &mut Vec<char> {
            if self.rows.len() <= self.row {
                self.rows.resize(self.row + 1, Vec::new());
            }
            &mut self.rows[self.row]
        }
    }

    impl Screen {
        fn new(width: usize) -> Screen {
            Screen(Arc::new(Mutex::new(ScreenState { width, rows: Vec::new(), row: 0, col: 0 })))
        }

        fn state(&self) -> std::sync::MutexGuard<'_, ScreenState> {
            self.0.lock().unwrap()
        }

        /// The visible rows, trailing blanks trimmed, empty rows dropped.
        fn lines(&self) -> Vec<String> {
            let state = self.state();
            state
                .rows
                .iter()
                .map(|r| r.iter().collect::<String>().trim_end().to_string())
                .filter(|r| !r.is_empty())
                .collect()
        }
    }

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut state = self.state();
            for c in String::from_utf8_lossy(buf).chars() {
                state.put(c);
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            self.state().width as u16
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            let mut s = self.state();
            s.row = s.row.saturating_sub(n);
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            self.state().row += n;
            Ok(())
        }
        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            self.state().col += n;
            Ok(())
        }
        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            let mut s = self.state();
            s.col = s.col.saturating_sub(n);
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)?;
            self.state().put('\n');
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            let mut state = self.state();
            for c in s.chars() {
                state.put(c);
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            let mut s = self.state();
            s.row_mut().clear();
            s.col = 0;
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn bar_on(screen: &Screen) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(3), ProgressDrawTarget::term_like(Box::new(screen.clone())));
        bar.set_style(ProgressStyle::with_template("[{bar:10}] {pos}/{len} finished").unwrap().progress_chars("=> "));
        bar
    }

    #[test]
    fn log_lines_and_the_progress_bar_never_share_a_line() {
        let screen = Screen::new(60);
        let writer = SharedWriter::new(Box::new(screen.clone()));
        let subscriber = subscriber(LogLevel::Info, None, LogFormat::Text, writer.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            let bar = bar_on(&screen);
            // Found through the invocation's subscriber, as `wait::progress_bar` does.
            attach_progress_bar(&bar);
            assert!(writer.progress_bar().is_some());
            for i in 1..=3 {
                bar.set_position(i);
                bar.tick();
                tracing::info!("poll cycle {i}");
                writer.write_locked(format!("error: line {i} from the error path\n").as_bytes()).unwrap();
            }
            let lines = screen.lines();
            let bars: Vec<&String> = lines.iter().filter(|l| l.contains("finished")).collect();
            assert_eq!(bars.len(), 1, "one bar, no stale copies:\n{}", lines.join("\n"));
            assert_eq!(lines.last(), Some(&"[==========] 3/3 finished".to_string()), "{}", lines.join("\n"));
            let logs: Vec<&String> = lines.iter().filter(|l| !l.contains("finished")).collect();
            assert_eq!(logs.len(), 6, "{}", lines.join("\n"));
            for (i, pair) in logs.chunks(2).enumerate() {
                assert!(pair[0].ends_with(&format!("INFO poll cycle {}", i + 1)), "{}", pair[0]);
                assert_eq!(pair[1], &format!("error: line {} from the error path", i + 1));
            }
            bar.finish_and_clear();
            assert!(writer.progress_bar().is_none(), "a finished bar is no longer suspended");
            tracing::info!("after the bar");
        });
        let lines = screen.lines();
        assert!(lines.iter().all(|l| !l.contains("finished")), "{}", lines.join("\n"));
        assert!(lines.last().unwrap().ends_with("INFO after the bar"));
    }

    /// The double is faithful enough to show the garbling the suspension prevents.
    #[test]
    fn without_the_suspension_the_screen_is_garbled() {
        let screen = Screen::new(60);
        let bar = bar_on(&screen);
        let mut out = screen.clone();
        for i in 1..=2 {
            bar.set_position(i);
            bar.tick();
            out.write_all(format!("log {i}\n").as_bytes()).unwrap();
        }
        let lines = screen.lines();
        assert_eq!(lines.iter().filter(|l| l.contains("finished")).count(), 2, "{}", lines.join("\n"));
    }

    #[test]
    fn the_retrainer_bar_attaches_itself_and_a_dropped_bar_detaches() {
        let writer = SharedWriter::new(Box::new(std::io::sink()));
        let subscriber = subscriber(LogLevel::Info, None, LogFormat::Json, writer.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            let bar = crate::pipeline::retrainer::wait::progress_bar(2);
            assert!(writer.progress_bar().is_some(), "wait::progress_bar attaches to the log writer");
            drop(bar);
            assert!(writer.progress_bar().is_none());
        });
        // Outside a drift subscriber, attaching is a no-op.
        attach_progress_bar(&ProgressBar::hidden());
    }

    #[test]
    fn verbosity_flags() {
        use LogLevel::*;
        for (v, q, want) in [
            (0, 0, None),
            (1, 0, Some(Debug)),
            (2, 0, Some(Trace)),
            (5, 0, Some(Trace)),
            (0, 1, Some(Warn)),
            (0, 2, Some(Error)),
            (0, 9, Some(Error)),
        ] {
            assert_eq!(LogLevel::from_verbosity(v, q), want, "-v×{v} -q×{q}");
        }
    }

    #[test]
    fn color_choice_follows_no_color_org() {
        use ColorChoice::*;
        let cases = [
            // (choice, NO_COLOR, TERM, terminal, colour)
            (Auto, None, Some("xterm"), true, true),
            (Auto, None, None, false, false),
            (Auto, Some("1"), None, true, false),
            (Auto, Some("0"), None, true, false), // "regardless of its value"
            (Auto, Some(""), None, true, true),   // "and not an empty string"
            (Auto, None, Some("dumb"), true, false),
            (Always, Some("1"), Some("dumb"), false, true), // the command line overrides NO_COLOR
            (Never, None, None, true, false),
        ];
        for (choice, no_color, term, tty, want) in cases {
            assert_eq!(
                choice.use_color(no_color, term, tty),
                want,
                "{choice:?} NO_COLOR={no_color:?} TERM={term:?} tty={tty}"
            );
        }
    }
}

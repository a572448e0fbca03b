//! Logs on stderr, redacted: every line passes through the run's [`Redactor`] before it is
//! written, whatever library wrote it (reqwest and hyper included) and at every verbosity.

use flowstep_engine::Redactor;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Sets up logging: `-v` levels, or `RUST_LOG` when set; `quiet` without `-v`. With `json`,
/// one JSON object per line ([`crate::json_log`]).
pub fn init(verbose: u8, quiet: &str, redactor: Arc<Redactor>, json: bool) {
    // Without -v only errors are logged (by most commands): the report already says which
    // step failed and why.
    let level = match verbose {
        0 => quiet,
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // handlebars logs the values it renders (a helper's arguments, secrets among them, at
    // debug) and rustls logs at error what the step's own error then says with a fix: both
    // stay off at every verbosity and under RUST_LOG.
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    for quiet in ["handlebars=off", "rustls=off"] {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    if json {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(crate::json_log::FlatJson {
                redactor: redactor.clone(),
            })
            .with_writer(RedactingStderr { redactor })
            .try_init();
        return;
    }
    // One filter for the whole subscriber, as the JSON log has: a per-layer filter that also
    // turned spans off lost some events on busy servers (a deadline fired, a run claimed).
    // The text log shows the run and step spans before each line they hold
    // (`run{run_id=order-42 flow=pay}:step{step_id=call}: ...`), so that lines of runs
    // running at once can be told apart.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr { redactor })
        .with_target(verbose >= 2)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .try_init();
}

/// A writer factory whose writers redact before writing to stderr.
struct RedactingStderr {
    redactor: Arc<Redactor>,
}

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            redactor: self.redactor.clone(),
            buf: Vec::new(),
        }
    }
}

/// Buffers one event and writes it redacted when dropped, so a secret split across two
/// `write` calls is still found.
struct LineWriter {
    redactor: Arc<Redactor>,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let _ = std::io::stderr().write_all(self.redactor.redact(&text).as_bytes());
    }
}

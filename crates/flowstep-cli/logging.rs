//! Logs on stderr, redacted: every line passes through the run's [`Redactor`] before it is
//! written, whatever library wrote it (reqwest and hyper included) and at every verbosity.

use flowstep_engine::Redactor;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

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
    // The text log names no span: the lines read as they did before the run and step spans
    // (which `--log-format json` lifts into `run_id` and `step_id`) existed, and each line
    // that needs a run id carries it as a field.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(RedactingStderr { redactor })
        .with_target(verbose >= 2)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_filter(filter.and(filter_fn(|meta| !meta.is_span())));
    let _ = tracing_subscriber::registry().with(layer).try_init();
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

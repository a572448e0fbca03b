//! Why a command stopped before its work began (exit 2): said as `error:`/`help:` lines and
//! drawn diagnostics on stderr, or, with `--format json`, gathered into one JSON object on
//! stdout, `{"status": "invalid", "exit_code": 2, "diagnostics": [...]}`, each item shaped as
//! `check --format json` prints one, so that a script reads every failure the same way.

use crate::args::Format;
use crate::exit::Exit;
use crate::files::Unreadable;
use crate::load;
use crate::out::{errln, outln};
use flowstep_spec::{Diagnostic, Severity, SourceFile};
use serde_json::{Value, json};

/// The problems of one command, in the order found.
pub struct Problems {
    format: Format,
    items: Vec<Value>,
    /// Errors found, whether said at once (text) or kept (JSON).
    errors: usize,
}

impl Problems {
    /// None yet; said in `format`.
    pub fn new(format: Format) -> Self {
        Problems {
            format,
            items: Vec::new(),
            errors: 0,
        }
    }

    /// An error that points at no file: `error: MESSAGE`.
    pub fn error(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.errors += 1;
        match self.format {
            Format::Text => errln!("error: {message}"),
            Format::Json => self
                .items
                .push(json!({"severity": "error", "message": message})),
        }
    }

    /// What to do about the error before it: `help: TEXT`.
    pub fn help(&mut self, help: impl Into<String>) {
        let help = help.into();
        match self.format {
            Format::Text => errln!("help: {help}"),
            Format::Json => {
                if let Some(last) = self.items.last_mut() {
                    last["help"] = json!(help);
                }
            }
        }
    }

    /// Diagnostics of `file`, drawn or as items.
    pub fn diagnostics(&mut self, ds: &[Diagnostic], file: &SourceFile) {
        self.errors += ds.iter().filter(|d| d.severity == Severity::Error).count();
        match self.format {
            Format::Text => load::print_diagnostics(ds, file),
            Format::Json => self
                .items
                .extend(ds.iter().map(|d| diagnostic_json(d, file))),
        }
    }

    /// One diagnostic of `file`, drawn alone (no "could not compile" line under it).
    pub fn drawn(&mut self, d: &Diagnostic, file: &SourceFile) {
        self.errors += usize::from(d.severity == Severity::Error);
        match self.format {
            Format::Text => errln!("{}\n", d.render(file)),
            Format::Json => self.items.push(diagnostic_json(d, file)),
        }
    }

    /// A file that could not be read.
    pub fn unreadable(&mut self, e: &Unreadable) {
        match (self.format, e) {
            (Format::Text, _) => {
                self.errors += 1;
                load::print_unreadable(e)
            }
            (Format::Json, Unreadable::Drawn(d, file)) => {
                self.errors += 1;
                self.items.push(diagnostic_json(d, file))
            }
            (Format::Json, Unreadable::Refused(message)) => self.error(message.clone()),
        }
    }

    /// Whether no error was found yet.
    pub fn is_empty(&self) -> bool {
        self.errors == 0
    }

    /// Ends the command: prints the JSON object when asked for, and gives exit code 2.
    pub fn finish(self) -> Exit {
        if self.format == Format::Json {
            let doc = json!({
                "status": "invalid",
                "exit_code": 2,
                "diagnostics": self.items,
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
            );
        }
        Exit::Invalid
    }
}

/// One diagnostic as JSON: file, line and column (1-based), severity, code, message, help.
pub fn diagnostic_json(d: &Diagnostic, file: &SourceFile) -> Value {
    let (line, column) = d.line_col(file);
    json!({
        "file": file.name(),
        "line": line,
        "column": column,
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "code": d.code,
        "message": d.message,
        "help": d.help,
    })
}

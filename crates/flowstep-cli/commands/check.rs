//! `flowstep check FLOW...`: read and compile without running; every problem at once.

use crate::args::{CheckArgs, Format};
use crate::exit::Exit;
use crate::files::Unreadable;
use crate::load;
use crate::out::outln;
use flowstep_spec::{Diagnostic, Severity, SourceFile};
use serde_json::json;

pub fn check(args: CheckArgs) -> anyhow::Result<Exit> {
    let engine = load::engine(flowstep_http::HttpConfig::default());
    let mut failed = false;
    let mut json_items = Vec::new();
    for flow in &args.flows {
        let file = match load::source(flow) {
            Ok(f) => f,
            Err(e) => {
                failed = true;
                match (args.format, &e) {
                    (Format::Text, _) => load::print_unreadable(&e),
                    (Format::Json, Unreadable::Drawn(d, file)) => {
                        json_items.push(diagnostic_json(d, file))
                    }
                    (Format::Json, Unreadable::Refused(message)) => json_items
                        .push(json!({"file": flow, "severity": "error", "message": message})),
                }
                continue;
            }
        };
        let diagnostics = match engine.compile_source(file.clone()) {
            Ok((_, warnings)) => warnings,
            Err(e) => {
                failed = true;
                e.into_diagnostics()
            }
        };
        match args.format {
            Format::Text => {
                load::print_diagnostics(&diagnostics, &file);
                if !diagnostics.iter().any(|d| d.severity == Severity::Error) {
                    outln!("{}: ok", file.name());
                }
            }
            Format::Json => {
                json_items.extend(diagnostics.iter().map(|d| diagnostic_json(d, &file)))
            }
        }
    }
    if args.format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(&json_items)?);
    }
    Ok(if failed { Exit::Invalid } else { Exit::Success })
}

fn diagnostic_json(d: &Diagnostic, file: &SourceFile) -> serde_json::Value {
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

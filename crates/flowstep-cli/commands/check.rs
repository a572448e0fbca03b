//! `flowstep check FLOW...`: read and compile without running; every problem at once.

use crate::args::{CheckArgs, Format};
use crate::exit::Exit;
use crate::files::Unreadable;
use crate::load;
use crate::out::{errln, outln};
use crate::problems::diagnostic_json;
use flowstep_spec::Severity;
use serde_json::json;

pub fn check(args: CheckArgs) -> anyhow::Result<Exit> {
    if args.flows.iter().filter(|f| *f == "-").count() > 1 {
        errln!("error: `-` (stdin) is named more than once; stdin holds one flow");
        return Ok(Exit::Invalid);
    }
    // As `run` does: body files are checked where the flow is.
    let engine = load::engine(flowstep_http::HttpConfig {
        files: flowstep_http::FileAccess::BesideFlow,
        ..flowstep_http::HttpConfig::default()
    });
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
                    // A preset is named as it was given: its file is inside the binary.
                    if load::is_preset(flow) {
                        outln!("{flow} (preset): ok");
                    } else {
                        outln!("{}: ok", file.name());
                    }
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

//! `flowstep run FLOW`: inputs, secrets, the optional sandbox and routes (set up as `batch`
//! sets them up, in `wiring.rs`), the run, the report.

use crate::args::{Format, RunArgs};
use crate::exit::Exit;
use crate::out::{errln, out, outln};
use crate::{delivery, load, report, vars, wiring};
use flowstep_engine::{
    InputProblem, Redactor, RunError, RunMode, RunRequest, RunStatus, check_run_id, resolve_inputs,
};
use flowstep_http::{HttpConfig, NetworkPolicy};
use std::collections::HashSet;
use std::sync::Arc;

pub fn run(args: RunArgs, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    let mut problems = delivery::check_args(&args);
    // Before anything else: idempotency keys derive from it, so a bad one must stop the run.
    if let Some(Err(e)) = args.run_id.as_deref().map(check_run_id) {
        problems.push(format!("--run-id: {e}"));
    }
    if !problems.is_empty() {
        for p in problems {
            errln!("error: {p}");
        }
        return Ok(Exit::Invalid);
    }
    let file = match load::source(&args.flow) {
        Ok(file) => file,
        Err(e) => {
            load::print_unreadable(&e);
            return Ok(Exit::Invalid);
        }
    };
    let routes = wiring::parse_routes(&args.routes)?;
    let vars_file = match args.vars_file.as_deref().map(vars::from_file).transpose() {
        Ok(v) => v,
        Err(e) => {
            load::print_unreadable(&e);
            return Ok(Exit::Invalid);
        }
    };
    let cli_vars = vars::from_args(&args.vars)?;

    super::runtime()?.block_on(async move {
        let routing = wiring::routing(args.sandbox, routes).await?;
        // The WhatsApp channel talks to Graph directly, so it follows the same route.
        let graph_url = routing.graph_url();
        let wiring::Routing { sandbox, routes } = routing;
        // The user's own machine: everything is allowed unless they ask otherwise.
        let network = if args.deny_private_networks {
            NetworkPolicy { allow_hosts: args.allow_hosts.clone(), allow_cidrs: args.allow_cidrs.clone(), ..NetworkPolicy::deny_private() }
        } else {
            NetworkPolicy::allow_all()
        };
        let engine = load::engine(HttpConfig { routes, network, ..HttpConfig::default() });
        let (plan, warnings) = match engine.compile_source(file.clone()) {
            Ok(ok) => ok,
            Err(ds) => {
                load::print_diagnostics(&ds, &file);
                return Ok(Exit::Invalid);
            }
        };
        load::print_diagnostics(&warnings, &file);
        // Nothing here delivers the event a wait waits for: refused before anything is sent.
        if plan.has_wait() && !args.dry_run {
            errln!("error: {}; try it with --dry-run, or run it under `flowstep serve`", crate::batch::results::WAIT_NEEDS_SERVE);
            return Ok(Exit::Invalid);
        }
        let flow = plan.flow();
        // `--var` wins over the vars file; the file's problems are drawn at their place.
        let overridden: HashSet<&str> = cli_vars.iter().map(|(n, _)| n.as_str()).collect();
        let (mut given, file_problems) = match &vars_file {
            Some(v) => v.inputs(flow, &overridden),
            None => (Vec::new(), Vec::new()),
        };
        given.extend(cli_vars.iter().cloned());
        let drawn: HashSet<&str> = file_problems.iter().map(|(n, _)| n.as_str()).collect();
        let (inputs, problems) = match resolve_inputs(flow, given) {
            Ok(inputs) => (inputs, Vec::new()),
            Err(problems) => (Default::default(), problems.into_problems()),
        };
        // A required input whose value in the file was drawn as wrong is not also "missing".
        let problems: Vec<_> = problems
            .into_iter()
            .filter(|p| !matches!(p, InputProblem::Missing { name, .. } if drawn.contains(name.as_str())))
            .collect();
        if !file_problems.is_empty() || !problems.is_empty() {
            if let Some(v) = &vars_file {
                for (_, d) in &file_problems {
                    errln!("{}\n", d.render(&v.file));
                }
            }
            for p in problems {
                errln!("error: {p}");
            }
            errln!("help: set inputs with --var NAME=VALUE; {}", where_inputs_are(&args.flow, &file, flow));
            return Ok(Exit::Invalid);
        }

        let Some(wiring::Secrets { values: found, how_to_set }) =
            wiring::read_secrets(plan.required_secrets(), sandbox.is_some(), args.dry_run, &redactor)?
        else {
            return Ok(Exit::Invalid);
        };
        let print = args.output == Format::Text && !args.dry_run;
        let channel = match delivery::build(&args, print, sandbox.is_some(), graph_url, &redactor) {
            Ok(c) => c,
            Err(problems) => {
                for p in problems {
                    errln!("error: {p}");
                }
                return Ok(Exit::Invalid);
            }
        };
        let mode = if args.dry_run { RunMode::DryRun } else { RunMode::Live };
        let request = RunRequest { inputs, secrets: found, run_id: args.run_id.clone(), mode, channel: &channel, recipient: args.to.clone(), redactor: redactor.clone() };
        let outcome = match plan.run(request).await {
            Ok(o) => o,
            Err(RunError::MissingSecrets(names)) => {
                for name in names {
                    let how = how_to_set.iter().find(|(n, _)| *n == name).map_or_else(|| format!("set the environment variable {name}"), |(_, h)| h.clone());
                    errln!("error: missing secret {name}: {how}");
                }
                return Ok(Exit::Invalid);
            }
            Err(e @ RunError::InvalidRunId(_)) => {
                errln!("error: --run-id: {e}");
                return Ok(Exit::Invalid);
            }
            Err(e) => {
                for line in e.to_string().lines() {
                    errln!("error: {line}");
                }
                return Ok(Exit::Invalid);
            }
        };
        match (args.output, args.dry_run) {
            (Format::Json, _) => outln!("{}", serde_json::to_string_pretty(&outcome.to_json())?),
            // The outcome is redacted already; the drawn errors also quote the flow file's lines.
            (Format::Text, true) => out!("{}", redactor.redact(&report::dry_run(&outcome))),
            (Format::Text, false) => out!("{}", redactor.redact(&report::text(&outcome))),
        }
        if let Some(s) = sandbox {
            s.shutdown();
        }
        Ok(match outcome.status {
            RunStatus::Succeeded => Exit::Success,
            RunStatus::Failed => Exit::Failed,
            RunStatus::Waiting => {
                errln!("error: {}", crate::batch::results::WAIT_NEEDS_SERVE);
                Exit::Failed
            }
        })
    })
}

/// Where the flow's inputs are declared, for the help under an input error: `flowstep presets
/// show NAME` for a preset, the file and line for a flow file.
fn where_inputs_are(
    flow_arg: &str,
    file: &flowstep_spec::SourceFile,
    flow: &flowstep_spec::Flow,
) -> String {
    if load::is_preset(flow_arg) {
        return format!("`flowstep presets show {flow_arg}` lists them");
    }
    match flow.inputs.first() {
        Some(first) => {
            let (line, _) = file.line_col(first.span.start);
            format!(
                "{} declares them under `inputs:` (from line {line})",
                file.name()
            )
        }
        None => format!("{} declares no inputs", file.name()),
    }
}

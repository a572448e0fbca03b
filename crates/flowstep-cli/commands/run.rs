//! `flowstep run FLOW`: inputs, secrets, the optional sandbox and routes (set up as `batch`
//! sets them up, in `wiring.rs`), the run, the report.

use crate::args::{ChannelKind, Format, RunArgs};
use crate::exit::Exit;
use crate::out::{err, errln, out, outln};
use crate::problems::Problems;
use crate::{delivery, load, report, sandbox_defaults, vars, wiring};
use flowstep_engine::{
    InputProblem, InputValue, Redactor, RunError, RunMode, RunRequest, RunStatus, check_run_id,
    resolve_inputs,
};
use flowstep_http::{ClientOptions, HttpConfig, NetworkPolicy, WireLog};
use std::collections::HashSet;
use std::sync::Arc;

pub fn run(args: RunArgs, verbose: u8, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    let format = args.format;
    match run_inner(args, verbose, redactor) {
        // What stopped the command (a sandbox that could not start, a bad --var) is, with
        // --format json, one JSON object like every other problem.
        Err(e) if format == Format::Json => {
            let mut problems = Problems::new(format);
            problems.error(format!("{e:#}"));
            Ok(problems.finish())
        }
        other => other,
    }
}

fn run_inner(args: RunArgs, verbose: u8, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    let mut problems = Problems::new(args.format);
    for p in delivery::check_args(&args) {
        problems.error(p);
    }
    // Before anything else: idempotency keys derive from it, so a bad one must stop the run.
    if let Some(Err(e)) = args.run_id.as_deref().map(check_run_id) {
        problems.error(format!("--run-id: {e}"));
    }
    let connection = match crate::connection_flags::client_options(&args.connection) {
        Ok(c) => c,
        Err(ps) => {
            ps.into_iter().for_each(|p| problems.error(p));
            ClientOptions::default()
        }
    };
    if !problems.is_empty() {
        return Ok(problems.finish());
    }
    if connection.insecure {
        errln!("{}", crate::connection_flags::INSECURE_WARNING);
    }
    let file = match load::source(&args.flow) {
        Ok(file) => file,
        Err(e) => {
            problems.unreadable(&e);
            return Ok(problems.finish());
        }
    };
    let routes = wiring::parse_routes(&args.routes)?;
    let vars_file = match args.vars_file.as_deref().map(vars::from_file).transpose() {
        Ok(v) => v,
        Err(e) => {
            problems.unreadable(&e);
            return Ok(problems.finish());
        }
    };
    let cli_vars = vars::from_args(&args.vars)?;

    super::runtime()?.block_on(async move {
        let routing = wiring::routing(args.sandbox, routes).await?;
        // The WhatsApp channel talks to Graph directly, so it follows the same route.
        let graph_url = routing.graph_url();
        let routes = routing.routes.clone();
        // The user's own machine: everything is allowed unless they ask otherwise.
        let network = if args.deny_private_networks {
            NetworkPolicy { allow_hosts: args.allow_hosts.clone(), allow_cidrs: args.allow_cidrs.clone(), ..NetworkPolicy::deny_private() }
        } else {
            NetworkPolicy::allow_all()
        };
        let wire_log = wire_log(verbose, &redactor);
        // Body files and saved responses stay in the flow file's directory.
        let engine = load::engine(HttpConfig {
            routes,
            network,
            wire_log,
            connection,
            files: flowstep_http::FileAccess::BesideFlow,
            ..HttpConfig::default()
        });
        let (plan, warnings) = match engine.compile_source(file.clone()) {
            Ok(ok) => ok,
            Err(ds) => {
                problems.diagnostics(&ds, &file);
                return Ok(problems.finish());
            }
        };
        load::print_diagnostics(&warnings, &file);
        routing.announce(wiring::flow_uses(&plan, args.channel == ChannelKind::Whatsapp));
        let sandbox = routing.sandbox;
        // Nothing here delivers the event a wait waits for: refused before anything is sent.
        if plan.has_wait() && !args.dry_run {
            problems.error(format!("{}; try it with --dry-run, or run it under `flowstep serve`", crate::batch::results::WAIT_NEEDS_SERVE));
            return Ok(problems.finish());
        }
        let flow = plan.flow();
        // `--var` wins over the vars file; the file's problems are drawn at their place.
        let overridden: HashSet<&str> = cli_vars.iter().map(|(n, _)| n.as_str()).collect();
        let (mut given, file_problems) = match &vars_file {
            Some(v) => v.inputs(flow, &overridden),
            None => (Vec::new(), Vec::new()),
        };
        given.extend(cli_vars.iter().cloned());
        // Pages a trial run needs (the Stripe preset's success_url) come from the sandbox.
        if let Some(sandbox) = &sandbox {
            let names: HashSet<String> = given.iter().map(|(n, _)| n.clone()).collect();
            for (name, value) in sandbox_defaults::fill_inputs(flow, |n| names.contains(n), &sandbox.base_url()) {
                given.push((name, InputValue::Text(value)));
            }
        }
        let drawn: HashSet<&str> = file_problems.iter().map(|(n, _)| n.as_str()).collect();
        let (inputs, input_problems) = match resolve_inputs(flow, given) {
            Ok(inputs) => (inputs, Vec::new()),
            Err(problems) => (Default::default(), problems.into_problems()),
        };
        // A required input whose value in the file was drawn as wrong is not also "missing".
        let input_problems: Vec<_> = input_problems
            .into_iter()
            .filter(|p| !matches!(p, InputProblem::Missing { name, .. } if drawn.contains(name.as_str())))
            .collect();
        if !file_problems.is_empty() || !input_problems.is_empty() {
            if let Some(v) = &vars_file {
                for (_, d) in &file_problems {
                    problems.drawn(d, &v.file);
                }
            }
            for p in input_problems {
                problems.error(p.to_string());
            }
            problems.help(format!("set inputs with --var NAME=VALUE; {}", where_inputs_are(&args.flow, &file, flow)));
            return Ok(problems.finish());
        }

        let Some(wiring::Secrets { values: found, how_to_set }) =
            wiring::read_secrets(plan.required_secrets(), sandbox.is_some(), args.dry_run, &redactor, &mut problems)?
        else {
            return Ok(problems.finish());
        };
        let print = args.format == Format::Text && !args.dry_run;
        let channel = match delivery::build(&args, print, sandbox.is_some(), graph_url, &redactor) {
            Ok(c) => c,
            Err(errors) => {
                for p in errors {
                    problems.error(p);
                }
                return Ok(problems.finish());
            }
        };
        let mode = if args.dry_run { RunMode::DryRun } else { RunMode::Live };
        let request = RunRequest { inputs, secrets: found, run_id: args.run_id.clone(), mode, channel: &channel, recipient: args.to.clone(), redactor: redactor.clone() };
        let outcome = match plan.run(request).await {
            Ok(o) => o,
            Err(RunError::MissingSecrets(names)) => {
                for name in names {
                    let how = how_to_set.iter().find(|(n, _)| *n == name).map_or_else(|| format!("set the environment variable {name}"), |(_, h)| h.clone());
                    problems.error(format!("missing secret {name}: {how}"));
                }
                return Ok(problems.finish());
            }
            Err(e @ RunError::InvalidRunId(_)) => {
                problems.error(format!("--run-id: {e}"));
                return Ok(problems.finish());
            }
            Err(e) => {
                for line in e.to_string().lines() {
                    problems.error(line);
                }
                return Ok(problems.finish());
            }
        };
        match (args.format, args.dry_run) {
            (Format::Json, _) => outln!("{}", serde_json::to_string_pretty(&outcome.to_json())?),
            // The outcome is redacted already; the drawn errors also quote the flow file's lines.
            (Format::Text, true) => out!("{}", redactor.redact(&report::dry_run(&outcome))),
            (Format::Text, false) => out!("{}", redactor.redact(&report::text(&outcome))),
        }
        if let Some(s) = sandbox {
            // A link into this command's own sandbox is dead once it stops: say how to keep
            // one that can be opened and paid.
            if let wiring::SandboxAt::Here(here) = &s
                && !args.dry_run
                && outcome_mentions(&outcome, &here.base_url())
            {
                errln!(
                    "note: the sandbox links above stop working when this command ends; to open and pay them, start `flowstep sandbox` in another terminal and run this again (run --sandbox then uses it)"
                );
            }
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

/// Whether the outputs or messages of `outcome` hold a link into the sandbox at `base`.
fn outcome_mentions(outcome: &flowstep_engine::Outcome, base: &str) -> bool {
    outcome
        .messages
        .iter()
        .any(|m| m.content.readable(&m.text).contains(base))
        || outcome
            .outputs
            .values()
            .any(|v| v.to_string().contains(base))
}

/// `-v`: each attempt's request and response headers on stderr; `-vv`: their bodies too.
/// Redacted by the run's redactor, and again by the process's on the way out.
fn wire_log(verbose: u8, redactor: &Arc<Redactor>) -> Option<WireLog> {
    if verbose == 0 {
        return None;
    }
    let redactor = redactor.clone();
    Some(WireLog::new(verbose >= 2, move |text: &str| {
        err!("{}", redactor.redact(text));
    }))
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

//! `flowstep batch FLOW --input rows.csv`: one run per row, `--concurrency` at once and as
//! fast as the rate limits allow, each row's result streamed to JSONL as its run finishes,
//! resumable (rows that succeeded are skipped, the others re-sent with the same run ids and
//! so the same idempotency keys), and stopped cleanly by Ctrl-C.

use crate::args::{BatchArgs, Format};
use crate::batch::progress::{Ended, Progress};
use crate::batch::results::{self, Earlier, Results};
use crate::batch::row_inputs::RowTyping;
use crate::batch::rows::{InputFormat, Row, RowError, Rows, SourceError};
use crate::batch::run_ids::fingerprint;
use crate::batch::stop::Stop;
use crate::batch::writer::Writer;
use crate::exit::Exit;
use crate::out::errln;
use crate::problems::Problems;
use crate::terminal_channel::TerminalChannel;
use crate::{load, sandbox_defaults, vars, wiring};
use anyhow::Context;
use flowstep_engine::{Plan, Redactor, RunMode, RunRequest, RunStatus, Secret};
use flowstep_http::{HttpConfig, NetworkPolicy};
use flowstep_spec::{Flow, did_you_mean};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How long the runs in flight may take to finish after a first Ctrl-C.
const GRACE: Duration = Duration::from_secs(30);

/// Where a row is, for its result line.
#[derive(Debug, Clone, Copy)]
struct Place {
    row: u64,
    line: u64,
}

/// A run's result line and how it ended, made in the run's task: the outcome (its steps,
/// response bodies and headers) is dropped on the worker that built it instead of being sent
/// to the loop that writes the lines.
type Finished = (String, Ended);

/// How often buffered result lines are written out at the latest while a batch runs.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

pub fn batch(args: BatchArgs, verbose: u8, redactor: Arc<Redactor>) -> anyhow::Result<Exit> {
    let input_path = args.input.clone();
    let Some(format) = args.input_format.or_else(|| format_of(&input_path)) else {
        errln!(
            "error: --input {}: say how the rows are written with --input-format csv or \
             --input-format jsonl (or name the file .csv or .jsonl)",
            input_path.display()
        );
        return Ok(Exit::Invalid);
    };
    if let Some(out) = &args.output
        && same_file(out, &input_path)
    {
        errln!(
            "error: --output {} is the input file; the results go to a file of their own",
            out.display()
        );
        return Ok(Exit::Invalid);
    }
    if args
        .id_column
        .as_deref()
        .is_some_and(|c| c.trim().is_empty())
    {
        errln!("error: --id-column needs the name of a column");
        return Ok(Exit::Invalid);
    }
    let connection = match crate::connection_flags::client_options(&args.connection) {
        Ok(c) => c,
        Err(problems) => {
            for p in problems {
                errln!("error: {p}");
            }
            return Ok(Exit::Invalid);
        }
    };
    if connection.insecure {
        errln!("{}", crate::connection_flags::INSECURE_WARNING);
    }
    let file = match load::source(&args.flow) {
        Ok(file) => file,
        Err(e) => {
            load::print_unreadable(&e);
            return Ok(Exit::Invalid);
        }
    };
    let routes = wiring::parse_routes(&args.routes)?;
    let mut constants: Vec<(String, String)> = vars::from_args(&args.vars)?
        .into_iter()
        .map(|(name, v)| match v {
            flowstep_engine::InputValue::Text(t) => (name, t),
            flowstep_engine::InputValue::Typed(v) => (name, v.to_string()),
        })
        .collect();
    let rows = match open_rows(&input_path, format) {
        Ok(rows) => rows,
        Err(message) => {
            errln!("error: {message}");
            return Ok(Exit::Invalid);
        }
    };
    let concurrency = usize::from(args.concurrency);

    // The batch runs as a task on the runtime's workers, not on this thread under
    // `block_on`: each finished run then wakes a task on a worker that is already awake,
    // instead of this thread (a context switch per run; docs/performance.md, "Batches").
    let runtime = super::runtime()?;
    let batch = runtime.spawn(async move {
        let routing = wiring::routing(args.sandbox, routes).await?;
        // The user's own machine, as for `run`: everything is allowed.
        let engine = load::engine(HttpConfig {
            routes: routing.routes.clone(),
            network: NetworkPolicy::allow_all(),
            rate_limit: args.rate,
            files: flowstep_http::FileAccess::BesideFlow,
            connection,
            ..HttpConfig::default()
        });
        let (plan, warnings) = match engine.compile_source(file.clone()) {
            Ok(ok) => ok,
            Err(ds) => {
                load::print_diagnostics(&ds, &file);
                return Ok(Exit::Invalid);
            }
        };
        load::print_diagnostics(&warnings, &file);
        routing.announce(wiring::flow_uses(&plan, false));
        if plan.has_wait() {
            errln!("error: {}; run it under `flowstep serve`", crate::batch::results::WAIT_NEEDS_SERVE);
            return Ok(Exit::Invalid);
        }
        let plan = Arc::new(plan);
        let flow = plan.flow();
        // Pages a trial run needs (the Stripe preset's success_url) come from the sandbox,
        // unless a --var or a column gives them.
        if let Some(sandbox) = &routing.sandbox {
            let given = |n: &str| constants.iter().any(|(c, _)| c == n) || rows.columns().iter().any(|c| c == n);
            let filled = sandbox_defaults::fill_inputs(flow, given, &sandbox.base_url());
            constants.extend(filled);
        }
        let problems = check_setup(flow, &constants, rows.columns(), &args, &input_path);
        if !problems.is_empty() {
            for p in problems {
                errln!("error: {p}");
            }
            return Ok(Exit::Invalid);
        }
        let Some(secrets) = wiring::read_secrets(plan.required_secrets(), args.sandbox, false, &redactor, &mut Problems::new(Format::Text))?
        else {
            return Ok(Exit::Invalid);
        };
        let (out, earlier) = match &args.output {
            Some(path) => Results::file(path, &flow.name.value)
                .with_context(|| format!("cannot write the results to {}", path.display()))?,
            None => (Results::stdout(), Earlier::default()),
        };
        if let Some(path) = &args.output
            && (!earlier.done.is_empty() || earlier.dropped > 0)
        {
            errln!(
                "note: resuming from {}: {} row{} that succeeded before {} skipped; {} other line{} dropped, and those rows run again with the same run ids",
                path.display(),
                earlier.done.len(),
                if earlier.done.len() == 1 { "" } else { "s" },
                if earlier.done.len() == 1 { "is" } else { "are" },
                earlier.dropped,
                if earlier.dropped == 1 { " is" } else { "s are" },
            );
        }

        let show = std::io::stderr().is_terminal() && verbose == 0;
        let estimate = if show { estimate_rows(&input_path, format) } else { None };
        let mut progress = Progress::new(show, estimate);
        let mut batch = Batch {
            plan: plan.clone(),
            typing: RowTyping { flow, constants: constants.clone(), id_column: args.id_column.clone() },
            secrets: secrets.values,
            redactor: redactor.clone(),
            channel: Arc::new(TerminalChannel { print: false }),
            earlier,
            seen: HashMap::new(),
            in_flight: JoinSet::new(),
            places: HashMap::new(),
        };

        // Rows are read on a thread of their own, a few ahead of the runs.
        let (tx, mut rx) = mpsc::channel::<std::io::Result<Row>>(concurrency * 2);
        let mut rows = rows;
        std::thread::spawn(move || loop {
            let next = rows.next_row();
            let stop = !matches!(next, Ok(Some(_)));
            if let Some(item) = next.transpose()
                && tx.blocking_send(item).is_err()
            {
                break;
            }
            if stop {
                break;
            }
        });

        let mut stop = Stop::listen().context("cannot listen for Ctrl-C")?;
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut input_done = false;
        let mut read_error = None;
        let mut abandoned = 0usize;
        // Whether the batch was stopped at once (a second Ctrl-C, the grace's end).
        let mut hurry = false;
        // Result lines are written on a thread of their own, at least every FLUSH_EVERY (see
        // `Results::write` for why that keeps resuming safe). The first that cannot be
        // written (a closed pipe, a full disk) stops the batch as a first Ctrl-C does.
        let mut writer = Writer::new(out);
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if (input_done || deadline.is_some()) && batch.in_flight.is_empty() {
                break;
            }
            let take = !input_done
                && deadline.is_none()
                && batch.in_flight.len() < concurrency
                && !writer.is_full();
            let grace_over = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = stop.requested() => {
                    if deadline.is_none() {
                        deadline = Some(tokio::time::Instant::now() + GRACE);
                        progress.note(&format!(
                            "stopping: no new rows are started; waiting up to {}s for the {} run{} in flight (Ctrl-C again stops them now)",
                            GRACE.as_secs(),
                            batch.in_flight.len(),
                            if batch.in_flight.len() == 1 { "" } else { "s" }
                        ));
                    } else {
                        abandoned = batch.in_flight.len();
                        batch.in_flight.abort_all();
                        hurry = true;
                        break;
                    }
                }
                // While lines cannot be written, finished runs wait here (at most
                // --concurrency of them); once the batch is stopping, they are taken anyway.
                Some(joined) = batch.in_flight.join_next_with_id(), if !writer.is_full() || deadline.is_some() => {
                    let (line, ended) = batch.finished(joined);
                    writer.push(line);
                    progress.record(ended);
                }
                ok = writer.written(), if writer.is_busy() => {
                    if !ok {
                        deadline.get_or_insert_with(|| tokio::time::Instant::now() + GRACE);
                    }
                }
                _ = flush.tick(), if writer.can_start() => writer.start(),
                next = rx.recv(), if take => match next {
                    None => input_done = true,
                    Some(Err(e)) => {
                        read_error = Some(e);
                        input_done = true;
                    }
                    Some(Ok(row)) => {
                        if let Some((line, ended)) = batch.start(row) {
                            if let Some(line) = line {
                                writer.push(line);
                            }
                            progress.record(ended);
                        }
                    }
                },
                () = grace_over => {
                    abandoned = batch.in_flight.len();
                    batch.in_flight.abort_all();
                    hurry = true;
                    break;
                }
            }
        }
        drop(rx);
        // Every line is written before the summary. A batch already stopping waits for that
        // only until its grace ends (a second, if it was stopped at once); a batch that ran
        // to its end waits as long as it takes, and a Ctrl-C then gives the writes the same
        // grace, a second one ending the wait: a reader that stopped reading must not hold
        // the batch forever.
        let soon = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut until = match deadline {
            Some(_) if hurry => Some(soon),
            Some(d) => Some(d.max(soon)),
            None => None,
        };
        let all_written = loop {
            let time_up = async {
                match until {
                    Some(u) => tokio::time::sleep_until(u).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = writer.finish() => break true,
                () = time_up => break false,
                () = stop.requested() => {
                    if until.is_some() {
                        break false;
                    }
                    until = Some(tokio::time::Instant::now() + GRACE);
                    progress.note(&format!(
                        "stopping: every row has run; waiting up to {}s for their results to be written (Ctrl-C again stops now)",
                        GRACE.as_secs()
                    ));
                }
            }
        };
        let summary = progress.finish();
        errln!("{summary}");
        let interrupted = deadline.is_some();
        if let Some(e) = &read_error {
            errln!("error: reading {} stopped: {e}", input_path.display());
        }
        let to = match &args.output {
            Some(path) => path.display().to_string(),
            None => "standard output".into(),
        };
        // The summary counts rows as they ended; this says how many have no line to show it.
        let missing = match writer.unwritten() {
            1 => "up to 1 row has no result line".to_owned(),
            n => format!("up to {n} rows have no result line"),
        };
        if let Some(e) = writer.error() {
            errln!("error: cannot write a result to {to}: {e}; {missing}");
        } else if !all_written {
            errln!("error: stopped while writing the results to {to}, which took no more; {missing}");
        }
        // Results that did not all reach the output (a write failed or did not finish) leave
        // rows to run again, as a stop does.
        let unwritten = writer.error().is_some() || !all_written;
        if interrupted || unwritten {
            // Only a regular file is read back to resume from (`Results::file`).
            let resumable = args
                .output
                .as_ref()
                .filter(|path| std::fs::metadata(path).is_ok_and(|m| m.is_file()));
            let again = match resumable {
                Some(path) => format!(
                    "run the same command again to finish: the rows that succeeded are in {} and are skipped, the others run with the same run ids, so nothing is done twice",
                    path.display()
                ),
                None => "to resume a batch, write its results to a file with --output FILE".into(),
            };
            if interrupted {
                let cut = if abandoned > 0 {
                    format!(
                        "{abandoned} run{} in flight {} stopped and ",
                        if abandoned == 1 { "" } else { "s" },
                        if abandoned == 1 { "was" } else { "were" }
                    )
                } else {
                    String::new()
                };
                errln!("stopped before the end: {cut}the remaining rows were not started; {again}");
            } else {
                errln!("{again}");
            }
        }
        if let Some(s) = routing.sandbox {
            s.shutdown();
        }
        let c = progress.counts;
        Ok(if c.failed + c.invalid == 0 && !interrupted && read_error.is_none() && !unwritten {
            Exit::Success
        } else {
            Exit::Failed
        })
    });
    match runtime.block_on(batch) {
        Ok(exit) => exit,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => Err(anyhow::anyhow!("the batch stopped: {e}")),
        },
    }
}

/// The batch's state while it runs.
struct Batch<'f> {
    plan: Arc<Plan>,
    typing: RowTyping<'f>,
    secrets: BTreeMap<String, Secret>,
    redactor: Arc<Redactor>,
    channel: Arc<TerminalChannel>,
    /// What an earlier run of the batch finished.
    earlier: Earlier,
    /// The run ids of this run's rows, with the line each was first seen on (`u32::MAX` past
    /// that line): 16 bytes a row, the one part of a batch's memory that grows with its rows.
    /// The key is 96 bits of the run id's fingerprint, as `u32`s: a `u128` key with a `u64`
    /// line took 32 bytes (the `u128` is 16-byte aligned), and a million rows peaked over
    /// 100 MB while the table grew. Two different ids share 96 bits by chance about once in
    /// 10^16 batches of a million rows, and then the second row is reported, not run.
    seen: HashMap<[u32; 3], u32>,
    in_flight: JoinSet<Finished>,
    places: HashMap<tokio::task::Id, (Place, String)>,
}

impl Batch<'_> {
    /// Starts a row's run. A row that does not run ends at once: with its result line, or
    /// none when it succeeded in an earlier run (its line is in the file already).
    fn start(&mut self, mut row: Row) -> Option<(Option<String>, Ended)> {
        let place = Place {
            row: row.number,
            line: row.line,
        };
        let flow_name = &self.plan.flow().name.value;
        let invalid = |e: &RowError| {
            Some((
                Some(results::not_run(
                    place.row, place.line, flow_name, None, "invalid", e,
                )),
                Ended::Invalid,
            ))
        };
        // The cells move into the inputs; the row keeps its number and line.
        let cells = match std::mem::replace(&mut row.cells, Ok(Vec::new())) {
            Ok(cells) => cells,
            Err(e) => return invalid(&e),
        };
        let run_id = match self.typing.run_id(&row, &cells) {
            Ok(id) => id,
            Err(e) => return invalid(&e),
        };
        let fp = fingerprint(&run_id);
        let key = [fp as u32, (fp >> 32) as u32, (fp >> 64) as u32];
        if let Some(first) = self.seen.get(&key) {
            return invalid(&RowError {
                line: row.line,
                column: self.typing.id_column.clone(),
                character: None,
                message: format!(
                    "run id `{run_id}` is also the run id of {}; each row needs its own (two rows with one run id share its idempotency keys, so the second would get the first's result back, not a run of its own)",
                    match *first {
                        u32::MAX => "an earlier row".to_owned(),
                        line => format!("the row at line {line}"),
                    }
                ),
            });
        }
        self.seen
            .insert(key, u32::try_from(row.line).unwrap_or(u32::MAX));
        if self.earlier.done.contains(&fp) {
            return Some((None, Ended::Skipped));
        }
        let inputs: Map<String, Value> = match self.typing.inputs(&row, cells) {
            Ok(inputs) => inputs,
            Err(e) => return invalid(&e),
        };
        let plan = self.plan.clone();
        let secrets = self.secrets.clone();
        let channel = self.channel.clone();
        let redactor = self.redactor.clone();
        let id = run_id.clone();
        let handle = self.in_flight.spawn(async move {
            let outcome = plan
                .run(RunRequest {
                    inputs,
                    secrets,
                    run_id: Some(id.clone()),
                    mode: RunMode::Live,
                    channel: &*channel,
                    recipient: None,
                    redactor,
                })
                .await;
            match outcome {
                Ok(outcome) => {
                    let ended = match outcome.status {
                        RunStatus::Succeeded => Ended::Succeeded,
                        RunStatus::Failed | RunStatus::Waiting => Ended::Failed,
                    };
                    (results::ran(place.row, place.line, &outcome), ended)
                }
                Err(e) => {
                    let e = RowError {
                        line: place.line,
                        column: None,
                        character: None,
                        message: e.to_string(),
                    };
                    (
                        results::not_run(
                            place.row,
                            place.line,
                            &plan.flow().name.value,
                            Some(&id),
                            "failed",
                            &e,
                        ),
                        Ended::Failed,
                    )
                }
            }
        });
        self.places.insert(handle.id(), (place, run_id));
        None
    }

    /// The result line of a run that ended.
    fn finished(
        &mut self,
        joined: Result<(tokio::task::Id, Finished), tokio::task::JoinError>,
    ) -> (String, Ended) {
        match joined {
            Ok((id, finished)) => {
                self.places.remove(&id);
                finished
            }
            Err(join) => {
                let (place, run_id) = self
                    .places
                    .remove(&join.id())
                    .unwrap_or((Place { row: 0, line: 0 }, String::new()));
                let e = RowError {
                    line: place.line,
                    column: None,
                    character: None,
                    message: format!("the run ended without an outcome: {join}"),
                };
                (
                    results::not_run(
                        place.row,
                        place.line,
                        &self.plan.flow().name.value,
                        Some(&run_id),
                        "failed",
                        &e,
                    ),
                    Ended::Failed,
                )
            }
        }
    }
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `.csv` is CSV; `.jsonl`, `.ndjson` and `.json` are JSON Lines.
fn format_of(path: &Path) -> Option<InputFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(InputFormat::Csv),
        "jsonl" | "ndjson" | "json" => Some(InputFormat::Jsonl),
        _ => None,
    }
}

/// Opens the rows (a CSV file's header is read and checked here).
fn open_rows(path: &Path, format: InputFormat) -> Result<Rows<BufReader<File>>, String> {
    let shown = path.display();
    if path.is_dir() {
        return Err(format!(
            "--input {shown} is a directory; give the file of rows"
        ));
    }
    // `-` is standard input (say its format with --input-format: it has no extension).
    let file = match path.as_os_str() == "-" {
        true => std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from),
        false => File::open(path),
    }
    .map_err(|e| format!("cannot read --input {shown}: {e}"))?;
    Rows::new(BufReader::with_capacity(64 * 1024, file), format).map_err(|e| match e {
        SourceError::Io(e) => format!("cannot read --input {shown}: {e}"),
        SourceError::Header(e) => format!("{shown}: {e}"),
    })
}

/// Problems found before any row runs: `--var` names and values, and for CSV, the id column
/// and the columns the flow needs. Columns the flow does not read are warned about.
fn check_setup(
    flow: &Flow,
    constants: &[(String, String)],
    columns: &[String],
    args: &BatchArgs,
    input: &Path,
) -> Vec<String> {
    let mut problems = Vec::new();
    let names = || flow.inputs.iter().map(|i| i.name.value.as_str());
    for (name, value) in constants {
        match flow.input(name) {
            None => problems.push(match did_you_mean(name, names()) {
                Some(s) => format!(
                    "--var {name}: flow `{}` has no input `{name}`; did you mean `{s}`?",
                    flow.name.value
                ),
                None => format!(
                    "--var {name}: flow `{}` has no input `{name}`",
                    flow.name.value
                ),
            }),
            Some(decl) => {
                if let Err(e) = decl.parse_text(value) {
                    problems.push(format!("--var {name}: {}", e.message));
                }
            }
        }
    }
    if columns.is_empty() {
        return problems;
    }
    let shown = input.display();
    if let Some(id) = &args.id_column
        && !columns.contains(id)
    {
        problems.push(format!(
            "--id-column {id}: {shown} has no column `{id}`; its columns are {}",
            columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for decl in &flow.inputs {
        let name = &decl.name.value;
        if decl.default.is_none()
            && !columns.contains(name)
            && !constants.iter().any(|(n, _)| n == name)
        {
            problems.push(format!(
                "{shown} has no column `{name}`, which flow `{}` requires; add the column, or give every row the same value with --var {name}=VALUE",
                flow.name.value
            ));
        }
    }
    for column in columns {
        if flow.input(column).is_none() && args.id_column.as_ref() != Some(column) {
            let hint = did_you_mean(column, names())
                .map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"));
            errln!(
                "warning: column `{column}` of {shown} is not an input of flow `{}`{hint}; it is not used",
                flow.name.value
            );
        }
    }
    for (name, _) in constants {
        if columns.contains(name) {
            errln!(
                "warning: --var {name}: {shown} has a column `{name}` too; a row's own value is used where it has one"
            );
        }
    }
    problems
}

/// How many rows the input holds, for the progress bar's ETA: its lines (less a CSV header).
/// A CSV value with a line break in it makes this an overestimate; `None` for what is not a
/// regular file.
fn estimate_rows(path: &Path, format: InputFormat) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut buf = vec![0u8; 256 * 1024];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Some(match format {
        InputFormat::Csv => lines.saturating_sub(1),
        InputFormat::Jsonl => lines,
    })
}

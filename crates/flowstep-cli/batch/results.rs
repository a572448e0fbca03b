//! The results of a batch: one JSON object per row, written as runs finish (to a file or
//! stdout), and resuming: the file an earlier run of the batch wrote is read back, its
//! succeeded rows remembered (and kept), every other line dropped, since those rows run again.

use crate::batch::lines::{BoundedLines, Line};
use crate::batch::rows::RowError;
use crate::batch::run_ids::fingerprint;
use flowstep_engine::{Outcome, RunStatus, StepStatus};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The longest results line read back; a longer one (a run's outputs can be large) is
/// dropped, and its row runs again, which its idempotency keys make safe.
pub const MAX_RESULT_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Where result lines go.
pub struct Results {
    out: Box<dyn Write + Send>,
}

/// What an earlier run of the batch left in the results file.
#[derive(Debug, Default)]
pub struct Earlier {
    /// The fingerprints of the run ids that succeeded.
    pub done: HashSet<u128>,
    /// Lines dropped: rows that failed or could not run, and lines cut off by a kill.
    pub dropped: u64,
}

impl Results {
    /// Results on stdout.
    pub fn stdout() -> Self {
        Results {
            out: Box::new(io::stdout()),
        }
    }

    /// Results in the file at `path`, after what an earlier run of the batch of `flow` wrote
    /// there. A file that is not a batch's results (any line that is not a result line, but
    /// for a last line a kill cut short), or holds results of another flow, is refused and
    /// left as it is. A path that is not a regular file (`/dev/stdout`, a pipe, a device) is
    /// only written to: nothing is read back from it.
    pub fn file(path: &Path, flow: &str) -> io::Result<(Self, Earlier)> {
        let earlier = match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => keep_succeeded(path, flow)?,
            // A device or a pipe: written to, never read back.
            Ok(_) => Earlier::default(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Earlier::default(),
            Err(e) => return Err(e),
        };
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok((
            Results {
                out: Box::new(BufWriter::with_capacity(64 * 1024, file)),
            },
            earlier,
        ))
    }

    /// Adds one result line (JSON without a line break, from [`ran`] or [`not_run`]). Lines
    /// are buffered whole, so the file only ever receives whole lines (a kill can cut at most
    /// the last one written); [`Results::flush`] sends them on.
    ///
    /// Why buffering is safe: a line still in the buffer when the process is killed is lost,
    /// and a resumed batch runs that row again, with the same run id and so the same
    /// idempotency keys, which is what happens to a run that was in flight at the kill: the
    /// API answers with the first attempt's object and no second session is created. A
    /// succeeded line that did reach the file is never run again. So flushing per line bought
    /// no guarantee, only a write(2) per row.
    pub fn write(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    /// Sends the buffered lines to the file (or stdout).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Rewrites the file with only its succeeded lines (one per run id), through a temporary
/// file renamed over it, and returns their run ids. Refuses, leaving the file as it is, a
/// file that is not a batch's results of `flow`.
fn keep_succeeded(path: &Path, flow: &str) -> io::Result<Earlier> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    let tmp: PathBuf = path.with_file_name(name);
    // The caller names `path`; this names the file beside it that could not be made.
    let tmp_file = File::create(&tmp).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create {} (beside it, to keep the rows that succeeded before): {e}",
                tmp.display()
            ),
        )
    })?;
    let kept = copy_succeeded(path, flow, tmp_file);
    match kept {
        Ok(earlier) => {
            std::fs::rename(&tmp, path)?;
            Ok(earlier)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Copies the succeeded lines of the results file at `path` into `to`.
fn copy_succeeded(path: &Path, flow: &str, to: File) -> io::Result<Earlier> {
    let mut earlier = Earlier::default();
    let mut out = BufWriter::new(to);
    let mut lines = BoundedLines::new(BufReader::new(File::open(path)?), MAX_RESULT_LINE_BYTES);
    let refuse = |number: u64, what: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "line {number} {what}, so flowstep does not resume from it or write over it; give another --output, or remove this one"
            ),
        )
    };
    let mut cut: Option<u64> = None;
    while let Some(line) = lines.next_line()? {
        if let Some(number) = cut {
            // A line cut short by a kill can only be the last one.
            return Err(refuse(
                number,
                "is not a result line of `flowstep batch`".into(),
            ));
        }
        let (number, bytes) = match line {
            Line::Text { number, bytes } => (number, bytes),
            // A run's outputs can be large: the line is a result, and its row runs again.
            Line::TooLong { .. } => {
                earlier.dropped += 1;
                continue;
            }
        };
        if bytes.is_empty() {
            continue;
        }
        let result = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .filter(|v| v["row"].is_u64() && v["status"].is_string());
        let Some(result) = result else {
            // Every result line starts `{"row":`; a kill mid-line leaves a prefix of one.
            const START: &[u8] = b"{\"row\":";
            if bytes.starts_with(START) || START.starts_with(&bytes) {
                cut = Some(number);
                earlier.dropped += 1;
                continue;
            }
            return Err(refuse(
                number,
                "is not a result line of `flowstep batch`".into(),
            ));
        };
        if let Some(other) = result["flow"].as_str()
            && other != flow
        {
            return Err(refuse(
                number,
                format!("holds a result of flow `{other}`, not `{flow}`"),
            ));
        }
        let done = (result["status"] == "succeeded")
            .then(|| result["run_id"].as_str().map(fingerprint))
            .flatten();
        match done {
            Some(fp) if earlier.done.insert(fp) => {
                out.write_all(&bytes)?;
                out.write_all(b"\n")?;
            }
            Some(_) => {}
            None => earlier.dropped += 1,
        }
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(earlier)
}

/// Why a run that reached a `wait` step stopped there.
pub const WAIT_NEEDS_SERVE: &str = "the flow has a `wait` step, which needs `flowstep serve` to receive the event it waits for (docs/server.md, \"Waits and triggers\")";

/// One result line; the fields in this order.
#[derive(Serialize)]
struct ResultLine<'a> {
    row: u64,
    line: u64,
    flow: &'a str,
    run_id: Option<&'a str>,
    status: &'a str,
    outputs: Option<&'a Map<String, Value>>,
    error: Value,
}

impl ResultLine<'_> {
    fn text(&self) -> String {
        // A JSON value always serialises; a failure here would be a bug in serde_json.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                "{{\"row\":{},\"line\":{},\"status\":\"failed\",\"error\":{{\"message\":\"the result could not be written: {e}\"}}}}",
                self.row, self.line
            )
        })
    }
}

/// The result line of a row that ran (JSON, without a line break). Made where the run
/// ended, so that its outcome is dropped there and only the line travels.
pub fn ran(row: u64, line: u64, outcome: &Outcome) -> String {
    let (status, error) = match outcome.status {
        RunStatus::Succeeded => ("succeeded", Value::Null),
        RunStatus::Failed => ("failed", run_error(outcome)),
        // Nothing here can deliver the event a wait waits for.
        RunStatus::Waiting => ("failed", json!({ "message": WAIT_NEEDS_SERVE })),
    };
    ResultLine {
        row,
        line,
        flow: &outcome.flow,
        run_id: Some(&outcome.run_id),
        status,
        outputs: Some(&outcome.outputs),
        error,
    }
    .text()
}

/// Why a run failed: the run's own error, else the step that ended it.
fn run_error(outcome: &Outcome) -> Value {
    if let Some(message) = &outcome.error {
        return json!({ "message": message });
    }
    let Some((step, e)) = outcome
        .steps
        .iter()
        .rev()
        .filter(|s| s.status == StepStatus::Failed)
        .find_map(|s| s.error.as_ref().map(|e| (s, e)))
    else {
        return json!({ "message": "the run failed" });
    };
    let mut v = Map::new();
    v.insert("step".into(), json!(step.id));
    v.insert("kind".into(), json!(e.kind.as_str()));
    v.insert("message".into(), json!(e.message));
    if let Some(s) = e.http_status {
        v.insert("http_status".into(), json!(s));
    }
    if let Some(c) = &e.code {
        v.insert("code".into(), json!(c));
    }
    Value::Object(v)
}

/// The result line of a row that did not run (`invalid`), or whose run could not start or
/// ended without an outcome (`failed`).
pub fn not_run(
    row: u64,
    line: u64,
    flow: &str,
    run_id: Option<&str>,
    status: &str,
    error: &RowError,
) -> String {
    ResultLine {
        row,
        line,
        flow,
        run_id,
        status,
        outputs: None,
        error: json!({
            "message": error.to_string(),
            "line": error.line,
            "column": error.column,
        }),
    }
    .text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_keeps_succeeded_lines_only() {
        let dir = std::env::temp_dir().join(format!("flowstep-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"row\":1,\"run_id\":\"a\",\"status\":\"succeeded\"}\n",
                "{\"row\":2,\"run_id\":\"b\",\"status\":\"failed\"}\n",
                "{\"row\":3,\"run_id\":null,\"status\":\"invalid\"}\n",
                "{\"row\":1,\"run_id\":\"a\",\"status\":\"succeeded\"}\n",
                "{\"row\":4,\"run_id\":\"c\",\"stat",
            ),
        )
        .unwrap();
        let (mut results, earlier) = Results::file(&path, "stripe-checkout").unwrap();
        assert_eq!(earlier.done, HashSet::from([fingerprint("a")]));
        assert_eq!(earlier.dropped, 3);
        results
            .write(r#"{"row":2,"run_id":"b","status":"succeeded"}"#)
            .unwrap();
        results.flush().unwrap();
        drop(results);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"row\":1,\"run_id\":\"a\",\"status\":\"succeeded\"}\n{\"row\":2,\"run_id\":\"b\",\"status\":\"succeeded\"}\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_the_last_line_may_be_cut_short() {
        let dir = std::env::temp_dir().join(format!("flowstep-results-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results.jsonl");
        let text = concat!(
            "{\"row\":1,\"run_id\":\"a\",\"status\":\"succeeded\"}\n",
            "{\"row\":2,\"run_id\":\"b\",\"sta\n",
            "{\"row\":3,\"run_id\":\"c\",\"status\":\"succeeded\"}\n",
        );
        std::fs::write(&path, text).unwrap();
        let Err(e) = Results::file(&path, "stripe-checkout") else {
            panic!("a line cut short in the middle of the file was taken for a result");
        };
        assert_eq!(
            e.to_string(),
            "line 2 is not a result line of `flowstep batch`, so flowstep does not resume from it or write over it; give another --output, or remove this one"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

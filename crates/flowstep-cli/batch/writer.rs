//! Result lines written on a thread of their own, so that a write that blocks (a reader that
//! stopped reading a pipe) holds up neither Ctrl-C nor the batch's loop; lines wait meanwhile
//! in a bounded buffer, and the loop takes no more work while it is full.

use crate::batch::results::Results;
use std::io;
use tokio::sync::oneshot;

/// Bytes of lines that may wait while a write is under way; past it, the batch holds back
/// finished runs (at most `--concurrency` of them) and starts no rows.
const MAX_WAITING_BYTES: usize = 1024 * 1024;

/// Bytes waiting that are written at once instead of at the next flush tick.
const WRITE_AT_BYTES: usize = 64 * 1024;

/// What a write's thread hands back: the results, and how the write went.
type Answer = oneshot::Receiver<(Results, io::Result<()>)>;

/// Result lines on their way to the results file or stdout.
pub struct Writer {
    /// The results, while no write is under way.
    idle: Option<Results>,
    /// The write under way (the results come back with how it went), and its lines.
    busy: Option<(Answer, usize)>,
    /// Lines made and not yet handed to a write, and their bytes.
    waiting: Vec<String>,
    waiting_bytes: usize,
    /// The first write that failed: nothing is written after it.
    error: Option<io::Error>,
    /// Lines given to [`Writer::push`], and lines known to be written.
    pushed: usize,
    written: usize,
}

impl Writer {
    pub fn new(results: Results) -> Self {
        Writer {
            idle: Some(results),
            busy: None,
            waiting: Vec::new(),
            waiting_bytes: 0,
            error: None,
            pushed: 0,
            written: 0,
        }
    }

    /// Adds a result line (nothing, once a write failed); a write starts at once when enough
    /// waits and none is under way.
    pub fn push(&mut self, line: String) {
        self.pushed += 1;
        if self.error.is_some() {
            return;
        }
        self.waiting_bytes += line.len() + 1;
        self.waiting.push(line);
        if self.waiting_bytes >= WRITE_AT_BYTES {
            self.start();
        }
    }

    /// Whether so much waits that the batch should make no more lines for now.
    pub fn is_full(&self) -> bool {
        self.waiting_bytes >= MAX_WAITING_BYTES
    }

    /// Whether lines wait and could be written now.
    pub fn can_start(&self) -> bool {
        !self.waiting.is_empty() && self.idle.is_some() && self.error.is_none()
    }

    /// Whether a write is under way.
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// Lines not known to be written: waiting, dropped after a failed write, or in a write
    /// that failed or has not ended (a write cut short may have written some of them).
    pub fn unwritten(&self) -> usize {
        self.pushed - self.written
    }

    /// The first write that failed.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Hands the waiting lines to a thread that writes and flushes them (see
    /// `Results::write` for why lines may wait: a line lost at a kill is a row run again
    /// with the same idempotency keys). Does nothing while a write is under way.
    pub fn start(&mut self) {
        if !self.can_start() {
            return;
        }
        let Some(mut results) = self.idle.take() else {
            return;
        };
        let lines = std::mem::take(&mut self.waiting);
        self.waiting_bytes = 0;
        let (tx, rx) = oneshot::channel();
        self.busy = Some((rx, lines.len()));
        // A thread of its own, not tokio's blocking pool: a write that never ends (a reader
        // that never reads) must not keep the runtime, and so the process, from ending.
        std::thread::spawn(move || {
            let written = lines
                .iter()
                .try_for_each(|line| results.write(line))
                .and_then(|()| results.flush());
            let _ = tx.send((results, written));
        });
    }

    /// Waits for the write under way to end (forever when none is): whether it succeeded. A
    /// write that failed is kept as [`Writer::error`].
    pub async fn written(&mut self) -> bool {
        let Some((busy, lines)) = &mut self.busy else {
            return std::future::pending().await;
        };
        let lines = *lines;
        let answer = busy.await;
        self.busy = None;
        let written = match answer {
            Ok((results, written)) => {
                self.idle = Some(results);
                written
            }
            // The thread ended without an answer: it panicked while writing.
            Err(_) => Err(io::Error::other("the thread writing the results stopped")),
        };
        match written {
            Ok(()) => {
                self.written += lines;
                true
            }
            Err(e) => {
                self.failed(e);
                false
            }
        }
    }

    /// Keeps `e` as the first failed write (later lines are dropped).
    fn failed(&mut self, e: io::Error) {
        if self.error.is_none() {
            self.error = Some(e);
            self.waiting.clear();
            self.waiting_bytes = 0;
        }
    }

    /// Writes every line still waiting, and waits until it is written (or a write failed).
    pub async fn finish(&mut self) {
        loop {
            if self.is_busy() {
                // A failure is kept in `self.error`, and then nothing more can start.
                self.written().await;
                continue;
            }
            if !self.can_start() {
                return;
            }
            self.start();
        }
    }
}

//! What a batch shows while it runs: on a terminal, an indicatif bar (rows done of the rows
//! counted up front, failed, rows a second, time left); otherwise nothing until the plain
//! summary at the end.

use crate::out::errln;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// How the rows of a batch ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Ran and succeeded.
    pub succeeded: u64,
    /// Ran and failed (or could not start).
    pub failed: u64,
    /// Could not run: bad inputs, a bad CSV record, a duplicate id.
    pub invalid: u64,
    /// Succeeded in an earlier run of the batch, so not run again.
    pub skipped: u64,
}

impl Counts {
    /// Rows accounted for.
    pub fn total(&self) -> u64 {
        self.succeeded + self.failed + self.invalid + self.skipped
    }
}

/// How a row ended, for [`Progress::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Ran and succeeded.
    Succeeded,
    /// Ran and failed.
    Failed,
    /// Could not run.
    Invalid,
    /// Already done.
    Skipped,
}

/// Counts, and the bar when there is one.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    /// The counts so far.
    pub counts: Counts,
}

impl Progress {
    /// A bar on stderr when `show` (stderr is a terminal and nothing else logs there), of
    /// `estimate` rows when known.
    pub fn new(show: bool, estimate: Option<u64>) -> Self {
        let bar = show.then(|| {
            let bar = match estimate {
                Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template(
                            "{bar:30} {pos}/{len} rows · {msg} · ETA {eta}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    ),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template("{spinner} {pos} rows · {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    ),
            };
            bar.set_message("0 failed · 0 runs/s");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            counts: Counts::default(),
        }
    }

    /// Counts one row.
    pub fn record(&mut self, ended: Ended) {
        let c = &mut self.counts;
        match ended {
            Ended::Succeeded => c.succeeded += 1,
            Ended::Failed => c.failed += 1,
            Ended::Invalid => c.invalid += 1,
            Ended::Skipped => c.skipped += 1,
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let mut msg = format!("{} failed", c.failed);
            if c.invalid > 0 {
                msg.push_str(&format!(", {} invalid", c.invalid));
            }
            let secs = self.started.elapsed().as_secs_f64();
            if secs > 0.0 {
                msg.push_str(&format!(
                    " · {:.0} runs/s",
                    (c.succeeded + c.failed) as f64 / secs
                ));
            }
            bar.set_message(msg);
        }
    }

    /// Prints a line to stderr without breaking the bar.
    pub fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| errln!("{text}")),
            None => errln!("{text}"),
        }
    }

    /// Removes the bar and returns the summary: `batch: 1000 rows in 3.4s (294 rows/s): ...`.
    pub fn finish(&self) -> String {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        summary(&self.counts, self.started.elapsed())
    }
}

/// `batch: 1000 rows in 3.4s (294 rows/s): 990 succeeded, 8 failed, 2 invalid, 0 skipped`.
pub fn summary(c: &Counts, took: Duration) -> String {
    let ran = c.succeeded + c.failed;
    let secs = took.as_secs_f64();
    let rate = if secs > 0.0 {
        format!(" ({:.0} runs/s)", ran as f64 / secs)
    } else {
        String::new()
    };
    format!(
        "batch: {} rows in {secs:.1}s{rate}: {} succeeded, {} failed, {} invalid, {} skipped (succeeded in an earlier run)",
        c.total(),
        c.succeeded,
        c.failed,
        c.invalid,
        c.skipped
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_every_row() {
        let c = Counts {
            succeeded: 990,
            failed: 8,
            invalid: 2,
            skipped: 0,
        };
        assert_eq!(
            summary(&c, Duration::from_millis(3400)),
            "batch: 1000 rows in 3.4s (294 runs/s): 990 succeeded, 8 failed, 2 invalid, 0 skipped (succeeded in an earlier run)"
        );
    }
}

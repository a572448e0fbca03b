-- Schema version 2: indexes that answer from themselves.
--
-- Runs by status, newest first, so that counting or listing the runs of one status (a runs
-- page's filter, a bench waiting for its runs to succeed, metrics) walks only those runs
-- instead of every run.
CREATE INDEX runs_status ON runs (status, seq);

-- The runnable runs with what a claim filters on, so that a claim decides from the index
-- alone instead of reading the row of every run that is running (see claim.sql).
DROP INDEX runs_runnable;
CREATE INDEX runs_runnable ON runs (seq, status, lease_expires_at)
    WHERE status IN ('queued', 'running');

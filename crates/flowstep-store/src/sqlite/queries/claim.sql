-- Claims the oldest runnable runs, at most $4, in one statement: queued, or running under a
-- lease that has expired ($3 is now). The attempt is counted up, which fences out the previous
-- holder. `INDEXED BY` (SQLite's) walks the runnable runs in order and stops after $4.
UPDATE runs
SET status = 'running',
    attempt = attempt + 1,
    lease_owner = $1,
    lease_expires_at = $2,
    updated_at = $3
WHERE seq IN (
    SELECT seq FROM runs INDEXED BY runs_runnable
    WHERE status IN ('queued', 'running')
      AND (status = 'queued' OR lease_expires_at <= $3)
    ORDER BY seq
    LIMIT $4
)
RETURNING run_id, attempt, flow_file, flow_name, flow_hash, inputs_json, recipient,
          state_json, pending_json, event_json

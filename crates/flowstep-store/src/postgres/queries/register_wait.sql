-- Parks the run (fenced by $1, $2) with its state $3 until an event or the deadline $4,
-- releasing the lease. What it waits for is in `waits` (insert_wait.sql).
UPDATE runs
SET status = 'waiting',
    state_json = $3,
    pending_json = NULL,
    wake_at = $4,
    event_json = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $5
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

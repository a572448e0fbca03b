-- Parks the run until an event under $4 or the deadline $5, releasing the lease.
UPDATE runs
SET status = 'waiting',
    state_json = $3,
    pending_json = NULL,
    wait_key = $4,
    wake_at = $5,
    event_json = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $6
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

-- $3 is 'succeeded' or 'failed'; $4 the outcome (JSON) or NULL; $5 the store's reason, if any.
UPDATE runs
SET status = $3,
    outcome_json = $4,
    error = $5,
    pending_json = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $6,
    finished_at = $6
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

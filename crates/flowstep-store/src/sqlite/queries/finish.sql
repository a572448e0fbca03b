-- $3 is 'succeeded' or 'failed'; $4 the outcome (JSON) or NULL; $5 the store's reason, if any.
-- An outcome holds all the state held, so a succeeded run's state is dropped with it (the row
-- stays small); a failed run keeps the state it failed in (saved just before), for a retry to
-- resume from, and a run the store ended for a reason keeps its last state, to show how far
-- it got.
UPDATE runs
SET status = $3,
    outcome_json = $4,
    state_json = CASE WHEN $4 IS NULL OR $3 = 'failed' THEN state_json END,
    error = $5,
    pending_json = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $6,
    finished_at = $6
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

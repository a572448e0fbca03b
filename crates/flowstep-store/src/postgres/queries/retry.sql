-- A failed run queued again (RunStore::retry): it keeps the state it failed in and its attempt
-- count, and its end is forgotten. A run that ended with an outcome but no state (one that
-- failed before the store kept a failed run's state) cannot be resumed where it failed: it is
-- left as it is, and the caller says so.
UPDATE runs
SET status = 'queued',
    outcome_json = NULL,
    error = NULL,
    pending_json = NULL,
    event_json = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $2,
    finished_at = NULL
WHERE run_id = $1
  AND status = 'failed'
  AND (state_json IS NOT NULL OR outcome_json IS NULL)
RETURNING run_id

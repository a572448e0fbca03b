-- Wakes the run waiting under $1 with the event $2, in one statement.
UPDATE runs
SET status = 'queued', event_json = $2, wait_key = NULL, wake_at = NULL, updated_at = $3
WHERE wait_key = $1 AND status = 'waiting'
RETURNING run_id

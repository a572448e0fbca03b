-- Wakes waiting run $1 with $2 (the engine's WaitEvent, JSON): it is queued for a worker.
UPDATE runs
SET status = 'queued', event_json = $2, wake_at = NULL, updated_at = $3
WHERE run_id = $1 AND status = 'waiting'

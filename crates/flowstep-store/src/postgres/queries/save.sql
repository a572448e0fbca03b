-- A checkpoint: the state at a step boundary; the effect before it is done.
UPDATE runs
SET state_json = $3, pending_json = NULL, updated_at = $4
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

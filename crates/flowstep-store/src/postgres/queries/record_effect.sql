-- A side effect about to happen, with the run's state ($3; NULL keeps the state saved last).
UPDATE runs
SET state_json = COALESCE($3, state_json), pending_json = $4, updated_at = $5
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

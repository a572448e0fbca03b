UPDATE runs
SET state_json = $3, pending_json = $4, updated_at = $5
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

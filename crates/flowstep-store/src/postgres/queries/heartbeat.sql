UPDATE runs
SET lease_expires_at = $3, updated_at = $4
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

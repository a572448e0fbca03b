-- Hands a claimed run back to the queue (a worker shutting down): it keeps its state and the
-- effect under way, and the next claim resumes it without waiting for the lease to expire.
UPDATE runs
SET status = 'queued',
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $3
WHERE run_id = $1 AND attempt = $2 AND status = 'running'

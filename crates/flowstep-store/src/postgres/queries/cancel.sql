-- Cancels run $1 if it has not ended ($2 is now).
UPDATE runs
SET status = 'cancelled',
    wake_at = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = $2,
    finished_at = $2
WHERE run_id = $1 AND status IN ('queued', 'running', 'waiting')
RETURNING run_id

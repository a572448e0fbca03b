-- Runs with status $1, newest first, before the cursor's position $3 (through `runs_status`);
-- $2 filters by flow when not NULL.
SELECT seq, run_id, flow_name, status, attempt, error, created_at, updated_at, finished_at
FROM runs
WHERE status = $1
  AND seq < $3
  AND ($2::TEXT IS NULL OR flow_name = $2)
ORDER BY seq DESC
LIMIT $4

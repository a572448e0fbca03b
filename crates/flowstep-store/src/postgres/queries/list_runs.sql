-- Newest first, before the cursor's position $3; $1 and $2 filter when not NULL.
SELECT seq, run_id, flow_name, status, attempt, error, created_at, updated_at, finished_at
FROM runs
WHERE seq < $3
  AND ($1::TEXT IS NULL OR status = $1)
  AND ($2::TEXT IS NULL OR flow_name = $2)
ORDER BY seq DESC
LIMIT $4

SELECT run_id, wait_key, wake_at
FROM runs
WHERE status = 'waiting' AND wake_at IS NOT NULL AND wake_at <= $1
ORDER BY wake_at, seq
LIMIT $2

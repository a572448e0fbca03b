-- Wakes the waiting runs whose deadline is $1 or earlier, at most $2, earliest first, with a
-- timeout (the engine's WaitEvent::Timeout, $3), in one statement.
UPDATE runs
SET status = 'queued', event_json = $3, wake_at = NULL, updated_at = $1
WHERE seq IN (
    SELECT seq FROM runs INDEXED BY runs_timers
    WHERE status = 'waiting' AND wake_at IS NOT NULL AND wake_at <= $1
    ORDER BY wake_at
    LIMIT $2
)
RETURNING run_id

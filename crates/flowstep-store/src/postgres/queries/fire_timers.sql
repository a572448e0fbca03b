-- Wakes the waiting runs whose deadline is $1 or earlier, at most $2, earliest first, with a
-- timeout (the engine's WaitEvent::Timeout, $3), in one statement. A row another worker is
-- firing (or an event is waking) is locked: `SKIP LOCKED` leaves it to that worker, and a row
-- that stopped waiting since the snapshot is checked again once locked, so each deadline
-- fires once across workers.
WITH due AS (
    SELECT seq FROM runs
    WHERE status = 'waiting' AND wake_at IS NOT NULL AND wake_at <= $1
    ORDER BY wake_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE runs r
    SET status = 'queued', event_json = $3, wake_at = NULL, updated_at = $1
    FROM due
    WHERE r.seq = due.seq
    RETURNING r.run_id, due.seq
)
SELECT run_id FROM fired ORDER BY seq

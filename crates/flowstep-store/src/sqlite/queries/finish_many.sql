-- Ends of many runs in one statement. $1 is a JSON array of
-- [run_id, attempt, status, outcome_json or null, error or null, now] (group commit); each row
-- is fenced as in finish.sql, and the run ids of the rows that changed are returned.
UPDATE runs
SET status = w.value ->> 2,
    outcome_json = w.value ->> 3,
    error = w.value ->> 4,
    pending_json = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = w.value ->> 5,
    finished_at = w.value ->> 5
FROM json_each($1) AS w
WHERE runs.run_id = w.value ->> 0
  AND runs.attempt = w.value ->> 1
  AND runs.status = 'running'
RETURNING runs.run_id

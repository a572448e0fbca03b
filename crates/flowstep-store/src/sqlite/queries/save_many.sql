-- Checkpoints of many runs in one statement. $1 is a JSON array of
-- [run_id, attempt, state_json, now] (group commit); each row is fenced as in save.sql, and
-- the run ids of the rows that changed are returned.
UPDATE runs
SET state_json = w.value ->> 2, pending_json = NULL, updated_at = w.value ->> 3
FROM json_each($1) AS w
WHERE runs.run_id = w.value ->> 0
  AND runs.attempt = w.value ->> 1
  AND runs.status = 'running'
RETURNING runs.run_id

INSERT INTO waits (wait_key, run_id, event_type, paths_json, created_at)
VALUES ($1, $2, $3, $4, $5)

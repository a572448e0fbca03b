-- A new run, queued; nothing when the id is taken (the caller reads the existing run).
INSERT INTO runs (run_id, flow_file, flow_name, flow_hash, inputs_json, recipient,
                  status, attempt, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7)
ON CONFLICT (run_id) DO NOTHING
RETURNING seq

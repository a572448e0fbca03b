-- Stores a flow's source under its hash, once.
INSERT INTO flows (flow_hash, source, created_at)
VALUES ($1, $2, $3)
ON CONFLICT (flow_hash) DO NOTHING

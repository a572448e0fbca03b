-- Stores a flow's source and the flows it uses under its hash, once. A flow stored before
-- schema version 3 has no used flows recorded: the same hash now records them.
INSERT INTO flows (flow_hash, source, used_json, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (flow_hash) DO UPDATE SET used_json = excluded.used_json
WHERE flows.used_json IS NULL

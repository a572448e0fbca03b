-- Stores a flow's source and the flows it uses under its hash, once (a hash names one set of
-- files for good; the caller compares what is stored with what it has).
INSERT INTO flows (flow_hash, source, used_json, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (flow_hash) DO NOTHING

-- Records an event once: nothing (no row returned) when ($1, $2) is stored already.
INSERT INTO events (provider, event_id, event_type, payload_json, received_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING seq

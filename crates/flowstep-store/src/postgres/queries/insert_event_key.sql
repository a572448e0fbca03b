INSERT INTO event_keys (wait_key, event_seq) VALUES ($1, $2) ON CONFLICT DO NOTHING

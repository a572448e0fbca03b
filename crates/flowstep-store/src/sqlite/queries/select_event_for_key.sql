-- The earliest event under key $1 that woke no run, received at $2 or later.
SELECT e.seq, e.provider, e.event_id, e.event_type, e.payload_json
FROM event_keys k JOIN events e ON e.seq = k.event_seq
WHERE k.wait_key = $1 AND e.delivered_to IS NULL AND e.received_at >= $2
ORDER BY e.seq
LIMIT 1

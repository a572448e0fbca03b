-- The earliest event under key $1 that woke no run, received at $2 or later and after run $3
-- was created: an event from before the run (the message that started it, an old message)
-- is not the run's.
SELECT e.seq, e.provider, e.event_id, e.event_type, e.payload_json
FROM event_keys k JOIN events e ON e.seq = k.event_seq
WHERE k.wait_key = $1 AND e.delivered_to IS NULL AND e.received_at >= $2
  AND e.received_at > (SELECT created_at FROM runs WHERE run_id = $3)
ORDER BY e.seq
LIMIT 1

-- The run event ($1, $2) woke, if any.
SELECT delivered_to FROM events WHERE provider = $1 AND event_id = $2

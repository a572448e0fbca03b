-- Newest first, before the cursor's position $2; $1 filters by provider when not NULL.
SELECT seq, provider, event_id, event_type, payload_json, received_at
FROM events
WHERE seq < $2
  AND ($1::TEXT IS NULL OR provider = $1)
ORDER BY seq DESC
LIMIT $3

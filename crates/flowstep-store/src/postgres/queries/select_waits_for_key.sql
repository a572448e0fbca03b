-- The runs waiting under key $1, earliest wait first.
SELECT seq, run_id FROM waits WHERE wait_key = $1 ORDER BY seq LIMIT 16

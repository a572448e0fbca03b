-- One request's turn under a shared rate limit (GCRA, on the database's clock): $1 the key,
-- $2 the interval between requests and $3 the burst tolerance ((burst - 1) intervals), both
-- in microseconds. Returns 0 when the request may go (and counts it), else how many
-- microseconds until it might (and counts nothing). `ON CONFLICT DO UPDATE` locks the key's
-- row and sees its latest version, so concurrent workers take turns one at a time.
WITH now AS (
    SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS t
),
taken AS (
    INSERT INTO rate_limits AS r (key, tat_us)
    SELECT $1, now.t + $2 FROM now
    ON CONFLICT (key) DO UPDATE
    SET tat_us = GREATEST(r.tat_us, (SELECT t FROM now)) + $2
    WHERE GREATEST(r.tat_us, (SELECT t FROM now)) - $3 <= (SELECT t FROM now)
    RETURNING 0::bigint AS wait_us
)
SELECT wait_us FROM taken
UNION ALL
SELECT GREATEST(r.tat_us - $3 - now.t, 1) FROM rate_limits r, now
WHERE r.key = $1 AND NOT EXISTS (SELECT 1 FROM taken)

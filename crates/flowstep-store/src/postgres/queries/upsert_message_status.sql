-- Keeps the furthest status of message $1: inserted, or replacing the stored one only when its
-- rank ($3) is higher (one row changed); nothing changes otherwise.
INSERT INTO message_statuses (delivery_id, status, rank, error_code, error_title, at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (delivery_id) DO UPDATE SET
    status = excluded.status,
    rank = excluded.rank,
    error_code = excluded.error_code,
    error_title = excluded.error_title,
    at = excluded.at,
    updated_at = excluded.updated_at
WHERE excluded.rank > message_statuses.rank

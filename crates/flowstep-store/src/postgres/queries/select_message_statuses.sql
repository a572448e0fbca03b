-- The statuses of the messages whose delivery ids are in the array $1.
SELECT delivery_id, status, error_code, error_title, at
FROM message_statuses
WHERE delivery_id = ANY($1)

-- Forgets the events received before $1, with their keys: past retention they are neither
-- de-duplicated nor matched to a wait (docs/store.md).
DELETE FROM events WHERE received_at < $1
RETURNING seq

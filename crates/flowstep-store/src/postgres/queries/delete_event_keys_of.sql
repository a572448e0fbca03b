-- Forgets the keys of the events in $1 (the events pruned).
DELETE FROM event_keys WHERE event_seq = ANY($1)

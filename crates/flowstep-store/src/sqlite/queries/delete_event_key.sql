DELETE FROM event_keys WHERE event_seq = $1

-- The shapes (sorted paths, JSON) of the waits for event type $1.
SELECT DISTINCT paths_json FROM waits WHERE event_type = $1

-- Schema version 5 (see docs/store.md, "Waits and events"): what waiting runs wait for, and
-- the keys of the events received, so that a run and the event it waits for find each other
-- with one look-up whichever comes first. Replaces `runs.wait_key` (left NULL from now on).

-- One row per event type a waiting run awaits; deleted when the run is woken or cancelled.
CREATE TABLE waits (
    -- Order of registration: an event wakes the earliest wait under its key.
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The engine's wait key: the event type and the values matched (flowstep_engine::wait_key).
    wait_key   TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    -- `provider.type`, and the sorted paths matched on (JSON): the wait's shape, for which
    -- an event's keys are made when it arrives.
    event_type TEXT NOT NULL,
    paths_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX waits_by_key ON waits (wait_key, seq);
CREATE INDEX waits_by_run ON waits (run_id);
CREATE INDEX waits_by_shape ON waits (event_type, paths_json);

-- The keys an event is found under: one per shape that waits for its type use.
CREATE TABLE event_keys (
    wait_key  TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (wait_key, event_seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_keys_by_event ON event_keys (event_seq);

-- The run an event woke: an event wakes at most one wait, once.
ALTER TABLE events ADD COLUMN delivered_to TEXT;
-- Pruning walks events oldest first.
CREATE INDEX events_by_age ON events (received_at);

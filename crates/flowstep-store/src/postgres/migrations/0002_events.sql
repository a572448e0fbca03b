-- Schema version 2 (see docs/store.md, "Waits and events"): the event inbox, what waiting runs
-- wait for, and the keys of the events received, as in the SQLite store's versions 4 and 5.

-- Every event a provider sent to a webhook endpoint, after its signature was verified, once
-- per (provider, event id).
CREATE TABLE events (
    -- Order of arrival: lists go newest first by it, and page cursors name it.
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    -- The run the event woke: an event wakes at most one wait, once.
    delivered_to TEXT,
    UNIQUE (provider, event_id)
);
CREATE INDEX events_by_provider ON events (provider, seq);
CREATE INDEX events_by_age ON events (received_at);

-- One row per event type a waiting run awaits; deleted when the run is woken or cancelled.
CREATE TABLE waits (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wait_key   TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    event_type TEXT NOT NULL,
    paths_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX waits_by_key ON waits (wait_key, seq);
CREATE INDEX waits_by_run ON waits (run_id);
CREATE INDEX waits_by_shape ON waits (event_type, paths_json);

-- The keys an event is found under: one per shape that waits for its type use.
CREATE TABLE event_keys (
    wait_key  TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    PRIMARY KEY (wait_key, event_seq)
);
CREATE INDEX event_keys_by_event ON event_keys (event_seq);

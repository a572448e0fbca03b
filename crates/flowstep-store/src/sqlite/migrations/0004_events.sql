-- The event inbox, schema version 4 (see docs/store.md): every event a provider sent to a
-- webhook endpoint, after its signature was verified, once per (provider, event id).
-- Versions 2 and 3 belong to other changes; SQLite's migrator applies each version missing
-- from a file, in order, so they may land before or after this one.
CREATE TABLE events (
    -- Order of arrival: lists go newest first by it, and page cursors name it.
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- `stripe`, `razorpay`, `whatsapp`.
    provider     TEXT NOT NULL,
    -- The provider's id of the event: the de-duplication key.
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    -- The event as received (JSON).
    payload_json TEXT NOT NULL,
    -- Milliseconds since the Unix epoch: the first delivery.
    received_at  INTEGER NOT NULL,
    UNIQUE (provider, event_id)
) STRICT;

-- Lists of one provider's events walk it newest first.
CREATE INDEX events_by_provider ON events (provider, seq);

-- Schema version 3 (see docs/store.md, "message_statuses"): the furthest delivery status of each
-- message a provider reported on, under its delivery id, as in the SQLite store's version 6.
CREATE TABLE message_statuses (
    delivery_id TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    -- 1 sent, 2 delivered, 3 read, 4 failed: only a higher rank replaces the stored one.
    rank        BIGINT NOT NULL,
    error_code  BIGINT,
    error_title TEXT,
    at          BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

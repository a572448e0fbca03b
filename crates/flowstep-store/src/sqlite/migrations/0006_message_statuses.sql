-- Schema version 6 (see docs/store.md, "message_statuses"): the delivery status of each message
-- a provider reported on (WhatsApp's status webhooks), the furthest one, under the message's
-- delivery id. Not tied to a run: a run's view looks its messages' delivery ids up here, so
-- nothing is written on a run's hot path and a status that arrives before the run saved the
-- message's id (or for a message no run sent) is kept all the same.
CREATE TABLE message_statuses (
    -- The provider's id of the message (a WhatsApp `wamid`): a MessageRecord's `delivery_id`.
    delivery_id TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    -- 1 sent, 2 delivered, 3 read, 4 failed: a status replaces the stored one only when its
    -- rank is higher, so statuses arriving out of order or twice keep the furthest.
    rank        INTEGER NOT NULL,
    -- For `failed`: the provider's error code and title, when it gave them.
    error_code  INTEGER,
    error_title TEXT,
    -- Milliseconds since the Unix epoch: when the provider says the status happened.
    at          INTEGER NOT NULL,
    -- When this server stored it.
    updated_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

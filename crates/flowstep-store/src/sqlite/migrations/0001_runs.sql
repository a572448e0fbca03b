-- The flowstep run store, schema version 1 (see docs/store.md).
-- Times are milliseconds since the Unix epoch, read from the store's clock.

-- Marks the file as a flowstep run store ("flst"), so that another program's database is
-- refused rather than written into.
PRAGMA application_id = 1718383476;

-- Each flow source once, under its hash.
CREATE TABLE flows (
    flow_hash  TEXT PRIMARY KEY NOT NULL,
    source     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
    -- Order of creation: lists go newest first by it, and page cursors name it.
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           TEXT NOT NULL UNIQUE,
    flow_file        TEXT NOT NULL,
    flow_name        TEXT NOT NULL,
    flow_hash        TEXT NOT NULL REFERENCES flows (flow_hash),
    inputs_json      TEXT NOT NULL,
    recipient        TEXT,
    status           TEXT NOT NULL CHECK (status IN
                         ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    -- Counted up by each claim; every write after a claim is fenced by it.
    attempt          INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    -- The engine's RunState (JSON), saved at each checkpoint. Never a secret.
    state_json       TEXT,
    -- The engine's Effect under way (JSON), until the next checkpoint.
    pending_json     TEXT,
    -- While waiting: the correlation key and the deadline.
    wait_key         TEXT UNIQUE,
    wake_at          INTEGER,
    -- The event delivered to the last wait (JSON).
    event_json       TEXT,
    -- The engine's Outcome (JSON), once ended.
    outcome_json     TEXT,
    -- Why the store ended the run, when no outcome says.
    error            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER
) STRICT;

-- What claim looks for (named by claim.sql, so that the plan never sorts the queue). Lists
-- walk the primary key newest first.
CREATE INDEX runs_runnable ON runs (seq) WHERE status IN ('queued', 'running');
-- What due_timers looks for.
CREATE INDEX runs_timers ON runs (wake_at) WHERE status = 'waiting' AND wake_at IS NOT NULL;

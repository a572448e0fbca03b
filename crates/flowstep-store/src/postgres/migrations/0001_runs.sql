-- The flowstep run store on Postgres, schema version 1 (see docs/store.md): the same tables and
-- columns as the SQLite store's version 6, in Postgres's types. Times are milliseconds since the
-- Unix epoch, read from the store's clock (BIGINT, as SQLite's INTEGER). JSON is TEXT, written
-- and read whole as serde_json made it (see docs/design.md, "The Postgres store").

-- Each flow source once, under its hash, with the flows it uses (the engine's UsedFlows, JSON).
CREATE TABLE flows (
    flow_hash  TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    used_json  TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE runs (
    -- Order of creation: lists go newest first by it, claims oldest first, cursors name it.
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           TEXT NOT NULL UNIQUE,
    flow_file        TEXT NOT NULL,
    flow_name        TEXT NOT NULL,
    flow_hash        TEXT NOT NULL REFERENCES flows (flow_hash),
    inputs_json      TEXT NOT NULL,
    recipient        TEXT,
    status           TEXT NOT NULL CHECK (status IN
                         ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    -- Counted up by each claim; every write after a claim is fenced by it.
    attempt          BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    -- The engine's RunState (JSON), saved at each checkpoint. Never a secret.
    state_json       TEXT,
    -- The engine's Effect under way (JSON), until the next checkpoint.
    pending_json     TEXT,
    -- While waiting: the deadline. (SQLite's `wait_key`, unused since its version 5, is not
    -- carried over: what a run waits for is in `waits`.)
    wake_at          BIGINT,
    -- The event delivered to the last wait (JSON).
    event_json       TEXT,
    -- The engine's Outcome (JSON), once ended.
    outcome_json     TEXT,
    -- Why the store ended the run, when no outcome says.
    error            TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT
);

-- What claim.sql walks, oldest first (the runnable runs only).
CREATE INDEX runs_runnable ON runs (seq) WHERE status IN ('queued', 'running');
-- What fire_timers.sql walks, earliest deadline first.
CREATE INDEX runs_timers ON runs (wake_at) WHERE status = 'waiting' AND wake_at IS NOT NULL;
-- Runs of one status, newest first (a runs page's filter, counts).
CREATE INDEX runs_status ON runs (status, seq);

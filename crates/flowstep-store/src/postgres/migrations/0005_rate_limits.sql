-- Schema version 5 (see docs/store.md, "Shared rate limits"): the rate limits every worker
-- sending to one host holds in common. One row per key (`http:api.stripe.com`): the
-- theoretical arrival time of the next request under GCRA, in microseconds since the Unix
-- epoch on the database's clock (so that workers' clocks need not agree).
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat_us BIGINT NOT NULL
);

-- Takes the transaction's lock on one wait key ($1, its 64-bit hash), held until it commits: a
-- run parking at a wait and an event recorded under the same key take turns, so that the one
-- that commits second sees the other (see waits.rs). Callers take their keys in ascending
-- order, so two transactions never wait on each other's keys in a circle.
SELECT pg_advisory_xact_lock($1)

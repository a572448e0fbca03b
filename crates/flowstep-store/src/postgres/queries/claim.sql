-- Claims the oldest runnable runs, at most $4, in one statement: queued, or running under a
-- lease that has expired ($3 is now). The attempt is counted up, which fences out the previous
-- holder. `SKIP LOCKED` passes over the rows another worker's claim has locked, so workers
-- claiming at once take different runs instead of queueing on one row; a row whose status
-- changed since the statement's snapshot is checked again once locked (a run another worker
-- just claimed is no longer runnable, and is left out).
WITH picked AS (
    SELECT seq FROM runs
    WHERE status IN ('queued', 'running')
      AND (status = 'queued' OR lease_expires_at <= $3)
    ORDER BY seq
    LIMIT $4
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE runs r
    SET status = 'running',
        attempt = r.attempt + 1,
        lease_owner = $1,
        lease_expires_at = $2,
        updated_at = $3
    FROM picked
    WHERE r.seq = picked.seq
    RETURNING r.seq, r.run_id, r.attempt, r.flow_file, r.flow_name, r.flow_hash, r.inputs_json,
              r.recipient, r.state_json, r.pending_json, r.event_json
)
SELECT run_id, attempt, flow_file, flow_name, flow_hash, inputs_json, recipient, state_json,
       pending_json, event_json
FROM claimed
ORDER BY seq

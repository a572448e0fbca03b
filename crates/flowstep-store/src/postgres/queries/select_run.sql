SELECT r.run_id, r.status, r.attempt, r.lease_owner, r.lease_expires_at, r.flow_file,
       r.flow_name, r.flow_hash, f.source, f.used_json, r.inputs_json, r.recipient, r.state_json,
       r.pending_json, r.event_json, r.outcome_json, r.error,
       r.created_at, r.updated_at, r.finished_at
FROM runs r JOIN flows f ON f.flow_hash = r.flow_hash
WHERE r.run_id = $1

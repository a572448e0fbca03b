-- Who holds a run now: to say why a fenced write found no row.
SELECT status, attempt, lease_owner FROM runs WHERE run_id = $1

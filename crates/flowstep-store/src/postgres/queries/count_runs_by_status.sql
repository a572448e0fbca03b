-- How many runs have status $1 (through `runs_status`); $2 filters by flow when not NULL.
SELECT COUNT(*) AS n
FROM runs
WHERE status = $1
  AND ($2::TEXT IS NULL OR flow_name = $2)

-- How many runs match; $1 and $2 filter when not NULL.
SELECT COUNT(*) AS n
FROM runs
WHERE ($1::TEXT IS NULL OR status = $1)
  AND ($2::TEXT IS NULL OR flow_name = $2)

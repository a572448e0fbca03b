-- The tables of the schema the store uses.
SELECT table_name::TEXT AS name
FROM information_schema.tables
WHERE table_schema = current_schema()
ORDER BY table_name

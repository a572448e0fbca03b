-- A read that answers from the database: what a readiness check asks.
SELECT 1 AS ready FROM _sqlx_migrations LIMIT 1

-- The newest schema version applied to the database (`sqlx::migrate`'s table).
SELECT MAX(version) AS version FROM _sqlx_migrations

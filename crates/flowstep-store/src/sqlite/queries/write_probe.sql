-- A write that changes nothing, at open: fails (SQLITE_READONLY) when the file can only be read.
UPDATE _sqlx_migrations SET version = version WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)

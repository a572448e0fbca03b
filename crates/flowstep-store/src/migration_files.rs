//! Tests only: the migration files in a backend's `migrations/` directory, read as its
//! `MIGRATIONS` list must hold them, so that each backend checks that none is left out.

/// `(version, description, SQL)` of every `VERSION_DESCRIPTION.sql` in `dir` (under the
/// crate), in version order: `0001_runs.sql` is `(1, "runs", ...)`.
pub(crate) fn read(dir: &str) -> Vec<(i64, String, String)> {
    let dir = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .map(|name| {
            let stem = name.strip_suffix(".sql").expect("only .sql files");
            let (version, description) = stem.split_once('_').expect("VERSION_DESCRIPTION");
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
            (
                version.parse().unwrap(),
                description.replace('_', " "),
                text,
            )
        })
        .collect();
    files.sort();
    files
}

/// A backend's `MIGRATIONS` list as [`read`] gives the files.
pub(crate) fn listed(migrations: &[(i64, &str, &str)]) -> Vec<(i64, String, String)> {
    migrations
        .iter()
        .map(|&(v, d, sql)| (v, d.to_owned(), sql.to_owned()))
        .collect()
}

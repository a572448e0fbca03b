//! Tests only: a real Postgres server for a test, never a mock. [`TestPostgres::start`] runs
//! Debian's `postgresql` binaries (`initdb`, then `pg_ctl start`) into a temporary directory, on
//! a free loopback port with its unix socket in that directory, and [`Drop`] stops it
//! (`pg_ctl stop -m immediate`) and removes the directory.
//!
//! Where the binaries are absent, `start` prints one loud line saying the Postgres tests did
//! not run and how to install them, and returns `None` (the test passes without running),
//! unless `FLOWSTEP_REQUIRE_POSTGRES=1` is set: then it panics, so that CI always runs them.
//!
//! `initdb` and `postgres` refuse to run as root: as root (as in a container), every server
//! command runs as the `postgres` system user through `runuser`, in a directory it owns.
//! A watchdog shell stops the server and removes the directory when the test process ends
//! without dropping it (a server kept in a `static`, a test binary killed).

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Set to `1`, the absence of the Postgres binaries fails the tests instead of skipping them.
pub const REQUIRE_VAR: &str = "FLOWSTEP_REQUIRE_POSTGRES";

/// Names the directory of the Postgres binaries, instead of PATH and Debian's directories.
pub const BIN_VAR: &str = "FLOWSTEP_POSTGRES_BIN";

/// The superuser `initdb` makes; tests connect as it, with trust authentication on loopback.
pub const USER: &str = "postgres";

/// A Postgres server of a test's own.
#[derive(Debug)]
pub struct TestPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// The system user the server runs as (`postgres`), when this process is root.
    run_as: Option<String>,
    watchdog: Option<Child>,
    /// Whether it writes as a production server does (`fsync` and the rest on).
    durable: bool,
    /// Whether it takes TLS connections (`server.crt` and `server.key` in its directory).
    tls: bool,
}

impl TestPostgres {
    /// Starts a server (a few seconds: `initdb` and the first start). `None`, after one loud
    /// line on stderr, when the Postgres binaries are absent and [`REQUIRE_VAR`] is not `1`.
    ///
    /// # Panics
    ///
    /// When the binaries are absent and required, or the server cannot be started (with
    /// what it printed).
    pub fn start() -> Option<TestPostgres> {
        Self::start_as(false, None)
    }

    /// Starts a server as [`TestPostgres::start`] does, but durable as a production one is
    /// (`fsync`, synchronous commits, full-page writes on): what a benchmark measures against.
    pub fn start_durable() -> Option<TestPostgres> {
        Self::start_as(true, None)
    }

    /// Starts a server as [`TestPostgres::start`] does that also takes TLS connections, with
    /// this certificate chain and key (PEM): what a test of `sslmode=` connects to.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Option<TestPostgres> {
        Self::start_as(false, Some((cert_pem, key_pem)))
    }

    fn start_as(durable: bool, tls: Option<(&str, &str)>) -> Option<TestPostgres> {
        let Some(bin) = find_binaries() else {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!(
                    "{REQUIRE_VAR}=1 but no Postgres server binaries (initdb, pg_ctl) were found on PATH or in /usr/lib/postgresql/*/bin; install them with `apt-get install postgresql`"
                );
            }
            static LOUD: Once = Once::new();
            LOUD.call_once(|| {
                // Straight to the process's stderr: the test harness captures `eprintln!` of
                // a passing test, and this line must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "!!!!! the Postgres tests did NOT run: no Postgres server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin; run `apt-get install postgresql` to run them ({REQUIRE_VAR}=1 makes this a failure) !!!!!"
                );
            });
            return None;
        };
        let run_as = match is_root() {
            true => Some(USER.to_owned()),
            false => None,
        };
        let dir = temp_dir(run_as.as_deref());
        let mut pg = TestPostgres {
            bin,
            dir,
            port: 0,
            run_as,
            watchdog: None,
            durable,
            tls: tls.is_some(),
        };
        if let Some((cert, key)) = tls {
            pg.write_owned("server.crt", cert, 0o644);
            pg.write_owned("server.key", key, 0o600);
        }
        pg.init();
        pg.watchdog = Some(pg.spawn_watchdog());
        // A port found free may be taken before the server binds it: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            pg.port = free_port();
            match pg.pg_ctl_start() {
                Ok(()) => return Some(pg),
                Err(e) => last = e,
            }
        }
        panic!("the test Postgres server did not start:\n{last}");
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `database` on it: `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates database `name` (letters, digits and `_`) and returns its URL.
    ///
    /// # Panics
    ///
    /// When `createdb` fails (with what it printed).
    pub fn create_database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .arg(name)
            .output()
            .expect("createdb runs");
        assert!(
            out.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    /// Runs `sql` in database `database` with `psql` (for what a test does behind the
    /// store's back); what it printed.
    ///
    /// # Panics
    ///
    /// When `psql` fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A server command, run as the server's user.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(path);
                cmd
            }
            None => Command::new(path),
        }
    }

    fn init(&self) {
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", USER, "--auth=trust", "--encoding=UTF8", "--no-sync"])
            .arg("--no-instructions")
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        // Durability is not what the tests check (the server is never killed): no fsync,
        // unless a benchmark asks for a server that writes as a production one does.
        let writes = match self.durable {
            true => "-c shared_buffers=128MB",
            false => {
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB"
            }
        };
        let tls = match self.tls {
            true => format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                self.dir.display()
            ),
            false => String::new(),
        };
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 {writes}{tls}",
            self.port,
            self.dir.display()
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("pg_ctl cannot run: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        ))
    }

    /// The shell command that stops the server (run by `Drop` and by the watchdog).
    fn stop_command(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let runuser = match &self.run_as {
            Some(user) => format!("runuser -u {user} -- "),
            None => String::new(),
        };
        format!(
            "{runuser}'{}' -D '{}' -m immediate stop",
            pg_ctl.display(),
            self.data().display()
        )
    }

    /// A shell that waits for this process to end, then stops the server and removes its
    /// directory: the cleanup for a server that is never dropped.
    fn spawn_watchdog(&self) -> Child {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = self.stop_command(),
            dir = self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the watchdog shell starts")
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args(["-c", &self.stop_command()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory holding `initdb`, `pg_ctl`, `postgres`, `createdb` and `psql`: the one
/// [`BIN_VAR`] names, else on PATH, else Debian's `/usr/lib/postgresql/VERSION/bin` (the newest).
fn find_binaries() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres", "createdb", "psql"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os(BIN_VAR) {
        let dir = PathBuf::from(dir);
        return complete(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if complete(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether this process runs as root (the owner of `/proc/self` is the effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `/tmp/flowstep-pg-PID-N`, readable by all and owned by `run_as` (so that the server's
/// user can reach it).
impl TestPostgres {
    /// Writes `name` in the server's directory, owned by the user the server runs as.
    fn write_owned(&self, name: &str, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("a file of the test Postgres is written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .expect("its mode is set");
        if let Some((uid, gid)) = self.run_as.as_deref().and_then(user_ids) {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("it is handed over");
        }
    }
}

fn temp_dir(run_as: Option<&str>) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(format!(
        "/tmp/flowstep-pg-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the test Postgres directory is created");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .expect("the test Postgres directory's mode is set");
    if let Some(user) = run_as {
        let (uid, gid) = user_ids(user)
            .unwrap_or_else(|| panic!("no `{user}` user in /etc/passwd to run Postgres as"));
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .expect("the test Postgres directory is handed to its user");
    }
    dir
}

/// The uid and gid of `user`, from /etc/passwd.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != user {
            return None;
        }
        let _password = fields.next()?;
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    })
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    // Give the kernel a moment: the server binds it next.
    std::thread::sleep(Duration::from_millis(5));
    port
}

#[cfg(test)]
mod tests {
    use super::TestPostgres;

    /// The server starts, takes a database and a query, and is gone (with its directory)
    /// once dropped.
    #[test]
    fn a_server_starts_answers_and_is_removed_when_dropped() {
        let Some(pg) = TestPostgres::start() else {
            return;
        };
        pg.create_database("one");
        assert_eq!(pg.psql("one", "SELECT 40 + 2").trim(), "42");
        let dir = pg.dir.clone();
        let port = pg.port();
        drop(pg);
        assert!(!dir.exists(), "{} removed", dir.display());
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nothing listens on {port} any more"
        );
    }
}

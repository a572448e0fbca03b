//! A scratch directory in memory (`/dev/shm`) when the machine has one, for tests whose store
//! takes thousands of writes: each commit of the store waits for the disk (fsync), which a
//! `kill -9` test does not need (the kernel keeps what a killed process wrote), and which
//! would otherwise make the test's time the disk's.

use crate::support::Scratch;
use std::path::{Path, PathBuf};

/// The directory; removed when dropped.
pub enum RamDir {
    /// Under `/dev/shm`.
    Shm(PathBuf),
    /// No `/dev/shm`: an ordinary scratch directory.
    Disk(Scratch),
}

impl RamDir {
    pub fn new(name: &str) -> RamDir {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            let dir = shm.join(format!("flowstep-{name}-{}", std::process::id()));
            if std::fs::create_dir_all(&dir).is_ok() {
                return RamDir::Shm(dir);
            }
        }
        RamDir::Disk(Scratch::new())
    }

    pub fn path(&self) -> &Path {
        match self {
            RamDir::Shm(p) => p,
            RamDir::Disk(s) => s.path(),
        }
    }
}

impl Drop for RamDir {
    fn drop(&mut self) {
        if let RamDir::Shm(p) = self {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

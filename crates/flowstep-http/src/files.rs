//! The files a step reads (multipart and binary bodies) and writes (`response.save_to`): paths
//! relative to the flow file's directory that may not leave it, regular files only, reads
//! capped at [`MAX_FILE_BYTES`], writes that replace a file whole or not at all.
//!
//! A flow file may come from someone else: like a `flow` step's `use:`, a path cannot name
//! anything outside the flow's directory (no absolute path, no `..` above it, no link that
//! points out of it), so a flow cannot upload `~/.ssh/id_ed25519` or overwrite `~/.bashrc`.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// The most bytes of files one request body reads, all its files together: 10 MiB.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// Where a flow's files are: the directory of the flow file (as the runner named it).
pub fn base_dir(flow_file: &str) -> PathBuf {
    Path::new(flow_file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `path` as a person at the runner's working directory would name it: the flow's directory
/// joined with it, `./` dropped (`flows/receipt.pdf`).
pub fn shown(base: &Path, path: &str) -> String {
    normalize(&base.join(path)).display().to_string()
}

/// `base` joined with the relative `path`, when it stays inside `base` (after `..` and
/// links); `for_write` checks the directory the file goes in rather than the file.
pub fn inside(base: &Path, path: &str, for_write: bool) -> Result<PathBuf, String> {
    let leaves = || {
        format!(
            "`{path}` is outside the flow's directory; a file a flow reads or writes must be \
             in the flow file's directory or below it"
        )
    };
    let relative = Path::new(path);
    if path.is_empty() {
        return Err("the path is empty".to_owned());
    }
    if relative.has_root() || relative.is_absolute() {
        return Err(leaves());
    }
    let relative = normalize(relative);
    if matches!(
        relative.components().next(),
        Some(Component::ParentDir) | None
    ) {
        return Err(leaves());
    }
    let joined = normalize(&base.join(&relative));
    let real_base = std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .map_err(|e| format!("cannot read the flow's directory {}: {e}", base.display()))?;
    // A link inside the directory may point outside it: compare where both really are.
    let checked = if for_write {
        let dir = joined.parent().unwrap_or(Path::new(""));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::canonicalize(dir).map_err(|e| {
            format!(
                "cannot write {}: its directory {} {}",
                joined.display(),
                dir.display(),
                reason(&e)
            )
        })?
    } else {
        std::fs::canonicalize(&joined)
            .map_err(|e| format!("cannot read {}: {}", joined.display(), reason(&e)))?
    };
    if !checked.starts_with(&real_base) {
        return Err(leaves());
    }
    Ok(joined)
}

fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist".to_owned(),
        std::io::ErrorKind::PermissionDenied => "is not readable (permission denied)".to_owned(),
        _ => e.to_string(),
    }
}

/// What kind of thing a path that is not a regular file is, for a message.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Checks that `path` (relative to `base`) is a regular file of at most `cap` bytes, without
/// reading it; its size.
pub fn check(base: &Path, path: &str, cap: usize) -> Result<u64, String> {
    let at = inside(base, path, false)?;
    let meta = std::fs::metadata(&at).map_err(|e| format!("cannot read {}: {e}", at.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{} is {}; only regular files can be sent",
            at.display(),
            kind_of(&meta)
        ));
    }
    if meta.len() > cap as u64 {
        return Err(format!(
            "{} is {} bytes, more than the {} a request body may read",
            at.display(),
            meta.len(),
            crate::sizes::human_size(cap)
        ));
    }
    Ok(meta.len())
}

/// Reads `path` (relative to `base`): a regular file of at most `cap` bytes.
pub fn read(base: &Path, path: &str, cap: usize) -> Result<Vec<u8>, String> {
    // Checked before opening: opening a named pipe would wait for a writer.
    check(base, path, cap)?;
    let at = inside(base, path, false)?;
    let file =
        std::fs::File::open(&at).map_err(|e| format!("cannot read {}: {e}", at.display()))?;
    // The file may have changed since it was checked: read no more than the cap allows.
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", at.display()))?;
    if bytes.len() > cap {
        return Err(format!(
            "{} grew past the {} a request body may read while it was read",
            at.display(),
            crate::sizes::human_size(cap)
        ));
    }
    Ok(bytes)
}

/// Checks that `path` (relative to `base`) can be written: its directory exists inside
/// `base`, and the path is not a directory, a link or another file that is not a regular one.
pub fn check_writable(base: &Path, path: &str) -> Result<PathBuf, String> {
    let at = inside(base, path, true)?;
    if let Ok(meta) = std::fs::symlink_metadata(&at) {
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{} is a link; a response is saved to a regular file only",
                at.display()
            ));
        }
        if !meta.is_file() {
            return Err(format!(
                "{} is {}; a response is saved to a regular file only",
                at.display(),
                kind_of(&meta)
            ));
        }
    }
    Ok(at)
}

/// Writes `bytes` to `path` (relative to `base`) whole: into a new file beside it, then renamed
/// over it, so that a reader never sees half a file. The path written, as shown.
pub fn save(base: &Path, path: &str, bytes: &[u8]) -> Result<String, String> {
    let at = check_writable(base, path)?;
    let name = at
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = at.with_file_name(format!(".{name}.flowstep-{}.part", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&temp, &at)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write {}: {e}", at.display()));
    }
    Ok(at.display().to_string())
}

/// `a/./b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("flowstep-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    #[test]
    fn paths_stay_inside_the_flows_directory() {
        let dir = scratch("inside");
        std::fs::write(dir.join("sub/a.txt"), "hi").unwrap();
        assert_eq!(read(&dir, "./sub/a.txt", 10).unwrap(), b"hi");
        assert_eq!(read(&dir, "sub/../sub/a.txt", 10).unwrap(), b"hi");
        for outside in ["/etc/hostname", "../x", "sub/../../x", "."] {
            let e = read(&dir, outside, 10).unwrap_err();
            assert!(e.contains("outside the flow's directory"), "{outside}: {e}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
            let e = read(&dir, "etc/hostname", 10).unwrap_err();
            assert!(e.contains("outside the flow's directory"), "{e}");
        }
        let e = read(&dir, "sub/missing.pdf", 10).unwrap_err();
        assert!(e.ends_with("sub/missing.pdf: does not exist"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = scratch("regular");
        std::fs::write(dir.join("big.bin"), [0u8; 11]).unwrap();
        let e = read(&dir, "big.bin", 10).unwrap_err();
        assert!(
            e.ends_with("big.bin is 11 bytes, more than the 10 bytes a request body may read"),
            "{e}"
        );
        let e = read(&dir, "sub", 10).unwrap_err();
        assert!(
            e.ends_with("sub is a directory; only regular files can be sent"),
            "{e}"
        );
        #[cfg(unix)]
        {
            let fifo = dir.join("pipe");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let e = read(&dir, "pipe", 10).unwrap_err();
                assert!(
                    e.ends_with("pipe is a named pipe (FIFO); only regular files can be sent"),
                    "{e}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_save_replaces_the_file_whole_and_refuses_links_and_directories() {
        let dir = scratch("save");
        assert_eq!(
            save(&dir, "sub/out.bin", b"\x00\xff").unwrap(),
            dir.join("sub/out.bin").display().to_string()
        );
        assert_eq!(std::fs::read(dir.join("sub/out.bin")).unwrap(), b"\x00\xff");
        save(&dir, "sub/out.bin", b"2").unwrap();
        assert_eq!(std::fs::read(dir.join("sub/out.bin")).unwrap(), b"2");
        let e = save(&dir, "sub", b"x").unwrap_err();
        assert!(
            e.ends_with("sub is a directory; a response is saved to a regular file only"),
            "{e}"
        );
        let e = save(&dir, "nodir/out.bin", b"x").unwrap_err();
        assert!(e.contains("its directory"), "{e}");
        let e = save(&dir, "../out.bin", b"x").unwrap_err();
        assert!(e.contains("outside the flow's directory"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

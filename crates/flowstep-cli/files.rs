//! Reading the files a command names: a flow, a flow a `use:` names, a vars file, `.env`, a
//! sandbox's templates. Each must be
//! a regular file of at most [`MAX_FILE_BYTES`] of UTF-8 text, so that `use: /dev/urandom` or
//! a named pipe is refused at once instead of read forever. A file that is not UTF-8 gets a
//! diagnostic at the line and column of the first byte that is not.

use flowstep_spec::{Diagnostic, SourceFile, Span};
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The largest file read: 1 MiB, far more than any flow or vars file needs.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug)]
pub enum Unreadable {
    /// Missing, not a regular file, too large, or an I/O error: one line.
    Refused(String),
    /// A problem in the text (not UTF-8, invalid YAML), drawn against the text read (bytes
    /// that are not UTF-8 shown as `�`).
    Drawn(Box<Diagnostic>, SourceFile),
}

impl fmt::Display for Unreadable {
    /// One line, for places that cannot draw a snippet (the message of a `use:` error).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Refused(message) => f.write_str(message),
            Unreadable::Drawn(d, file) => {
                let (line, col) = d.line_col(file);
                write!(f, "{}:{line}:{col}: {}", file.name(), d.message)
            }
        }
    }
}

/// Reads `path`, shown as `name` in messages and diagnostics; `what` says what it is for
/// ("flow file", "vars file").
pub fn read(path: &Path, name: &str, what: &str) -> Result<SourceFile, Unreadable> {
    let bytes = read_bytes(path)
        .map_err(|e| Unreadable::Refused(format!("cannot read {what} {name}: {e}")))?;
    text(bytes, name, what)
}

/// The bytes of `path`, a regular file of at most [`MAX_FILE_BYTES`] (what [`read`] reads a
/// flow from, and `.env` and a sandbox's templates are read with). A missing file keeps its
/// [`std::io::ErrorKind::NotFound`]; any other refusal is one line (`it is not a regular file
/// (a device or a pipe, which could be read forever)`).
pub fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    let refused = |why: String| Unreadable::Refused(why);
    let as_io =
        |u: Unreadable| std::io::Error::new(std::io::ErrorKind::InvalidInput, u.to_string());
    // Asked before opening: opening a named pipe would wait for a writer.
    check_kind(&std::fs::metadata(path)?, &refused).map_err(as_io)?;
    let file = std::fs::File::open(path)?;
    check_kind(&file.metadata()?, &refused).map_err(as_io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(as_io(too_large(&refused)));
    }
    Ok(bytes)
}

/// The name a flow read from stdin (`flowstep run -`) goes by in messages; a `use:` in it is
/// relative to the current directory.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads a whole flow from stdin, held to [`MAX_FILE_BYTES`] as a file is.
pub fn read_stdin(what: &str) -> Result<SourceFile, Unreadable> {
    let refused =
        |why: String| Unreadable::Refused(format!("cannot read {what} from stdin: {why}"));
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refused(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(&refused));
    }
    text(bytes, STDIN_NAME, what)
}

/// The bytes read as UTF-8 text, or a diagnostic at the first byte that is not.
fn text(bytes: Vec<u8>, name: &str, what: &str) -> Result<SourceFile, Unreadable> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(name, text);
            // The text up to `at` is the file's own; the bad byte is a `�` (3 bytes) there.
            let d = Diagnostic::error(
                "E001",
                format!("the {what} is not UTF-8 text: byte 0x{byte:02X} here is not valid UTF-8"),
                Span::new(at, at + '\u{FFFD}'.len_utf8()),
            )
            .with_help("save the file as UTF-8: YAML is UTF-8 text");
            Err(Unreadable::Drawn(Box::new(d), file))
        }
    }
}

fn check_kind(
    meta: &std::fs::Metadata,
    refused: &impl Fn(String) -> Unreadable,
) -> Result<(), Unreadable> {
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device or a pipe, which could be read forever)"
        };
        return Err(refused(format!("it is {kind}")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(refused));
    }
    Ok(())
}

fn too_large(refused: &impl Fn(String) -> Unreadable) -> Unreadable {
    refused(format!(
        "it is larger than {} KiB, the most a file may be",
        MAX_FILE_BYTES / 1024
    ))
}

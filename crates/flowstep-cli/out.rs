//! Everything the binary prints goes through here: text made safe for a terminal (control
//! characters shown as escapes, so that a flow, an input or an API's response cannot retitle or
//! recolour the terminal), and a closed pipe (`flowstep run ... | head`) ends the process quietly
//! with exit code 141, as a tool killed by SIGPIPE does, instead of a panic; any other failed
//! write (a full disk) ends it with exit code 74 and says so on stderr.

use std::borrow::Cow;
use std::io::{ErrorKind, Write};

/// The exit code when the reader of our output has gone away (128 + SIGPIPE).
pub const CLOSED_PIPE: i32 = 141;

/// The exit code when the output could not be written for another reason, such as a full
/// disk (`EX_IOERR` in sysexits.h).
pub const OUTPUT_LOST: i32 = 74;

/// Which stream.
#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether stderr is JSON lines (`serve --log-format json`).
static STDERR_JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on, each line written to stderr is a JSON object: `{"timestamp", "level",
/// "target": "flowstep", "message"}`, the level `ERROR` for a line that starts with `error`,
/// `WARN` for `warning`, `INFO` otherwise.
pub fn stderr_as_json() {
    STDERR_JSON.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// `text`'s lines as JSON objects, one per line.
fn json_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let level = if line.starts_with("error") {
            "ERROR"
        } else if line.starts_with("warning") {
            "WARN"
        } else {
            "INFO"
        };
        let object = serde_json::json!({
            "timestamp": crate::json_log::now(),
            "level": level,
            "target": "flowstep",
            "message": line,
        });
        out.push_str(&object.to_string());
        out.push('\n');
    }
    out
}

/// Writes `text` to `stream`, made safe for a terminal.
pub fn write(stream: Stream, text: &str) {
    let json;
    let text = match stream {
        Stream::Stderr if STDERR_JSON.load(std::sync::atomic::Ordering::Relaxed) => {
            json = json_lines(text);
            json.as_str()
        }
        _ => text,
    };
    let text = terminal_safe(text);
    let result = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
    if let Err(e) = result {
        // Nobody is reading any more; there is nothing useful left to say, or anywhere to say it.
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_PIPE);
        }
        // Anything else (a full disk, an I/O error) lost output someone is waiting for: say
        // so where it can still be said, and end with a code that says so.
        if let Stream::Stdout = stream {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write the output to stdout: {e}; what was not written is lost"
            );
        }
        std::process::exit(OUTPUT_LOST);
    }
}

/// `text` with every control character but line breaks and tabs written as an escape
/// (`\x1b`, `\x07`, `\u{9b}`); a carriage return is kept only before a line feed.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_at = |i: usize, c: char| match c {
        '\n' | '\t' => false,
        '\r' => !text[i + 1..].starts_with('\n'),
        c => c.is_control(),
    };
    if !text.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if !unsafe_at(i, c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// `println!` through [`write()`].
macro_rules! outln {
    () => { $crate::out::write($crate::out::Stream::Stdout, "\n") };
    ($($arg:tt)*) => { $crate::out::write($crate::out::Stream::Stdout, &format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`write()`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write($crate::out::Stream::Stdout, &format!($($arg)*)) };
}

/// `eprintln!` through [`write()`].
macro_rules! errln {
    () => { $crate::out::write($crate::out::Stream::Stderr, "\n") };
    ($($arg:tt)*) => { $crate::out::write($crate::out::Stream::Stderr, &format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` through [`write()`].
macro_rules! err {
    ($($arg:tt)*) => { $crate::out::write($crate::out::Stream::Stderr, &format!($($arg)*)) };
}

pub(crate) use {err, errln, out, outln};

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_characters_are_shown_as_escapes_and_line_breaks_kept() {
        assert_eq!(
            terminal_safe("\x1b]0;pwned\x07\x1b[31mred\r\nok\tx\ry\u{9b}"),
            "\\x1b]0;pwned\\x07\\x1b[31mred\r\nok\tx\\x0dy\\u{9b}"
        );
        assert!(matches!(
            terminal_safe("plain ₹500\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}

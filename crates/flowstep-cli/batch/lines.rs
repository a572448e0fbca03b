//! Reading a file line by line with a cap on each line: a line over the cap is reported by
//! its number and skipped without being kept, so memory stays bounded whatever the input.

use std::io::{self, BufRead};

/// One physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes, without its `\n` (or `\r\n`).
    Text {
        /// 1-based.
        number: u64,
        /// What it holds.
        bytes: Vec<u8>,
    },
    /// A line longer than the cap; its bytes were skipped.
    TooLong {
        /// 1-based.
        number: u64,
    },
}

impl Line {
    /// The line's number.
    pub fn number(&self) -> u64 {
        match self {
            Line::Text { number, .. } | Line::TooLong { number } => *number,
        }
    }
}

/// Lines of `input`, each at most `max` bytes.
pub struct BoundedLines<R> {
    input: R,
    max: usize,
    next_number: u64,
}

impl<R: BufRead> BoundedLines<R> {
    /// Reads `input` in lines of at most `max` bytes (the line ending not counted).
    pub fn new(input: R, max: usize) -> Self {
        BoundedLines {
            input,
            max,
            next_number: 1,
        }
    }

    /// The next line, or `None` at the end of the input. A last line without `\n` counts.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        let number = self.next_number;
        let mut bytes = Vec::new();
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if !read_any {
                    return Ok(None);
                }
                break;
            }
            read_any = true;
            let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i)),
                None => (buf, None),
            };
            if !too_long {
                // One byte of slack for a `\r` before the `\n`.
                if bytes.len() + chunk.len() > self.max + 1 {
                    too_long = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(chunk);
                }
            }
            let used = found.map_or(chunk.len(), |i| i + 1);
            self.input.consume(used);
            if found.is_some() {
                break;
            }
        }
        self.next_number += 1;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if too_long || bytes.len() > self.max {
            return Ok(Some(Line::TooLong { number }));
        }
        Ok(Some(Line::Text { number, bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8], max: usize) -> Vec<Line> {
        let mut lines = BoundedLines::new(io::BufReader::with_capacity(4, text), max);
        let mut out = Vec::new();
        while let Some(l) = lines.next_line().unwrap() {
            out.push(l);
        }
        out
    }

    fn text(number: u64, s: &str) -> Line {
        Line::Text {
            number,
            bytes: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lines_are_numbered_and_endings_dropped() {
        assert_eq!(
            all(b"ab\r\ncd\n\nlast", 10),
            [text(1, "ab"), text(2, "cd"), text(3, ""), text(4, "last")]
        );
        assert_eq!(all(b"", 10), []);
        assert_eq!(all(b"x\n", 10), [text(1, "x")]);
    }

    #[test]
    fn a_line_over_the_cap_is_skipped_and_the_next_one_read() {
        assert_eq!(
            all(b"12345\n123456\n1234567890123\nok", 5),
            [
                text(1, "12345"),
                Line::TooLong { number: 2 },
                Line::TooLong { number: 3 },
                text(4, "ok")
            ]
        );
        assert_eq!(all(b"12345\r\n", 5), [text(1, "12345")]);
    }
}

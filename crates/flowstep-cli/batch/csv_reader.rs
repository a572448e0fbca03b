//! A strict RFC 4180 reader for `flowstep batch --input rows.csv`: records of fields
//! separated by commas, a field in double quotes may hold commas, line breaks and doubled
//! quotes. Anything else about quotes is an error at its line and character, and the reader
//! goes on at the line after the bad record's first line, so one bad row never hides the
//! rows after it. A record is at most `max` bytes; memory is bounded by that.

use crate::batch::lines::{BoundedLines, Line};
use std::collections::VecDeque;
use std::io::{self, BufRead};

/// What is wrong with a record, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// The line the problem is on (1-based).
    pub line: u64,
    /// The character on that line (1-based), when the problem is at one.
    pub character: Option<usize>,
    /// The field (0-based) the problem is in, when known.
    pub field: Option<usize>,
    /// What is wrong and how to write it.
    pub message: String,
}

/// One record, or why the record that starts at `line` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The fields' bytes (not yet checked to be UTF-8).
    Fields {
        /// The line the record starts on.
        line: u64,
        /// Its fields, unquoted.
        fields: Vec<Vec<u8>>,
    },
    /// A record that cannot be read.
    Bad {
        /// The line the record starts on.
        line: u64,
        /// Why.
        error: CsvError,
    },
}

/// Records of a CSV input. Empty lines between records are skipped.
pub struct CsvReader<R> {
    lines: BoundedLines<R>,
    /// Lines read ahead for a record that turned out bad, to be read again as records.
    again: VecDeque<Line>,
    max: usize,
}

impl<R: BufRead> CsvReader<R> {
    /// Reads records of at most `max` bytes from `input`. A UTF-8 byte-order mark at the very
    /// start is skipped.
    pub fn new(mut input: R, max: usize) -> io::Result<Self> {
        if input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
            input.consume(3);
        }
        Ok(CsvReader {
            lines: BoundedLines::new(input, max),
            again: VecDeque::new(),
            max,
        })
    }

    fn next_physical(&mut self) -> io::Result<Option<Line>> {
        match self.again.pop_front() {
            Some(l) => Ok(Some(l)),
            None => self.lines.next_line(),
        }
    }

    /// The next record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let first = loop {
            match self.next_physical()? {
                None => return Ok(None),
                Some(Line::Text { bytes, .. }) if bytes.is_empty() => continue,
                Some(l) => break l,
            }
        };
        let start = first.number();
        let Line::Text { bytes, .. } = first else {
            return Ok(Some(Record::Bad {
                line: start,
                error: CsvError {
                    line: start,
                    character: None,
                    field: None,
                    message: format!("the line is longer than {}", size(self.max)),
                },
            }));
        };
        let mut taken: Vec<(u64, Vec<u8>)> = vec![(start, bytes)];
        loop {
            let open = match parse(&taken) {
                Parsed::Done(fields) => {
                    return Ok(Some(Record::Fields {
                        line: start,
                        fields,
                    }));
                }
                Parsed::Bad(error) => return Ok(Some(self.bad(start, taken, None, error))),
                Parsed::Open(open) => open,
            };
            let unclosed = |why: String| CsvError {
                line: open.line,
                character: Some(open.character),
                field: Some(open.field),
                message: format!(
                    "the quote at line {}, character {} is never closed{why}; close it, and write a quote inside a quoted field twice (\"15\"\" screen\")",
                    open.line, open.character
                ),
            };
            let taken_bytes: usize = taken.iter().map(|(_, b)| b.len() + 1).sum();
            match self.next_physical()? {
                None => {
                    let e = unclosed(" before the end of the file".into());
                    return Ok(Some(self.bad(start, taken, None, e)));
                }
                Some(Line::Text { number, bytes }) if taken_bytes + bytes.len() <= self.max => {
                    taken.push((number, bytes));
                }
                Some(next) => {
                    let e = unclosed(format!(
                        " within {} (the row would swallow the lines after it)",
                        size(self.max)
                    ));
                    return Ok(Some(self.bad(start, taken, Some(next), e)));
                }
            }
        }
    }

    /// A bad record: the lines after its first are read again as records of their own.
    fn bad(
        &mut self,
        start: u64,
        taken: Vec<(u64, Vec<u8>)>,
        extra: Option<Line>,
        error: CsvError,
    ) -> Record {
        let rest = taken
            .into_iter()
            .skip(1)
            .map(|(number, bytes)| Line::Text { number, bytes })
            .chain(extra);
        for (i, l) in rest.enumerate() {
            self.again.insert(i, l);
        }
        Record::Bad { line: start, error }
    }
}

/// `64 KiB`.
fn size(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Where a quoted field that is still open at the end of the lines read so far started.
struct Open {
    line: u64,
    character: usize,
    field: usize,
}

enum Parsed {
    Done(Vec<Vec<u8>>),
    Open(Open),
    Bad(CsvError),
}

#[derive(Clone, Copy)]
enum State {
    /// At the start of a field.
    Start,
    /// Inside a field that does not start with a quote.
    Unquoted,
    /// Inside a quoted field, opened at (line, character).
    Quoted(u64, usize),
    /// Just after a quote inside a quoted field: a closing quote, or the first of two.
    AfterQuote(u64, usize),
}

/// The 1-based character at byte `i` of `bytes` (counting undecodable bytes as one each).
fn character(bytes: &[u8], i: usize) -> usize {
    String::from_utf8_lossy(&bytes[..i]).chars().count() + 1
}

/// Parses the record held by `lines` (the physical lines read for it so far).
fn parse(lines: &[(u64, Vec<u8>)]) -> Parsed {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut state = State::Start;
    for (k, (number, bytes)) in lines.iter().enumerate() {
        if k > 0 {
            // Only a quoted field goes on past the end of a line; the break is part of it.
            field.push(b'\n');
        }
        for (i, &b) in bytes.iter().enumerate() {
            let here = |message: String| CsvError {
                line: *number,
                character: Some(character(bytes, i)),
                field: Some(fields.len()),
                message,
            };
            state = match (state, b) {
                (State::Start, b'"') => State::Quoted(*number, character(bytes, i)),
                (State::Start | State::Unquoted, b',') | (State::AfterQuote(..), b',') => {
                    fields.push(std::mem::take(&mut field));
                    State::Start
                }
                (State::Unquoted, b'"') => {
                    return Parsed::Bad(here(format!(
                        "a quote inside field {} that does not start with one; put the whole field in quotes and write the quote twice (\"15\"\" screen\")",
                        fields.len() + 1
                    )));
                }
                (State::Start | State::Unquoted, _) => {
                    field.push(b);
                    State::Unquoted
                }
                (State::Quoted(l, c), b'"') => State::AfterQuote(l, c),
                (State::Quoted(l, c), _) => {
                    field.push(b);
                    State::Quoted(l, c)
                }
                (State::AfterQuote(l, c), b'"') => {
                    field.push(b'"');
                    State::Quoted(l, c)
                }
                // A quoted field that went on past its line and "closes" at a quote followed
                // by text: most likely its own quote was never closed, and the one found is
                // another row's. Said at the quote that opened it, the row's own line.
                (State::AfterQuote(l, c), _) if l != *number => {
                    return Parsed::Bad(CsvError {
                        line: l,
                        character: Some(c),
                        field: Some(fields.len()),
                        message: format!(
                            "the quote at line {l}, character {c} is not closed on its line, and the next quote (line {number}, character {}) is followed by text; close it, and write a quote inside a quoted field twice (\"15\"\" screen\")",
                            character(bytes, i) - 1
                        ),
                    });
                }
                (State::AfterQuote(..), _) => {
                    return Parsed::Bad(here(format!(
                        "text after the closing quote of field {}; a quote inside a quoted field is written twice (\"15\"\" screen\")",
                        fields.len() + 1
                    )));
                }
            };
        }
        if let State::Quoted(line, character) = state {
            if k + 1 == lines.len() {
                return Parsed::Open(Open {
                    line,
                    character,
                    field: fields.len(),
                });
            }
            continue;
        }
        break;
    }
    fields.push(field);
    Parsed::Done(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, max: usize) -> Vec<Record> {
        let mut r = CsvReader::new(io::BufReader::with_capacity(3, text.as_bytes()), max).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        out
    }

    fn fields(line: u64, fs: &[&str]) -> Record {
        Record::Fields {
            line,
            fields: fs.iter().map(|f| f.as_bytes().to_vec()).collect(),
        }
    }

    fn bad(r: &Record) -> (u64, &CsvError) {
        match r {
            Record::Bad { line, error } => (*line, error),
            other => panic!("not bad: {other:?}"),
        }
    }

    #[test]
    fn reads_rfc_4180() {
        let text =
            "\u{feff}a,b,c\r\n1,\"Blue, large\",\"say \"\"hi\"\"\"\n\n2,\"two\nlines\",\n3,,\"\"\n";
        assert_eq!(
            records(text, 1000),
            [
                fields(1, &["a", "b", "c"]),
                fields(2, &["1", "Blue, large", "say \"hi\""]),
                fields(4, &["2", "two\nlines", ""]),
                fields(6, &["3", "", ""]),
            ]
        );
    }

    #[test]
    fn a_stray_quote_is_an_error_at_its_character() {
        let rs = records("a,b\n1,5\" screen\n2,ok\n", 1000);
        let (line, e) = bad(&rs[1]);
        assert_eq!(
            (line, e.line, e.character, e.field),
            (2, 2, Some(4), Some(1))
        );
        assert!(
            e.message.contains("a quote inside field 2"),
            "{}",
            e.message
        );
        assert_eq!(rs[2], fields(3, &["2", "ok"]));
        let rs = records("a,b\n1,\"Blue\" T-shirt\n2,ok\n", 1000);
        let (_, e) = bad(&rs[1]);
        assert_eq!((e.line, e.character), (2, Some(9)));
        assert!(
            e.message
                .contains("text after the closing quote of field 2")
        );
        assert_eq!(rs[2], fields(3, &["2", "ok"]));
    }

    #[test]
    fn an_unclosed_quote_does_not_swallow_the_rows_after_it() {
        // The open quote of line 2 would take line 3 in, up to its own quote, where text
        // follows: the record of line 2 is bad (said at its own quote), and line 3 is read
        // again on its own.
        let rs = records("a,b\n1,\"Blue T-shirt\n2,\"Red, large\"\n3,x\n", 1000);
        let (line, e) = bad(&rs[1]);
        assert_eq!((line, e.line), (2, 2));
        assert_eq!(rs[2], fields(3, &["2", "Red, large"]));
        assert_eq!(rs[3], fields(4, &["3", "x"]));
        // At the end of the file.
        let rs = records("a,b\n1,ok\n2,\"never closed\n3,x\n", 1000);
        let (line, e) = bad(&rs[2]);
        assert_eq!((line, e.line, e.character), (3, 3, Some(3)));
        assert!(
            e.message
                .contains("never closed before the end of the file")
        );
        assert_eq!(rs[3], fields(4, &["3", "x"]));
        assert_eq!(rs.len(), 4);
    }

    #[test]
    fn a_quote_left_open_is_reported_at_its_row_not_where_another_quote_ends_it() {
        let rs = records(
            "id,name,n\n1,\"unclosed,100\n2,after,100\n3,\"multi\nline\",100\n",
            1000,
        );
        let (line, e) = bad(&rs[1]);
        assert_eq!(line, 2);
        assert_eq!((e.line, e.character, e.field), (2, Some(3), Some(1)));
        assert_eq!(
            e.message,
            "the quote at line 2, character 3 is not closed on its line, and the next quote (line 4, character 3) is followed by text; close it, and write a quote inside a quoted field twice (\"15\"\" screen\")"
        );
        // The rows after it are read as rows, the multi-line one whole.
        assert_eq!(rs[2], fields(3, &["2", "after", "100"]));
        assert_eq!(rs[3], fields(4, &["3", "multi\nline", "100"]));
    }

    #[test]
    fn records_are_bounded() {
        let (long, part) = ("x".repeat(70), "x".repeat(40));
        let rs = records(
            &format!("a,b\n1,{long}\n2,ok\n3,\"{part}\n{part}\n4,y\n"),
            60,
        );
        let (line, e) = bad(&rs[1]);
        assert_eq!(line, 2);
        assert_eq!(e.message, "the line is longer than 60 bytes");
        assert_eq!(rs[2], fields(3, &["2", "ok"]));
        let (line, e) = bad(&rs[3]);
        assert_eq!(line, 4);
        assert!(
            e.message.contains("never closed within 60 bytes"),
            "{}",
            e.message
        );
        // The line the quote would have taken in is read again as a record of its own.
        assert_eq!(rs[4], fields(5, &[part.as_str()]));
        assert_eq!(rs[5], fields(6, &["4", "y"]));
    }
}

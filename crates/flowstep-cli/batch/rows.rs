//! The rows of a batch, read one at a time from a CSV file (a header line, then one record
//! per row) or a JSON Lines file (one object per line): each row's named values as text, or
//! why the row cannot be read, at its line and column.

use crate::batch::csv_reader::{CsvReader, Record};
use crate::batch::lines::{BoundedLines, Line};
use serde_json::Value;
use std::fmt;
use std::io::{self, BufRead};

/// The largest row: a CSV record or a JSON line over this is an error for that row.
pub const MAX_ROW_BYTES: usize = 64 * 1024;

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Comma-separated values with a header line (RFC 4180).
    Csv,
    /// JSON Lines: one JSON object per line.
    Jsonl,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text (a JSON number or boolean as written).
    Text(String),
    /// An empty CSV field or a JSON `null`: not given.
    Empty,
    /// A JSON list or object, which no input takes ("a list", "an object").
    Nested(&'static str),
}

/// Why a row cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line (1-based).
    pub line: u64,
    /// The column or JSON field the problem is in, when it is in one.
    pub column: Option<String>,
    /// The character on the line, when the problem is at one.
    pub character: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    /// `line 7, column `amount_paise`: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column `{c}`")?;
        }
        if let Some(c) = self.character {
            write!(f, ", character {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One row: its number (1 for the first row after a CSV header), the line it starts on, and
/// its values by column name, or why it cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based, counting every row, good or bad.
    pub number: u64,
    /// The line it starts on.
    pub line: u64,
    /// Its values in column order.
    pub cells: Result<Vec<(String, Cell)>, RowError>,
}

/// Why the input cannot be read as rows at all (a CSV header that is missing or wrong).
#[derive(Debug)]
pub enum SourceError {
    /// Reading failed.
    Io(io::Error),
    /// The header is unusable.
    Header(RowError),
}

impl From<io::Error> for SourceError {
    fn from(e: io::Error) -> Self {
        SourceError::Io(e)
    }
}

enum Reader<R> {
    Csv {
        records: CsvReader<R>,
        header: Vec<String>,
    },
    Jsonl(BoundedLines<R>),
}

/// Rows read one at a time.
pub struct Rows<R> {
    reader: Reader<R>,
    next_number: u64,
}

impl<R: BufRead> Rows<R> {
    /// Starts reading `input`; for CSV, reads and checks the header.
    pub fn new(input: R, format: InputFormat) -> Result<Self, SourceError> {
        let reader = match format {
            InputFormat::Jsonl => Reader::Jsonl(BoundedLines::new(input, MAX_ROW_BYTES)),
            InputFormat::Csv => {
                let mut records = CsvReader::new(input, MAX_ROW_BYTES)?;
                let header = header(records.next_record()?)?;
                Reader::Csv { records, header }
            }
        };
        Ok(Rows {
            reader,
            next_number: 1,
        })
    }

    /// The CSV header's column names (none for JSON Lines, whose rows name their own).
    pub fn columns(&self) -> &[String] {
        match &self.reader {
            Reader::Csv { header, .. } => header,
            Reader::Jsonl(_) => &[],
        }
    }

    /// The next row, or `None` at the end of the input.
    pub fn next_row(&mut self) -> io::Result<Option<Row>> {
        let (line, cells) = match &mut self.reader {
            Reader::Csv { records, header } => match records.next_record()? {
                None => return Ok(None),
                Some(record) => csv_row(record, header),
            },
            Reader::Jsonl(lines) => loop {
                match lines.next_line()? {
                    None => return Ok(None),
                    Some(Line::Text { bytes, .. }) if bytes.trim_ascii().is_empty() => continue,
                    Some(Line::Text { number, bytes }) => break (number, json_row(number, &bytes)),
                    Some(Line::TooLong { number }) => {
                        break (
                            number,
                            Err(RowError {
                                line: number,
                                column: None,
                                character: None,
                                message: format!(
                                    "the line is longer than {} KiB",
                                    MAX_ROW_BYTES / 1024
                                ),
                            }),
                        );
                    }
                }
            },
        };
        let number = self.next_number;
        self.next_number += 1;
        Ok(Some(Row {
            number,
            line,
            cells,
        }))
    }
}

/// The header's names: trimmed, not empty, each once.
fn header(record: Option<Record>) -> Result<Vec<String>, SourceError> {
    let (line, fields) = match record {
        None => {
            return Err(SourceError::Header(RowError {
                line: 1,
                column: None,
                character: None,
                message: "the file is empty; a CSV input starts with a header line naming the columns, like `order_id,product_name,amount_paise`".into(),
            }));
        }
        Some(Record::Bad { error, .. }) => {
            return Err(SourceError::Header(RowError {
                line: error.line,
                column: None,
                character: error.character,
                message: format!("in the header: {}", error.message),
            }));
        }
        Some(Record::Fields { line, fields }) => (line, fields),
    };
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for (i, f) in fields.into_iter().enumerate() {
        let problem = |message: String| {
            SourceError::Header(RowError {
                line,
                column: None,
                character: None,
                message,
            })
        };
        let name = String::from_utf8(f)
            .map_err(|_| problem(format!("header field {} is not valid UTF-8", i + 1)))?;
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(problem(format!(
                "header field {} is empty; every column needs a name",
                i + 1
            )));
        }
        if names.contains(&name) {
            return Err(problem(format!("the header names column `{name}` twice")));
        }
        names.push(name);
    }
    Ok(names)
}

fn csv_row(record: Record, header: &[String]) -> (u64, Result<Vec<(String, Cell)>, RowError>) {
    let (line, fields) = match record {
        Record::Bad { line, error } => {
            return (
                line,
                Err(RowError {
                    line: error.line,
                    column: error.field.and_then(|f| header.get(f).cloned()),
                    character: error.character,
                    message: error.message,
                }),
            );
        }
        Record::Fields { line, fields } => (line, fields),
    };
    let error = |column: Option<String>, message: String| RowError {
        line,
        column,
        character: None,
        message,
    };
    if fields.len() != header.len() {
        let (column, why) = if fields.len() < header.len() {
            let missing = &header[fields.len()..];
            (
                Some(missing[0].clone()),
                format!(
                    "no value for column{} {}",
                    if missing.len() == 1 { "" } else { "s" },
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        } else {
            (
                None,
                "a value with a comma must be in double quotes (\"Blue, large\")".to_owned(),
            )
        };
        return (
            line,
            Err(error(
                column,
                format!(
                    "the row has {} field{} but the header has {}: {why}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" },
                    header.len()
                ),
            )),
        );
    }
    let mut cells = Vec::with_capacity(fields.len());
    for (name, bytes) in header.iter().zip(fields) {
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                return (
                    line,
                    Err(error(
                        Some(name.clone()),
                        format!(
                            "not valid UTF-8 (byte 0x{:02X} {}); save the file as UTF-8",
                            bytes[at],
                            if at == 0 {
                                "at its start".to_owned()
                            } else {
                                format!("after `{}`", shown(&String::from_utf8_lossy(&bytes[..at])))
                            }
                        ),
                    )),
                );
            }
        };
        let cell = if text.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(text)
        };
        cells.push((name.clone(), cell));
    }
    (line, Ok(cells))
}

/// At most the last 40 characters of `text`, for saying where in a value something is.
pub fn shown(text: &str) -> String {
    let count = text.chars().count();
    if count <= 40 {
        text.to_owned()
    } else {
        let tail: String = text.chars().skip(count - 40).collect();
        format!("…{tail}")
    }
}

fn json_row(line: u64, bytes: &[u8]) -> Result<Vec<(String, Cell)>, RowError> {
    let error = |character: Option<usize>, column: Option<String>, message: String| RowError {
        line,
        column,
        character,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let character = String::from_utf8_lossy(&bytes[..at]).chars().count() + 1;
        error(
            Some(character),
            None,
            format!(
                "not valid UTF-8 (byte 0x{:02X}); save the file as UTF-8",
                bytes[at]
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        error(
            Some(e.column()),
            None,
            format!("not a JSON object: {message}"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(error(
            None,
            None,
            format!(
                "a row is a JSON object like {{\"amount_paise\": 50000}}, not {}",
                kind(&value)
            ),
        ));
    };
    // serde_json keeps the last of two equal keys; which value the row meant is not known.
    if let Some(key) = repeated_key(text, map.len()) {
        return Err(error(
            None,
            Some(key.clone()),
            "given twice in the row, so which value is meant is not known; give it once".into(),
        ));
    }
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let cell = match v {
                Value::Null => Cell::Empty,
                Value::String(s) => Cell::Text(s),
                Value::Number(n) => Cell::Text(n.to_string()),
                Value::Bool(b) => Cell::Text(b.to_string()),
                other => Cell::Nested(kind(&other)),
            };
            (k, cell)
        })
        .collect())
}

/// The first key the JSON object `text` holds more than once, when it has more keys than the
/// `distinct` ones the map kept (read again only then).
fn repeated_key(text: &str, distinct: usize) -> Option<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    let Keys(keys) = serde_json::from_str(text).ok()?;
    if keys.len() == distinct {
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().find(|k| !seen.insert(k.clone()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8], format: InputFormat) -> Vec<Row> {
        let mut rows = Rows::new(text, format).unwrap_or_else(|e| panic!("{e:?}"));
        let mut out = Vec::new();
        while let Some(r) = rows.next_row().unwrap() {
            out.push(r);
        }
        out
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn err(r: &Row) -> String {
        r.cells.as_ref().unwrap_err().to_string()
    }

    #[test]
    fn csv_rows_are_named_by_the_header() {
        let rs = rows(
            b"order_id, amount_paise\nA1,500\nA2,\nA3\nA4,5,6\nA5,\xFF9\n",
            InputFormat::Csv,
        );
        assert_eq!(rs[0].number, 1);
        assert_eq!(rs[0].line, 2);
        assert_eq!(
            rs[0].cells,
            Ok(vec![
                ("order_id".into(), text("A1")),
                ("amount_paise".into(), text("500"))
            ])
        );
        assert_eq!(rs[1].cells.as_ref().unwrap()[1].1, Cell::Empty);
        assert_eq!(
            err(&rs[2]),
            "line 4, column `amount_paise`: the row has 1 field but the header has 2: no value for column `amount_paise`"
        );
        assert!(err(&rs[3]).starts_with("line 5: the row has 3 fields but the header has 2"));
        assert_eq!(
            err(&rs[4]),
            "line 6, column `amount_paise`: not valid UTF-8 (byte 0xFF at its start); save the file as UTF-8"
        );
        assert_eq!(rs[4].number, 5);
    }

    #[test]
    fn a_bad_header_stops_everything() {
        for (text, want) in [
            (&b""[..], "line 1: the file is empty"),
            (b"a,,b\n", "line 1: header field 2 is empty"),
            (b"a,b,a\n", "line 1: the header names column `a` twice"),
            (
                b"a,\"b\n",
                "line 1, character 3: in the header: the quote at line 1",
            ),
        ] {
            match Rows::new(text, InputFormat::Csv) {
                Err(SourceError::Header(e)) => {
                    assert!(e.to_string().starts_with(want), "{e}")
                }
                _ => panic!("{want}"),
            }
        }
    }

    #[test]
    fn json_lines_are_objects() {
        let rs = rows(
            b"{\"order_id\": \"A1\", \"amount_paise\": 500, \"gift\": true, \"note\": null}\n\n[1]\n{\"a\": 1,}\n{\"tags\": [1]}\n{\"x\": \"\xFF\"}\n",
            InputFormat::Jsonl,
        );
        assert_eq!(
            rs[0].cells,
            Ok(vec![
                ("order_id".into(), text("A1")),
                ("amount_paise".into(), text("500")),
                ("gift".into(), text("true")),
                ("note".into(), Cell::Empty),
            ])
        );
        assert_eq!(
            err(&rs[1]),
            "line 3: a row is a JSON object like {\"amount_paise\": 50000}, not a list"
        );
        assert_eq!(rs[1].number, 2);
        assert!(err(&rs[2]).starts_with("line 4, character 9: not a JSON object: trailing comma"));
        assert_eq!(
            rs[3].cells,
            Ok(vec![("tags".into(), Cell::Nested("a list"))])
        );
        assert_eq!(
            err(&rs[4]),
            "line 6, character 8: not valid UTF-8 (byte 0xFF); save the file as UTF-8"
        );
    }
}

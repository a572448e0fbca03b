//! [`SourcePos`]: where in which flow file a step failed.

use flowstep_spec::{SourceFile, Span};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::fmt;
use std::sync::Arc;

/// A place in a flow file: the file itself (its text is needed to draw the line) and a span in
/// it. It names the file because a `flow` step runs a sub-flow from another file, and a failure
/// inside it points there.
///
/// Serialised as `{"file": NAME, "line": L, "column": C}` (1-based, columns in chars).
#[derive(Clone)]
pub struct SourcePos {
    /// The file the span is in.
    pub file: Arc<SourceFile>,
    /// Where in it.
    pub span: Span,
    /// The line and column read back from a saved run ([`SourcePos`] deserialises from
    /// `{file, line, column}`, without the file's text) until [`SourcePos::reattach`] finds
    /// the file again.
    written: Option<(usize, usize)>,
}

impl SourcePos {
    /// The place `span` in `file`.
    pub fn new(file: Arc<SourceFile>, span: Span) -> Self {
        SourcePos {
            file,
            span,
            written: None,
        }
    }

    /// The 1-based line and column of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        self.written
            .unwrap_or_else(|| self.file.line_col(self.span.start))
    }

    /// A position read back from a saved run points into a file known only by name; `file`
    /// is that file again (same name), so the line can be drawn. Does nothing otherwise.
    pub fn reattach(&mut self, file: &Arc<SourceFile>) {
        if let Some((line, column)) = self.written
            && file.name() == self.file.name()
        {
            let start = file.offset_of(line, column);
            let len = self.span.end.saturating_sub(self.span.start);
            self.file = file.clone();
            self.span = Span::new(start, (start + len).min(file.text().len()));
            self.written = None;
        }
    }
}

/// Two positions are equal when they name the same file, line and column; the text is not
/// compared (a position read back from JSON has none).
impl PartialEq for SourcePos {
    fn eq(&self, other: &Self) -> bool {
        self.file.name() == other.file.name() && self.line_col() == other.line_col()
    }
}

/// `file:line:col`, as after `-->`.
impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        write!(f, "{}:{line}:{col}", self.file.name())
    }
}

/// The file by name only: its whole text would drown the rest.
impl fmt::Debug for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourcePos")
            .field("file", &self.file.name())
            .field("span", &self.span)
            .finish()
    }
}

impl Serialize for SourcePos {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (line, column) = self.line_col();
        let mut s = serializer.serialize_struct("SourcePos", 3)?;
        s.serialize_field("file", self.file.name())?;
        s.serialize_field("line", &line)?;
        s.serialize_field("column", &column)?;
        s.end()
    }
}

/// Reads `{"file", "line", "column"}` back. The file's text is not in it: the position keeps
/// its name, line and column (what `Display` and serialising show), over a stand-in text of
/// blank lines, so a drawing of it shows an empty line until [`SourcePos::reattach`] finds
/// the file again.
impl<'de> Deserialize<'de> for SourcePos {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Written {
            file: String,
            line: usize,
            column: usize,
        }
        let w = Written::deserialize(deserializer)?;
        // Bounded: a position in a flow file is within its 1 MiB.
        const MAX: usize = 1 << 20;
        if w.line == 0 || w.column == 0 || w.line > MAX || w.column > MAX {
            return Err(D::Error::custom(format!(
                "a position's line and column count from 1 (up to {MAX}); found {}:{}",
                w.line, w.column
            )));
        }
        let mut text = "\n".repeat(w.line - 1);
        let start = text.len() + w.column - 1;
        text.push_str(&" ".repeat(w.column - 1));
        Ok(SourcePos {
            file: Arc::new(SourceFile::new(w.file, text)),
            span: Span::new(start, start),
            written: Some((w.line, w.column)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_reads_and_serialises_as_file_line_and_column() {
        let file = Arc::new(SourceFile::new(
            "pay.yaml",
            "flow: pay\nsteps:\n  - id: é\n",
        ));
        let pos = SourcePos::new(file, Span::new(21, 26));
        assert_eq!(pos.to_string(), "pay.yaml:3:5");
        assert_eq!(
            serde_json::to_value(&pos).unwrap(),
            serde_json::json!({"file": "pay.yaml", "line": 3, "column": 5})
        );
        assert_eq!(
            format!("{pos:?}"),
            "SourcePos { file: \"pay.yaml\", span: Span { start: 21, end: 26 } }"
        );
        let mut back: SourcePos =
            serde_json::from_value(serde_json::to_value(&pos).unwrap()).unwrap();
        assert_eq!(back.to_string(), "pay.yaml:3:5");
        back.reattach(&pos.file);
        assert_eq!(back.span.start, 21);
        assert_eq!(back.file.text(), pos.file.text());
    }

    #[test]
    fn a_position_reads_back_as_the_same_file_line_and_column() {
        let file = Arc::new(SourceFile::new(
            "pay.yaml",
            "flow: pay\nsteps:\n  - id: é\n",
        ));
        let pos = SourcePos::new(file, Span::new(21, 26));
        let back: SourcePos = serde_json::from_value(serde_json::to_value(&pos).unwrap()).unwrap();
        assert_eq!(back, pos);
        assert_eq!(back.to_string(), "pay.yaml:3:5");
        let zero = serde_json::json!({"file": "f.yaml", "line": 0, "column": 1});
        let e = serde_json::from_value::<SourcePos>(zero)
            .unwrap_err()
            .to_string();
        assert!(e.contains("count from 1"), "{e}");
    }
}

//! [`SourcePos`]: where in which flow file a step failed.

use flowstep_spec::{SourceFile, Span};
use serde::de::{Deserialize, Deserializer};
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

/// Two positions are equal when they name the same file and span; the text is not compared.
impl PartialEq for SourcePos {
    fn eq(&self, other: &Self) -> bool {
        self.span == other.span && self.file.name() == other.file.name()
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

/// From `{file, line, column}`: the file is known by name only until
/// [`SourcePos::reattach`].
impl<'de> Deserialize<'de> for SourcePos {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Written {
            file: String,
            line: usize,
            column: usize,
        }
        let w = Written::deserialize(deserializer)?;
        Ok(SourcePos {
            file: Arc::new(SourceFile::new(w.file, "")),
            span: Span::default(),
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
}

//! Source files and positions: every node of a flow knows where it came from.

use std::fmt;

/// A flow file's text and the name it is shown under in diagnostics.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    /// Byte offset of each char, plus one past the end, so that char positions from the YAML
    /// parser become byte ranges for snippets in O(1). `None` for an ASCII text (most flows),
    /// where a char's index is its byte offset: 8 bytes a char are neither built nor kept.
    char_starts: Option<Vec<usize>>,
    /// Byte offset of the start of each line, so that a position's line and column are found
    /// by binary search: a file with many diagnostics must not be rescanned for each one.
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps `text` read from `name` (a path, or `preset:NAME` for bundled flows).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let char_starts = (!text.is_ascii()).then(|| {
            let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            starts.push(text.len());
            starts
        });
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            char_starts,
            line_starts,
        }
    }

    /// The name shown after `-->`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte offset of the char with index `char_index` (clamped to the end).
    pub(crate) fn byte_of_char(&self, char_index: usize) -> usize {
        match &self.char_starts {
            Some(starts) => starts[char_index.min(starts.len() - 1)],
            None => char_index.min(self.text.len()),
        }
    }

    /// The 1-based line and column (in chars) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_index(byte);
        let col = self.char_index(byte) - self.char_index(self.line_starts[line]) + 1;
        (line + 1, col)
    }

    /// The byte offset of a 1-based line and column (in chars), as [`SourceFile::line_col`]
    /// gives them; clamped to the line's end and the file's end.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let end = self.line_range(start).end;
        let first = self.char_index(start);
        self.byte_of_char(first + column.saturating_sub(1)).min(end)
    }

    /// The byte range of the line that holds `byte`, without its line break.
    pub fn line_range(&self, byte: usize) -> std::ops::Range<usize> {
        let line = self.line_index(byte.min(self.text.len()));
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |next| next - 1);
        start..end
    }

    /// The 0-based index of the line that holds `byte`.
    fn line_index(&self, byte: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= byte) - 1
    }

    /// How many chars come before `byte` (a char boundary, or inside the char that holds it).
    fn char_index(&self, byte: usize) -> usize {
        match &self.char_starts {
            Some(starts) => starts.partition_point(|&s| s < byte),
            None => byte.min(self.text.len() + 1),
        }
    }
}

/// A byte range in a [`SourceFile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (bytes).
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// The sub-span `offset..offset + len` bytes into this span.
    pub fn sub(self, offset: usize, len: usize) -> Span {
        let start = (self.start + offset).min(self.end);
        Span::new(start, (start + len).min(self.end.max(start + len)))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A value with the span it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_chars_and_lines() {
        let file = SourceFile::new("f.yaml", "a: 1\nb: \"₹5\"\n\nc: x");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(4), (1, 5), "the line break ends line 1");
        assert_eq!(file.line_col(5), (2, 1));
        // `"₹5"`: the quote is column 4, `₹` column 5, `5` column 6 (₹ is 3 bytes).
        assert_eq!(file.line_col(12), (2, 6));
        assert_eq!(file.line_col(15), (3, 1));
        assert_eq!(file.line_col(16), (4, 1));
        assert_eq!(file.line_col(999), (4, 5), "past the end is the end");
        assert_eq!(file.line_range(6), 5..14);
        assert_eq!(file.line_range(15), 15..15);
        assert_eq!(file.line_range(16), 16..20);
    }

    #[test]
    fn an_ascii_file_without_a_char_index_places_every_offset_as_one_with_it() {
        let text = "flow: f\nsteps:\n  - id: a\n\n    text: \"hi <<x>>\"\n";
        let ascii = SourceFile::new("f.yaml", text);
        assert!(
            ascii.char_starts.is_none(),
            "an ASCII text keeps no char index"
        );
        // The same text with the index built, as a file with one non-ASCII char has it.
        let mut indexed = ascii.clone();
        let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        starts.push(text.len());
        indexed.char_starts = Some(starts);
        for byte in 0..text.len() + 3 {
            assert_eq!(
                ascii.line_col(byte),
                indexed.line_col(byte),
                "line_col({byte})"
            );
            assert_eq!(
                ascii.char_index(byte),
                indexed.char_index(byte),
                "char_index({byte})"
            );
            assert_eq!(
                ascii.byte_of_char(byte),
                indexed.byte_of_char(byte),
                "byte_of_char({byte})"
            );
        }
        for line in 0..8 {
            for column in 0..20 {
                assert_eq!(
                    ascii.offset_of(line, column),
                    indexed.offset_of(line, column),
                    "offset_of({line}, {column})"
                );
            }
        }
    }
}

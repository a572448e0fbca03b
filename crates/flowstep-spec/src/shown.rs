//! How a value is echoed in an error: whole when short, otherwise its start, an ellipsis and
//! its size, so that a 90,000-item list given for a string input is one readable line.

use serde_json::Value;
use std::borrow::Cow;
use std::io::Write;

/// The most characters of a value an error shows.
pub const SHOWN_CHARS: usize = 60;

/// Text as an error shows it: whole up to [`SHOWN_CHARS`] characters, else
/// `first characters… (N characters)`.
pub fn shown_text(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} characters)", &text[..cut], text.chars().count()),
    }
}

/// Text quoted as Rust's `{:?}` would (`"12ab"`), cut like [`shown_text`].
pub fn shown_quoted(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => {
            let start = format!("{:?}", &text[..cut]);
            format!(
                "{}…\" ({} characters)",
                &start[..start.len() - 1],
                text.chars().count()
            )
        }
    }
}

/// Text quoted in backticks as an error shows it: `` `abc` `` whole up to [`SHOWN_CHARS`]
/// characters, else `` `first characters…` (N characters) ``, the form
/// [`shown_code_spans`] gives.
pub fn shown_code(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => format!("`{text}`"),
        Some((cut, _)) => format!("`{}…` ({} characters)", &text[..cut], text.chars().count()),
    }
}

/// A message with every code span (text between backticks, where errors quote what the author
/// wrote: a step id, a key, a variable name, an expression) longer than [`SHOWN_CHARS`]
/// characters cut like [`shown_text`]: `` `kkk…` (300000 characters) ``. A span already cut
/// by [`shown_text`] is left alone. Every diagnostic's message, label, notes and help pass
/// through this, so no error repeats a 300 KB name in full.
pub fn shown_code_spans(message: &str) -> Cow<'_, str> {
    let needs_cut = message.split('`').skip(1).step_by(2).any(long_uncut);
    if !needs_cut {
        return Cow::Borrowed(message);
    }
    // Pieces alternate outside, inside, outside, ...; the last piece is outside or follows
    // an unpaired backtick, so it is never a span.
    let pieces: Vec<&str> = message.split('`').collect();
    let mut out = String::with_capacity(message.len().min(SHOWN_CHARS * 16));
    let mut after_cut = false;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 && !after_cut {
            out.push('`');
        }
        after_cut = false;
        if i % 2 == 1 && i + 1 < pieces.len() && long_uncut(piece) {
            let cut = piece
                .char_indices()
                .nth(SHOWN_CHARS)
                .map_or(piece.len(), |(at, _)| at);
            out.push_str(&piece[..cut]);
            out.push_str("…` (");
            out.push_str(&piece.chars().count().to_string());
            out.push_str(" characters)");
            after_cut = true;
        } else {
            out.push_str(piece);
        }
    }
    Cow::Owned(out)
}

/// Whether a code span is longer than an error shows and was not cut already.
fn long_uncut(span: &str) -> bool {
    let mut chars = span.chars();
    chars.nth(SHOWN_CHARS).is_some_and(|c| c != '…')
}

/// A JSON value as an error shows it: its compact JSON text, whole up to [`SHOWN_CHARS`]
/// characters, else the start, `…` and its size (`[1,2,3,…] (a list of 90000 items, 538890
/// bytes)`). Never holds more than the shown part in memory.
pub fn shown_value(value: &Value) -> String {
    let mut w = Prefix::default();
    // Writing to `Prefix` cannot fail.
    let _ = serde_json::to_writer(&mut w, value);
    let Prefix { kept, bytes } = w;
    let text = String::from_utf8_lossy(&kept);
    match text.char_indices().nth(SHOWN_CHARS) {
        None if bytes == kept.len() => text.into_owned(),
        found => {
            let cut = found.map_or(text.len(), |(i, _)| i);
            let size = match value {
                Value::Array(a) => format!(
                    "a list of {} item{}, {bytes} bytes",
                    a.len(),
                    if a.len() == 1 { "" } else { "s" }
                ),
                Value::Object(m) => format!(
                    "a mapping of {} entr{}, {bytes} bytes",
                    m.len(),
                    if m.len() == 1 { "y" } else { "ies" }
                ),
                Value::String(s) => format!("{} characters", s.chars().count()),
                _ => format!("{bytes} bytes"),
            };
            format!("{}… ({size})", &text[..cut])
        }
    }
}

/// A writer that keeps the first bytes it is given and counts the rest.
#[derive(Default)]
struct Prefix {
    kept: Vec<u8>,
    bytes: usize,
}

impl Write for Prefix {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Four bytes per character is the most UTF-8 needs, plus one to see that there is more.
        let room = (SHOWN_CHARS * 4 + 4).saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&buf[..buf.len().min(room)]);
        self.bytes += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(shown_value(&json!([1, 2, 3])), "[1,2,3]");
        assert_eq!(shown_value(&json!("12ab")), "\"12ab\"");
        assert_eq!(shown_text("abc"), "abc");
        assert_eq!(shown_quoted("a\"b"), "\"a\\\"b\"");
        assert_eq!(shown_code_spans("unknown `x` in `y`"), "unknown `x` in `y`");
    }

    #[test]
    fn long_code_spans_are_cut_once() {
        let long = "k".repeat(300_000);
        let message = format!("`next` names unknown step `{long}`; or `{long}");
        let cut = shown_code_spans(&message);
        assert_eq!(
            cut,
            format!(
                "`next` names unknown step `{}…` (300000 characters); or `{long}",
                "k".repeat(60)
            )
        );
        // Already cut by `shown_text`: left as it is.
        let once = format!("`{}` is not a duration", shown_text(&long));
        assert_eq!(shown_code_spans(&once), once);
        assert_eq!(
            shown_code(&long),
            format!("`{}…` (300000 characters)", "k".repeat(60))
        );
        assert_eq!(shown_code("m"), "`m`");
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis_and_their_size() {
        let list: Vec<u32> = (0..90_000).collect();
        let shown = shown_value(&json!(list));
        assert_eq!(
            shown,
            "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,… (a list of 90000 items, 528891 bytes)"
        );
        let long = "₹".repeat(100);
        assert_eq!(
            shown_value(&json!(long)),
            format!("\"{}… (100 characters)", "₹".repeat(59))
        );
        assert_eq!(
            shown_text(&long),
            format!("{}… (100 characters)", "₹".repeat(60))
        );
        assert_eq!(
            shown_quoted(&"x".repeat(70)),
            format!("\"{}…\" (70 characters)", "x".repeat(60))
        );
        let map: serde_json::Map<String, Value> =
            (0..1000).map(|i| (format!("k{i}"), json!(i))).collect();
        let bytes = Value::Object(map.clone()).to_string().len();
        let shown = shown_value(&Value::Object(map));
        assert!(
            shown.ends_with(&format!("… (a mapping of 1000 entries, {bytes} bytes)")),
            "{shown}"
        );
    }
}

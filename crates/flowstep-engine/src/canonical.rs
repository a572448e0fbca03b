//! Canonical text: the encodings flowstep writes and servers echo, undone in one pass, with
//! the place in the original text of every character, so that a secret found in the canonical
//! text is masked where it really stands, in whatever mix of encodings it was written.
//!
//! Undone: percent-encoding (either hex case, and `%25XX` twice-encoded), `\xXX` byte escapes
//! (bytes of a UTF-8 character are put back together), JSON's `\uXXXX` (surrogate pairs too)
//! and Rust's `\u{...}`, a backslash before punctuation (`\/`, `\"`, `\\`, `\'`) and the short
//! control escapes (`\n`), the shell's `'\''` and `'"'"'`, and HTML character references
//! (`&#39;`, `&#x2F;`, `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`). `+` and a space are the
//! same character here (a form writes a space as `+`), so each is read as a space.
//!
//! Secrets go through the same function, so a secret that itself contains `%41` or `\/` is
//! compared in the same terms as the text.

/// Text in canonical form, and the original it came from.
#[derive(Debug)]
pub struct Canonical<'t> {
    /// The canonical text.
    pub text: std::borrow::Cow<'t, str>,
    /// The original, when `text` differs from it (`text` is then owned). Where a canonical
    /// byte came from is worked out from it again only for a match ([`Canonical::source_range`]):
    /// matches are rare, and a map kept for every byte of every text cost more than the
    /// decoding itself.
    original: Option<&'t str>,
}

impl<'t> Canonical<'t> {
    /// Decodes `original`.
    pub fn of(original: &'t str) -> Self {
        if next_special(original.as_bytes()).is_none() {
            return Canonical {
                text: std::borrow::Cow::Borrowed(original),
                original: None,
            };
        }
        let mut text = String::with_capacity(original.len());
        decode(original, |piece| match piece {
            Piece::Plain(run, _) => text.push_str(run),
            Piece::Char(c, _) => text.push(if c == '+' { ' ' } else { c }),
        });
        Canonical {
            text: std::borrow::Cow::Owned(text),
            original: Some(original),
        }
    }

    /// The range of the original text that canonical bytes `start..end` (character
    /// boundaries) came from.
    pub fn source_range(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let Some(original) = self.original else {
            return start..end;
        };
        // Where the character at canonical byte `at` starts in the original; the original's
        // length past the last one.
        let (mut from, mut to) = (original.len(), original.len());
        let mut at = 0;
        decode(original, |piece| {
            // A plain run's bytes are the original's, one for one.
            let (len, source, plain) = match piece {
                Piece::Plain(run, source) => (run.len(), source, true),
                // `+` and the space it stands for are one byte each.
                Piece::Char(c, source) => (c.len_utf8(), source, false),
            };
            let inside = |target: usize| target >= at && target < at + len;
            if inside(start) {
                from = if plain { source + (start - at) } else { source };
            }
            if inside(end) {
                to = if plain { source + (end - at) } else { source };
            }
            at += len;
        });
        from..to
    }
}

/// `s` in canonical form, for comparing with canonical text.
pub fn canonical(s: &str) -> String {
    Canonical::of(s).text.into_owned()
}

/// A piece of decoded text, with the offset in the original where its encoding starts.
enum Piece<'s> {
    /// Text that needs no decoding (no character an escape starts with, and no `+`), as it is.
    Plain(&'s str, usize),
    /// One decoded character (or a `+`, or a character that starts no escape after all).
    Char(char, usize),
}

/// Where the first byte that an escape (or a `+`) can start at is in `b`: `%`, `\\`, `&`,
/// `'` or `+`. In a long text, two vectorised searches (`memchr` looks for up to three bytes
/// at once), the second only as far as the first's find, instead of a test per byte:
/// redaction decodes every string a run records, and most have none of these.
fn next_special(b: &[u8]) -> Option<usize> {
    // Each search has a set-up cost that a short text does not earn back.
    if b.len() < 32 {
        return b
            .iter()
            .position(|&x| matches!(x, b'%' | b'\\' | b'&' | b'\'' | b'+'));
    }
    match memchr::memchr3(b'%', b'\\', b'&', b) {
        Some(i) => memchr::memchr2(b'\'', b'+', &b[..i]).or(Some(i)),
        None => memchr::memchr2(b'\'', b'+', b),
    }
}

/// Calls `emit` for each piece of `s` decoded, in order: runs of plain text whole, the rest a
/// character at a time.
fn decode<'s>(s: &'s str, mut emit: impl FnMut(Piece<'s>)) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let plain = next_special(&b[i..]).unwrap_or(b.len() - i);
        if plain > 0 {
            // Special bytes are ASCII, so the run ends on a character boundary.
            emit(Piece::Plain(&s[i..i + plain], i));
            i += plain;
            continue;
        }
        if let Some((c, len)) = encoded_bytes(s, i) {
            emit(Piece::Char(c, i));
            i += len;
            continue;
        }
        if let Some((c, len)) = escaped_char(s, i) {
            emit(Piece::Char(c, i));
            i += len;
            continue;
        }
        emit(Piece::Char(char::from(b[i]), i));
        i += 1;
    }
}

fn hex_value(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// One escaped byte at `i`: `%25XX`, `%XX` or `\xXX`, and its length.
fn escaped_byte(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let hex2 = |at: usize| -> Option<u8> {
        let h = hex_value(*b.get(at)?)?;
        let l = hex_value(*b.get(at + 1)?)?;
        u8::try_from(h * 16 + l).ok()
    };
    match b.get(i)? {
        b'%' => {
            if b.get(i + 1..i + 3) == Some(b"25")
                && let Some(v) = hex2(i + 3)
            {
                return Some((v, 5));
            }
            hex2(i + 1).map(|v| (v, 3))
        }
        b'\\' if b.get(i + 1) == Some(&b'x') => hex2(i + 2).map(|v| (v, 4)),
        _ => None,
    }
}

/// A character written as escaped bytes (one for ASCII, a whole UTF-8 sequence otherwise),
/// and the length of its encoding.
fn encoded_bytes(s: &str, i: usize) -> Option<(char, usize)> {
    let b = s.as_bytes();
    let (first, mut len) = escaped_byte(b, i)?;
    let need = match first {
        0x00..=0x7f => return Some((char::from(first), len)),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let mut bytes = vec![first];
    while bytes.len() < need {
        let (next, l) = escaped_byte(b, i + len)?;
        bytes.push(next);
        len += l;
    }
    let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
    Some((c, len))
}

/// A character written as a JSON, Rust, shell or HTML escape at `i`, and its length.
fn escaped_char(s: &str, i: usize) -> Option<(char, usize)> {
    let rest = &s[i..];
    let b = rest.as_bytes();
    match b.first()? {
        b'\\' => {
            let next = *b.get(1)?;
            if next == b'u' {
                return unicode_escape(rest);
            }
            let c = match next {
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'0' => '\0',
                p if p.is_ascii_punctuation() => char::from(p),
                _ => return None,
            };
            Some((c, 2))
        }
        b'\'' => {
            for quoted in [r"'\''", r#"'"'"'"#] {
                if rest.starts_with(quoted) {
                    return Some(('\'', quoted.len()));
                }
            }
            None
        }
        b'&' => html_reference(rest),
        _ => None,
    }
}

/// `\uXXXX` (with a following low surrogate when it is a high one) or `\u{X...}`.
fn unicode_escape(rest: &str) -> Option<(char, usize)> {
    if let Some(braced) = rest.strip_prefix(r"\u{") {
        let end = braced.find('}')?;
        if end == 0 || end > 6 {
            return None;
        }
        let c = char::from_u32(u32::from_str_radix(&braced[..end], 16).ok()?)?;
        return Some((c, 3 + end + 1));
    }
    let unit = |s: &str| -> Option<u32> {
        let hex = s.strip_prefix(r"\u")?.get(..4)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(hex, 16).ok()
    };
    let high = unit(rest)?;
    if (0xd800..0xdc00).contains(&high) {
        let low = unit(rest.get(6..)?)?;
        if !(0xdc00..0xe000).contains(&low) {
            return None;
        }
        let c = char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?;
        return Some((c, 12));
    }
    Some((char::from_u32(high)?, 6))
}

/// `&#DDD;`, `&#xHH;` or one of the five named references HTML and XML escape with.
fn html_reference(rest: &str) -> Option<(char, usize)> {
    for (name, c) in [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&apos;", '\''),
    ] {
        if rest.starts_with(name) {
            return Some((c, name.len()));
        }
    }
    let body = rest.strip_prefix("&#")?;
    let end = body.find(';')?;
    let digits = &body[..end];
    let n = match digits.strip_prefix(['x', 'X']) {
        Some(hex) if !hex.is_empty() && hex.len() <= 8 => u32::from_str_radix(hex, 16).ok()?,
        None if !digits.is_empty() && digits.len() <= 10 => digits.parse().ok()?,
        _ => return None,
    };
    Some((char::from_u32(n)?, 2 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_decodes_to_the_same_text() {
        let want = "sk_test_a/b c d'e\"é😀";
        for written in [
            "sk_test_a/b+c d'e\"é😀",
            "sk_test_a%2Fb%2Bc%20d%27e%22%C3%A9%F0%9F%98%80",
            "sk_test_a%2fb%2bc+d%27e%22%c3%a9%f0%9f%98%80",
            "sk%5Ftest%5Fa%252Fb%252Bc%2520d%2527e%2522%25C3%25A9😀",
            r#"sk_test_a\/b+c d'e\"\u00e9\ud83d\ude00"#,
            r"sk_test_a\u002Fb\u002bc\u0020d\u0027e\u0022\u00E9\u{1F600}",
            r"sk_test_a/b+c d'\''e\x22\xC3\xA9😀",
            r"sk_test_a&#x2F;b&#43;c&#32;d&apos;e&quot;&#233;&#128512;",
        ] {
            assert_eq!(canonical(written), canonical(want), "{written}");
        }
        assert_eq!(canonical(want), "sk_test_a/b c d'e\"é😀");
    }

    #[test]
    fn each_character_knows_where_it_was_written() {
        let original = "x=%27a%2Fb&amp;c";
        let c = Canonical::of(original);
        assert_eq!(c.text, "x='a/b&c");
        // `'a/b` is `%27a%2Fb` in the original.
        assert_eq!(&original[c.source_range(2, 6)], "%27a%2Fb");
        assert_eq!(&original[c.source_range(6, 8)], "&amp;c");
        // Inside plain runs, between escapes, and up to the end.
        let original = "ab%C3%A9cd+ef\\u0041gh";
        let c = Canonical::of(original);
        assert_eq!(c.text, "abécd efAgh");
        assert_eq!(&original[c.source_range(1, 4)], "b%C3%A9");
        assert_eq!(&original[c.source_range(5, 6)], "d");
        assert_eq!(&original[c.source_range(6, 8)], "+e");
        assert_eq!(&original[c.source_range(9, 13)], "\\u0041gh");
        assert_eq!(&original[c.source_range(0, 0)], "");
        // Text with nothing to decode is not copied.
        assert!(matches!(
            Canonical::of("plain text").text,
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn what_is_not_an_escape_stays_as_it_is() {
        for s in [
            "100%", "%zz", r"\q", "&#;", "&#xzz;", "it's", r"\u12", "\\", "a+b",
        ] {
            assert_eq!(canonical(s), s.replace('+', " "), "{s}");
        }
    }

    #[test]
    fn the_search_for_a_special_byte_finds_the_first_one_anywhere() {
        // Every special byte, alone and before another, at every place across the widths the
        // vectorised search works in (16 and 32 bytes) and its scalar tail.
        let specials = [b'%', b'\\', b'&', b'\'', b'+'];
        for len in [0, 1, 7, 15, 16, 17, 31, 32, 33, 64, 100] {
            let plain = vec![b'a'; len];
            assert_eq!(next_special(&plain), None, "{len} plain bytes");
            for at in 0..len {
                for &first in &specials {
                    let mut text = plain.clone();
                    text[at] = first;
                    assert_eq!(next_special(&text), Some(at), "{first} at {at} of {len}");
                    for &later in &specials {
                        for after in at + 1..len {
                            let mut both = text.clone();
                            both[after] = later;
                            assert_eq!(
                                next_special(&both),
                                Some(at),
                                "{first} at {at}, {later} at {after} of {len}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn decoding_never_makes_a_text_longer() {
        // The redactor skips a text shorter than its shortest pattern on this promise.
        let pieces = [
            "a",
            "é",
            "😀",
            "+",
            " ",
            "%",
            "%4",
            "%41",
            "%C3%A9",
            "%E9",
            "%F0%9F%98%80",
            "%2541",
            "%25",
            "\\",
            "\\x41",
            "\\xC3\\xA9",
            "\\xE9",
            "\\u0041",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\ud83d",
            "\\u{1F600}",
            "\\u{41}",
            "\\u{110000}",
            "\\/",
            "\\\"",
            "\\n",
            "\\t",
            "'\\''",
            "'\"'\"'",
            "'",
            "&",
            "&#39;",
            "&#x2F;",
            "&#128512;",
            "&#x1F600;",
            "&#x10FFFF;",
            "&#0;",
            "&amp;",
            "&lt;",
            "&gt;",
            "&quot;",
            "&apos;",
            "&am",
            "&#",
            "&#x",
        ];
        for a in pieces {
            for b in pieces {
                for c in ["", "x", "%", "\\", "&", "'"] {
                    let text = format!("{a}{b}{c}");
                    assert!(canonical(&text).len() <= text.len(), "{text:?}");
                }
            }
        }
    }
}

//! The pattern that finds one secret in every form it travels in: as written, percent-encoded
//! (either hex case, `+` or `%20` for a space, double-encoded, or only partly encoded),
//! JSON-escaped (`\/`, `\"`, `\uXXXX`), shell-quoted (`'\''`), HTML-escaped, as Rust or C escapes
//! (`\x..`, `\u{..}`), mis-decoded as latin-1, base64 (standard and URL-safe, alone or inside a
//! longer base64 text such as a Basic auth header), and cut short to its first or last
//! [`TRUNCATED_MIN_CHARS`] characters or more.
//!
//! Encoders differ in which characters they escape, and servers re-encode what they echo, so a
//! list of whole encoded strings cannot be complete. Instead every character that an encoder
//! may escape is matched by an alternation of its forms, which covers every mix of them. Letters
//! and digits are never escaped by any encoder, so they match only as themselves.

use base64::Engine as _;
use std::fmt::Write as _;

/// A secret shorter than this many characters cannot be masked everywhere it occurs without
/// masking unrelated text (`p` is in every `http`), so it is masked only as a whole token.
pub const SHORT_SECRET_CHARS: usize = 8;

/// A secret at least this long is also found cut short (an echo truncated by a server, or an
/// excerpt), from [`TRUNCATED_MIN_CHARS`] characters on.
const TRUNCATION_FROM_CHARS: usize = 16;

/// The shortest beginning of a long secret that is hidden on its own.
pub const TRUNCATED_MIN_CHARS: usize = 12;

/// Whether `value` is short enough that it is masked only as a whole token.
pub fn is_short(value: &str) -> bool {
    value.chars().count() < SHORT_SECRET_CHARS
}

/// How a value is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A secret: every form, base64 included.
    Secret,
    /// A credential that is itself an encoding (a Basic auth header's base64): its text forms.
    Derived,
}

/// The regex (regex-automata syntax) that matches `value` in every form of `kind`; for a short
/// value, only where it is not part of a longer run of letters, digits and `_`.
pub fn pattern(value: &str, kind: Kind) -> String {
    let short = is_short(value);
    let chars: Vec<char> = value.chars().collect();
    let mut forms = vec![text_form(&chars, short)];
    if kind == Kind::Secret {
        for b64 in base64_forms(value.as_bytes(), short) {
            let b64: Vec<char> = b64.chars().collect();
            forms.push(sequence(&b64, short, b64.len()));
        }
    }
    forms.dedup();
    format!("(?:{})", forms.join("|"))
}

/// The value's characters in every text encoding. A long value is also found cut short at
/// either end (a truncated echo, or the rest of a value whose middle was re-encoded in a way no
/// encoder here writes): its first, or its last, [`TRUNCATED_MIN_CHARS`] characters or more.
fn text_form(chars: &[char], short: bool) -> String {
    if chars.len() < TRUNCATION_FROM_CHARS {
        return sequence(chars, short, chars.len());
    }
    // The beginning first: where both match at the same place, the whole value is masked.
    format!(
        "{}|{}",
        sequence(chars, short, TRUNCATED_MIN_CHARS),
        ending(chars, TRUNCATED_MIN_CHARS)
    )
}

/// Each character's alternation in turn. After the first `required` characters the rest is
/// optional, one character at a time, so a truncated echo matches as far as it goes (greedy, so
/// a whole one matches whole). `token` adds a word boundary before a leading and after a
/// trailing letter or digit, where it stands as itself.
fn sequence(chars: &[char], token: bool, required: usize) -> String {
    let mut out = String::new();
    let last = chars.len().saturating_sub(1);
    let mut open = 0;
    for (i, &c) in chars.iter().enumerate() {
        if i >= required {
            out.push_str("(?:");
            open += 1;
        }
        let before = token && i == 0 && is_word(c);
        let after = token && i == last && is_word(c);
        out.push_str(&alternatives(c, before, after));
    }
    for _ in 0..open {
        out.push_str(")?");
    }
    out
}

/// The last `required` characters, each earlier one optional in turn: `(?:(?:a)?b)?c...`.
fn ending(chars: &[char], required: usize) -> String {
    let optional = chars.len() - required;
    let mut out = "(?:".repeat(optional);
    for (i, &c) in chars.iter().enumerate() {
        out.push_str(&alternatives(c, false, false));
        if i < optional {
            out.push_str(")?");
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

const BOUNDARY: &str = r"(?-u:\b)";

/// Every form one character takes, longest first, so that where a shorter form is also a
/// beginning of a longer one (`'` of `'\''`) the longer one is preferred.
fn alternatives(c: char, boundary_before: bool, boundary_after: bool) -> String {
    let itself = {
        let mut s = String::new();
        if boundary_before {
            s.push_str(BOUNDARY);
        }
        s.push_str(&literal(c));
        if boundary_after {
            s.push_str(BOUNDARY);
        }
        s
    };
    if c.is_ascii_alphanumeric() {
        return itself;
    }
    // (length of the text it matches, regex)
    let mut alts: Vec<(usize, String)> = Vec::new();
    let mut utf8 = [0u8; 4];
    let bytes = c.encode_utf8(&mut utf8).as_bytes();
    // Percent-encoded, either hex case, and percent-encoded twice (`%252F`).
    alts.push((
        3 * bytes.len(),
        bytes.iter().map(|b| format!("%{}", hex(*b))).collect(),
    ));
    alts.push((
        5 * bytes.len(),
        bytes.iter().map(|b| format!("%25{}", hex(*b))).collect(),
    ));
    // `\xHH` per byte (Rust's and C's byte-string escapes).
    alts.push((
        4 * bytes.len(),
        bytes.iter().map(|b| format!(r"\\x{}", hex(*b))).collect(),
    ));
    // JSON's `\uXXXX` (a surrogate pair beyond the BMP), and Rust's `\u{...}`.
    let mut units = [0u16; 2];
    let json: String = c
        .encode_utf16(&mut units)
        .iter()
        .map(|u| format!(r"\\u{}{}", hex((u >> 8) as u8), hex((u & 0xff) as u8)))
        .collect();
    alts.push((6 * c.len_utf16(), json));
    alts.push((5, format!(r"\\u\{{0*{}\}}", hex_digits(c as u32))));
    // HTML character references, decimal and hex.
    alts.push((5, format!("&#0*{};", c as u32)));
    alts.push((5, format!("&#[xX]0*{};", hex_digits(c as u32))));
    if let Some(named) = html_named(c) {
        alts.push((named.len(), regex_literal(named)));
    }
    // A backslash before punctuation (JSON's `\/` and `\"`, shell's `\$`, ...), and the short
    // escapes of control characters.
    if c.is_ascii_punctuation() {
        alts.push((2, format!(r"\\{}", literal(c))));
    }
    if let Some(short) = control_escape(c) {
        alts.push((2, format!(r"\\{short}")));
    }
    match c {
        // A space in a form body or query, and that `+` percent-encoded again by a server
        // that decoded only `%XX` before echoing.
        ' ' => {
            alts.push((1, literal('+')));
            alts.push((3, format!("%{}", hex(b'+'))));
            alts.push((5, format!("%25{}", hex(b'+'))));
        }
        // Inside a single-quoted shell word: `'\''`, or `'"'"'`.
        '\'' => {
            alts.push((4, regex_literal(r"'\''")));
            alts.push((5, regex_literal(r#"'"'"'"#)));
        }
        _ => {}
    }
    // UTF-8 read as latin-1: each byte became a character of its own.
    if !c.is_ascii() {
        alts.push((
            2 * bytes.len(),
            bytes.iter().map(|b| literal(char::from(*b))).collect(),
        ));
    }
    alts.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
    let mut out = String::from("(?:");
    for (_, a) in &alts {
        out.push_str(a);
        out.push('|');
    }
    out.push_str(&itself);
    out.push(')');
    out
}

/// `c` as a regex that matches exactly it.
fn literal(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!(r"\x{{{:X}}}", c as u32)
    }
}

fn regex_literal(s: &str) -> String {
    s.chars().map(literal).collect()
}

/// Two hex digits of `b`, matching either case.
fn hex(b: u8) -> String {
    let mut out = String::new();
    for d in format!("{b:02X}").chars() {
        push_hex_digit(&mut out, d);
    }
    out
}

/// The hex digits of `n` without leading zeros, matching either case.
fn hex_digits(n: u32) -> String {
    let mut out = String::new();
    for d in format!("{n:X}").chars() {
        push_hex_digit(&mut out, d);
    }
    out
}

fn push_hex_digit(out: &mut String, d: char) {
    if d.is_ascii_digit() {
        out.push(d);
    } else {
        let _ = write!(out, "[{d}{}]", d.to_ascii_lowercase());
    }
}

fn html_named(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        '"' => "&quot;",
        '\'' => "&apos;",
        _ => return None,
    })
}

fn control_escape(c: char) -> Option<char> {
    Some(match c {
        '\n' => 'n',
        '\r' => 'r',
        '\t' => 't',
        '\u{8}' => 'b',
        '\u{c}' => 'f',
        '\0' => '0',
        _ => return None,
    })
}

/// The value in base64 as it stands alone (standard and URL-safe alphabets, no padding, which
/// also finds the padded text), and, for a value that is not short, as it appears inside a
/// longer base64 text at each of the three byte offsets (`user:KEY` in a Basic auth header):
/// only the characters that depend on nothing but the value.
fn base64_forms(value: &[u8], short: bool) -> Vec<String> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut forms = vec![STANDARD_NO_PAD.encode(value)];
    if !short {
        for offset in 0..3usize {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value);
            let encoded = STANDARD_NO_PAD.encode(&bytes);
            let first = (offset * 8).div_ceil(6);
            let end = (offset + value.len()) * 8 / 6;
            if end > first {
                forms.push(encoded[first..end].to_owned());
            }
        }
    }
    let url_safe: Vec<String> = forms
        .iter()
        .map(|f| f.replace('+', "-").replace('/', "_"))
        .collect();
    forms.extend(url_safe);
    forms.sort();
    forms.dedup();
    // Longest first: where one form begins another, the longer one is masked whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_automata::meta::Regex;

    fn finds(value: &str, text: &str) -> Vec<String> {
        let re = Regex::new(&pattern(value, Kind::Secret)).unwrap();
        re.find_iter(text)
            .map(|m| text[m.range()].to_owned())
            .collect()
    }

    #[test]
    fn every_mix_of_percent_encodings_is_found() {
        let key = "sk_test_a/b+c d'e";
        for echo in [
            "sk_test_a/b+c d'e",
            "sk_test_a%2Fb%2Bc%20d%27e",
            "sk_test_a%2fb%2bc+d%27e",
            "sk_test_a/b+c%20d'e",
            "sk_test_a%2Fb+c+d'e",
            "sk%5Ftest%5Fa%252Fb%252Bc%2520d%2527e",
            // The space written as `+` by a form, and that `+` encoded again.
            "sk_test_a%2Fb%2Bc%2Bd%27e",
        ] {
            assert_eq!(finds(key, &format!("key={echo}&x=1")), [echo], "{echo}");
        }
    }

    #[test]
    fn json_shell_html_and_escape_forms_are_found() {
        let key = "sk_live_\"q\"/é'x\\y";
        for echo in [
            r#"sk_live_\"q\"\/é'x\\y"#,
            r"sk_live_\u0022q\u0022\u002Fé\u0027x\u005cy",
            r"sk_live_\u0022q\u0022/\u00e9'x\\y",
            r#"sk_live_"q"/é'\''x\y"#,
            r#"sk_live_&quot;q&#34;&#x2f;&#233;&#39;x\y"#,
            r#"sk_live_\x22q\x22/\xC3\xA9'x\\y"#,
            r#"sk_live_"q"/Ã©'x\y"#,
        ] {
            assert_eq!(finds(key, &format!("echo: {echo} end")), [echo], "{echo}");
        }
    }

    #[test]
    fn base64_is_found_alone_and_inside_longer_base64() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let key = "sk_test_51Hb>?x~~~zzzz1234";
        let texts = [
            STANDARD.encode(key),
            URL_SAFE.encode(key),
            STANDARD.encode(format!("{key}:")),
            STANDARD.encode(format!("u:{key}")),
            STANDARD.encode(format!("us:{key}")),
            STANDARD.encode(format!("{{\"key\":\"{key}\",\"n\":1}}")),
        ];
        for text in texts {
            let found = finds(key, &format!("Basic {text}"));
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            // What is left around the match cannot be decoded back to the key.
            assert!(found[0].len() + 4 >= key.len() * 4 / 3, "{text}: {found:?}");
        }
    }

    #[test]
    fn a_long_secret_is_found_cut_short() {
        let key = "sk_test_SENTINEL0secret0value0ZZZ9";
        assert_eq!(finds(key, "Invalid key sk_test_SENT..."), ["sk_test_SENT"]);
        assert_eq!(
            finds(key, "Invalid key sk_test_SENTINEL0se"),
            ["sk_test_SENTINEL0se"]
        );
        assert!(finds(key, "Invalid key sk_test_SEN").is_empty());
        // Its end alone, as left by an echo whose middle was re-encoded beyond recognition.
        assert_eq!(finds(key, "...ecret0value0ZZZ9"), ["ecret0value0ZZZ9"]);
        assert!(finds(key, "...0value0ZZZ9").is_empty());
    }

    #[test]
    fn short_secrets_are_found_only_as_whole_tokens() {
        assert_eq!(
            finds("1234", "order-1234 and 12345 and x1234 and 1234"),
            ["1234", "1234"]
        );
        assert!(finds("u", "request url https://127.0.0.1/ok").is_empty());
        assert_eq!(finds("p", "user u, pass p."), ["p"]);
        // Its base64 is a whole token too: Basic auth of `u:p`.
        assert_eq!(finds("u:p", "Basic dTpw, not xdTpw"), ["dTpw"]);
    }
}

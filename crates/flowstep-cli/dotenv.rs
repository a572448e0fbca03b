//! `.env` files, read literally: `NAME=value` lines, where a value is never expanded (`$VAR`
//! and `${VAR}` are text), so a secret is exactly what the file says. The rules are in
//! docs/security.md ("`.env` files").

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The settings of one `.env` file, with the line each came from.
#[derive(Debug, Default)]
pub struct DotEnv {
    values: BTreeMap<String, (String, usize)>,
}

/// A line that does not follow the rules: the file, the line number and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotEnvError {
    pub path: PathBuf,
    pub line: usize,
    pub problem: String,
}

impl fmt::Display for DotEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            // A file that could not be read has no line to point at.
            0 => write!(f, "{}: {}", self.path.display(), self.problem),
            line => write!(f, "{}:{line}: {}", self.path.display(), self.problem),
        }
    }
}

impl std::error::Error for DotEnvError {}

impl DotEnv {
    /// Reads `path`: `Ok(None)` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<DotEnv>, DotEnvError> {
        let bytes = match crate::files::read_bytes(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(DotEnvError {
                    path: path.to_owned(),
                    line: 0,
                    problem: format!("cannot read the file: {e}"),
                });
            }
        };
        // Text that is not UTF-8 is reported at its line, without showing the line (it may
        // hold a secret).
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            DotEnvError {
                path: path.to_owned(),
                line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
                problem: "the line is not UTF-8 text (save the file as UTF-8)".to_owned(),
            }
        })?;
        parse(&text)
            .map(Some)
            .map_err(|(line, problem)| DotEnvError {
                path: path.to_owned(),
                line,
                problem,
            })
    }

    /// The value of `name` and its line number.
    pub fn get(&self, name: &str) -> Option<(&str, usize)> {
        self.values.get(name).map(|(v, l)| (v.as_str(), *l))
    }
}

/// Parses the text of a `.env` file; an error is (line number, problem).
fn parse(text: &str) -> Result<DotEnv, (usize, String)> {
    let mut env = DotEnv::default();
    // Windows editors may start the file with a byte-order mark; it is not part of the name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        // A malformed line is described, never quoted: it may be a key pasted without its name
        // (`sk_live_...`) or with a typo in place of `=` (`K-sk_live_...`).
        let Some((name, rest)) = line.split_once('=') else {
            return Err((
                n,
                "expected NAME=value, and this line has no `=` (its text is not shown, since it \
                 may hold a secret)"
                    .to_owned(),
            ));
        };
        let name = name.trim_end();
        if let Some(why) = not_a_name(name) {
            return Err((
                n,
                format!(
                    "the text before `=` is not a variable name: {why} (names are letters, digits and `_`, not starting with a digit)"
                ),
            ));
        }
        let value = value(rest.trim_start()).map_err(|p| (n, format!("{name}: {p}")))?;
        if let Some((_, first)) = env.values.get(name) {
            return Err((n, format!("{name} is already set on line {first}")));
        }
        env.values.insert(name.to_owned(), (value, n));
    }
    Ok(env)
}

/// Why `name` is not a variable name, naming one character at most (the text may be a key
/// typed where the name should be), or `None` when it is one.
fn not_a_name(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Some("it is empty".to_owned()),
        Some(c) if c.is_ascii_digit() => return Some("it starts with a digit".to_owned()),
        _ => {}
    }
    name.chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, c)| format!("character {} is {c:?}", i + 1))
}

/// One value: `'literal'`, `"with \" escapes"`, or unquoted up to a ` #` comment.
fn value(rest: &str) -> Result<String, String> {
    let (value, after) = match rest.chars().next() {
        Some('\'') => {
            let body = &rest[1..];
            let end = body
                .find('\'')
                .ok_or("the single quote is not closed on this line (values are one line)")?;
            (body[..end].to_owned(), &body[end + 1..])
        }
        Some('"') => double_quoted(&rest[1..])?,
        _ => {
            // An unquoted value ends at a `#` that follows white space (a comment).
            let end = rest
                .char_indices()
                .find(|&(i, c)| c == '#' && rest[..i].ends_with(char::is_whitespace))
                .map_or(rest.len(), |(i, _)| i);
            let v = rest[..end].trim_end();
            if v.contains(['"', '\'']) {
                return Err(
                    "a quote inside an unquoted value; quote the whole value ('...' is taken literally)"
                        .to_owned(),
                );
            }
            return Ok(v.to_owned());
        }
    };
    let after = after.trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err("text after the closing quote; put a comment after ` #`".to_owned());
    }
    Ok(value)
}

/// The inside of a double-quoted value, and what follows its closing quote.
fn double_quoted(body: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('$') => out.push('$'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => {
                    return Err(format!(
                        "unknown escape `\\{other}` in a double-quoted value (known: \\\\ \\\" \\$ \\n \\r \\t); use single quotes for a literal value"
                    ));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("the double quote is not closed on this line (values are one line)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str, name: &str) -> String {
        parse(text).unwrap().get(name).unwrap().0.to_owned()
    }

    #[test]
    fn text_that_is_not_utf8_is_reported_at_its_line_without_showing_it() {
        let dir = std::env::temp_dir().join(format!("flowstep-dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, b"A=1\n# fine\nKEY=sk_test_\xff\xfesecret\n").unwrap();
        let e = DotEnv::read(&path).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:3: the line is not UTF-8 text (save the file as UTF-8)",
                path.display()
            )
        );
    }

    #[test]
    fn values_are_literal_and_never_expanded() {
        let text = "# keys\nK=\"pa$$word-${PATH}\"\nL=pa$$word-$HOME\nM='it is ${x} \\n'\nexport N = \"a\\\"b\\\\c\\$d\\n\"\nO=sk_test_a#b  # comment\nP=\n";
        assert_eq!(get(text, "K"), "pa$$word-${PATH}");
        assert_eq!(get(text, "L"), "pa$$word-$HOME");
        assert_eq!(get(text, "M"), "it is ${x} \\n");
        assert_eq!(get(text, "N"), "a\"b\\c$d\n");
        assert_eq!(get(text, "O"), "sk_test_a#b");
        assert_eq!(get(text, "P"), "");
        assert_eq!(parse(text).unwrap().get("O").unwrap().1, 6);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        assert_eq!(get("\u{feff}K=v\n", "K"), "v");
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        let cases = [
            (
                "A=1\njust text\n",
                2,
                "expected NAME=value, and this line has no `=` (its text is not shown, since it may hold a secret)",
            ),
            (
                "K-sk_test_SENTINEL1234567890abcd=1\n",
                1,
                "the text before `=` is not a variable name: character 2 is '-' (names are letters, digits and `_`, not starting with a digit)",
            ),
            (
                "A=1\n\n1A=x\n",
                3,
                "the text before `=` is not a variable name: it starts with a digit (names are letters, digits and `_`, not starting with a digit)",
            ),
            (
                "K='abc\n",
                1,
                "K: the single quote is not closed on this line (values are one line)",
            ),
            (
                "K=\"abc\n",
                1,
                "K: the double quote is not closed on this line (values are one line)",
            ),
            (
                "K=\"a\\qb\"\n",
                1,
                "K: unknown escape `\\q` in a double-quoted value (known: \\\\ \\\" \\$ \\n \\r \\t); use single quotes for a literal value",
            ),
            (
                "K='a' b\n",
                1,
                "K: text after the closing quote; put a comment after ` #`",
            ),
            (
                "K=a'b\n",
                1,
                "K: a quote inside an unquoted value; quote the whole value ('...' is taken literally)",
            ),
            ("K=1\nK=2\n", 2, "K is already set on line 1"),
        ];
        for (text, line, problem) in cases {
            assert_eq!(
                parse(text).err(),
                Some((line, problem.to_owned())),
                "{text:?}"
            );
        }
    }
}

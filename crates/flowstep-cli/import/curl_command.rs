//! A `curl` command line read the way curl reads it: its options that shape the request
//! (method, URL, headers, credentials, data), with the ones that only change what curl prints
//! set aside, and every other option refused by name.

use anyhow::{Context, bail};

/// One piece of request data, in the order given: curl joins them with `&`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// `-d`, `--data-raw`, `--data-binary`, `--data-ascii`, `--json`: sent as written.
    Raw(String),
    /// `--data-urlencode`: `content`, `=content` or `name=content`, with the content
    /// percent-encoded by curl.
    UrlEncoded {
        /// The name before `=`, if any.
        name: Option<String>,
        /// The content, before encoding.
        content: String,
    },
}

/// What a curl command asks to send.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CurlCommand {
    /// `-X`/`--request`.
    pub method: Option<String>,
    /// `-I`/`--head`.
    pub head: bool,
    /// `-G`/`--get`: the data goes into the query string.
    pub get: bool,
    /// The URL (positional or `--url`).
    pub url: String,
    /// `-H`, `-A`, `-e`, `-b` in order, as (name, value).
    pub headers: Vec<(String, String)>,
    /// `-u USER:PASSWORD`.
    pub user: Option<String>,
    /// `--oauth2-bearer TOKEN`.
    pub bearer: Option<String>,
    /// `-d` and friends.
    pub data: Vec<Data>,
    /// `--json` was used (JSON content type and accept).
    pub json: bool,
    /// `-m`/`--max-time` in seconds, as written.
    pub max_time: Option<String>,
    /// `--connect-timeout` in seconds, as written.
    pub connect_timeout: Option<String>,
    /// Options read and left out on purpose, for a note.
    pub ignored: Vec<String>,
}

/// Options that change only what curl prints or how it treats the response, never the
/// request; the http step has its own answer for each.
const IGNORED_FLAGS: &[(&str, &str)] = &[
    ("-s", "--silent"),
    ("-S", "--show-error"),
    ("-v", "--verbose"),
    ("-i", "--include"),
    ("-f", "--fail"),
    ("", "--fail-with-body"),
    ("-L", "--location"),
    ("", "--compressed"),
    ("-g", "--globoff"),
    ("-N", "--no-buffer"),
    ("-#", "--progress-bar"),
    ("", "--http1.1"),
    ("", "--http2"),
    ("", "--no-progress-meter"),
];

/// Ignored options that take a value.
const IGNORED_WITH_VALUE: &[(&str, &str)] = &[("-o", "--output"), ("-w", "--write-out")];

/// Options that take a value and shape the request.
const WITH_VALUE: &[(&str, &str)] = &[
    ("-X", "--request"),
    ("-H", "--header"),
    ("-d", "--data"),
    ("", "--data-raw"),
    ("", "--data-binary"),
    ("", "--data-ascii"),
    ("", "--data-urlencode"),
    ("", "--json"),
    ("-u", "--user"),
    ("", "--url"),
    ("-A", "--user-agent"),
    ("-e", "--referer"),
    ("-b", "--cookie"),
    ("", "--oauth2-bearer"),
    ("-m", "--max-time"),
    ("", "--connect-timeout"),
];

/// Options flowstep cannot express (yet), with why, so the error can say it.
const UNSUPPORTED: &[(&str, &str, &str)] = &[
    (
        "-F",
        "--form",
        "sends multipart/form-data, which the http step does not send; for a urlencoded form use -d name=value",
    ),
    (
        "",
        "--form-string",
        "sends multipart/form-data, which the http step does not send; for a urlencoded form use -d name=value",
    ),
    (
        "-T",
        "--upload-file",
        "uploads a file, which the http step does not send",
    ),
    (
        "-k",
        "--insecure",
        "turns off certificate checks, which the http step does not offer",
    ),
    (
        "-x",
        "--proxy",
        "sets a proxy, which the http step does not take",
    ),
    (
        "-E",
        "--cert",
        "sends a client certificate, which the http step does not take",
    ),
    (
        "",
        "--cacert",
        "trusts another CA bundle, which the http step does not take",
    ),
    (
        "",
        "--digest",
        "uses Digest auth, which the http step does not offer",
    ),
    (
        "",
        "--ntlm",
        "uses NTLM auth, which the http step does not offer",
    ),
    (
        "",
        "--negotiate",
        "uses SPNEGO auth, which the http step does not offer",
    ),
    (
        "-K",
        "--config",
        "reads more options from a file that import cannot see",
    ),
];

/// Splits a command line the way a POSIX shell does (quotes, backslashes, line continuations).
pub fn split(command: &str) -> anyhow::Result<Vec<String>> {
    shlex::split(&join_lines(command)).context(
        "the curl command could not be split into words: a quote is not closed or it ends in a \
         backslash (`$'...'` quoting is not read; use '...' or \"...\")",
    )
}

/// Line continuations (a backslash before a line break) joined as a shell joins them: between
/// words they separate, inside double quotes they vanish,
/// inside single quotes they stay. (The splitter would make an empty word of one between
/// words.)
fn join_lines(command: &str) -> String {
    let mut out = String::with_capacity(command.len());
    let (mut single, mut double) = (false, false);
    let command = command.replace("\r\n", "\n");
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '\\' if !single => {
                match chars.peek() {
                    Some('\n') => {
                        chars.next();
                        if !double {
                            out.push(' ');
                        }
                    }
                    Some(&next) => {
                        chars.next();
                        out.push('\\');
                        out.push(next);
                    }
                    None => out.push('\\'),
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Reads a curl command's words (the first may be `curl`).
pub fn parse(words: &[String]) -> anyhow::Result<CurlCommand> {
    let mut words = words.iter().map(String::as_str).peekable();
    if words
        .peek()
        .is_some_and(|w| *w == "curl" || w.ends_with("/curl"))
    {
        words.next();
    } else if let Some(first) = words.peek()
        && !first.starts_with('-')
        && !first.contains("://")
    {
        bail!("import reads a curl command, and this one starts with `{first}`, not `curl`");
    }
    let mut cmd = CurlCommand::default();
    let mut urls: Vec<String> = Vec::new();
    let mut only_positional = false;
    while let Some(word) = words.next() {
        if only_positional || !word.starts_with('-') || word == "-" {
            urls.push(word.to_owned());
            continue;
        }
        if word == "--" {
            only_positional = true;
            continue;
        }
        // Short options may be bundled (`-sSL`), and the last may carry its value (`-XPOST`).
        let options: Vec<(String, Option<String>)> = if word.starts_with("--") {
            vec![(word.to_owned(), None)]
        } else {
            let mut out = Vec::new();
            let chars: Vec<char> = word[1..].chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let short = format!("-{}", chars[i]);
                let takes_value = WITH_VALUE
                    .iter()
                    .chain(IGNORED_WITH_VALUE)
                    .any(|(s, _)| *s == short);
                if takes_value && i + 1 < chars.len() {
                    out.push((short, Some(chars[i + 1..].iter().collect())));
                    break;
                }
                out.push((short, None));
                i += 1;
            }
            out
        };
        for (name, glued) in options {
            let long = long_name(&name)?;
            let mut value = |what: &str| -> anyhow::Result<String> {
                match &glued {
                    Some(v) => Ok(v.clone()),
                    None => words
                        .next()
                        .map(str::to_owned)
                        .with_context(|| format!("curl option `{name}` needs {what} after it")),
                }
            };
            if let Some((_, _)) = IGNORED_WITH_VALUE.iter().find(|(_, l)| *l == long) {
                value("a value")?;
                cmd.ignored.push(name.clone());
                continue;
            }
            if IGNORED_FLAGS.iter().any(|(_, l)| *l == long) {
                cmd.ignored.push(name.clone());
                continue;
            }
            match long {
                "--request" => cmd.method = Some(value("a method")?.to_ascii_uppercase()),
                "--head" => cmd.head = true,
                "--get" => cmd.get = true,
                "--url" => urls.push(value("a URL")?),
                "--header" => {
                    let h = value("a header")?;
                    cmd.headers.push(header(&h)?);
                }
                "--user-agent" => cmd.headers.push(("User-Agent".into(), value("a value")?)),
                "--referer" => cmd.headers.push(("Referer".into(), value("a URL")?)),
                "--cookie" => {
                    let c = value("cookies")?;
                    if !c.contains('=') {
                        bail!(
                            "curl option `{name} {c}` reads cookies from a file, which import \
                             cannot see; give them as `-b 'name=value'`"
                        );
                    }
                    cmd.headers.push(("Cookie".into(), c));
                }
                "--user" | "--oauth2-bearer" => {
                    let v = value("a credential")?;
                    let slot = match long {
                        "--user" => &mut cmd.user,
                        _ => &mut cmd.bearer,
                    };
                    if slot.replace(v).is_some() {
                        bail!("curl option `{name}` is given twice; keep one credential");
                    }
                }
                "--data" | "--data-binary" | "--data-ascii" | "--json" => {
                    let d = value("data")?;
                    if let Some(file) = d.strip_prefix('@') {
                        bail!(
                            "curl option `{name} @{file}` reads the data from a file, which \
                             import cannot see; paste the data itself (or use --data-raw)"
                        );
                    }
                    if long == "--json" {
                        cmd.json = true;
                    }
                    cmd.data.push(Data::Raw(d));
                }
                "--data-raw" => cmd.data.push(Data::Raw(value("data")?)),
                "--data-urlencode" => {
                    let d = value("data")?;
                    cmd.data.push(url_encoded(&name, &d)?);
                }
                "--max-time" => cmd.max_time = Some(value("seconds")?),
                "--connect-timeout" => cmd.connect_timeout = Some(value("seconds")?),
                _ => unreachable!("every known option is handled"),
            }
        }
    }
    match urls.as_slice() {
        [url] => cmd.url = url.clone(),
        [] => bail!("the curl command has no URL"),
        // The second is shown only when it is a URL: a stray word may be a credential.
        [_, second, ..] if second.contains("://") => bail!(
            "the curl command has more than one URL (the second is `{second}`); import makes \
             one step from one request"
        ),
        [_, ..] => bail!(
            "the curl command has a word that is neither an option nor its value after the URL \
             (not shown: it may hold a credential); import reads `curl [OPTIONS] URL`"
        ),
    }
    Ok(cmd)
}

/// The long name of a known option, or an error that says why it is not taken.
fn long_name(name: &str) -> anyhow::Result<&'static str> {
    let all = WITH_VALUE
        .iter()
        .chain(IGNORED_WITH_VALUE)
        .chain(IGNORED_FLAGS)
        .chain(&[("-G", "--get"), ("-I", "--head")]);
    for (short, long) in all {
        if name == *short || name == *long {
            return Ok(long);
        }
    }
    if let Some((_, _, why)) = UNSUPPORTED
        .iter()
        .find(|(s, l, _)| name == *s || name == *l)
    {
        bail!("curl option `{name}` is not carried over: it {why}");
    }
    // Only the option's name: a value glued to it (`--opt=VALUE`) may be a credential.
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    bail!(
        "curl option `{name}` is not one import reads; it takes -X, -H, -d, --data-raw, \
         --data-binary, --data-urlencode, --json, -u, -G, -I, --url, -A, -e, -b, \
         --oauth2-bearer, -m and --connect-timeout (and ignores output options like -s, -v, -L)"
    )
}

/// `Name: value` from `-H`.
fn header(h: &str) -> anyhow::Result<(String, String)> {
    let Some((name, value)) = h.split_once(':') else {
        // The text itself is not shown: it is most often a credential missing its colon
        // (`Authorization Bearer sk_...`).
        let words = h.split_whitespace().count();
        bail!(
            "a `-H` value ({words} word(s), not shown: it may hold a credential) is not a \
             header, having no `:` after its name: write `Name: value` (curl's `Name;` for an \
             empty header is not read)"
        );
    };
    let (name, value) = (name.trim(), value.trim());
    if value.is_empty() {
        bail!(
            "`-H '{h}'` removes curl's own `{name}` header; the http step has no such header \
             to remove, so leave it out"
        );
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// `--data-urlencode`'s forms: `content`, `=content`, `name=content`; `@file` and
/// `name@file` read a file.
fn url_encoded(option: &str, d: &str) -> anyhow::Result<Data> {
    let at = d.find('@');
    let eq = d.find('=');
    if let Some(at) = at
        && eq.is_none_or(|eq| at < eq)
    {
        bail!(
            "curl option `{option} {d}` reads the data from the file `{}`, which import \
             cannot see; paste the data itself",
            &d[at + 1..]
        );
    }
    Ok(match d.split_once('=') {
        Some(("", content)) => Data::UrlEncoded {
            name: None,
            content: content.to_owned(),
        },
        Some((name, content)) => Data::UrlEncoded {
            name: Some(name.to_owned()),
            content: content.to_owned(),
        },
        None => Data::UrlEncoded {
            name: None,
            content: d.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> anyhow::Result<CurlCommand> {
        parse(&split(line)?)
    }

    #[test]
    fn quoting_bundled_flags_and_glued_values() {
        let c = read(
            "curl -sSL -XPOST 'https://x.example/a?b=1' \\\n  -H 'X-Note: it'\\''s' \
             -d \"a=1\" --data-urlencode 'q=a b&c' --url-ignored-not",
        );
        assert_eq!(
            c.unwrap_err().to_string(),
            "curl option `--url-ignored-not` is not one import reads; it takes -X, -H, -d, \
             --data-raw, --data-binary, --data-urlencode, --json, -u, -G, -I, --url, -A, -e, \
             -b, --oauth2-bearer, -m and --connect-timeout (and ignores output options like \
             -s, -v, -L)"
        );
        let c = read(
            "curl -sSL -XPOST 'https://x.example/a?b=1' \\\n  -H 'X-Note: it'\\''s' \
             -d \"a=1\" --data-urlencode 'q=a b&c'",
        )
        .unwrap();
        assert_eq!(c.method.as_deref(), Some("POST"));
        assert_eq!(c.url, "https://x.example/a?b=1");
        assert_eq!(c.headers, vec![("X-Note".into(), "it's".into())]);
        assert_eq!(
            c.data,
            vec![
                Data::Raw("a=1".into()),
                Data::UrlEncoded {
                    name: Some("q".into()),
                    content: "a b&c".into()
                }
            ]
        );
        assert_eq!(c.ignored, vec!["-s", "-S", "-L"]);
    }

    #[test]
    fn unsupported_options_say_why() {
        for (line, message) in [
            (
                "curl -F a=b https://x.example",
                "curl option `-F` is not carried over: it sends multipart/form-data, which the \
                 http step does not send; for a urlencoded form use -d name=value",
            ),
            (
                "curl -d @body.json https://x.example",
                "curl option `-d @body.json` reads the data from a file, which import cannot \
                 see; paste the data itself (or use --data-raw)",
            ),
            (
                "curl --data-urlencode name@f.txt https://x.example",
                "curl option `--data-urlencode name@f.txt` reads the data from the file \
                 `f.txt`, which import cannot see; paste the data itself",
            ),
            ("curl -X", "curl option `-X` needs a method after it"),
            ("curl -s", "the curl command has no URL"),
            (
                "curl https://a.example https://b.example",
                "the curl command has more than one URL (the second is `https://b.example`); \
                 import makes one step from one request",
            ),
            (
                "curl 'https://a.example",
                "the curl command could not be split into words: a quote is not closed or it \
                 ends in a backslash (`$'...'` quoting is not read; use '...' or \"...\")",
            ),
            (
                "curl -H 'Accept:' https://a.example",
                "`-H 'Accept:'` removes curl's own `Accept` header; the http step has no such \
                 header to remove, so leave it out",
            ),
        ] {
            assert_eq!(read(line).unwrap_err().to_string(), message, "{line}");
        }
    }
}

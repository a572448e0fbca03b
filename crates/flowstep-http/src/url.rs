//! URL templating: a value substituted into the path is one encoded path segment, a value in
//! the query or fragment is one encoded component, a value in the host or port must be a host
//! name part or a port number, and a whole-URL `<<expr>>` at the start is used as written.
//!
//! This is what keeps `/v1/checkout/sessions/<<session_id>>` pointing at one session whatever
//! the customer typed: `../x`, `a/b`, `?expand=x` or `#` in the value stay inside the segment;
//! and what keeps `https://<<shop>>.myshopify.com` on myshopify.com: a `shop` holding
//! `evil.example:8080/x?` is refused before anything is sent.

use flowstep_spec::Origin;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;

/// Encoded inside a value substituted into the path: the WHATWG path-segment set (controls,
/// space, double quote, `#<>?{}`, backtick, `/` and `%`), plus `\` (a `/` to URL parsers for http), `;` (a path
/// parameter to some servers) and `[]^|`. RFC 3986 allows the other sub-delimiters (`=`, `&`,
/// `+`, `:`, `@`) in a segment, where they delimit nothing, so they stay readable.
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%')
    .add(b'\\')
    .add(b';')
    .add(b'[')
    .add(b']')
    .add(b'^')
    .add(b'|');

/// Everything but RFC 3986 "unreserved" characters is encoded inside a value substituted into
/// the query or fragment, so it can never act as a delimiter there (`&`, `=`, `+`, `#`, `%`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Which part of the URL the text written so far ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Nothing but expressions yet: the value starts the URL (a whole or base URL, or the
    /// scheme when `://` follows it).
    Start,
    /// After `://`: the host (or a user name before `@`).
    Host,
    /// After `host:`.
    Port,
    Path,
    Query,
    Fragment,
}

fn part_of(text: &str) -> Part {
    let after_scheme = match text.find("://") {
        Some(i) => i + 3,
        None if text.is_empty() => return Part::Start,
        // Literal text without `://` yet is the scheme: a value there gets the host's check.
        None => return Part::Host,
    };
    let rest = &text[after_scheme..];
    match rest.find(['/', '?', '#']) {
        None => {
            let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            if host_port.contains(':') {
                Part::Port
            } else {
                Part::Host
            }
        }
        Some(i) => {
            let tail = &rest[i..];
            if tail.contains('#') {
                Part::Fragment
            } else if tail.contains('?') {
                Part::Query
            } else {
                Part::Path
            }
        }
    }
}

/// Why `value`, rendered into the host (`port: false`) or the port, would change more than
/// the part it stands in; `None` when it is fine. The value itself is never echoed.
fn authority_problem(value: &str, port: bool) -> Option<String> {
    let (part, allowed) = if port {
        ("port", "only digits")
    } else {
        ("host", "only letters, digits, `-`, `_` and `.`")
    };
    if value.is_empty() {
        return Some(format!("renders to an empty string in the URL's {part}"));
    }
    let fits = |c: char| {
        if port {
            c.is_ascii_digit()
        } else {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
        }
    };
    let bad = value.chars().find(|c| !fits(*c))?;
    let what = match bad {
        ' ' => "a space".to_owned(),
        c if c.is_whitespace() || c.is_control() => "a line break or control character".to_owned(),
        c if !c.is_ascii() => {
            "a non-ASCII character (write international names in their `xn--` form)".to_owned()
        }
        c => format!("`{c}`"),
    };
    Some(format!(
        "renders into the URL's {part}, where {allowed} may stand, and the value holds {what}; \
         it could send the request to another host"
    ))
}

/// Builds the URL from rendered template pieces (`(is_expression, text)`), encoding what
/// expressions produced according to where they stand. `name_of(i)` names expression piece `i`
/// for messages (its source, like `<<session_id>>`). Values are never echoed in errors: they
/// may be anything a customer typed.
pub fn build_url(
    pieces: &[(bool, String)],
    name_of: impl Fn(usize) -> String,
) -> Result<Url, String> {
    let mut out = String::new();
    // Byte ranges of `out` that hold a substituted path value, to check the segments they
    // end up in.
    let mut path_values: Vec<(usize, usize, usize)> = Vec::new();
    for (i, (is_expr, text)) in pieces.iter().enumerate() {
        if !is_expr {
            out.push_str(text);
            continue;
        }
        match part_of(&out) {
            // A value followed by `://` is the scheme; any other value at the start is the URL
            // (or its base: `<<base>>:8443/v1`) by the author's choice, checked as a whole below.
            Part::Start => {
                let is_scheme = pieces
                    .get(i + 1)
                    .is_some_and(|(is_expr, t)| !is_expr && t.starts_with("://"));
                if is_scheme && !matches!(text.to_ascii_lowercase().as_str(), "http" | "https") {
                    return Err(format!(
                        "{} renders into the URL's scheme, which must be `http` or `https`",
                        name_of(i)
                    ));
                }
                out.push_str(text);
            }
            part @ (Part::Host | Part::Port) => {
                if let Some(problem) = authority_problem(text, part == Part::Port) {
                    return Err(format!("{} {problem}", name_of(i)));
                }
                out.push_str(text);
            }
            Part::Path => {
                let start = out.len();
                out.extend(utf8_percent_encode(text, PATH_VALUE));
                path_values.push((i, start, out.len()));
            }
            Part::Query | Part::Fragment => out.extend(utf8_percent_encode(text, COMPONENT)),
        }
    }
    // A value that is a whole segment must not be empty, `.` or `..`: URL parsers drop or
    // resolve those (`%2E%2E` included), which would silently call another endpoint
    // (`/v1/customers/` lists every customer instead of reading one).
    for &(i, start, end) in &path_values {
        let seg_start = out[..start].rfind('/').map_or(0, |p| p + 1);
        let seg_end = out[end..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |p| end + p);
        let segment = &out[seg_start..seg_end];
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if matches!(decoded.as_ref(), "" | "." | "..") {
            let what = if decoded.is_empty() {
                "an empty string".to_owned()
            } else {
                format!("`{decoded}`")
            };
            return Err(format!(
                "{} renders to {what} in the URL path, which would change which endpoint is called",
                name_of(i)
            ));
        }
    }
    let url = Url::parse(&out).map_err(|e| {
        if pieces.iter().any(|(is_expr, _)| *is_expr) {
            format!("the rendered URL is not a valid absolute URL ({e})")
        } else {
            format!("`{out}` is not a valid absolute URL ({e})")
        }
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL must start with http:// or https://, not `{}:`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    Ok(url)
}

/// The host a request goes to, lower case, for secret bindings.
pub fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

/// Scheme, host and port: what secret bindings and redirect rules compare. (Only http and
/// https URLs are ever built, so there is always a port.)
pub fn origin_of(url: &Url) -> Origin {
    Origin::new(
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default(),
    )
}

/// `text` encoded the ways [`build_url`] encodes substituted values: as a query component and
/// as a path segment.
pub fn encodings(text: &str) -> [String; 2] {
    [
        utf8_percent_encode(text, COMPONENT).to_string(),
        utf8_percent_encode(text, PATH_VALUE).to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(pieces: &[(bool, &str)]) -> Result<String, String> {
        let owned: Vec<(bool, String)> =
            pieces.iter().map(|(e, t)| (*e, (*t).to_owned())).collect();
        build_url(&owned, |i| format!("piece {i}")).map(|u| u.to_string())
    }

    #[test]
    fn path_values_are_one_segment() {
        let base = "https://api.stripe.com/v1/checkout/sessions/";
        assert_eq!(
            url(&[(false, base), (true, "cs_test_123")]).unwrap(),
            "https://api.stripe.com/v1/checkout/sessions/cs_test_123"
        );
        assert_eq!(
            url(&[(false, base), (true, "../x")]).unwrap(),
            "https://api.stripe.com/v1/checkout/sessions/..%2Fx"
        );
        assert_eq!(
            url(&[(false, base), (true, "a/b?expand[]=x#f")]).unwrap(),
            "https://api.stripe.com/v1/checkout/sessions/a%2Fb%3Fexpand%5B%5D=x%23f"
        );
        assert_eq!(
            url(&[(false, base), (true, "a b%2F"), (false, "/expire")]).unwrap(),
            "https://api.stripe.com/v1/checkout/sessions/a%20b%252F/expire"
        );
        assert_eq!(
            url(&[(false, base), (true, r"..\x;y=1&z")]).unwrap(),
            "https://api.stripe.com/v1/checkout/sessions/..%5Cx%3By=1&z"
        );
    }

    #[test]
    fn dot_and_empty_segments_are_refused() {
        let base = "https://api.stripe.com/v1/customers/";
        for v in ["..", ".", ""] {
            let e = url(&[(false, base), (true, v)]).unwrap_err();
            assert!(e.contains("piece 1 renders to"), "{e}");
        }
        // Inside a longer segment they are harmless.
        assert_eq!(
            url(&[(false, base), (true, ".."), (false, ".json")]).unwrap(),
            "https://api.stripe.com/v1/customers/...json"
        );
    }

    #[test]
    fn whole_url_and_host_values_are_used_as_written() {
        assert_eq!(
            url(&[(true, "https://api.example.com/v2/x?y=1")]).unwrap(),
            "https://api.example.com/v2/x?y=1"
        );
        assert_eq!(
            url(&[
                (true, "https://api.example.com"),
                (false, "/v1/"),
                (true, "a/b")
            ])
            .unwrap(),
            "https://api.example.com/v1/a%2Fb"
        );
        assert_eq!(
            url(&[
                (false, "https://"),
                (true, "eu"),
                (false, ".api.example.com/x")
            ])
            .unwrap(),
            "https://eu.api.example.com/x"
        );
    }

    #[test]
    fn host_and_port_values_cannot_move_the_request_elsewhere() {
        let shop = |v: &str| {
            url(&[
                (false, "http://"),
                (true, v),
                (false, ".myshopify.example/admin/orders.json"),
            ])
        };
        assert_eq!(
            shop("tea-house").unwrap(),
            "http://tea-house.myshopify.example/admin/orders.json"
        );
        assert_eq!(
            shop("127.0.0.1:18091/ok?").unwrap_err(),
            "piece 1 renders into the URL's host, where only letters, digits, `-`, `_` and `.` \
             may stand, and the value holds `:`; it could send the request to another host"
        );
        for (value, holds) in [
            ("evil.example/x", "`/`"),
            ("evil.example?", "`?`"),
            ("evil.example#", "`#`"),
            ("user@evil.example", "`@`"),
            ("a b", "a space"),
            ("a\nb", "a line break or control character"),
            ("café", "a non-ASCII character"),
            ("a%2F", "`%`"),
            ("a\\b", "`\\`"),
        ] {
            let e = shop(value).unwrap_err();
            assert!(
                e.contains(&format!("the value holds {holds}")),
                "{value:?}: {e}"
            );
        }
        assert_eq!(
            shop("").unwrap_err(),
            "piece 1 renders to an empty string in the URL's host"
        );
        let port = |v: &str| url(&[(false, "http://api.example.com:"), (true, v), (false, "/x")]);
        assert_eq!(port("8443").unwrap(), "http://api.example.com:8443/x");
        assert_eq!(
            port("80@evil.example").unwrap_err(),
            "piece 1 renders into the URL's port, where only digits may stand, and the value \
             holds `@`; it could send the request to another host"
        );
        let scheme = |v: &str| url(&[(true, v), (false, "://api.example.com/x")]);
        assert_eq!(scheme("HTTP").unwrap(), "http://api.example.com/x");
        assert_eq!(
            url(&[(true, "https://api.example.com"), (false, ":8443/v1")]).unwrap(),
            "https://api.example.com:8443/v1"
        );
        assert_eq!(
            scheme("http://evil.example/?").unwrap_err(),
            "piece 0 renders into the URL's scheme, which must be `http` or `https`"
        );
    }

    #[test]
    fn query_values_are_one_component() {
        assert_eq!(
            url(&[(false, "https://a.example/s?q="), (true, "x&admin=1#y")]).unwrap(),
            "https://a.example/s?q=x%26admin%3D1%23y"
        );
    }

    #[test]
    fn bad_urls_say_why() {
        assert!(
            url(&[(false, "api.stripe.com/v1")])
                .unwrap_err()
                .contains("not a valid absolute URL")
        );
        assert!(
            url(&[(false, "ftp://x.example/")])
                .unwrap_err()
                .contains("http:// or https://")
        );
        assert!(
            url(&[(true, "")])
                .unwrap_err()
                .contains("rendered URL is not a valid")
        );
    }
}

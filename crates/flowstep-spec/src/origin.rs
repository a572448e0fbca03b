//! Where a secret may be sent: an origin (scheme, host and port), read from one entry of a
//! secret's `hosts:` list.
//!
//! A bare host means `https` on port 443, because that is what an API key is for: `hosts:
//! [api.stripe.com]` never lets the key go to `http://api.stripe.com` or
//! `https://api.stripe.com:8080`. Anything else is written out: `http://localhost:8080`,
//! `api.example.com:8443` (https on 8443), `http://10.0.0.5` (http on 80).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A scheme, host and port that a request goes to, or that a secret is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// The host in lower case; an IPv6 address in brackets (`[::1]`).
    pub host: String,
    /// The port; the scheme's default (443, 80) when none is written.
    pub port: u16,
}

/// The port a scheme uses when a URL names none.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

impl Origin {
    /// An origin from parts a URL parser already checked (the host as `url::Url::host_str`
    /// gives it); the host is put in lower case.
    pub fn new(scheme: &str, host: &str, port: u16) -> Origin {
        Origin {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            port,
        }
    }

    /// Reads one `hosts:` entry: `HOST`, `HOST:PORT`, `http://HOST[:PORT]` or
    /// `https://HOST[:PORT]`, with an optional trailing `/`. The error says what is wrong
    /// without the entry's position (the caller adds it).
    pub fn parse(text: &str) -> Result<Origin, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("an empty host".to_owned());
        }
        let (scheme, rest) = match t.find("://") {
            Some(i) => (t[..i].to_ascii_lowercase(), &t[i + 3..]),
            None => ("https".to_owned(), t),
        };
        let Some(scheme_port) = default_port(&scheme) else {
            return Err(format!(
                "`{t}` has the scheme `{scheme}:`; only http:// and https:// origins can be bound"
            ));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('*') {
            return Err(format!(
                "`{t}` has a wildcard; list each host the secret may be sent to"
            ));
        }
        if rest.contains(['/', '?', '#', '@', '\\']) || rest.chars().any(char::is_whitespace) {
            return Err(format!(
                "`{t}` is not an origin: write a host, optionally with a scheme and a port \
                 (`api.stripe.com`, `api.example.com:8443`, `http://localhost:8080`), \
                 without a path, query or user name"
            ));
        }
        let (host, port) = split_host_port(t, rest)?;
        let port = match port {
            None => scheme_port,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(format!("`{t}` has the port `{p}`; a port is 1 to 65535")),
            },
        };
        Ok(Origin { scheme, host, port })
    }
}

/// `host` (lower case, checked) and the port text, if any, of `rest` (the entry without its
/// scheme); `whole` is the entry, for messages.
fn split_host_port<'r>(whole: &str, rest: &'r str) -> Result<(String, Option<&'r str>), String> {
    if let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return Err(format!("`{whole}` has no `]` after its IPv6 address"));
        };
        let addr: Ipv6Addr = inner[..end]
            .parse()
            .map_err(|_| format!("`{whole}` does not hold a valid IPv6 address in brackets"))?;
        let after = &inner[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("`{whole}` has text after its IPv6 address")),
        };
        return Ok((format!("[{addr}]"), port));
    }
    let (host, port) = match rest.split_once(':') {
        Some((_, p)) if p.contains(':') => {
            return Err(format!(
                "`{whole}` has more than one `:`; write an IPv6 address in brackets (`[::1]:8080`)"
            ));
        }
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if host.is_empty() {
        return Err(format!("`{whole}` has no host"));
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "`{whole}` has `{bad}` in its host; a host is letters, digits, `-`, `_` and `.` \
             (write international names in their `xn--` form)"
        ));
    }
    // A host ending in a number is an IPv4 address to URL parsers, which read `127.1` and
    // `0x7f.0.0.1` as 127.0.0.1; only the dotted form compares equal, so only it is accepted.
    let last = host
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let numeric =
        !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x"));
    if numeric && host.parse::<Ipv4Addr>().is_err() {
        return Err(format!(
            "`{whole}` is not a host name or a dotted IPv4 address; write addresses like 127.0.0.1"
        ));
    }
    Ok((host.to_ascii_lowercase(), port))
}

impl fmt::Display for Origin {
    /// `https://api.stripe.com`, `http://localhost:8080`: the port only when it is not the
    /// scheme's default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if default_port(&self.scheme) != Some(self.port) {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(text: &str) -> String {
        Origin::parse(text)
            .map(|o| o.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn a_bare_host_means_https_on_443() {
        let stripe = Origin::parse("API.Stripe.com").unwrap();
        assert_eq!(stripe, Origin::new("https", "api.stripe.com", 443));
        assert_eq!(stripe.to_string(), "https://api.stripe.com");
        assert_ne!(stripe, Origin::new("http", "api.stripe.com", 80));
        assert_ne!(stripe, Origin::new("https", "api.stripe.com", 8080));
    }

    #[test]
    fn schemes_and_ports_are_written_out() {
        assert_eq!(o("http://localhost:8080"), "http://localhost:8080");
        assert_eq!(o("http://localhost"), "http://localhost");
        assert_eq!(Origin::parse("http://localhost").unwrap().port, 80);
        assert_eq!(o("api.example.com:8443"), "https://api.example.com:8443");
        assert_eq!(o("https://api.example.com:443/"), "https://api.example.com");
        assert_eq!(o("HTTP://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(o("http://[0:0::1]:8080"), "http://[::1]:8080");
        assert_eq!(o("my_api:8080"), "https://my_api:8080");
    }

    #[test]
    fn what_is_not_an_origin_says_why() {
        assert_eq!(o(""), "error: an empty host");
        assert_eq!(
            o("ftp://files.example.com"),
            "error: `ftp://files.example.com` has the scheme `ftp:`; only http:// and https:// origins can be bound"
        );
        assert!(o("https://api.stripe.com/v1").contains("is not an origin"));
        assert!(o("user@api.stripe.com").contains("is not an origin"));
        assert_eq!(
            o("*.stripe.com"),
            "error: `*.stripe.com` has a wildcard; list each host the secret may be sent to"
        );
        assert_eq!(
            o("api.stripe.com:0"),
            "error: `api.stripe.com:0` has the port `0`; a port is 1 to 65535"
        );
        assert!(o("api.stripe.com:99999").contains("a port is 1 to 65535"));
        assert!(o("api.stripe.com:+80").contains("a port is 1 to 65535"));
        assert!(o("::1").contains("write an IPv6 address in brackets"));
        assert!(o("[::1").contains("no `]`"));
        assert!(o("[::g]").contains("valid IPv6"));
        assert!(o("http://:80").contains("has no host"));
        assert!(o("café.example").contains("`é`"));
        for odd in ["127.1", "127.000.0.1", "0x7f.0.0.1", "1.2.3.4.5"] {
            assert!(o(odd).contains("write addresses like 127.0.0.1"), "{odd}");
        }
    }
}

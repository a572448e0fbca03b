//! A read curl command as a flow with one http step: credentials become declared secrets
//! bound to the request's host (their values are never written), flowstep's own headers are
//! left to flowstep, and the data becomes a form, JSON or text body.

use super::curl_command::{CurlCommand, Data};
use super::yaml_text::{entry, flow_string, literal, string};
use anyhow::bail;
use base64::Engine as _;
use reqwest::Url;
use serde_json::Value;
use std::fmt::Write as _;

/// What `import` makes of a command.
pub struct Imported {
    /// The flow, as YAML.
    pub yaml: String,
    /// Things the reader should know (what was left out, which secrets to set); they never
    /// hold a credential.
    pub notes: Vec<String>,
}

/// Names for the flow and its step.
pub struct Names<'a> {
    /// `flow:`.
    pub flow: &'a str,
    /// The step's `id:`.
    pub step: &'a str,
}

/// A credential found in the command: its secret name and, unless it was a dry run's
/// `<NAME>` stand-in, its value (kept only to check that it is written nowhere).
struct Found {
    name: String,
    value: Option<String>,
}

/// The secrets a command carries, named after the API's host.
struct Secrets {
    vendor: String,
    found: Vec<Found>,
}

impl Secrets {
    /// The template that reads `value` as a secret named `suggested` (or the name a dry run's
    /// `<NAME>` stand-in gives), declared once per value.
    fn template(&mut self, suggested: &str, value: &str) -> String {
        let name = match placeholder_name(value) {
            Some(n) => n.to_owned(),
            None => {
                if let Some(f) = self
                    .found
                    .iter()
                    .find(|f| f.value.as_deref() == Some(value))
                {
                    return format!("<<secrets.{}>>", f.name);
                }
                let base = if value.starts_with("sk_") || value.starts_with("rk_") {
                    format!("{}_SECRET_KEY", self.vendor)
                } else {
                    format!("{}_{suggested}", self.vendor)
                };
                let mut name = base.clone();
                let mut n = 2;
                while self.found.iter().any(|f| f.name == name) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                name
            }
        };
        if !self.found.iter().any(|f| f.name == name) {
            self.found.push(Found {
                name: name.clone(),
                value: placeholder_name(value).is_none().then(|| value.to_owned()),
            });
        }
        format!("<<secrets.{name}>>")
    }
}

/// `NAME` when `value` is a dry run's stand-in `<NAME>` for an unset secret.
fn placeholder_name(value: &str) -> Option<&str> {
    let name = value.strip_prefix('<')?.strip_suffix('>')?;
    let ok = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    ok.then_some(name)
}

/// `STRIPE` for api.stripe.com, `API` for an address.
fn vendor(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let name = match labels.as_slice() {
        _ if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') => "api",
        [one] => one,
        [.., name, _tld] => name,
        [] => "api",
    };
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if upper.starts_with(|c: char| c.is_ascii_alphabetic()) {
        upper
    } else {
        format!("API_{upper}")
    }
}

/// How a bound secret names the URL's origin in `hosts:` (the host alone for https on 443).
fn host_entry(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match (url.scheme(), url.port()) {
        ("https", None) => host.to_owned(),
        (scheme, Some(port)) => format!("{scheme}://{host}:{port}"),
        (scheme, None) => format!("{scheme}://{host}"),
    }
}

/// Whether a header carries a credential by its name (`X-Api-Key`, `X-Auth-Token`).
fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "auth",
        "password",
        "signature",
        "session",
        "cookie",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// `X_API_KEY` → `API_KEY`: a header name as a secret name's suffix.
fn header_secret_suffix(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    upper.strip_prefix("X_").unwrap_or(&upper).to_owned()
}

/// The `auth:` mapping, as YAML lines under it.
enum Auth {
    Bearer(String),
    Basic { username: String, password: String },
    Header { name: String, value: String },
}

/// The body and its type.
enum Body {
    Form(Vec<(String, String)>),
    Json(Value),
    Text(String),
}

/// Name/value pairs of urlencoded data, when they can be written as a mapping that flowstep
/// encodes back to the same pairs: every piece has `=`, no name twice, valid UTF-8.
fn form_pairs(data: &[Data]) -> Option<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for d in data {
        match d {
            Data::Raw(text) => {
                for piece in text.split('&') {
                    let (k, v) = piece.split_once('=')?;
                    let decode = |s: &str| {
                        let plus = s.replace('+', " ");
                        percent_encoding::percent_decode_str(&plus)
                            .decode_utf8()
                            .ok()
                            .map(|c| c.into_owned())
                    };
                    pairs.push((decode(k)?, decode(v)?));
                }
            }
            Data::UrlEncoded {
                name: Some(name),
                content,
            } => pairs.push((name.clone(), content.clone())),
            Data::UrlEncoded { name: None, .. } => return None,
        }
    }
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    (names.len() == before).then_some(pairs)
}

/// The data as curl sends it: pieces joined with `&`, `--data-urlencode` content encoded.
fn joined(data: &[Data]) -> String {
    data.iter()
        .map(|d| match d {
            Data::Raw(t) => t.clone(),
            Data::UrlEncoded { name, content } => {
                let enc: String = form_urlencoded::byte_serialize(content.as_bytes()).collect();
                match name {
                    Some(n) => format!("{n}={enc}"),
                    None => enc,
                }
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `30` seconds as a flow duration: `30s`, `1500ms`.
fn duration(option: &str, seconds: &str) -> anyhow::Result<String> {
    let max = flowstep_spec::duration::MAX_DURATION.as_secs();
    match seconds.parse::<f64>() {
        // What the http step takes: at least a millisecond, at most an hour.
        Ok(s) if s.is_finite() && s * 1000.0 >= 0.5 && s <= max as f64 => {
            let ms = (s * 1000.0).round() as u64;
            Ok(if ms.is_multiple_of(1000) {
                format!("{}s", ms / 1000)
            } else {
                format!("{ms}ms")
            })
        }
        _ => bail!(
            "curl option `{option} {seconds}` is not a number of seconds the http step takes: \
             more than 0 (at least 0.001) and at most {max} (like 30 or 2.5)"
        ),
    }
}

/// Makes the flow.
pub fn flow(cmd: &CurlCommand, names: Names<'_>) -> anyhow::Result<Imported> {
    let mut notes = Vec::new();
    let url = Url::parse(&cmd.url).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is not a URL import can read ({e}); write it with its scheme, like https://api.example.com/v1/x",
            cmd.url
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "`{}` is not an http:// or https:// URL; the http step sends only HTTP",
            cmd.url
        );
    }
    if !url.username().is_empty() {
        bail!(
            "the URL `{}` carries a user name; give credentials with -u instead, so that import \
             can turn them into secrets",
            url.origin().ascii_serialization()
        );
    }
    let mut secrets = Secrets {
        vendor: vendor(&url),
        found: Vec::new(),
    };

    // Headers: credentials become auth or secrets; flowstep's own defaults are left to it.
    let mut auth: Option<Auth> = None;
    let mut headers: Vec<(String, String)> = Vec::new();
    // Headers given more than once, whose values were joined.
    let mut combined: Vec<String> = Vec::new();
    let mut content_type: Option<String> = None;
    let mut idempotency = false;
    for (i, (name, value)) in cmd.headers.iter().enumerate() {
        if !flowstep_spec::steps::http::is_header_name(name) {
            bail!(
                "`{name}` is not a header name the http step can send (letters, digits and \
                 !#$%&'*+-.^_`|~, no spaces); fix the -H"
            );
        }
        let lower = name.to_ascii_lowercase();
        if is_credential_header(name)
            && cmd.headers[..i]
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            bail!(
                "the curl command sends the `{name}` header twice, and it carries a credential; \
                 keep one"
            );
        }
        match lower.as_str() {
            "authorization" => {
                if auth.is_some() {
                    bail!(
                        "the curl command gives credentials twice (-H Authorization and -u or --oauth2-bearer); keep one"
                    );
                }
                auth = Some(authorization(value, &mut secrets)?);
            }
            "user-agent" if value.starts_with("flowstep/") => {}
            "accept" if value == "application/json" => {}
            "content-type" => content_type = Some(value.clone()),
            "idempotency-key" => {
                idempotency = true;
                notes.push(
                    "the Idempotency-Key from the command became `idempotency: auto`: each run \
                     sends a key derived from its --run-id and the step id, the same on every retry"
                        .to_owned(),
                );
            }
            // A header whose name says nothing but whose value has a key's shape is a
            // credential too: it is never written into the flow.
            _ if is_credential_header(name) || looks_like_key(value.trim()) => {
                let suffix = header_secret_suffix(name);
                let template = secrets.template(&suffix, value);
                if auth.is_none() && lower != "cookie" {
                    auth = Some(Auth::Header {
                        name: name.clone(),
                        value: template,
                    });
                } else {
                    headers.push((name.clone(), template));
                }
            }
            // Given twice: a flow's headers are a map, so the values become one field line,
            // in order, as HTTP lets a recipient combine them (RFC 9110, section 5.3).
            _ => match headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some((first, joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                    if !combined.contains(first) {
                        combined.push(first.clone());
                    }
                }
                None => headers.push((name.clone(), value.clone())),
            },
        }
    }
    for name in combined {
        if let Some((_, joined)) = headers.iter().find(|(n, _)| *n == name) {
            notes.push(format!(
                "the curl command sends the `{name}` header more than once; the flow sends its values as one header, `{joined}`, which HTTP reads the same (RFC 9110, section 5.3)"
            ));
        }
    }
    if let Some(user) = &cmd.user {
        if auth.is_some() {
            bail!(
                "the curl command gives credentials twice (-u and -H Authorization or --oauth2-bearer); keep one"
            );
        }
        let Some((username, password)) = user.split_once(':') else {
            bail!(
                "`-u` gives a user name and no password, so curl would ask for one; write \
                 `-u USER:PASSWORD` (`-u KEY:` for an API key with an empty password, as Stripe takes)"
            );
        };
        auth = Some(basic(username, password, &mut secrets));
    }
    if let Some(token) = &cmd.bearer {
        if auth.is_some() {
            bail!(
                "the curl command gives credentials twice (--oauth2-bearer and -u or -H Authorization); keep one"
            );
        }
        auth = Some(Auth::Bearer(secrets.template("TOKEN", token)));
    }

    // The body, or with -G the query.
    let is_json_type = |ct: &str| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with("application/json") || ct.contains("+json")
    };
    let mut query: Vec<(String, String)> = Vec::new();
    let mut body = None;
    if cmd.get && !cmd.data.is_empty() {
        match form_pairs(&cmd.data) {
            Some(pairs) => query = pairs,
            None => bail!(
                "with -G the data goes into the query string, and this data is not all \
                 `name=value` pairs with distinct names; add it to the URL instead"
            ),
        }
    } else if !cmd.data.is_empty() {
        let text = joined(&cmd.data);
        let json_wanted = cmd.json || content_type.as_deref().is_some_and(is_json_type);
        let looks_json = text.trim_start().starts_with(['{', '[']);
        if json_wanted || (content_type.is_none() && looks_json) {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => {
                    if !json_wanted {
                        notes.push(
                            "the data is JSON, so it became `body_type: json` (sent as \
                             application/json; curl -d would have labelled it a form)"
                                .to_owned(),
                        );
                    }
                    body = Some(Body::Json(v));
                }
                Err(e) if json_wanted => {
                    notes.push(format!(
                        "the data is labelled JSON but does not parse ({e}), so it is sent as text"
                    ));
                    body = Some(Body::Text(text));
                }
                Err(_) => {
                    body = form_pairs(&cmd.data)
                        .map(Body::Form)
                        .or(Some(Body::Text(text)))
                }
            }
        } else if content_type.as_deref().is_none_or(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        }) {
            body = Some(match form_pairs(&cmd.data) {
                Some(pairs) => Body::Form(pairs),
                None => {
                    content_type
                        .get_or_insert_with(|| "application/x-www-form-urlencoded".to_owned());
                    notes.push(
                        "the form data has a name twice or a piece without `=`, so it is sent \
                         as text, exactly as written"
                            .to_owned(),
                    );
                    Body::Text(text)
                }
            });
        } else {
            body = Some(Body::Text(text));
        }
    }
    // The type's own content type is flowstep's default: not repeated.
    let default_type = match &body {
        Some(Body::Form(_)) => Some("application/x-www-form-urlencoded"),
        Some(Body::Json(_)) => Some("application/json"),
        Some(Body::Text(_)) => Some("text/plain; charset=utf-8"),
        None => None,
    };
    if content_type.as_deref() == default_type {
        content_type = None;
    }
    if cmd.json
        && let Some(i) = headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case("accept"))
        && headers[i].1 == "application/json"
    {
        headers.remove(i);
    }

    // A credential in the URL's query or in the data would be copied into the file as it is:
    // refused, saying where it could go instead.
    let credential_pair = |(k, v): &(String, String)| {
        let k = k.to_ascii_lowercase();
        [
            "api_key",
            "apikey",
            "access_token",
            "token",
            "secret",
            "password",
            "client_secret",
        ]
        .iter()
        .any(|w| k == *w || k.ends_with(&format!("_{w}")))
            || looks_like_key(v)
    };
    if let Some((k, _)) = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain(query.iter().cloned())
        .find(|p| credential_pair(p))
    {
        bail!(
            "the query parameter `{k}` looks like a credential, and import does not copy \
             credentials into a file; take it out of the command, then add \
             `auth: {{type: query, name: {k}, value: \"<<secrets.NAME>>\"}}` and declare the secret"
        );
    }
    if let Some(Body::Form(pairs)) = &body
        && let Some((k, _)) = pairs.iter().find(|p| credential_pair(p))
    {
        bail!(
            "the form field `{k}` looks like a credential, and import does not copy credentials \
             into a file; the http step sends secrets only in `auth:` and headers (a secret in a \
             body is refused, E012): send it as a header if the API takes one"
        );
    }

    let method = match &cmd.method {
        Some(m) => m.clone(),
        None if cmd.head => "HEAD".to_owned(),
        None if body.is_some() => "POST".to_owned(),
        None => "GET".to_owned(),
    };
    if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(&method.as_str()) {
        bail!(
            "`-X {method}` is not a method the http step sends; it sends GET, POST, PUT, PATCH, DELETE, HEAD and OPTIONS"
        );
    }
    if cmd.head && body.is_some() {
        bail!(
            "-I (a HEAD request) with data: a HEAD request has no body, and curl refuses this too"
        );
    }
    if !cmd.ignored.is_empty() {
        notes.push(format!(
            "left out {}: they change what curl prints or does with the response, not the request",
            cmd.ignored.join(", ")
        ));
    }

    // The YAML.
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Imported from a curl command by `flowstep import curl`."
    );
    let _ = writeln!(y, "flow: {}", string(names.flow));
    if !secrets.found.is_empty() {
        let _ = writeln!(y, "secrets:");
        for f in &secrets.found {
            let _ = writeln!(y, "  - name: {}", f.name);
            let _ = writeln!(y, "    hosts: [{}]", flow_string(&host_entry(&url)));
        }
    }
    let _ = writeln!(y, "steps:");
    let _ = writeln!(y, "  - id: {}", string(names.step));
    let _ = writeln!(y, "    type: http");
    if method != "GET" {
        let _ = writeln!(y, "    method: {method}");
    }
    let _ = writeln!(y, "    url: {}", literal(&cmd.url));
    if !headers.is_empty() {
        let _ = writeln!(y, "    headers:");
        for (n, v) in &headers {
            let v = if v.contains("<<secrets.") {
                string(v)
            } else {
                literal(v)
            };
            let _ = writeln!(y, "      {}: {v}", string(n));
        }
    }
    if !query.is_empty() {
        let _ = writeln!(y, "    query:");
        for (k, v) in &query {
            let _ = writeln!(y, "      {}: {}", literal(k), literal(v));
        }
    }
    match &auth {
        None => {}
        Some(Auth::Bearer(t)) => {
            let _ = writeln!(y, "    auth: {{ type: bearer, token: {} }}", flow_string(t));
        }
        Some(Auth::Basic { username, password }) => {
            let _ = writeln!(
                y,
                "    auth: {{ type: basic, username: {}, password: {} }}",
                flow_string(username),
                flow_string(password)
            );
        }
        Some(Auth::Header { name, value }) => {
            let _ = writeln!(
                y,
                "    auth: {{ type: header, name: {}, value: {} }}",
                flow_string(name),
                flow_string(value)
            );
        }
    }
    if idempotency {
        let _ = writeln!(y, "    idempotency: auto");
    }
    if let Some(ct) = &content_type {
        let _ = writeln!(y, "    content_type: {}", string(ct));
    }
    match &body {
        None => {}
        Some(Body::Form(pairs)) => {
            let _ = writeln!(y, "    body_type: form");
            let _ = writeln!(y, "    body:");
            for (k, v) in pairs {
                // A whole number stays plain, as people write it; every other value is text.
                let canonical_int = v == "0"
                    || (!v.starts_with('0')
                        && !v.is_empty()
                        && v.len() < 16
                        && v.bytes().all(|b| b.is_ascii_digit()));
                let v = if canonical_int { v.clone() } else { literal(v) };
                let _ = writeln!(y, "      {}: {v}", literal(k));
            }
        }
        Some(Body::Json(v)) => {
            let _ = writeln!(y, "    body_type: json");
            match v {
                Value::Object(m) if !m.is_empty() => {
                    let _ = writeln!(y, "    body:");
                    for (k, v) in m {
                        entry(&mut y, 6, k, v);
                    }
                }
                other => entry(&mut y, 4, "body", other),
            }
        }
        Some(Body::Text(t)) => {
            let _ = writeln!(y, "    body_type: text");
            let _ = writeln!(y, "    body: {}", literal(t));
        }
    }
    if let Some(s) = &cmd.max_time {
        let _ = writeln!(y, "    timeout: {}", duration("-m", s)?);
    }
    if let Some(s) = &cmd.connect_timeout {
        let _ = writeln!(
            y,
            "    connect_timeout: {}",
            duration("--connect-timeout", s)?
        );
    }

    // The backstop: a credential found in one place and written in another (the URL, the
    // data) would be copied into the file; refuse instead.
    for f in &secrets.found {
        // A value shorter than eight characters would be "found" inside unrelated words.
        if let Some(value) = &f.value
            && value.chars().count() >= 8
            && (y.contains(value.as_str()) || contains_encoded(&y, value))
        {
            bail!(
                "the credential that became secret {} also appears elsewhere in the command (the \
                 URL, a header or the data); import does not copy credentials into a file: take \
                 it out there, and write <<secrets.{}>> in its place after importing",
                f.name,
                f.name
            );
        }
    }
    for f in &secrets.found {
        notes.push(format!(
            "secret {} is read from the environment or .env (export {}=...), and only sent to {}",
            f.name,
            f.name,
            host_entry(&url)
        ));
    }
    Ok(Imported { yaml: y, notes })
}

/// Whether `value` has the shape of an API key: a provider's secret-key prefix (Stripe's
/// `sk_`/`rk_`, Razorpay's `rzp_`, a webhook secret's `whsec_`) and more after it.
fn looks_like_key(value: &str) -> bool {
    ["sk_", "rk_", "rzp_", "whsec_"]
        .iter()
        .any(|p| value.starts_with(p) && value.len() > p.len() + 8)
}

/// Whether `text` holds `value` JSON- or percent-encoded.
fn contains_encoded(text: &str, value: &str) -> bool {
    let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json = serde_json::to_string(value).unwrap_or_default();
    text.contains(&form) || text.contains(json.trim_matches('"'))
}

/// `-u USER:PASSWORD`, or Basic credentials from a header: an empty password means the user
/// name is the key (Stripe's style), so it is the secret.
fn basic(username: &str, password: &str, secrets: &mut Secrets) -> Auth {
    if password.is_empty() {
        Auth::Basic {
            username: secrets.template("API_KEY", username),
            password: String::new(),
        }
    } else {
        Auth::Basic {
            username: secrets.template("USERNAME", username),
            password: secrets.template("PASSWORD", password),
        }
    }
}

/// An `Authorization` header: Bearer and Basic become auth kinds, another scheme a header.
fn authorization(value: &str, secrets: &mut Secrets) -> anyhow::Result<Auth> {
    let (scheme, rest) = value.split_once(' ').unwrap_or(("", value));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Auth::Bearer(secrets.template("TOKEN", rest)));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok());
        let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            bail!("the `Authorization: Basic` header does not hold base64 of `user:password`");
        };
        return Ok(basic(user, password, secrets));
    }
    let template = secrets.template("TOKEN", rest);
    Ok(Auth::Header {
        name: "Authorization".to_owned(),
        value: if scheme.is_empty() {
            template
        } else {
            format!("{scheme} {template}")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::curl_command::{parse, split};

    fn import(line: &str) -> anyhow::Result<Imported> {
        flow(
            &parse(&split(line)?)?,
            Names {
                flow: "imported",
                step: "request",
            },
        )
    }

    #[test]
    fn stripe_with_a_key_as_user_name() {
        let i = import(
            "curl https://api.stripe.com/v1/checkout/sessions -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \
             -d mode=payment -d 'line_items[0][price]=price_1' -d 'line_items[0][quantity]=2' \
             --data-urlencode 'success_url=https://example.com/ok?a=1&b=2'",
        )
        .unwrap();
        assert_eq!(
            i.yaml,
            "# Imported from a curl command by `flowstep import curl`.\n\
             flow: imported\n\
             secrets:\n  - name: STRIPE_SECRET_KEY\n    hosts: [api.stripe.com]\n\
             steps:\n  - id: request\n    type: http\n    method: POST\n\
             \x20   url: https://api.stripe.com/v1/checkout/sessions\n\
             \x20   auth: { type: basic, username: \"<<secrets.STRIPE_SECRET_KEY>>\", password: \"\" }\n\
             \x20   body_type: form\n    body:\n      mode: payment\n\
             \x20     line_items[0][price]: price_1\n      line_items[0][quantity]: 2\n\
             \x20     success_url: https://example.com/ok?a=1&b=2\n"
        );
        assert!(!i.notes.join("\n").contains("sk_test_4eC"));
    }

    #[test]
    fn headers_json_and_other_credentials() {
        let i = import(
            "curl -X PUT http://127.0.0.1:8080/items/1 -H 'X-Api-Key: k-123456' \
             -H 'Content-Type: application/json' -H 'X-Trace: <<id>>' -d '{\"qty\": 1.50, \"tags\": [\"a\"]}' -m 2.5",
        )
        .unwrap();
        assert_eq!(
            i.yaml,
            "# Imported from a curl command by `flowstep import curl`.\n\
             flow: imported\n\
             secrets:\n  - name: API_API_KEY\n    hosts: [http://127.0.0.1:8080]\n\
             steps:\n  - id: request\n    type: http\n    method: PUT\n\
             \x20   url: http://127.0.0.1:8080/items/1\n\
             \x20   headers:\n      X-Trace: \"\\\\<<id>>\"\n\
             \x20   auth: { type: header, name: X-Api-Key, value: \"<<secrets.API_API_KEY>>\" }\n\
             \x20   body_type: json\n    body:\n      qty: 1.50\n      tags:\n        - a\n\
             \x20   timeout: 2500ms\n"
        );
    }

    #[test]
    fn a_credential_written_twice_is_refused() {
        let e = import("curl 'https://api.example.com/x?key=s3cr3t-value' -H 'Authorization: Bearer s3cr3t-value'")
            .err()
            .unwrap();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(
            e.to_string().starts_with(
                "the credential that became secret EXAMPLE_TOKEN also appears elsewhere"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_dry_runs_stand_in_keeps_its_name() {
        let i = import(
            "curl https://api.stripe.com/v1/x -H 'Authorization: Bearer <STRIPE_SECRET_KEY>'",
        )
        .unwrap();
        assert!(
            i.yaml
                .contains("auth: { type: bearer, token: \"<<secrets.STRIPE_SECRET_KEY>>\" }"),
            "{}",
            i.yaml
        );
    }
}

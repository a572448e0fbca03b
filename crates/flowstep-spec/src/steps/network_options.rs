//! The TLS and network options of an http step, and the flow's `http:` block that gives every
//! http step of the flow its defaults: a CA bundle, a client certificate and key (mTLS),
//! `insecure`, the proxy, the redirect policy and the HTTP version.
//!
//! The spec reads and checks their shapes only; the files they name are read (and a missing
//! one reported at its position) when the http step kind binds the step.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::reader::{MapReader, expected, scalar_text};
use crate::source::{Span, Spanned};
use crate::suggest::help_did_you_mean;
use crate::yaml::Node;

/// The keys these options take, in an http step and in the flow's `http:` block.
pub const KEYS: &[&str] = &["tls", "proxy", "redirects", "http_version"];
const TLS_KEYS: &[&str] = &["ca", "client_cert", "client_key", "insecure"];
const REDIRECT_KEYS: &[&str] = &["follow", "max"];
const HTTP_VERSIONS: &[&str] = &["auto", "http1", "http2"];

/// How many redirects a `GET` or `HEAD` follows unless `redirects.max` says otherwise.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// The largest `redirects.max`: a chain longer than this is a loop or a mistake.
pub const MAX_REDIRECTS_LIMIT: u32 = 20;

/// The options as one place (a step, or the flow's `http:` block) writes them: `None` where
/// it says nothing, so that a step's options can be laid over the flow's and those over the
/// embedder's ([`NetworkOptions::or`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkOptions {
    /// `tls.ca`: a PEM file of certificates trusted besides the system's, its path relative
    /// to the flow file.
    pub ca: Option<Spanned<String>>,
    /// `tls.client_cert` and `tls.client_key`, always given together.
    pub client_cert: Option<ClientCert>,
    /// `tls.insecure`: whether certificates go unchecked.
    pub insecure: Option<Spanned<bool>>,
    /// `proxy:`: a proxy URL, or `off` for none (the environment's otherwise).
    pub proxy: Option<Spanned<ProxySetting>>,
    /// `redirects.follow`.
    pub follow_redirects: Option<Spanned<bool>>,
    /// `redirects.max`, from 1 to [`MAX_REDIRECTS_LIMIT`].
    pub max_redirects: Option<Spanned<u32>>,
    /// `http_version:`.
    pub http_version: Option<Spanned<HttpVersion>>,
}

/// A client certificate and its private key (PEM files, paths relative to the flow file).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCert {
    /// `tls.client_cert`: the certificate (and any intermediates), PEM.
    pub cert: Spanned<String>,
    /// `tls.client_key`: the private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: Spanned<String>,
}

/// `proxy:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// `proxy: off`: no proxy, whatever the environment says.
    Off,
    /// `proxy: http://proxy.internal:3128`.
    Url(String),
}

/// `http_version:`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    /// HTTP/2 when an https server offers it (ALPN), HTTP/1.1 otherwise.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only: negotiated over https, spoken from the start over plain http (h2c).
    Http2,
}

impl HttpVersion {
    /// The name a flow writes.
    pub fn name(self) -> &'static str {
        match self {
            HttpVersion::Auto => "auto",
            HttpVersion::Http1 => "http1",
            HttpVersion::Http2 => "http2",
        }
    }
}

impl NetworkOptions {
    /// Reads the option keys of `m` (an http step, or the flow's `http:` block). `place` says
    /// whose options they are in the `insecure` warning ("this step", "every http step").
    pub fn read(m: &mut MapReader<'_>, place: &str, diags: &mut Diagnostics) -> Self {
        let mut out = NetworkOptions::default();
        if let Some(n) = m.get("tls") {
            read_tls(n, place, &mut out, diags);
        }
        if let Some(n) = m.get("proxy") {
            out.proxy = read_proxy(n, diags);
        }
        if let Some(n) = m.get("redirects") {
            read_redirects(n, &mut out, diags);
        }
        if let Some(n) = m.get("http_version") {
            out.http_version = scalar_text(n, "`http_version`", diags).and_then(|t| {
                let v = match t.value.as_str() {
                    "auto" => HttpVersion::Auto,
                    "http1" => HttpVersion::Http1,
                    "http2" => HttpVersion::Http2,
                    other => {
                        diags.push(
                            Diagnostic::error(
                                "E010",
                                format!("unknown `http_version` `{other}`"),
                                t.span,
                            )
                            .with_help(
                                help_did_you_mean(other, HTTP_VERSIONS.iter().copied())
                                    .unwrap_or_else(|| {
                                        format!("write one of {}", HTTP_VERSIONS.join(", "))
                                    }),
                            ),
                        );
                        return None;
                    }
                };
                Some(Spanned::new(v, t.span))
            });
        }
        out
    }

    /// These options, with every one left unsaid taken from `defaults`. A client certificate
    /// and its key go together: a step's pair replaces the defaults' pair.
    pub fn or(&self, defaults: &NetworkOptions) -> NetworkOptions {
        NetworkOptions {
            ca: self.ca.clone().or_else(|| defaults.ca.clone()),
            client_cert: self
                .client_cert
                .clone()
                .or_else(|| defaults.client_cert.clone()),
            insecure: self.insecure.clone().or_else(|| defaults.insecure.clone()),
            proxy: self.proxy.clone().or_else(|| defaults.proxy.clone()),
            follow_redirects: self
                .follow_redirects
                .clone()
                .or_else(|| defaults.follow_redirects.clone()),
            max_redirects: self
                .max_redirects
                .clone()
                .or_else(|| defaults.max_redirects.clone()),
            http_version: self
                .http_version
                .clone()
                .or_else(|| defaults.http_version.clone()),
        }
    }

    /// Whether certificates go unchecked.
    pub fn is_insecure(&self) -> bool {
        self.insecure.as_ref().is_some_and(|i| i.value)
    }

    /// Whether redirects are followed (the default).
    pub fn follows_redirects(&self) -> bool {
        self.follow_redirects.as_ref().is_none_or(|f| f.value)
    }

    /// The most redirects followed.
    pub fn redirect_limit(&self) -> u32 {
        self.max_redirects
            .as_ref()
            .map_or(DEFAULT_MAX_REDIRECTS, |m| m.value)
    }
}

/// Reads the flow's `http:` block: the options every http step of the flow takes unless it
/// sets its own.
pub fn read_flow_defaults(node: &Node, diags: &mut Diagnostics) -> NetworkOptions {
    let Some(mut m) = MapReader::new(node, "`http`", KEYS, diags) else {
        return NetworkOptions::default();
    };
    let out = NetworkOptions::read(&mut m, "every http step of this flow", diags);
    m.finish(diags);
    out
}

fn read_tls(node: &Node, place: &str, out: &mut NetworkOptions, diags: &mut Diagnostics) {
    let Some(mut m) = MapReader::new(node, "`tls`", TLS_KEYS, diags) else {
        return;
    };
    let path = |m: &mut MapReader<'_>, key: &str, diags: &mut Diagnostics| {
        let n = m.get(key)?;
        let t = scalar_text(n, &format!("`tls.{key}`"), diags)?;
        if t.value.trim().is_empty() {
            diags.push(Diagnostic::error(
                "E010",
                format!("`tls.{key}` is empty: write the path of a PEM file"),
                t.span,
            ));
            return None;
        }
        if t.value.contains("<<") {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`tls.{key}` is a file path, read when the flow is read: it cannot hold a template"),
                    t.span,
                )
                .with_help("write the path, relative to the flow file (`certs/internal-ca.pem`)"),
            );
            return None;
        }
        Some(t)
    };
    out.ca = path(&mut m, "ca", diags);
    let cert = path(&mut m, "client_cert", diags);
    let key = path(&mut m, "client_key", diags);
    match (cert, key) {
        (Some(cert), Some(key)) => out.client_cert = Some(ClientCert { cert, key }),
        (Some(one), None) | (None, Some(one)) => {
            let (has, lacks) = match m.key_span("client_key") {
                Some(_) => ("client_key", "client_cert"),
                None => ("client_cert", "client_key"),
            };
            diags.push(
                Diagnostic::error(
                    "E003",
                    format!("`tls.{has}` is set but `tls.{lacks}` is not"),
                    one.span,
                )
                .with_help(
                    "a client certificate is sent with its private key: set both `client_cert` and `client_key`",
                ),
            );
        }
        (None, None) => {}
    }
    if let Some(n) = m.get("insecure") {
        match n.scalar_value() {
            Some(serde_json::Value::Bool(b)) => {
                if b {
                    diags.push(
                        Diagnostic::warning(
                            "W004",
                            format!(
                                "`insecure: true`: TLS certificates are not checked for {place}"
                            ),
                            n.span,
                        )
                        .with_note(
                            "anyone on the network path can read and change these requests and \
                             their answers, secrets included",
                        )
                        .with_help(
                            "trust the server's CA with `tls.ca: PATH` instead, and remove `insecure`",
                        ),
                    );
                    if let Some(ca) = &out.ca {
                        diags.push(
                            Diagnostic::error(
                                "E010",
                                "`tls.ca` has no effect with `insecure: true`, which checks no certificate",
                                ca.span,
                            )
                            .with_help("keep one of the two: `ca` (checked against it) or `insecure` (not checked)"),
                        );
                    }
                }
                out.insecure = Some(Spanned::new(b, n.span));
            }
            _ => diags.push(expected(n, "true or false", "`tls.insecure`")),
        }
    }
    m.finish(diags);
}

fn read_proxy(n: &Node, diags: &mut Diagnostics) -> Option<Spanned<ProxySetting>> {
    let t = scalar_text(n, "`proxy`", diags)?;
    let text = t.value.trim();
    if matches!(text, "off" | "none" | "false") || n.scalar_value() == Some(false.into()) {
        return Some(Spanned::new(ProxySetting::Off, t.span));
    }
    let bad = |why: String, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error("E010", format!("`proxy`: {why}"), t.span).with_help(
                "write the proxy's URL (`http://proxy.internal:3128`), or `off` for none; without \
                 `proxy:` the environment's HTTPS_PROXY, HTTP_PROXY and NO_PROXY are used",
            ),
        );
        None
    };
    let lower = text.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
    else {
        return bad(format!("`{text}` is not an http:// or https:// URL"), diags);
    };
    if text.contains("<<") {
        return bad("a proxy URL cannot hold a template".into(), diags);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return bad(
            "a proxy URL in the flow file cannot carry a user name or password; set \
             HTTPS_PROXY in the environment for a proxy that needs them"
                .into(),
            diags,
        );
    }
    if authority.is_empty() || authority.starts_with(':') {
        return bad(format!("`{text}` has no host"), diags);
    }
    Some(Spanned::new(ProxySetting::Url(text.to_owned()), t.span))
}

fn read_redirects(node: &Node, out: &mut NetworkOptions, diags: &mut Diagnostics) {
    let Some(mut m) = MapReader::new(node, "`redirects`", REDIRECT_KEYS, diags) else {
        return;
    };
    if let Some(n) = m.get("follow") {
        match n.scalar_value() {
            Some(serde_json::Value::Bool(b)) => {
                out.follow_redirects = Some(Spanned::new(b, n.span))
            }
            _ => diags.push(expected(n, "true or false", "`redirects.follow`")),
        }
    }
    if let Some(n) = m.get("max") {
        match n.scalar_value().and_then(|v| v.as_u64()) {
            Some(x) if (1..=u64::from(MAX_REDIRECTS_LIMIT)).contains(&x) => {
                out.max_redirects = Some(Spanned::new(x as u32, n.span));
            }
            Some(0) => diags.push(
                Diagnostic::error("E010", "`redirects.max` must be at least 1", n.span).with_help(
                    "to take a redirect as the answer, write `redirects: {follow: false}`",
                ),
            ),
            _ => diags.push(Diagnostic::error(
                "E010",
                format!("`redirects.max` must be a whole number from 1 to {MAX_REDIRECTS_LIMIT}"),
                n.span,
            )),
        }
    }
    if let (Some(f), Some(max)) = (&out.follow_redirects, &out.max_redirects)
        && !f.value
    {
        diags.push(
            Diagnostic::error(
                "E010",
                "`redirects.max` has no effect with `follow: false`",
                max.span,
            )
            .with_help("keep one of the two"),
        );
    }
    m.finish(diags);
}

/// The span of the first option written, for messages about the options as a whole.
pub fn first_span(o: &NetworkOptions) -> Option<Span> {
    [
        o.ca.as_ref().map(|s| s.span),
        o.client_cert.as_ref().map(|c| c.cert.span),
        o.insecure.as_ref().map(|s| s.span),
        o.proxy.as_ref().map(|s| s.span),
        o.follow_redirects.as_ref().map(|s| s.span),
        o.max_redirects.as_ref().map(|s| s.span),
        o.http_version.as_ref().map(|s| s.span),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|s| s.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml;

    fn read(text: &str) -> (NetworkOptions, Vec<Diagnostic>) {
        let file = SourceFile::new("t.yaml", text);
        let root = yaml::parse(&file).unwrap();
        let mut diags = Diagnostics::new();
        let o = read_flow_defaults(&root, &mut diags);
        (o, diags.sorted())
    }

    fn messages(text: &str) -> Vec<String> {
        read(text)
            .1
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    }

    #[test]
    fn every_option_reads() {
        let (o, d) = read(
            "tls: {ca: certs/ca.pem, client_cert: c.pem, client_key: k.pem}\nproxy: http://proxy:3128\nredirects: {max: 3}\nhttp_version: http1\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(o.ca.unwrap().value, "certs/ca.pem");
        assert_eq!(o.client_cert.unwrap().key.value, "k.pem");
        assert_eq!(
            o.proxy.unwrap().value,
            ProxySetting::Url("http://proxy:3128".into())
        );
        assert_eq!(o.max_redirects.unwrap().value, 3);
        assert_eq!(o.http_version.unwrap().value, HttpVersion::Http1);
        let (o, _) = read("proxy: off\nredirects: {follow: false}\n");
        assert_eq!(o.proxy.as_ref().unwrap().value, ProxySetting::Off);
        assert!(!o.follows_redirects());
    }

    #[test]
    fn mistakes_are_positioned_errors() {
        assert_eq!(
            messages("tls: {client_cert: c.pem}\n"),
            ["E003: `tls.client_cert` is set but `tls.client_key` is not"]
        );
        assert_eq!(
            messages("tls: {cafile: x}\n")[0],
            "E002: unknown key `cafile` in `tls`"
        );
        assert_eq!(
            messages("tls: {ca: x.pem, insecure: true}\n"),
            [
                "E010: `tls.ca` has no effect with `insecure: true`, which checks no certificate",
                "W004: `insecure: true`: TLS certificates are not checked for every http step of this flow",
            ]
        );
        assert_eq!(
            messages("tls: {ca: \"<<inputs.ca>>\"}\n"),
            [
                "E010: `tls.ca` is a file path, read when the flow is read: it cannot hold a template"
            ]
        );
        assert_eq!(
            messages("proxy: socks5://p:1080\n"),
            ["E010: `proxy`: `socks5://p:1080` is not an http:// or https:// URL"]
        );
        assert!(messages("proxy: http://u:pw@p:1\n")[0].contains("cannot carry a user name"));
        assert_eq!(
            messages("redirects: {max: 0}\n"),
            ["E010: `redirects.max` must be at least 1"]
        );
        assert_eq!(
            messages("redirects: {max: 99}\n"),
            ["E010: `redirects.max` must be a whole number from 1 to 20"]
        );
        assert_eq!(
            messages("redirects: {follow: false, max: 2}\n"),
            ["E010: `redirects.max` has no effect with `follow: false`"]
        );
        assert_eq!(
            messages("http_version: http3\n"),
            ["E010: unknown `http_version` `http3`"]
        );
    }

    #[test]
    fn a_step_s_options_lie_over_the_flow_s() {
        let (flow, _) = read("tls: {ca: a.pem, insecure: false}\nproxy: off\n");
        let (step, _) = read("tls: {insecure: true}\n");
        let o = step.or(&flow);
        assert!(o.is_insecure());
        assert_eq!(o.ca.as_ref().unwrap().value, "a.pem");
        assert_eq!(o.proxy.as_ref().unwrap().value, ProxySetting::Off);
        assert_eq!(o.redirect_limit(), DEFAULT_MAX_REDIRECTS);
    }
}

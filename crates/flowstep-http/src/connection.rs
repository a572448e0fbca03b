//! How one http step connects, settled when the step is bound: its `tls`, `proxy`,
//! `redirects` and `http_version` laid over the flow's `http:` block and the embedder's
//! defaults, with the PEM files read (relative to the flow file) and checked, so that a
//! missing or unreadable file is a positioned error at check time, not a failed request.
//!
//! The files' bytes are held in memory from then on; a client key's never appear in any
//! message, record or `Debug` output.

use flowstep_spec::steps::network_options::{DEFAULT_MAX_REDIRECTS, NetworkOptions};
use flowstep_spec::steps::{HttpVersion, ProxySetting};
use flowstep_spec::{Diagnostic, SourceFile, Spanned};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest PEM file read: a CA bundle of a few hundred roots is well under it.
pub const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// PEM bytes read from a file; `Debug` shows their size only, since a client key is a secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pem(Arc<[u8]>);

impl Pem {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes of PEM>", self.0.len())
    }
}

/// Which proxy requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ProxyChoice {
    /// The environment's `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (only where
    /// the network policy allows every address; see `Clients`).
    #[default]
    Environment,
    /// None at all.
    Off,
    /// This one, for every request the environment's `NO_PROXY` does not exempt.
    Url(String),
}

impl ProxyChoice {
    /// Whether the connection to the proxy itself is TLS (and so needs root certificates).
    pub fn is_https(&self) -> bool {
        matches!(self, ProxyChoice::Url(u) if u.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")))
    }
}

/// What shapes a reqwest client: steps whose options are equal share one client (and its
/// connection pool).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    /// Certificates trusted besides the system's roots.
    pub ca: Option<Pem>,
    /// The client certificate chain and its key, one PEM buffer.
    pub identity: Option<Pem>,
    /// Whether server certificates go unchecked.
    pub insecure: bool,
    /// The proxy.
    pub proxy: ProxyChoice,
    /// The HTTP version spoken.
    pub http_version: HttpVersion,
}

/// The redirect policy of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirects {
    /// Whether `GET`/`HEAD` redirects are followed; when not, a 3xx is the step's answer.
    pub follow: bool,
    /// The most followed in one attempt.
    pub max: u32,
}

impl Default for Redirects {
    fn default() -> Self {
        Redirects {
            follow: true,
            max: DEFAULT_MAX_REDIRECTS,
        }
    }
}

/// How a step connects.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// The client's shape.
    pub client: ClientOptions,
    /// The redirect policy.
    pub redirects: Redirects,
}

/// The options in force for a step: its own over the flow's `http:` block over `defaults`
/// (the embedder's, e.g. `flowstep run --insecure`), with the files read and checked.
pub fn resolve(
    step: &NetworkOptions,
    flow_defaults: &NetworkOptions,
    defaults: &ClientOptions,
    file: &SourceFile,
) -> Result<Connection, Vec<Diagnostic>> {
    let o = step.or(flow_defaults);
    let mut errors = Vec::new();
    let mut client = defaults.clone();
    let base = base_dir(file);
    if let Some(ca) = &o.ca {
        match read_pem(&base, ca, "tls.ca").and_then(|pem| {
            check_certificates(&pem, ca, "tls.ca")?;
            Ok(pem)
        }) {
            Ok(pem) => client.ca = Some(pem),
            Err(d) => errors.push(*d),
        }
    }
    if let Some(pair) = &o.client_cert {
        let cert = read_pem(&base, &pair.cert, "tls.client_cert").and_then(|pem| {
            check_certificates(&pem, &pair.cert, "tls.client_cert")?;
            Ok(pem)
        });
        let key = read_pem(&base, &pair.key, "tls.client_key").and_then(|pem| {
            if !contains(pem.bytes(), b"PRIVATE KEY-----") {
                return Err(Box::new(
                    Diagnostic::error(
                        "E016",
                        format!(
                            "`tls.client_key`: `{}` holds no PEM private key",
                            pair.key.value
                        ),
                        pair.key.span,
                    )
                    .with_help(
                        "a PEM private key starts `-----BEGIN PRIVATE KEY-----` (PKCS#8), \
                         `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----`",
                    ),
                ));
            }
            Ok(pem)
        });
        match (cert, key) {
            (Ok(cert), Ok(key)) => {
                let mut both = cert.bytes().to_vec();
                both.push(b'\n');
                both.extend_from_slice(key.bytes());
                match check_identity(&both) {
                    Ok(()) => client.identity = Some(Pem(both.into())),
                    // The reason comes from the TLS library and names no key material.
                    Err(why) => errors.push(
                        Diagnostic::error(
                            "E016",
                            format!(
                                "`tls.client_key` `{}` cannot be used with `tls.client_cert` `{}`: {why}",
                                pair.key.value, pair.cert.value
                            ),
                            pair.key.span,
                        )
                        .with_help("the key must be the private key of the certificate's first (end-entity) certificate"),
                    ),
                }
            }
            (cert, key) => {
                errors.extend(cert.err().map(|d| *d));
                errors.extend(key.err().map(|d| *d));
            }
        }
    }
    if let Some(i) = &o.insecure {
        client.insecure = i.value;
    }
    if let Some(p) = &o.proxy {
        client.proxy = match &p.value {
            ProxySetting::Off => ProxyChoice::Off,
            ProxySetting::Url(u) => match reqwest::Proxy::all(u.as_str()) {
                Ok(_) => ProxyChoice::Url(u.clone()),
                Err(e) => {
                    errors.push(Diagnostic::error(
                        "E010",
                        format!("`proxy`: `{u}` is not a proxy URL ({})", root_cause(&e)),
                        p.span,
                    ));
                    ProxyChoice::Environment
                }
            },
        };
    }
    if let Some(v) = &o.http_version {
        client.http_version = v.value;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Connection {
        client,
        redirects: Redirects {
            follow: o.follows_redirects(),
            max: o.redirect_limit(),
        },
    })
}

/// The folder paths in the flow are relative to: the flow file's (the current folder for a
/// flow with no folder, read from stdin or a preset).
fn base_dir(file: &SourceFile) -> PathBuf {
    let name = file.name();
    if name.starts_with("preset:") || name == "-" || name.starts_with('<') {
        return PathBuf::new();
    }
    Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn read_pem(base: &Path, at: &Spanned<String>, key: &str) -> Result<Pem, Box<Diagnostic>> {
    let written = Path::new(&at.value);
    let path = if written.is_absolute() {
        written.to_path_buf()
    } else {
        base.join(written)
    };
    let shown = if path == written {
        format!("`{}`", at.value)
    } else {
        format!("`{}` ({})", at.value, path.display())
    };
    let fail = |why: String| {
        Box::new(
            Diagnostic::error(
                "E016",
                format!("`{key}`: cannot read {shown}: {why}"),
                at.span,
            )
            .with_help("paths are relative to the flow file's folder"),
        )
    };
    let meta = std::fs::metadata(&path).map_err(|e| fail(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(fail("it is not a regular file".into()));
    }
    if meta.len() > MAX_PEM_BYTES {
        return Err(fail(format!(
            "it is larger than {} KiB",
            MAX_PEM_BYTES / 1024
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(io_reason(&e)))?;
    Ok(Pem(bytes.into()))
}

/// "No such file or directory", without the "(os error 2)" a person has no use for.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn check_certificates(pem: &Pem, at: &Spanned<String>, key: &str) -> Result<(), Box<Diagnostic>> {
    let none = || {
        Box::new(
            Diagnostic::error(
                "E016",
                format!("`{key}`: `{}` holds no PEM certificate", at.value),
                at.span,
            )
            .with_help("a PEM certificate starts `-----BEGIN CERTIFICATE-----`"),
        )
    };
    if !contains(pem.bytes(), b"-----BEGIN CERTIFICATE-----") {
        return Err(none());
    }
    match reqwest::Certificate::from_pem_bundle(pem.bytes()) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        Ok(_) => Err(none()),
        Err(e) => Err(Box::new(Diagnostic::error(
            "E016",
            format!(
                "`{key}`: `{}` is not a readable PEM certificate file: {}",
                at.value,
                root_cause(&e)
            ),
            at.span,
        ))),
    }
}

/// Whether a certificate chain and key make a client identity: parsed, and the key is the
/// certificate's. A client with no root certificates (so none are loaded) is built to find out.
fn check_identity(pem: &[u8]) -> Result<(), String> {
    let identity = reqwest::Identity::from_pem(pem).map_err(|e| root_cause(&e))?;
    reqwest::Client::builder()
        .tls_certs_only([])
        .identity(identity)
        .no_proxy()
        .build()
        .map(drop)
        .map_err(|e| root_cause(&e))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

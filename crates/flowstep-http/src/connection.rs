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
    let at = |key: &str, written: &Spanned<String>, u: Unusable| {
        let d = Diagnostic::error("E016", format!("`{key}`: {}", u.message), written.span);
        match u.help {
            Some(h) => d.with_help(h),
            None => d,
        }
    };
    if let Some(ca) = &o.ca {
        match certificates(&base, &ca.value) {
            Ok(pem) => client.ca = Some(pem),
            Err(u) => errors.push(at("tls.ca", ca, u)),
        }
    }
    if let Some(pair) = &o.client_cert {
        // A flow may come from someone else: it may not present the user's identity from
        // anywhere on the disk, only files beside it (`--cert`/`--key` take any path). A CA
        // bundle is public, and may be the system's.
        let beside = |written: &Spanned<String>| {
            crate::files::inside(&base, &written.value, false).map(|_| ()).map_err(|why| {
                Unusable::new(
                    why,
                    "a client certificate or key a flow names must be in the flow file's folder \
                     or below it; give one from elsewhere with `flowstep run --cert FILE --key FILE`",
                )
            })
        };
        let (cert_ok, key_ok) = (beside(&pair.cert), beside(&pair.key));
        if cert_ok.is_err() || key_ok.is_err() {
            errors.extend(cert_ok.err().map(|u| at("tls.client_cert", &pair.cert, u)));
            errors.extend(key_ok.err().map(|u| at("tls.client_key", &pair.key, u)));
            return Err(errors);
        }
        let cert = certificates(&base, &pair.cert.value);
        let key = private_key(&base, &pair.key.value);
        match (cert, key) {
            (Ok(cert), Ok(key)) => match identity(&cert, &key) {
                Ok(pem) => client.identity = Some(pem),
                Err(u) => errors.push(at("tls.client_key", &pair.key, u)),
            },
            (cert, key) => {
                errors.extend(cert.err().map(|u| at("tls.client_cert", &pair.cert, u)));
                errors.extend(key.err().map(|u| at("tls.client_key", &pair.key, u)));
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

impl Pem {
    /// A PEM file of certificates to trust (`flowstep run --cacert`), read and checked.
    pub fn ca_bundle(path: &Path) -> Result<Pem, String> {
        certificates(Path::new(""), &path.to_string_lossy()).map_err(|u| u.message)
    }

    /// A client certificate and its private key (`flowstep run --cert --key`), read and
    /// checked to belong together. No message quotes the key.
    pub fn identity(cert: &Path, key: &Path) -> Result<Pem, String> {
        let cert = certificates(Path::new(""), &cert.to_string_lossy()).map_err(|u| u.message)?;
        let key = private_key(Path::new(""), &key.to_string_lossy()).map_err(|u| u.message)?;
        identity(&cert, &key).map_err(|u| u.message)
    }
}

/// Why a file cannot serve: what is wrong, and what to do.
struct Unusable {
    message: String,
    help: Option<&'static str>,
}

impl Unusable {
    fn new(message: String, help: &'static str) -> Self {
        Unusable {
            message,
            help: Some(help),
        }
    }
}

/// Reads `written` (relative to `base` unless absolute): a regular file of at most
/// [`MAX_PEM_BYTES`].
fn read_pem(base: &Path, written: &str) -> Result<Pem, Unusable> {
    let as_written = Path::new(written);
    let path = if as_written.is_absolute() {
        as_written.to_path_buf()
    } else {
        base.join(as_written)
    };
    let shown = if path == as_written {
        format!("`{written}`")
    } else {
        format!("`{written}` ({})", path.display())
    };
    let fail = |why: String| {
        Unusable::new(
            format!("cannot read {shown}: {why}"),
            "paths are relative to the flow file's folder",
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

/// "no such file", without the "(os error 2)" a person has no use for.
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

/// A PEM file that holds at least one certificate, and only readable ones.
fn certificates(base: &Path, written: &str) -> Result<Pem, Unusable> {
    let pem = read_pem(base, written)?;
    let none = || {
        Unusable::new(
            format!("`{written}` holds no PEM certificate"),
            "a PEM certificate starts `-----BEGIN CERTIFICATE-----`",
        )
    };
    if !contains(pem.bytes(), b"-----BEGIN CERTIFICATE-----") {
        return Err(none());
    }
    match reqwest::Certificate::from_pem_bundle(pem.bytes()) {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        Ok(_) => Err(none()),
        Err(e) => Err(Unusable {
            message: format!(
                "`{written}` is not a readable PEM certificate file: {}",
                root_cause(&e)
            ),
            help: None,
        }),
    }
}

/// A PEM file that holds a private key. Its contents are never quoted.
fn private_key(base: &Path, written: &str) -> Result<Pem, Unusable> {
    let pem = read_pem(base, written)?;
    if contains(pem.bytes(), b"ENCRYPTED PRIVATE KEY-----")
        || contains(pem.bytes(), b"Proc-Type: 4,ENCRYPTED")
    {
        return Err(Unusable::new(
            format!("`{written}` holds an encrypted private key, which flowstep cannot use"),
            "decrypt it into a file only you can read, e.g. `openssl pkey -in KEY -out key.pem` (it asks for the passphrase)",
        ));
    }
    if !contains(pem.bytes(), b"PRIVATE KEY-----") {
        return Err(Unusable::new(
            format!("`{written}` holds no PEM private key"),
            "a PEM private key starts `-----BEGIN PRIVATE KEY-----` (PKCS#8), \
             `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----`",
        ));
    }
    Ok(pem)
}

/// A certificate chain and key as one client identity: parsed, and the key is the
/// certificate's. A client with no root certificates (so none are loaded) is built to find
/// out; the reason for a refusal comes from the TLS library and names no key material.
fn identity(cert: &Pem, key: &Pem) -> Result<Pem, Unusable> {
    let mut both = cert.bytes().to_vec();
    both.push(b'\n');
    both.extend_from_slice(key.bytes());
    let refused = |why: String| {
        // rustls's names for the two usual cases, in words.
        let why = match why.as_str() {
            w if w.contains("KeyMismatch") => {
                "the key is not the certificate's (they do not match)".to_owned()
            }
            _ => why,
        };
        Unusable::new(
            format!("the key cannot be used with the client certificate: {why}"),
            "the key must be the private key of the certificate's first (end-entity) certificate",
        )
    };
    let id = reqwest::Identity::from_pem(&both).map_err(|e| refused(root_cause(&e)))?;
    reqwest::Client::builder()
        .tls_certs_only([])
        .identity(id)
        .no_proxy()
        .build()
        .map_err(|e| refused(root_cause(&e)))?;
    Ok(Pem(both.into()))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

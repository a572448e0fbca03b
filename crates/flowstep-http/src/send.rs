//! One attempt on the wire with reqwest: routing, the network policy, the per-attempt time
//! limit, the response size cap, and redirects followed by hand so that secrets never follow
//! them to another origin.

use crate::binding;
use crate::config::{Route, route, unroute};
use crate::connection::{ClientOptions, ProxyChoice, Redirects};
use crate::dns_guard::DnsGuard;
use crate::network::{Denied, NetworkPolicy};
use crate::request::PreparedRequest;
use crate::resolve::Resolver;
use crate::secret_reads::{Place, SecretRead};
use crate::url::origin_of;
use crate::wire_log::WireLog;
use flowstep_engine::{BoundSecret, ErrorKind, Redactor, SourcePos, StepError};
use flowstep_spec::steps::HttpVersion;
use reqwest::Url;
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// reqwest clients, one per shape: the connect timeout, whether the network policy guards the
/// connection (not for route targets, nor when the policy allows all), whether the URL is
/// https, and the step's TLS and proxy options ([`ClientOptions`], interned when steps are
/// bound, so that steps with equal options share a client and its connection pool). reqwest
/// sets these on the client, not the request; building one is costly (an https client loads
/// the system's root certificates), so each is built once, when first needed, and a client for
/// plain `http://` URLs loads no root certificate at all.
#[derive(Debug)]
pub struct Clients {
    policy: Arc<NetworkPolicy>,
    resolver: Resolver,
    profiles: Mutex<Vec<Arc<ClientOptions>>>,
    built: Mutex<HashMap<ClientKey, reqwest::Client>>,
}

/// A step's [`ClientOptions`] as interned by [`Clients::profile`].
#[derive(Debug, Clone)]
pub struct Profile {
    id: usize,
    options: Arc<ClientOptions>,
}

impl Profile {
    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ClientKey {
    connect_timeout: Duration,
    guarded: bool,
    https: bool,
    profile: usize,
}

impl Clients {
    /// Clients that apply `policy` to the addresses `resolver` gives.
    pub fn new(policy: NetworkPolicy, resolver: Resolver) -> Self {
        Clients {
            policy: Arc::new(policy),
            resolver,
            profiles: Mutex::default(),
            built: Mutex::default(),
        }
    }

    /// The one profile for `options`: steps with equal options get the same one.
    pub fn profile(&self, options: ClientOptions) -> Profile {
        let mut profiles = self.profiles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = profiles.iter().position(|p| **p == options) {
            return Profile {
                id,
                options: profiles[id].clone(),
            };
        }
        let options = Arc::new(options);
        profiles.push(options.clone());
        Profile {
            id: profiles.len() - 1,
            options,
        }
    }

    /// Whether requests of `profile` may go through a proxy that resolves names itself, out
    /// of the policy's sight: an explicit `proxy:` under a policy that denies private networks
    /// (the environment's proxies are not used then).
    fn proxied_under_policy(&self, profile: &Profile) -> bool {
        self.policy.deny_private && matches!(profile.options.proxy, ProxyChoice::Url(_))
    }

    fn get(
        &self,
        connect_timeout: Duration,
        guarded: bool,
        https: bool,
        profile: &Profile,
    ) -> Result<reqwest::Client, StepError> {
        let o = &*profile.options;
        // Certificates matter only for TLS: to the server, or to an https proxy; and not at all
        // when they go unchecked.
        let https = (https || o.proxy.is_https()) && !o.insecure;
        let key = ClientKey {
            connect_timeout,
            guarded,
            https,
            profile: profile.id,
        };
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = built.get(&key) {
            return Ok(c.clone());
        }
        let mut builder = reqwest::Client::builder()
            // Redirects are followed by hand: reqwest would follow a POST's 303 as a GET and
            // decide on its own what to keep across hosts.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout);
        let ca = || {
            o.ca.as_ref()
                .map(|pem| reqwest::Certificate::from_pem_bundle(pem.bytes()))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let setup = |e: reqwest::Error| {
            StepError::invalid(format!("cannot set up the HTTP client: {}", root_cause(&e)))
        };
        if o.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        } else if https {
            // Added to the system's roots, so that a flow-wide `ca:` for an internal API does
            // not break the calls to public ones.
            builder = builder.tls_certs_merge(ca().map_err(setup)?);
        } else {
            // No TLS will be spoken: loading the system's roots would only cost time.
            builder = builder.tls_certs_only(Vec::new());
        }
        if let Some(id) = &o.identity {
            builder = builder.identity(reqwest::Identity::from_pem(id.bytes()).map_err(setup)?);
        }
        builder = match o.http_version {
            HttpVersion::Auto => builder,
            HttpVersion::Http1 => builder.http1_only(),
            HttpVersion::Http2 => builder.http2_prior_knowledge(),
        };
        builder = match &o.proxy {
            // The environment's proxy resolves and connects on its own, out of the policy's
            // sight: only used where the policy allows every address.
            ProxyChoice::Environment if guarded => builder.no_proxy(),
            ProxyChoice::Environment => builder,
            ProxyChoice::Off => builder.no_proxy(),
            ProxyChoice::Url(u) => builder.proxy(
                reqwest::Proxy::all(u.as_str())
                    .map_err(setup)?
                    .no_proxy(reqwest::NoProxy::from_env()),
            ),
        };
        if guarded {
            // The proxy's own address is resolved here too, and so checked.
            builder = builder.dns_resolver(Arc::new(DnsGuard {
                inner: self.resolver.get(),
                policy: Some(self.policy.clone()),
            }));
        } else if let Some(inner) = self.resolver.custom() {
            builder = builder.dns_resolver(Arc::new(DnsGuard {
                inner,
                policy: None,
            }));
        }
        let client = builder.build().map_err(setup)?;
        built.insert(key, client.clone());
        Ok(client)
    }

    /// Checks a host that a proxy will resolve (so the resolver never sees it) against the
    /// policy beforehand. The proxy resolves it again, so a name that answers differently the
    /// second time is not caught: documented as the limit of proxies under a policy.
    async fn precheck(&self, host: &str) -> Result<(), Denied> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.policy.check(host, ip);
        }
        // A name that does not resolve here may resolve at the proxy: let the proxy say.
        if let Ok(addrs) = self.resolver.get().resolve(host).await {
            self.policy.filter(host, addrs)?;
        }
        Ok(())
    }
}

/// A response, read whole (within the size cap).
#[derive(Debug, Clone)]
pub struct Received {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// Why an attempt produced no usable response.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The connection could not be made; nothing was sent.
    NotSent {
        /// What the network said.
        detail: String,
    },
    /// The request was sent and no complete answer came.
    NoAnswer {
        /// Whether the time limit ran out (rather than the connection closing).
        timeout: bool,
        /// What the network said.
        detail: String,
        /// The status, when headers came but the body did not.
        status: Option<u16>,
    },
    /// A final failure that no retry can change (redirect refused, body too large).
    Final(StepError),
}

/// Everything one attempt needs.
pub struct AttemptInput<'a> {
    /// The request as the flow means it.
    pub request: &'a PreparedRequest,
    /// Where URLs are sent instead.
    pub routes: &'a [Route],
    /// Every declared secret, for what a redirect may carry.
    pub secrets: &'a [BoundSecret],
    /// Which parts of the request read which secrets.
    pub reads: &'a [SecretRead],
    /// For error details, which may quote a URL.
    pub redactor: &'a Redactor,
    /// The limit for the whole attempt, redirects included.
    pub timeout: Duration,
    /// The limit for connecting.
    pub connect_timeout: Duration,
    /// The response size cap.
    pub max_bytes: usize,
    /// Where the URL is written, for a refusal of the first connection (a redirect's is
    /// the server's, and its refusal is the step's).
    pub url_at: SourcePos,
    /// The step's TLS and proxy options.
    pub profile: &'a Profile,
    /// Whether and how far redirects are followed.
    pub redirects: Redirects,
}

/// Sends one attempt, following GET/HEAD redirects (unless the step says not to: then a 3xx
/// is the answer).
pub async fn attempt(clients: &Clients, input: &AttemptInput<'_>) -> Result<Received, Failure> {
    let deadline = Instant::now() + input.timeout;
    let mut current = input.request.clone();
    let max = input.redirects.max as usize;
    for hop in 0..=max {
        let routed = route(input.routes, current.url.as_str());
        // Route targets are the operator's choice, never the flow's: always allowed.
        let guarded = clients.policy.deny_private && routed.is_none();
        // Parsed once here and handed to reqwest as a `Url`: a `&str` is parsed again by it.
        let target = match routed {
            None => current.url.clone(),
            // The URL itself is not quoted: its query may hold a secret (`auth: query`).
            Some(t) => Url::parse(&t).map_err(|e| {
                Failure::Final(StepError::invalid(format!(
                    "the URL this request is routed to cannot be read: {e}"
                )))
            })?,
        };
        let refused = |d: Denied| {
            Failure::Final(if hop == 0 {
                StepError::invalid(d.to_string()).located_at(input.url_at.clone())
            } else {
                StepError::invalid(format!(
                    "following the redirect to {}: {d}",
                    origin_of(&current.url)
                ))
            })
        };
        if guarded && let Some(ip) = literal_ip(&current.url) {
            clients.policy.check(&ip.to_string(), ip).map_err(refused)?;
        }
        if guarded
            && clients.proxied_under_policy(input.profile)
            && let Some(host) = current.url.host_str()
        {
            clients.precheck(host).await.map_err(refused)?;
        }
        let https = target.scheme() == "https";
        let client = clients
            .get(input.connect_timeout, guarded, https, input.profile)
            .map_err(Failure::Final)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Failure::NoAnswer {
                timeout: true,
                detail: "the time limit ran out while following redirects".into(),
                status: None,
            });
        }
        let response = match send_one(&client, &current, target, remaining).await {
            Ok(r) => r,
            Err(SendError::Method) => {
                return Err(Failure::Final(StepError::invalid("invalid HTTP method")));
            }
            Err(SendError::Http(e)) => {
                return Err(match denied_in(&e) {
                    Some(d) => refused(d),
                    None => match tls_refusal(&e, &current.url) {
                        Some(message) => Failure::Final(StepError::invalid(message)),
                        None => classify(&e, input.redactor, None),
                    },
                });
            }
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (Some(location), 301 | 302 | 303 | 307 | 308, true) =
            (location, status, input.redirects.follow)
        else {
            return read_body(response, &current.method, input.max_bytes).await;
        };
        let refuse = |message: String, kind: ErrorKind| {
            let mut e = StepError::new(kind, message);
            e.http_status = Some(status);
            Failure::Final(e)
        };
        if !matches!(current.method.as_str(), "GET" | "HEAD") {
            return Err(refuse_redirect(status, &current.method));
        }
        // The URL the request went to (reqwest follows no redirect itself): only a redirect
        // needs it again, so it is not kept for every request.
        let Ok(next) = response.url().join(&location) else {
            return Err(refuse(
                format!("the API redirected to a URL that cannot be read ({status})"),
                ErrorKind::Rejected,
            ));
        };
        // A redirect from a routed server is seen as the URL the flow meant.
        let next = unroute(input.routes, next.as_str())
            .and_then(|u| Url::parse(&u).ok())
            .unwrap_or(next);
        if hop == max {
            // The origin only: a redirect's path and query may carry anything.
            return Err(refuse(
                format!(
                    "the API redirected more than {max} times (`redirects.max` is {max}); the \
                     last redirect ({}) pointed to {}. Raise `redirects.max` (at most {}), or set \
                     `redirects: {{follow: false}}` to take a redirect as the answer",
                    status_line(status),
                    origin_of(&next),
                    flowstep_spec::steps::network_options::MAX_REDIRECTS_LIMIT
                ),
                ErrorKind::Rejected,
            ));
        }
        if !matches!(next.scheme(), "http" | "https") {
            return Err(refuse(
                format!("the API redirected to a `{}:` URL", next.scheme()),
                ErrorKind::Rejected,
            ));
        }
        if matches!(status, 301..=303) {
            current.body = None;
            current.upload = None;
            current.headers.remove("Content-Type");
        }
        if origin_of(&next) != origin_of(&current.url) {
            strip_secrets(&mut current, input.reads, input.secrets);
            if let Some(why) = unstrippable(&current, &next, input.reads, input.secrets) {
                return Err(refuse(
                    format!(
                        "refusing to follow the redirect to {}: {why}",
                        origin_of(&next)
                    ),
                    ErrorKind::Invalid,
                ));
            }
        }
        current.url = next;
        if let Some(m) = binding::misplaced(&current, &current.url, &[], input.secrets) {
            return Err(refuse(
                format!(
                    "refusing to follow the redirect to {}: the request would carry secret `{}`, \
                     which may only be sent to {}",
                    origin_of(&current.url),
                    m.secret.name,
                    binding::list(&m.secret.origins)
                ),
                ErrorKind::Invalid,
            ));
        }
        tracing::debug!(status, to = %input.redactor.redact(current.url.as_str()), "following redirect");
    }
    unreachable!("the loop returns on its last hop")
}

/// The address a URL names directly (`http://127.0.0.1:8080`, `http://[::1]/`), which no
/// resolver sees and so is checked on its own.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    // The URL parser writes IPv4 hosts in dotted form (`http://2130706433/` is 127.0.0.1)
    // and IPv6 ones in brackets.
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The policy refusal behind a reqwest error, if that is what it is (the resolver's error
/// travels as the error's source).
fn denied_in(e: &reqwest::Error) -> Option<Denied> {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    loop {
        if let Some(d) = cur.downcast_ref::<Denied>() {
            return Some(d.clone());
        }
        cur = cur.source()?;
    }
}

/// What a TLS handshake that failed over certificates comes to, in words that say what to do,
/// or `None` for any other error. Neither side can have read the request, so nothing was sent
/// (or done), and trying again would fail the same way: not retried.
fn tls_refusal(e: &reqwest::Error, url: &Url) -> Option<String> {
    use rustls::{AlertDescription as A, CertificateError as C, Error as T};
    let mut cur: &(dyn std::error::Error + 'static) = e;
    let tls = loop {
        if let Some(t) = cur.downcast_ref::<T>() {
            break t;
        }
        // An I/O error's `source()` skips the error it wraps, which is where rustls's travels
        // (inside one or two of them).
        cur = match cur
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => inner,
            None => cur.source()?,
        };
    };
    let origin = origin_of(url);
    let (what, fix) = match tls {
        T::InvalidCertificate(c) => (
            format!("the server's TLS certificate was refused ({tls}); nothing was sent"),
            match c {
                C::UnknownIssuer => {
                    "if the server's certificate is signed by a private CA, trust that CA with \
                     `tls: {ca: PATH}` (a PEM file, relative to the flow file)"
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the certificate is for another host name: check the URL's host"
                }
                C::Expired | C::ExpiredContext { .. } => {
                    "the certificate has expired: the server's operator must renew it"
                }
                // A self-signed certificate made as a CA (openssl req -x509's default) cannot
                // also be the server's own certificate, whoever trusts it.
                C::Other(o) if o.to_string().contains("CaUsedAsEndEntity") => {
                    "the server presents a CA certificate as its own (a self-signed certificate made with `CA:TRUE`, as `openssl req -x509` makes by default), which TLS refuses even when trusted: give the server a certificate signed by that CA, or one made with `-addext basicConstraints=critical,CA:FALSE`"
                }
                _ => "check the server's certificate, or trust its CA with `tls: {ca: PATH}`",
            },
        ),
        T::AlertReceived(A::CertificateRequired) => (
            format!(
                "the server requires a client certificate and refused the connection before \
                 reading the request ({tls})"
            ),
            "send one with `tls: {client_cert: PATH, client_key: PATH}`",
        ),
        T::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::AccessDenied,
        ) => (
            format!("the server refused the client certificate before reading the request ({tls})"),
            "check `tls.client_cert` and `tls.client_key`: the server must trust the CA that \
             signed the certificate",
        ),
        _ => return None,
    };
    Some(format!(
        "could not connect to {origin}: {what}. To fix it: {fix}"
    ))
}

/// The failure for a redirect answering a method that is not followed. A 301, 302 or 303
/// answers a request the server has usually carried out (Post/Redirect/Get: "done, see
/// there"), so the request may have taken effect (`unknown`); a 307 or 308 asks for the same
/// request elsewhere, so nothing was done (`rejected`).
fn refuse_redirect(status: u16, method: &str) -> Failure {
    let (kind, what) = if matches!(status, 307 | 308) {
        (
            ErrorKind::Rejected,
            "asks for the request to be sent elsewhere",
        )
    } else {
        (
            ErrorKind::Unknown,
            "usually means the request was carried out and the result is elsewhere, so it may \
             have taken effect",
        )
    };
    let mut e = StepError::new(
        kind,
        format!(
            "the API answered {} with a redirect, which {what}; {method} requests are not \
             redirected because repeating them elsewhere could do the work twice (check the URL).",
            status_line(status),
        ),
    );
    e.http_status = Some(status);
    Failure::Final(e)
}

/// Drops, before a request goes to another origin, every header that carries a secret: the
/// ones `auth:` filled, the ones whose templates read a secret, and any whose value holds a
/// declared secret in any form. (The query comes from the redirect's `Location`, so nothing
/// of the first URL's query goes on.)
fn strip_secrets(req: &mut PreparedRequest, reads: &[SecretRead], secrets: &[BoundSecret]) {
    let mut names = std::mem::take(&mut req.credentials.headers);
    req.credentials.query = None;
    names.extend(reads.iter().filter_map(|r| match &r.place {
        Place::Header(name) => Some(name.clone()),
        _ => None,
    }));
    let key_reads_secret = reads.iter().any(|r| r.place == Place::IdempotencyKey);
    let key = req.idempotency_key.clone();
    req.headers.0.retain(|(name, value)| {
        let carries = names.iter().any(|n| n.eq_ignore_ascii_case(name))
            || (key_reads_secret && key.as_deref() == Some(value.as_str()))
            || secrets
                .iter()
                .any(|s| binding::in_header(value, s.value.expose()));
        !carries
    });
}

/// Why a request (its headers already stripped) cannot go to `next`, another origin, without
/// a secret: the redirect's own URL holds one, or the body (kept by 307 and 308) does.
fn unstrippable(
    req: &PreparedRequest,
    next: &Url,
    reads: &[SecretRead],
    secrets: &[BoundSecret],
) -> Option<String> {
    for s in secrets {
        let v = s.value.expose();
        if binding::in_url(next, v) {
            return Some(format!("the redirect's URL carries secret `{}`", s.name));
        }
        let body_reads = reads
            .iter()
            .any(|r| r.name == s.name && r.place == Place::Body);
        let in_upload = req.upload.as_ref().is_some_and(|u| {
            body_reads || !u.texts.is_empty() && u.texts.iter().any(|t| binding::in_body(t, v))
        });
        if in_upload
            || req
                .body
                .as_deref()
                .is_some_and(|b| body_reads || binding::in_body(b, v))
        {
            return Some(format!(
                "the request body carries secret `{}`, and a body cannot be sent without it",
                s.name
            ));
        }
    }
    None
}

enum SendError {
    Method,
    Http(reqwest::Error),
}

async fn send_one(
    client: &reqwest::Client,
    req: &PreparedRequest,
    target: Url,
    timeout: Duration,
) -> Result<reqwest::Response, SendError> {
    let method =
        reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| SendError::Method)?;
    let mut builder = client.request(method, target).timeout(timeout);
    for (k, v) in &req.headers.0 {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
    }
    if let Some(upload) = &req.upload {
        builder = builder.body(upload.bytes.clone());
    }
    builder.send().await.map_err(SendError::Http)
}

/// Sorts a reqwest error into not sent / sent without an answer / cannot be built.
fn classify(e: &reqwest::Error, redactor: &Redactor, status: Option<u16>) -> Failure {
    let cause = root_cause(e);
    let unsent = never_started(e);
    // Hyper's own words for a request it gave back when the connection closed under it.
    let detail = if unsent
        && matches!(
            cause.as_str(),
            "connection was not ready" | "connection closed"
        ) {
        "the connection closed before the request went out".to_owned()
    } else {
        redactor.redact(&cause).into_owned()
    };
    if e.is_builder() {
        Failure::Final(StepError::invalid(format!(
            "the request cannot be built: {detail}"
        )))
    } else if (e.is_connect() || unsent) && status.is_none() {
        Failure::NotSent { detail }
    } else {
        Failure::NoAnswer {
            timeout: e.is_timeout(),
            detail,
            status,
        }
    }
}

/// Whether hyper gave the request back unwritten: the connection closed (a TLS alert read
/// right after the handshake, the server hanging up) before the request was handed to it.
/// Hyper calls that "canceled" and promises it "was never even started", which is why its own
/// client retries such requests; here it means nothing was sent.
fn never_started(e: &reqwest::Error) -> bool {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    loop {
        if let Some(h) = cur.downcast_ref::<hyper::Error>() {
            return h.is_canceled();
        }
        match cur.source() {
            Some(next) => cur = next,
            None => return false,
        }
    }
}

/// The innermost error message: "Connection refused (os error 111)" rather than reqwest's
/// outer "error sending request for url (...)", which also quotes the URL.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

async fn read_body(
    mut response: reqwest::Response,
    method: &str,
    max: usize,
) -> Result<Received, Failure> {
    let status = response.status().as_u16();
    let too_large = || {
        let limit = human_size(max);
        // A 2xx says the request was carried out; unread, its result is unknown. A safe method
        // (GET, HEAD, OPTIONS) changed nothing, so its body is merely too large.
        let mut e = if (200..300).contains(&status) && !matches!(method, "GET" | "HEAD" | "OPTIONS")
        {
            StepError::new(
                ErrorKind::Unknown,
                format!(
                    "the API answered {}, so the request was carried out, but the response body \
                     is larger than the {limit} limit and was not read.",
                    status_line(status)
                ),
            )
        } else {
            StepError::invalid(format!(
                "the response body is larger than the {limit} limit"
            ))
        };
        e.http_status = Some(status);
        Failure::Final(e)
    };
    // A HEAD answer announces the length of a body it does not send.
    if method != "HEAD" && response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                let detail = root_cause(&e);
                return Err(Failure::NoAnswer {
                    timeout: e.is_timeout(),
                    detail: format!("the response body was cut off: {detail}"),
                    status: Some(status),
                });
            }
        }
    }
    Ok(Received {
        status,
        headers: response.headers().clone(),
        body,
    })
}

/// `404 Not Found`.
pub fn status_line(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    match reason {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}

pub use crate::sizes::human_size;

/// `-v`: what one attempt came to, on the wire log: the answer's status and headers, or why
/// there was none.
pub(crate) fn log_attempt(
    w: &WireLog,
    result: &Result<Received, Failure>,
    elapsed_ms: u128,
    redactor: &flowstep_engine::Redactor,
) {
    match result {
        Ok(r) => w.response(
            (&status_line(r.status), &r.headers, &r.body),
            elapsed_ms,
            redactor,
        ),
        Err(Failure::NotSent { detail }) => {
            w.no_answer(&format!("could not connect: {detail}"), redactor)
        }
        Err(Failure::NoAnswer { detail, .. }) => {
            w.no_answer(&format!("no answer: {detail}"), redactor)
        }
        Err(Failure::Final(e)) => w.no_answer(&e.message, redactor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_status_lines_read_well() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_size(2048), "2 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
        assert_eq!(status_line(404), "404 Not Found");
        assert_eq!(status_line(599), "599");
    }
}

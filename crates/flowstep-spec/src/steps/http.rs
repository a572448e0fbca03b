//! The `http` step (External API Request) as data: method, URL, headers, query, auth, body,
//! response mapping, time limits, retries, idempotency and hints.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::duration::parse_duration;
use crate::rate::{Rate, parse_rate};
pub use crate::reader::is_header_name;
use crate::reader::{MapReader, expected, scalar_text};
use crate::response_map::{ResponseMapping, ResponseSource, read_map};
use crate::source::{SourceFile, Span, Spanned};
use crate::steps::file_body::{self, FileRef, Part, PartValue};
use crate::steps::network_options::NetworkOptions;
use crate::steps::oauth2::{self, OAuth2};
use crate::steps::paginate::PaginateSpec;
use crate::suggest::help_did_you_mean;
use crate::template::{Template, TemplateEnv};
use crate::value_template::{Destination, ValueTemplate, compile_string, literal_name};
use crate::yaml::Node;
use std::time::Duration;

/// Keys of an http step.
pub const KEYS: &[&str] = &[
    "id",
    "type",
    "description",
    "when",
    "next",
    "on_error",
    "method",
    "url",
    "headers",
    "query",
    "query_lists",
    "auth",
    "body_type",
    "body",
    "content_type",
    "response",
    "timeout",
    "connect_timeout",
    "retry",
    "rate_limit",
    "idempotency",
    "idempotency_header",
    "hints",
    "omit_nulls",
    "tls",
    "proxy",
    "redirects",
    "http_version",
    "paginate",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const BODY_TYPES: &[&str] = &["form", "json", "text", "multipart", "binary"];
const AUTH_TYPES: &[&str] = &["none", "bearer", "basic", "header", "query", "oauth2"];
const QUERY_LISTS: &[&str] = &["repeat", "brackets", "comma"];

/// The default time limit for a whole request, connect to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time limit for connecting.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time budget for retrying a step.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(60);
/// The default `Idempotency-Key` header name (Stripe's).
pub const DEFAULT_IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// `type: http`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSpec {
    /// `GET`, `POST`, ... (upper case).
    pub method: Spanned<String>,
    /// The URL, templated.
    pub url: Template,
    /// Extra headers: literal names, templated values.
    pub headers: Vec<(Spanned<String>, Template)>,
    /// Query parameters: a mapping, templated in names and values (encoded when sent).
    pub query: ValueTemplate,
    /// How a list in `query:` is sent.
    pub query_lists: QueryLists,
    /// How the request authenticates.
    pub auth: Auth,
    /// The body, if any.
    pub body: Option<Body>,
    /// A `content_type:` that overrides the body's default.
    pub content_type: Option<Spanned<String>>,
    /// `response.map`: each variable and where in the response its value comes from.
    pub map: Vec<ResponseMapping>,
    /// `response.save_to`: where a 2xx response's body is written (a path relative to the
    /// flow file, templated), instead of being held as text.
    pub save_to: Option<Template>,
    /// Limit for the whole request.
    pub timeout: Duration,
    /// Limit for connecting.
    pub connect_timeout: Duration,
    /// When and how often to retry.
    pub retry: RetrySpec,
    /// `rate_limit: 80/s`: the most requests per unit of time to this step's host, shared by
    /// every run in the process (and every step with a `rate_limit` for the same host).
    pub rate_limit: Option<Rate>,
    /// The idempotency key sent with the request.
    pub idempotency: Idempotency,
    /// The header the idempotency key is sent in.
    pub idempotency_header: String,
    /// Explanations printed when the step fails in a known way.
    pub hints: Vec<Hint>,
    /// `omit_nulls: true`: in a JSON body, fields whose value is null are left out (and objects
    /// left empty by that), as form bodies do; for APIs that read `null` as a wrong value.
    pub omit_nulls: bool,
    /// `tls`, `proxy`, `redirects` and `http_version` as the step writes them; the flow's
    /// `http:` block fills in what it leaves out.
    pub network: NetworkOptions,
    /// `paginate:`: follow pages and collect their items; `response.map` then reads the
    /// collection (`$.items`, `$.pages`, `$.capped`) and the last page's headers and status.
    pub paginate: Option<PaginateSpec>,
}

/// How a list in `query:` is sent (`tags: [a, b]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueryLists {
    /// `tags=a&tags=b`: what most servers read as a list (OpenAPI's `form`, `explode: true`).
    #[default]
    Repeat,
    /// `tags[]=a&tags[]=b`: PHP and Rails style, and Stripe's `expand[]`.
    Brackets,
    /// `tags=a,b`: one parameter, items joined by commas (OpenAPI's `explode: false`).
    Comma,
}

/// How a request authenticates: data, not a plugin.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer TOKEN`.
    Bearer {
        /// The token.
        token: Template,
    },
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user name.
        username: Template,
        /// The password (may be empty).
        password: Template,
    },
    /// A header of the API's choosing (`X-Api-Key: ...`).
    Header {
        /// The header name.
        name: Spanned<String>,
        /// Its value.
        value: Template,
    },
    /// A query parameter (`?api_key=...`).
    Query {
        /// The parameter name.
        name: Spanned<String>,
        /// Its value.
        value: Template,
    },
    /// `Authorization: Bearer` with a token from an OAuth 2.0 token endpoint (client
    /// credentials grant).
    OAuth2(Box<OAuth2>),
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `application/x-www-form-urlencoded`; nested maps and lists become bracket keys.
    Form(ValueTemplate),
    /// `application/json`.
    Json(ValueTemplate),
    /// Text sent as it is rendered, with `content_type` (default `text/plain; charset=utf-8`).
    Text(Template),
    /// `multipart/form-data`: text fields and files, in file order.
    Multipart(Vec<Part>),
    /// One file's bytes, with `content_type` (default `application/octet-stream`).
    Binary(FileRef),
}

impl Body {
    /// The files the body reads.
    pub fn files(&self) -> Vec<&FileRef> {
        match self {
            Body::Multipart(parts) => parts
                .iter()
                .filter_map(|p| match &p.value {
                    PartValue::File(f) => Some(f),
                    PartValue::Text(_) => None,
                })
                .collect(),
            Body::Binary(f) => vec![f],
            _ => Vec::new(),
        }
    }
}

/// The retry policy of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySpec {
    /// Attempts in all, including the first (1 = never retry).
    pub max_attempts: u32,
    /// The delay before the first retry; it doubles each time, with jitter.
    pub base_delay: Duration,
    /// The longest delay between attempts (a server's `Retry-After` may ask for more).
    pub max_delay: Duration,
    /// The step's time budget for retrying: no attempt starts later than this after the first
    /// one. A wait that would end later, a server's `Retry-After` included, ends the retries.
    pub budget: Duration,
}

impl Default for RetrySpec {
    /// Stripe's SDK defaults: two retries, 0.5 s doubling, at most 5 s; a minute in all.
    fn default() -> Self {
        RetrySpec {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            budget: DEFAULT_RETRY_BUDGET,
        }
    }
}

/// Where the idempotency key comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Idempotency {
    /// No key is sent; a POST or PATCH is then never retried.
    Off,
    /// A key derived from the run id and the step id, the same on every attempt.
    Auto,
    /// The author's key, e.g. `<<order_id>>`, so that a re-run for the same order reuses it.
    Key(Template),
}

/// An explanation for a known failure: matches a status and/or an API error code.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// The HTTP status it matches, if any.
    pub status: Option<u16>,
    /// The API error code it matches (`parameter_missing`), if any.
    pub code: Option<String>,
    /// The error kind it matches (`timeout`, `unknown`), if any.
    pub kind: Option<String>,
    /// Text the API's message must contain, if any.
    pub message_contains: Option<String>,
    /// The likely cause.
    pub cause: String,
    /// What to do.
    pub fix: String,
}

impl HttpSpec {
    /// Reads the type-specific keys of an http step.
    pub fn read(
        m: &mut MapReader<'_>,
        file: &SourceFile,
        env: &mut TemplateEnv,
        diags: &mut Diagnostics,
    ) -> Option<Self> {
        let s = |n: &Node, d: &mut Diagnostics, env: &mut TemplateEnv, what: &str| -> Template {
            match n.as_str().filter(|_| !n.is_null()) {
                Some(text) => compile_string(text, n, file, env, d),
                None => {
                    d.push(expected(n, "a string", what));
                    Template::literal("", n.span)
                }
            }
        };
        let method = match m.get("method") {
            Some(n) => scalar_text(n, "`method`", diags).and_then(|t| {
                let upper = t.value.to_ascii_uppercase();
                if METHODS.contains(&upper.as_str()) {
                    Some(Spanned::new(upper, t.span))
                } else {
                    diags.push(
                        Diagnostic::error(
                            "E008",
                            format!("unknown HTTP method `{}`", t.value),
                            t.span,
                        )
                        .with_help(format!("use one of {}", METHODS.join(", "))),
                    );
                    None
                }
            }),
            None => Some(Spanned::new("GET".to_owned(), m.start_span())),
        };
        // A `url` that is not a string is reported once: the step is not built, so nothing
        // goes on to check an empty URL in its place.
        let url = m.required("url", diags).and_then(|n| {
            let is_text = n.as_str().is_some() && !n.is_null();
            let url = s(n, diags, env, "`url`");
            is_text.then_some(url)
        });
        let headers = m
            .get("headers")
            .map(|n| read_headers(n, file, env, diags))
            .unwrap_or_default();
        let query = match m.get("query") {
            Some(n) if n.as_map().is_some() => {
                ValueTemplate::compile_for(n, Destination::Text, file, env, diags)
            }
            Some(n) if !n.is_null() => {
                diags.push(expected(n, "a mapping of names to values", "`query`"));
                ValueTemplate::Map(Vec::new())
            }
            _ => ValueTemplate::Map(Vec::new()),
        };
        let query_lists = match m.get("query_lists") {
            None => QueryLists::default(),
            Some(n) => match scalar_text(n, "`query_lists`", diags)
                .as_ref()
                .map(|t| t.value.as_str())
            {
                Some("repeat") => QueryLists::Repeat,
                Some("brackets") => QueryLists::Brackets,
                Some("comma") => QueryLists::Comma,
                Some(other) => {
                    diags.push(
                        Diagnostic::error(
                            "E010",
                            format!("unknown `query_lists` style `{other}`"),
                            n.span,
                        )
                        .with_help(format!("write one of {}", QUERY_LISTS.join(", "))),
                    );
                    QueryLists::default()
                }
                None => QueryLists::default(),
            },
        };
        let auth = m
            .get("auth")
            .map_or(Some(Auth::None), |n| read_auth(n, file, env, diags));
        let content_type = m
            .get("content_type")
            .and_then(|n| scalar_text(n, "`content_type`", diags));
        let body = read_body(m, file, env, diags);
        let (map, save_to) = m
            .get("response")
            .map(|n| read_response(n, file, env, diags))
            .unwrap_or_default();
        if let (Some(Body::Multipart(_)), Some(ct)) = (&body, &content_type) {
            diags.push(
                Diagnostic::error(
                    "E010",
                    "`content_type` cannot be set for a multipart body",
                    ct.span,
                )
                .with_help(
                    "the body is sent as `multipart/form-data` with a boundary chosen when it \
                     is built; give each file part its own `content_type`",
                ),
            );
        }
        let mut duration = |key: &str, default: Duration| match m.get(key) {
            None => default,
            Some(n) => {
                match scalar_text(n, &format!("`{key}`"), diags).map(|t| parse_duration(&t.value)) {
                    Some(Ok(d)) if !d.is_zero() => d,
                    Some(Ok(_)) => {
                        diags.push(Diagnostic::error(
                            "E010",
                            format!("`{key}` must be more than zero"),
                            n.span,
                        ));
                        default
                    }
                    Some(Err(e)) => {
                        diags.push(Diagnostic::error("E010", e, n.span));
                        default
                    }
                    None => default,
                }
            }
        };
        let timeout = duration("timeout", DEFAULT_TIMEOUT);
        let connect_timeout = duration("connect_timeout", DEFAULT_CONNECT_TIMEOUT);
        let retry = m
            .get("retry")
            .map_or_else(RetrySpec::default, |n| read_retry(n, diags));
        let rate_limit = m.get("rate_limit").and_then(|n| {
            match scalar_text(n, "`rate_limit`", diags).map(|t| parse_rate(&t.value)) {
                Some(Ok(rate)) => Some(rate),
                Some(Err(e)) => {
                    diags.push(
                        Diagnostic::error("E010", format!("`rate_limit`: {e}"), n.span).with_help(
                            "WhatsApp's Cloud API allows 80 messages a second per number \
                                 (`rate_limit: 80/s`); see your API's documentation for its limit",
                        ),
                    );
                    None
                }
                None => None,
            }
        });
        let idempotency = match m.get("idempotency") {
            None => Idempotency::Off,
            Some(n) => match n.as_str() {
                Some("auto") => Idempotency::Auto,
                Some("off") | Some("false") => Idempotency::Off,
                Some(text) if !n.is_null() => {
                    Idempotency::Key(compile_string(text, n, file, env, diags))
                }
                _ => {
                    diags.push(expected(
                        n,
                        "`auto`, `off` or a key template",
                        "`idempotency`",
                    ));
                    Idempotency::Off
                }
            },
        };
        let idempotency_header = m
            .get("idempotency_header")
            .and_then(|n| scalar_text(n, "`idempotency_header`", diags))
            .map_or_else(|| DEFAULT_IDEMPOTENCY_HEADER.to_owned(), |t| t.value);
        let omit_nulls = match m.get("omit_nulls") {
            None => false,
            Some(n) => match n.scalar_value() {
                Some(serde_json::Value::Bool(b)) => b,
                _ => {
                    diags.push(expected(n, "true or false", "`omit_nulls`"));
                    false
                }
            },
        };
        let hints = m
            .get("hints")
            .map(|n| read_hints(n, diags))
            .unwrap_or_default();
        let network = NetworkOptions::read(m, "this step", diags);
        let paginate = m.get("paginate").and_then(|n| PaginateSpec::read(n, diags));
        if let (Some(p), Some(method)) = (&paginate, &method) {
            check_paginated(p, method, &map, diags);
        }
        if let (Some(_), Some(to)) = (&paginate, &save_to) {
            diags.push(
                Diagnostic::error(
                    "E010",
                    "`response.save_to` cannot be used with `paginate`",
                    to.span(),
                )
                .with_help(
                    "a paginated step collects JSON items; save one file with a step of its own",
                ),
            );
        }
        Some(HttpSpec {
            method: method?,
            url: url?,
            headers,
            query,
            query_lists,
            auth: auth?,
            body,
            content_type,
            map,
            save_to,
            timeout,
            connect_timeout,
            retry,
            rate_limit,
            idempotency,
            idempotency_header,
            hints,
            omit_nulls,
            network,
            paginate,
        })
    }

    /// Every template in the step.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.url];
        out.extend(self.headers.iter().map(|(_, t)| t));
        out.extend(self.query.templates());
        match &self.auth {
            Auth::None => {}
            Auth::Bearer { token } => out.push(token),
            Auth::Basic { username, password } => out.extend([username, password]),
            Auth::Header { value, .. } | Auth::Query { value, .. } => out.push(value),
            Auth::OAuth2(o) => out.extend(o.templates()),
        }
        match &self.body {
            Some(Body::Form(v) | Body::Json(v)) => out.extend(v.templates()),
            Some(Body::Text(t)) => out.push(t),
            Some(Body::Multipart(parts)) => {
                for p in parts {
                    match &p.value {
                        PartValue::Text(t) => out.push(t),
                        PartValue::File(f) => out.extend(f.templates()),
                    }
                }
            }
            Some(Body::Binary(f)) => out.extend(f.templates()),
            None => {}
        }
        out.extend(self.save_to.as_ref());
        if let Idempotency::Key(t) = &self.idempotency {
            out.push(t);
        }
        out
    }

    /// The templates that carry credentials: secrets belong here and in headers, nowhere else.
    /// An OAuth2 scope or audience is not one: it is sent as written.
    pub fn auth_templates(&self) -> Vec<&Template> {
        match &self.auth {
            Auth::None => vec![],
            Auth::Bearer { token } => vec![token],
            Auth::Basic { username, password } => vec![username, password],
            Auth::Header { value, .. } | Auth::Query { value, .. } => vec![value],
            Auth::OAuth2(o) => vec![&o.client_id, &o.client_secret],
        }
    }
}

/// What a paginated step may not do: send a method other than GET (each page is a new
/// request, and only GET is safe to repeat page after page), or map a body path that reads a
/// page rather than the collection.
fn check_paginated(
    p: &PaginateSpec,
    method: &Spanned<String>,
    map: &[ResponseMapping],
    diags: &mut Diagnostics,
) {
    if method.value != "GET" {
        diags.push(
            Diagnostic::error(
                "E010",
                format!("`paginate` follows pages with GET; this step is a {}", method.value),
                p.span,
            )
            .with_help("list endpoints are read with GET; remove `paginate` from a step that changes something"),
        );
    }
    for m in map {
        let ResponseSource::Body(path) = &m.source else {
            continue;
        };
        let source = path.source();
        let reads_collection = source == "$"
            || ["$.items", "$.pages", "$.capped"].iter().any(|root| {
                source
                    .strip_prefix(root)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            });
        if !reads_collection {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{source}` reads one page, but this step collects pages"),
                    path.span(),
                )
                .with_help(
                    "with `paginate`, a body path reads the collection: `$.items` (every \
                     page's items, in order), `$.pages` (how many were requested) or \
                     `$.capped` (whether `max_pages` stopped it); `paginate.items` says which \
                     part of a page is its items",
                ),
            );
        }
    }
}

fn read_headers(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Vec<(Spanned<String>, Template)> {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            diags.push(expected(node, "a mapping of names to values", "`headers`"));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = literal_name(k, "`headers`", diags) else {
            continue;
        };
        if !is_header_name(&name.value) {
            diags.push(
                Diagnostic::error(
                    "E010",
                    format!("`{}` is not a valid header name", name.value),
                    k.span,
                )
                .with_help("header names are letters, digits and `-`, with no spaces or colons"),
            );
            continue;
        }
        let template = match v.scalar_value() {
            Some(serde_json::Value::Null) | None => {
                diags.push(expected(v, "a string", &format!("`{}`", name.value)));
                continue;
            }
            Some(_) => compile_string(v.as_str().unwrap_or_default(), v, file, env, diags),
        };
        out.push((name, template));
    }
    out
}

fn read_auth(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Auth> {
    const KEYS: &[&str] = &[
        "type",
        "token",
        "username",
        "password",
        "name",
        "value",
        "token_url",
        "client_id",
        "client_secret",
        "scope",
        "audience",
        "client_auth",
    ];
    let mut m = MapReader::new(node, "`auth`", KEYS, diags)?;
    let ty = scalar_text(m.required("type", diags)?, "`auth.type`", diags)?;
    let mut text =
        |m: &mut MapReader<'_>, key: &str, diags: &mut Diagnostics| -> Option<Template> {
            let n = m.required(key, diags)?;
            match n.scalar_value() {
                Some(serde_json::Value::Null) | None => {
                    diags.push(expected(n, "a string", &format!("`auth.{key}`")));
                    None
                }
                Some(_) => Some(compile_string(
                    n.as_str().unwrap_or_default(),
                    n,
                    file,
                    env,
                    diags,
                )),
            }
        };
    let auth = match ty.value.as_str() {
        "none" => Some(Auth::None),
        "bearer" => text(&mut m, "token", diags).map(|token| Auth::Bearer { token }),
        "basic" => {
            let username = text(&mut m, "username", diags);
            // An empty password is common (Stripe: the key is the user name).
            let password = match m.get("password") {
                Some(n) if !n.is_null() => Some(compile_string(
                    n.as_str().unwrap_or_default(),
                    n,
                    file,
                    env,
                    diags,
                )),
                _ => Some(Template::literal("", m.start_span())),
            };
            Some(Auth::Basic {
                username: username?,
                password: password?,
            })
        }
        "header" | "query" => {
            let name = m
                .required("name", diags)
                .and_then(|n| scalar_text(n, "`auth.name`", diags));
            let value = text(&mut m, "value", diags);
            if let Some(n) = &name
                && ty.value == "header"
                && !is_header_name(&n.value)
            {
                diags.push(Diagnostic::error(
                    "E010",
                    format!("`{}` is not a valid header name", n.value),
                    n.span,
                ));
            }
            match ty.value.as_str() {
                "header" => Some(Auth::Header {
                    name: name?,
                    value: value?,
                }),
                _ => Some(Auth::Query {
                    name: name?,
                    value: value?,
                }),
            }
        }
        "oauth2" => oauth2::read(&mut m, file, env, diags).map(|o| Auth::OAuth2(Box::new(o))),
        other => {
            diags.push(
                Diagnostic::error("E008", format!("unknown auth type `{other}`"), ty.span)
                    .with_help(
                        help_did_you_mean(other, AUTH_TYPES.iter().copied()).unwrap_or_else(|| {
                            format!("auth types are: {}", AUTH_TYPES.join(", "))
                        }),
                    ),
            );
            None
        }
    };
    // Keys that belong to another auth type are unknown here.
    let allowed: &[&str] = match ty.value.as_str() {
        "bearer" => &["token"],
        "basic" => &["username", "password"],
        "header" | "query" => &["name", "value"],
        "oauth2" => oauth2::KEYS,
        _ => &[],
    };
    for (k, _) in m.take_rest() {
        let key = k.as_str().unwrap_or_default();
        if !allowed.contains(&key) {
            diags.push(
                Diagnostic::error(
                    "E002",
                    format!("unknown key `{key}` in `auth` of type `{}`", ty.value),
                    k.span,
                )
                .with_help_opt(help_did_you_mean(key, allowed.iter().copied())),
            );
        }
    }
    auth
}

fn read_body(
    m: &mut MapReader<'_>,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<Body> {
    let body = m.get("body");
    let ty = m
        .get("body_type")
        .and_then(|n| scalar_text(n, "`body_type`", diags));
    match (ty, body) {
        (None, None) => None,
        (None, Some(b)) => {
            diags.push(
                Diagnostic::error(
                    "E003",
                    "missing `body_type` for `body`",
                    m.key_span("body").unwrap_or(b.span),
                )
                .with_help(
                    "set `body_type: form` (Stripe and most payment APIs), `json`, `text`, \
                     `multipart` (file uploads) or `binary` (a file's bytes)",
                ),
            );
            None
        }
        (Some(t), None) => {
            diags.push(Diagnostic::error(
                "E003",
                format!("`body_type: {}` is set but there is no `body`", t.value),
                t.span,
            ));
            None
        }
        (Some(t), Some(b)) => match t.value.as_str() {
            "form" => {
                if b.as_map().is_none() {
                    diags.push(expected(
                        b,
                        "a mapping of field names to values",
                        "a form `body`",
                    ));
                    return None;
                }
                Some(Body::Form(ValueTemplate::compile_for(
                    b,
                    Destination::Text,
                    file,
                    env,
                    diags,
                )))
            }
            "json" => Some(Body::Json(ValueTemplate::compile(b, file, env, diags))),
            "text" => match b.as_str().filter(|_| !b.is_null()) {
                Some(text) => Some(Body::Text(compile_string(text, b, file, env, diags))),
                None => {
                    diags.push(expected(b, "a string", "a text `body`"));
                    None
                }
            },
            "multipart" => file_body::read_multipart(b, file, env, diags).map(Body::Multipart),
            "binary" => file_body::read_binary(b, file, env, diags).map(Body::Binary),
            other => {
                diags.push(
                    Diagnostic::error("E008", format!("unknown body type `{other}`"), t.span)
                        .with_help(
                            help_did_you_mean(other, BODY_TYPES.iter().copied()).unwrap_or_else(
                                || format!("body types are: {}", BODY_TYPES.join(", ")),
                            ),
                        ),
                );
                None
            }
        },
    }
}

fn read_response(
    node: &Node,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> (Vec<ResponseMapping>, Option<Template>) {
    let Some(mut m) = MapReader::new(node, "`response`", &["map", "save_to"], diags) else {
        return (Vec::new(), None);
    };
    let out = m.get("map").map(|n| read_map(n, diags)).unwrap_or_default();
    let save_to =
        m.get("save_to").and_then(
            |n| match n.as_str().filter(|t| !n.is_null() && !t.is_empty()) {
                Some(t) => Some(compile_string(t, n, file, env, diags)),
                None => {
                    diags.push(expected(n, "a path", "`response.save_to`"));
                    None
                }
            },
        );
    m.finish(diags);
    (out, save_to)
}

fn read_retry(node: &Node, diags: &mut Diagnostics) -> RetrySpec {
    let mut spec = RetrySpec::default();
    if let Some(s) = node.as_str() {
        match s {
            "off" | "false" => spec.max_attempts = 1,
            _ => diags.push(expected(node, "a mapping or `off`", "`retry`")),
        }
        return spec;
    }
    let Some(mut m) = MapReader::new(
        node,
        "`retry`",
        &["max_attempts", "base_delay", "max_delay", "budget"],
        diags,
    ) else {
        return spec;
    };
    if let Some(n) = m.get("max_attempts") {
        match n.scalar_value().and_then(|v| v.as_u64()) {
            Some(a) if (1..=10).contains(&a) => spec.max_attempts = a as u32,
            _ => diags.push(Diagnostic::error(
                "E010",
                "`max_attempts` must be a whole number from 1 to 10",
                n.span,
            )),
        }
    }
    let mut base_written = false;
    let mut max_at = None;
    for (key, slot) in [
        ("base_delay", &mut spec.base_delay),
        ("max_delay", &mut spec.max_delay),
        ("budget", &mut spec.budget),
    ] {
        if let Some(n) = m.get(key) {
            match n.as_str().map(parse_duration) {
                Some(Ok(d)) => {
                    *slot = d;
                    match key {
                        "base_delay" => base_written = true,
                        "max_delay" => max_at = Some(n.span),
                        _ => {}
                    }
                }
                Some(Err(e)) => diags.push(Diagnostic::error("E010", e, n.span)),
                None => diags.push(expected(
                    n,
                    "a duration like `500ms`",
                    &format!("`retry.{key}`"),
                )),
            }
        }
    }
    // The delay doubles from `base_delay` up to `max_delay`: a ceiling under the start is a
    // mistake in one of the two, not a rule to pick from.
    if let Some(at) = max_at
        && spec.max_delay < spec.base_delay
    {
        let base = if base_written {
            format!("`base_delay`, {}", show_duration(spec.base_delay))
        } else {
            format!(
                "the default `base_delay`, {}",
                show_duration(spec.base_delay)
            )
        };
        diags.push(
            Diagnostic::error(
                "E010",
                format!(
                    "`max_delay` ({}) must be at least {base}",
                    show_duration(spec.max_delay)
                ),
                at,
            )
            .with_help("the delay before each retry doubles from `base_delay` up to `max_delay`"),
        );
    }
    m.finish(diags);
    spec
}

/// A duration as a flow writes it: `1s`, `500ms`.
fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn read_hints(node: &Node, diags: &mut Diagnostics) -> Vec<Hint> {
    const KEYS: &[&str] = &["status", "code", "kind", "message_contains", "cause", "fix"];
    let Some(items) = node.as_seq() else {
        diags.push(expected(node, "a list", "`hints`"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(mut m) = MapReader::new(item, "a hint", KEYS, diags) else {
            continue;
        };
        let status =
            m.get("status")
                .and_then(|n| match n.scalar_value().and_then(|v| v.as_u64()) {
                    Some(s) if (100..=599).contains(&s) => Some(s as u16),
                    _ => {
                        diags.push(Diagnostic::error(
                            "E010",
                            "a hint's `status` must be an HTTP status code like 401",
                            n.span,
                        ));
                        None
                    }
                });
        let text = |m: &mut MapReader<'_>, key: &str, diags: &mut Diagnostics| {
            m.get(key)
                .and_then(|n| scalar_text(n, &format!("`{key}`"), diags))
                .map(|t| t.value)
        };
        let code = text(&mut m, "code", diags);
        let kind = text(&mut m, "kind", diags);
        let message_contains = text(&mut m, "message_contains", diags);
        let cause = m
            .required("cause", diags)
            .and_then(|n| scalar_text(n, "`cause`", diags));
        let fix = m
            .required("fix", diags)
            .and_then(|n| scalar_text(n, "`fix`", diags));
        if status.is_none() && code.is_none() && kind.is_none() && message_contains.is_none() {
            diags.push(Diagnostic::error(
                "E003",
                "a hint must match something: set `status`, `code`, `kind` or `message_contains`",
                m.start_span(),
            ));
        }
        m.finish(diags);
        if let (Some(cause), Some(fix)) = (cause, fix) {
            out.push(Hint {
                status,
                code,
                kind,
                message_contains,
                cause: cause.value,
                fix: fix.value,
            });
        }
    }
    out
}

/// A span covering nothing at `at`, for errors about a missing thing.
pub fn point(at: Span) -> Span {
    Span::new(at.start, at.start)
}

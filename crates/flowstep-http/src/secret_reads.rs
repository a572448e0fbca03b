//! Which declared secrets each part of a request reads, known from its templates when the step
//! is bound. Host bindings and redirect rules are decided on this data flow, so they hold
//! whatever form the value takes on the wire (Basic's base64, percent-encoding, JSON escaping,
//! inside a longer header value); scanning the rendered request for values is only the
//! backstop for secrets that reach a request some other way.

use flowstep_spec::steps::{Auth, Body, HttpSpec, Idempotency, OAuth2, PartValue};
use flowstep_spec::template::Reference;
use flowstep_spec::{Span, Template, ValueTemplate};
use std::fmt;

/// A part of a request a secret can travel in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `url:`.
    Url,
    /// One `query:` parameter.
    Query(String),
    /// One `headers:` entry.
    Header(String),
    /// `auth:` (whatever header or query parameter it fills).
    Auth,
    /// `body:`.
    Body,
    /// `idempotency:`.
    IdempotencyKey,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Url => f.write_str("`url`"),
            Place::Query(name) => write!(f, "query parameter `{name}`"),
            Place::Header(name) => write!(f, "header `{name}`"),
            Place::Auth => f.write_str("`auth`"),
            Place::Body => f.write_str("`body`"),
            Place::IdempotencyKey => f.write_str("`idempotency`"),
        }
    }
}

/// One secret read by one part of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRead {
    /// The secret's name.
    pub name: String,
    /// Where the request carries it.
    pub place: Place,
    /// The expression that reads it (the first one, when several do).
    pub span: Span,
}

/// Every secret of `declared` that `spec`'s templates read, with where. `<<secrets>>` alone
/// (the whole mapping, e.g. through a helper) reads every secret.
/// An `oauth2` auth's client id and secret are not among them: they go to the token URL, never
/// to the API (see [`token_reads`]).
pub fn reads(spec: &HttpSpec, declared: &[&str]) -> Vec<SecretRead> {
    let mut out: Vec<SecretRead> = Vec::new();
    let mut add = |refs: &mut dyn Iterator<Item = &Reference>, place: Place| {
        collect(&mut out, refs, place, declared);
    };
    add(&mut spec.url.references(), Place::Url);
    if let ValueTemplate::Map(entries) = &spec.query {
        for (name, v) in entries {
            let refs = name.references().chain(v.references());
            add(
                &mut refs.collect::<Vec<_>>().into_iter(),
                Place::Query(name.source()),
            );
        }
    }
    for (name, t) in &spec.headers {
        add(&mut t.references(), Place::Header(name.value.clone()));
    }
    let auth: Vec<&Template> = match &spec.auth {
        Auth::None => Vec::new(),
        Auth::Bearer { token } => vec![token],
        Auth::Basic { username, password } => vec![username, password],
        Auth::Header { value, .. } | Auth::Query { value, .. } => vec![value],
        Auth::OAuth2(_) => Vec::new(),
    };
    add(&mut auth.iter().flat_map(|t| t.references()), Place::Auth);
    let body: Vec<&Reference> = match &spec.body {
        None => Vec::new(),
        Some(Body::Form(v) | Body::Json(v)) => ValueTemplate::references(v),
        Some(Body::Text(t)) => t.references().collect(),
        Some(Body::Multipart(parts)) => parts
            .iter()
            .flat_map(|p| match &p.value {
                PartValue::Text(t) => t.references().collect::<Vec<_>>(),
                PartValue::File(f) => f
                    .templates()
                    .into_iter()
                    .flat_map(|t| t.references())
                    .collect(),
            })
            .collect(),
        Some(Body::Binary(f)) => f
            .templates()
            .into_iter()
            .flat_map(|t| t.references())
            .collect(),
    };
    add(&mut body.into_iter(), Place::Body);
    if let Idempotency::Key(t) = &spec.idempotency {
        add(&mut t.references(), Place::IdempotencyKey);
    }
    out
}

/// The secrets an `oauth2` auth's token request reads, as `auth` reads them: the client id
/// (when it is a secret) and the client secret.
pub fn token_reads(o: &OAuth2, declared: &[&str]) -> Vec<SecretRead> {
    let mut out = Vec::new();
    let mut refs = o.client_id.references().chain(o.client_secret.references());
    collect(&mut out, &mut refs, Place::Auth, declared);
    out
}

/// Adds each secret `refs` read to `out` once per place. `<<secrets>>` alone reads them all.
fn collect(
    out: &mut Vec<SecretRead>,
    refs: &mut dyn Iterator<Item = &Reference>,
    place: Place,
    declared: &[&str],
) {
    for r in refs {
        let names: Vec<&str> = match r.path.as_slice() {
            [root] if root == "secrets" => declared.to_vec(),
            [root, name, ..] if root == "secrets" => vec![name.as_str()],
            _ => Vec::new(),
        };
        for name in names {
            if !out.iter().any(|o| o.name == name && o.place == place) {
                out.push(SecretRead {
                    name: name.to_owned(),
                    place: place.clone(),
                    span: r.span,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::{flow, spec};

    fn read(name: &str, place: Place) -> (String, Place) {
        (name.into(), place)
    }

    fn reads(spec: &HttpSpec, declared: &[&str]) -> Vec<(String, Place)> {
        super::reads(spec, declared)
            .into_iter()
            .map(|r| (r.name, r.place))
            .collect()
    }

    #[test]
    fn every_part_that_reads_a_secret_is_known_before_rendering() {
        let f = flow(
            "    url: https://api.example.com/x\n    headers:\n      X-Sig: \"t=1,<<secrets.KEY>>\"\n      X-Plain: hello\n    auth: { type: basic, username: \"<<secrets.KEY>>\", password: \"\" }\n",
        );
        assert_eq!(
            reads(spec(&f), &["KEY"]),
            [
                read("KEY", Place::Header("X-Sig".into())),
                read("KEY", Place::Auth)
            ]
        );
        let f = flow(
            "    url: https://api.example.com/x\n    auth: { type: query, name: k, value: \"<<upper secrets.KEY>>\" }\n",
        );
        assert_eq!(reads(spec(&f), &["KEY"]), [read("KEY", Place::Auth)]);
        let f = flow("    url: https://api.example.com/<<v>>\n    query: { q: <<v>> }\n");
        assert_eq!(reads(spec(&f), &["KEY"]), []);
    }
}

//! `auth: {type: oauth2}`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) as data,
//! and how it is read. The token URL is written out (never templated) so that where the client
//! secret goes is known when the flow is read; the client secret is always a declared secret.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::reader::{MapReader, expected, scalar_text};
use crate::source::{SourceFile, Spanned};
use crate::suggest::help_did_you_mean;
use crate::template::{Template, TemplateEnv};
use crate::value_template::compile_string;
use crate::yaml::Node;

/// The keys of an `oauth2` auth besides `type`.
pub const KEYS: &[&str] = &[
    "token_url",
    "client_id",
    "client_secret",
    "scope",
    "audience",
    "client_auth",
];

const CLIENT_AUTHS: &[&str] = &["basic", "body"];

/// `auth: {type: oauth2, ...}`: a token from the client credentials grant, sent as
/// `Authorization: Bearer`.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuth2 {
    /// Where the token is asked for, as written (checked to be https, or http to loopback, and
    /// against the client secret's `hosts:` when the step is bound).
    pub token_url: Spanned<String>,
    /// The client identifier: literal text or a secret (RFC 6749 §2.2: it is not a secret,
    /// but many providers treat it as one).
    pub client_id: Template,
    /// The client secret: exactly one `<<secrets.NAME>>` expression.
    pub client_secret: Template,
    /// `scope`, space-separated, when the provider needs one.
    pub scope: Option<Template>,
    /// `audience`, which Auth0 and others ask for beside the grant.
    pub audience: Option<Template>,
    /// How the client authenticates to the token endpoint.
    pub client_auth: ClientAuth,
}

/// How the client id and secret reach the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// `Authorization: Basic`, each part form-encoded first: what every server must support.
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body, for servers that only take that.
    Body,
}

impl OAuth2 {
    /// Every template: the client id and secret (credential positions), scope and audience.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.client_id, &self.client_secret];
        out.extend(self.scope.iter().chain(self.audience.iter()));
        out
    }
}

/// Reads the keys of an `oauth2` auth from `m` (its `type` already read).
pub fn read(
    m: &mut MapReader<'_>,
    file: &SourceFile,
    env: &mut TemplateEnv,
    diags: &mut Diagnostics,
) -> Option<OAuth2> {
    let mut text = |m: &mut MapReader<'_>,
                    key: &str,
                    required: bool,
                    diags: &mut Diagnostics|
     -> Option<Template> {
        let n = if required {
            m.required(key, diags)?
        } else {
            m.get(key)?
        };
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
    let token_url = m
        .required("token_url", diags)
        .and_then(|n| token_url(n, diags));
    let client_id = text(m, "client_id", true, diags);
    let client_secret = text(m, "client_secret", true, diags).and_then(|t| {
        if reads_one_secret(&t) {
            return Some(t);
        }
        diags.push(
            Diagnostic::error(
                "E012",
                "`auth.client_secret` must be a declared secret, written `<<secrets.NAME>>`",
                t.span(),
            )
            .with_label("the client secret would be readable by anyone who reads the flow")
            .with_help(
                "declare it under `secrets:` (with `hosts:` naming the token URL's host) and \
                 set it in the environment: `client_secret: \"<<secrets.ORDERS_CLIENT_SECRET>>\"`",
            ),
        );
        None
    });
    let scope = text(m, "scope", false, diags);
    let audience = text(m, "audience", false, diags);
    let client_auth = match m.get("client_auth") {
        None => ClientAuth::Basic,
        Some(n) => match scalar_text(n, "`auth.client_auth`", diags)
            .as_ref()
            .map(|t| t.value.as_str())
        {
            Some("basic") => ClientAuth::Basic,
            Some("body") => ClientAuth::Body,
            Some(other) => {
                diags.push(
                    Diagnostic::error(
                        "E010",
                        format!("unknown `auth.client_auth` `{other}`"),
                        n.span,
                    )
                    .with_help(
                        help_did_you_mean(other, CLIENT_AUTHS.iter().copied()).unwrap_or_else(
                            || {
                                "write `basic` (HTTP Basic, the default) or `body` (in the form \
                                 body)"
                                    .to_owned()
                            },
                        ),
                    ),
                );
                ClientAuth::Basic
            }
            None => ClientAuth::Basic,
        },
    };
    Some(OAuth2 {
        token_url: token_url?,
        client_id: client_id?,
        client_secret: client_secret?,
        scope,
        audience,
        client_auth,
    })
}

/// The token URL as written: text without `<<`, since the client secret goes there.
fn token_url(n: &Node, diags: &mut Diagnostics) -> Option<Spanned<String>> {
    let t = scalar_text(n, "`auth.token_url`", diags)?;
    if t.value.contains("<<") {
        diags.push(
            Diagnostic::error(
                "E010",
                "`auth.token_url` must be written out, without `<<`",
                t.span,
            )
            .with_label("the client secret is sent here")
            .with_help(
                "write the token endpoint's URL as the provider documents it \
                 (`https://auth.example.com/oauth/token`), so that where the secret goes is \
                 checked when the flow is read",
            ),
        );
        return None;
    }
    Some(t)
}

/// Whether `t` is exactly `<<secrets.NAME>>`.
fn reads_one_secret(t: &Template) -> bool {
    t.is_one_expression()
        && t.references().count() == 1
        && t.references()
            .all(|r| r.path.len() == 2 && r.path[0] == "secrets")
}

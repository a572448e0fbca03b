//! Auth kinds onto a request: bearer, basic, a header or a query parameter, and an OAuth2
//! access token once it is fetched. Every credential is handed to the redactor before anything
//! is recorded or logged.

use crate::headers::{Headers, check_header_value};
use crate::render::Renderer;
use base64::Engine as _;
use flowstep_engine::{Redactor, StepError};
use flowstep_spec::steps::Auth;

/// Where the credentials went, so that a redirect to another host can strip them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Headers that carry a credential (`Authorization`, `X-Api-Key`).
    pub headers: Vec<String>,
    /// The query parameter that carries one, if any.
    pub query: Option<String>,
}

/// Renders the auth templates, registers the credentials with the redactor, and adds them to
/// the headers or query.
pub fn apply(
    auth: &Auth,
    r: &Renderer<'_>,
    redactor: &Redactor,
    headers: &mut Headers,
    query: &mut Vec<(String, String)>,
) -> Result<Credentials, StepError> {
    let mut creds = Credentials::default();
    match auth {
        Auth::None => {}
        Auth::Bearer { token } => {
            let token = r.credential_text(token)?;
            redactor.add(&token);
            check_header_value("Authorization", "the bearer token", &token)?;
            headers.set("Authorization", format!("Bearer {token}"));
            creds.headers.push("Authorization".into());
        }
        Auth::Basic { username, password } => {
            let username = r.credential_text(username)?;
            let password = r.credential_text(password)?;
            // The user name is not hidden: it is often a plain word ("api") that would mask
            // unrelated text. Stripe's key-as-user-name is a declared secret, hidden already.
            redactor.add(&password);
            if username.contains(':') {
                return Err(StepError::invalid(
                    "the basic auth user name contains `:`, which Basic auth cannot carry",
                ));
            }
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            redactor.add_derived(&encoded);
            headers.set("Authorization", format!("Basic {encoded}"));
            creds.headers.push("Authorization".into());
        }
        Auth::Header { name, value } => {
            let value = r.credential_text(value)?;
            redactor.add(&value);
            check_header_value(
                &name.value,
                &format!("the `{}` auth header", name.value),
                &value,
            )?;
            headers.set(&name.value, value);
            creds.headers.push(name.value.clone());
        }
        Auth::Query { name, value } => {
            let value = r.credential_text(value)?;
            redactor.add(&value);
            query.push((name.value.clone(), value));
            creds.query = Some(name.value.clone());
        }
        // The token is fetched when the request is about to be sent, and put on it with
        // `set_token`; which header it goes in is known now, for redirects.
        Auth::OAuth2(_) => creds.headers.push("Authorization".into()),
    }
    Ok(creds)
}

/// Puts an OAuth2 access token on a request as `Authorization: Bearer`, hidden first.
pub fn set_token(headers: &mut Headers, token: &str, redactor: &Redactor) -> Result<(), StepError> {
    redactor.add(token);
    check_header_value("Authorization", "the OAuth2 access token", token)?;
    headers.set("Authorization", format!("Bearer {token}"));
    Ok(())
}

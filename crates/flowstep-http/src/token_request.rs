//! The token request of `auth: {type: oauth2}`: the client credentials grant (RFC 6749 §4.4)
//! sent to the token URL with the step's connection options and retry rules, and its answer
//! read: the access token (§5.1), or the endpoint's refusal (§5.2) as a step error that names
//! the token URL and the OAuth error code, never a credential. Every token in an answer joins
//! the run's redactor before the answer is logged or read further.

use crate::api_error;
use crate::auth::Credentials;
use crate::config::route;
use crate::headers::Headers;
use crate::request::PreparedRequest;
use crate::retry::{self, Attempt, Decision, Wait};
use crate::send::{self, AttemptInput, Clients, Failure, Received, status_line};
use crate::token_cache::{Asked, Token};
use crate::wire_log::WireLog;
use base64::Engine as _;
use flowstep_engine::{ErrorKind, Redactor, SourcePos, StepError};
use flowstep_spec::duration::MAX_DURATION;
use flowstep_spec::steps::{ClientAuth, RetrySpec};
use reqwest::Url;
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime};

/// The longest part of a token endpoint's answer quoted in an error.
const EXCERPT_CHARS: usize = 200;

/// How every token error ends: nothing went to the API.
pub const NOT_SENT: &str = "; the API request was not sent";

/// The token request: `POST token_url` with a form body `grant_type=client_credentials` (and
/// `scope`, `audience`), the client authenticated by HTTP Basic (each part form-encoded first,
/// RFC 6749 §2.3.1) or in the body. The credentials join `redactor` in every form they take.
pub fn build(
    url: Url,
    asked: &Asked<'_>,
    user_agent: &str,
    redactor: &Redactor,
) -> PreparedRequest {
    let mut form = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
    for (name, value) in [("scope", asked.scope), ("audience", asked.audience)] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            form.push((name.to_owned(), v.to_owned()));
        }
    }
    let mut headers = Headers::default();
    headers.set("User-Agent", user_agent.to_owned());
    headers.set("Accept", "application/json".to_owned());
    headers.set(
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    );
    redactor.add(asked.client_secret);
    let mut credentials = Credentials::default();
    match asked.client_auth {
        ClientAuth::Basic => {
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(asked.client_id), enc(asked.client_secret));
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            redactor.add_derived(&encoded);
            headers.set("Authorization", format!("Basic {encoded}"));
            credentials.headers.push("Authorization".into());
        }
        ClientAuth::Body => {
            form.push(("client_id".to_owned(), asked.client_id.to_owned()));
            form.push(("client_secret".to_owned(), asked.client_secret.to_owned()));
        }
    }
    PreparedRequest {
        method: "POST".to_owned(),
        url,
        headers,
        body: Some(crate::form::encode(&form)),
        upload: None,
        idempotency_key: None,
        credentials,
    }
}

/// What sending the token request needs besides the request.
pub struct Fetch<'a> {
    /// The shared clients.
    pub clients: &'a Clients,
    /// The attempt, its request the token request.
    pub input: AttemptInput<'a>,
    /// The step's retry rules.
    pub retry: &'a RetrySpec,
    /// `-v`/`-vv`.
    pub wire: Option<&'a WireLog>,
    /// For the wire log.
    pub step_id: &'a str,
    /// The token URL as written, for messages.
    pub token_url: &'a str,
    /// Where it is written, for errors.
    pub token_url_at: SourcePos,
}

/// Sends the token request, retrying what the step's retry rules retry (asking for a token
/// does nothing twice, so any method's rules apply: a connection that failed, no answer, 409,
/// 429 and 5xx, after `Retry-After`), and reads the token from the answer.
pub async fn fetch(f: &Fetch<'_>) -> Result<Token, StepError> {
    let req = f.input.request;
    let redactor = f.input.redactor;
    let target = route(f.input.routes, req.url.as_str()).unwrap_or_else(|| req.url.to_string());
    let max_attempts = f.retry.max_attempts.max(1);
    let first_started = Instant::now();
    let label = format!("{} (OAuth2 token)", f.step_id);
    let mut attempts = 0;
    let result = loop {
        attempts += 1;
        if let Some(w) = f.wire {
            w.request(&label, (attempts, max_attempts), req, &target, redactor);
        }
        let started = Instant::now();
        let result = send::attempt(f.clients, &f.input).await;
        if let Ok(r) = &result {
            hide_tokens(&r.body, redactor);
        }
        if let Some(w) = f.wire {
            send::log_attempt(w, &result, started.elapsed().as_millis(), redactor);
        }
        let seen = match &result {
            Ok(r) => Attempt::Answered {
                status: r.status,
                should_retry: None,
                retry_after: r
                    .headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry::parse_retry_after(v, SystemTime::now())),
            },
            Err(Failure::NotSent { .. }) => Attempt::NotSent,
            Err(Failure::NoAnswer { .. }) => Attempt::NoAnswer,
            Err(Failure::Final(_)) => break result,
        };
        let Decision::Retry { at_least } = retry::decide(&seen, true) else {
            break result;
        };
        if attempts >= max_attempts {
            break result;
        }
        let backoff = retry::backoff(attempts, f.retry.base_delay, f.retry.max_delay);
        let left = f
            .retry
            .budget
            .min(MAX_DURATION)
            .saturating_sub(first_started.elapsed());
        match retry::plan_wait(backoff, at_least, left) {
            Wait::Sleep(wait) => {
                tracing::info!(
                    "{label}: attempt {attempts} of {max_attempts} failed; waiting {}ms before \
                     attempt {}",
                    wait.as_millis(),
                    attempts + 1
                );
                tokio::time::sleep(wait).await;
            }
            Wait::PastBudget { .. } | Wait::Spent => break result,
        }
    };
    read(result, attempts, f.token_url, f.input.timeout, redactor)
        .map_err(|e| e.located_at(f.token_url_at.clone()))
}

/// Hides every token in a token endpoint's answer, before anything logs it.
fn hide_tokens(body: &[u8], redactor: &Redactor) {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    for key in ["access_token", "refresh_token", "id_token"] {
        if let Some(Value::String(t)) = m.get(key)
            && !t.is_empty()
        {
            redactor.add(t);
        }
    }
}

/// The token in an answer, or why there is none.
pub(crate) fn read(
    result: Result<Received, Failure>,
    attempts: u32,
    url: &str,
    timeout: Duration,
    redactor: &Redactor,
) -> Result<Token, StepError> {
    let not_sent = NOT_SENT;
    let tries = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    let r = match result {
        Ok(r) => r,
        Err(Failure::NotSent { detail }) => {
            return Err(StepError::new(
                ErrorKind::Transient,
                format!(
                    "could not connect to the OAuth2 token endpoint {url}{tries}: {detail}{not_sent}"
                ),
            ));
        }
        Err(Failure::NoAnswer {
            timeout: true,
            status,
            ..
        }) => {
            let mut e = StepError::new(
                ErrorKind::Transient,
                format!(
                    "the OAuth2 token endpoint {url} did not answer within {}s{tries}{not_sent}",
                    timeout.as_secs_f64()
                ),
            );
            e.http_status = status;
            return Err(e);
        }
        Err(Failure::NoAnswer { detail, status, .. }) => {
            let mut e = StepError::new(
                ErrorKind::Transient,
                format!(
                    "the connection to the OAuth2 token endpoint {url} ended without an \
                     answer{tries} ({detail}){not_sent}"
                ),
            );
            e.http_status = status;
            return Err(e);
        }
        Err(Failure::Final(mut e)) => {
            e.message = format!(
                "getting an OAuth2 token from {url}: {}{not_sent}",
                e.message
            );
            return Err(e);
        }
    };
    let body = serde_json::from_slice::<Value>(&r.body).ok();
    if !(200..300).contains(&r.status) {
        return Err(refusal(&r, body.as_ref(), url, &tries, redactor));
    }
    let unusable = |why: &str| {
        let mut e = StepError::new(
            ErrorKind::Rejected,
            format!(
                "the OAuth2 token endpoint {url} answered {} {why} (RFC 6749 §5.1){not_sent}",
                status_line(r.status)
            ),
        );
        e.http_status = Some(r.status);
        e
    };
    let Some(Value::Object(m)) = body else {
        return Err(unusable("without a JSON object"));
    };
    let token = match m.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => return Err(unusable("without an `access_token`")),
    };
    if let Some(ty) = m.get("token_type").and_then(Value::as_str)
        && !ty.eq_ignore_ascii_case("bearer")
    {
        return Err(StepError::invalid(format!(
            "the OAuth2 token endpoint {url} issued a token of type `{ty}`; flowstep sends only \
             Bearer tokens (RFC 6750){not_sent}"
        )));
    }
    // A number, or a number in a string as some providers send it.
    let expires_in = match m.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(Token::new(
        token,
        expires_in.map(Duration::from_secs),
        Instant::now(),
    ))
}

/// The step error for a token endpoint that refused: its OAuth error code and description
/// (RFC 6749 §5.2) when it gave them, else the start of its answer; redacted.
fn refusal(
    r: &Received,
    body: Option<&Value>,
    url: &str,
    tries: &str,
    redactor: &Redactor,
) -> StepError {
    let kind = match r.status {
        500..=599 | 429 => ErrorKind::Transient,
        _ => ErrorKind::Rejected,
    };
    let field = |k: &str| {
        body.and_then(|b| b.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let code = field("error");
    let said = match (code, field("error_description")) {
        (Some(c), Some(d)) => format!(": `{c}`: {}", clean(d, redactor)),
        (Some(c), None) => format!(": `{c}`"),
        (None, _) => {
            let text = body
                .map(|b| api_error::parse(b).message)
                .unwrap_or_default()
                .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
            let text = clean(&text, redactor);
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        }
    };
    let advice = match code {
        Some("invalid_client") => {
            " Check the client id and secret; a server that takes them only in the form body \
             needs `client_auth: body`."
        }
        Some("invalid_scope") => " Check `scope` against the scopes the client may ask for.",
        Some("unauthorized_client" | "unsupported_grant_type") => {
            " The client may not use the client credentials grant: allow it at the provider."
        }
        _ => "",
    };
    let mut e = StepError::new(
        kind,
        format!(
            "the OAuth2 token endpoint {url} refused the token request{tries} with HTTP {}{said}\
             {not_sent}.{advice}",
            status_line(r.status),
            not_sent = NOT_SENT,
        ),
    );
    e.http_status = Some(r.status);
    e.code = code.map(str::to_owned);
    e
}

/// A server's text for a message: redacted before it is cut, on one line.
fn clean(text: &str, redactor: &Redactor) -> String {
    api_error::excerpt(&redactor.redact(text), EXCERPT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn answer(status: u16, body: &str) -> Result<Received, Failure> {
        Ok(Received {
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        })
    }

    const URL: &str = "https://auth.example/oauth/token";

    fn read_answer(status: u16, body: &str) -> Result<Token, StepError> {
        read(
            answer(status, body),
            1,
            URL,
            Duration::from_secs(30),
            &Redactor::new(),
        )
    }

    #[test]
    fn the_request_is_a_client_credentials_grant_with_basic_client_auth() {
        let redactor = Redactor::new();
        let asked = Asked {
            token_url: URL,
            client_id: "orders app",
            client_secret: "s3cr3t:+/value",
            scope: Some("orders:read orders:write"),
            audience: None,
            client_auth: ClientAuth::Basic,
        };
        let req = build(Url::parse(URL).unwrap(), &asked, "flowstep/test", &redactor);
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.body.as_deref(),
            Some("grant_type=client_credentials&scope=orders%3Aread+orders%3Awrite")
        );
        // RFC 6749 §2.3.1: each part form-encoded, then Basic.
        let basic =
            base64::engine::general_purpose::STANDARD.encode("orders+app:s3cr3t%3A%2B%2Fvalue");
        assert_eq!(
            req.headers.get("Authorization"),
            Some(format!("Basic {basic}").as_str())
        );
        assert_eq!(
            req.headers.get("Content-Type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(redactor.redact(&basic), "[redacted]");

        let body = build(
            Url::parse(URL).unwrap(),
            &Asked {
                client_auth: ClientAuth::Body,
                audience: Some("https://api.example"),
                scope: None,
                ..asked
            },
            "flowstep/test",
            &redactor,
        );
        assert_eq!(body.headers.get("Authorization"), None);
        assert_eq!(
            body.body.as_deref(),
            Some(
                "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example\
                 &client_id=orders+app&client_secret=s3cr3t%3A%2B%2Fvalue"
            )
        );
    }

    #[test]
    fn a_token_answer_gives_the_token_and_its_lifetime() {
        let t = read_answer(
            200,
            r#"{"access_token":"tok_abc","token_type":"Bearer","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(t.value.expose(), "tok_abc");
        assert!(t.use_until.is_some());
        let t = read_answer(200, r#"{"access_token":"tok_abc","expires_in":"60"}"#).unwrap();
        assert!(t.use_until.is_some());
        let t = read_answer(200, r#"{"access_token":"tok_abc","token_type":"bearer"}"#).unwrap();
        assert!(t.use_until.is_none());
    }

    #[test]
    fn unusable_answers_and_refusals_say_what_the_endpoint_said() {
        let e = read_answer(200, r#"{"token_type":"Bearer"}"#).unwrap_err();
        assert_eq!(
            e.message,
            "the OAuth2 token endpoint https://auth.example/oauth/token answered 200 OK without \
             an `access_token` (RFC 6749 §5.1); the API request was not sent"
        );
        let e = read_answer(200, r#"{"access_token":"x","token_type":"mac"}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        let e = read_answer(
            401,
            r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "the OAuth2 token endpoint https://auth.example/oauth/token refused the token \
             request with HTTP 401 Unauthorized: `invalid_client`: Client authentication \
             failed; the API request was not sent. Check the client id and secret; a server \
             that takes them only in the form body needs `client_auth: body`."
        );
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.code.as_deref(), Some("invalid_client"));
        assert_eq!(e.http_status, Some(401));
        let e = read_answer(503, "upstream down").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Transient);
        assert!(
            e.message.ends_with(
                "HTTP 503 Service Unavailable: upstream down; the API request was not sent."
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn tokens_are_hidden_before_anything_shows_the_answer() {
        let redactor = Redactor::new();
        hide_tokens(
            br#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.payload.sig","refresh_token":"rt_0123456789abcdef"}"#,
            &redactor,
        );
        let shown = redactor.redact("Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig rt_0123456789abcdef");
        assert!(
            !shown.contains("payload") && !shown.contains("0123456789"),
            "{shown}"
        );
    }
}

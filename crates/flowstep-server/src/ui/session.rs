//! The runs page's session: a login form that takes the API token (compared in constant time)
//! and sets a cookie, `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
//! page sends it) and scoped to `/ui`, whose value is a hash of the token
//! ([`crate::ApiToken::session_value`]), never the token itself. Every page but the login
//! form needs it; every POST also needs an `Origin` (or `Sec-Fetch-Site`) that says it came
//! from a page of this server, so a cross-site form cannot act even in a browser that ignores
//! `SameSite`.

use super::layout::{frame, respond};
use crate::api::AppState;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;

/// The cookie's name.
const COOKIE: &str = "flowstep_session";

/// Whether the request carries the session cookie.
pub(crate) fn signed_in(app: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == COOKIE && app.0.token.matches_session(value.as_bytes()))
}

/// Whether a POST came from a page of this server: its `Origin` names the host it was sent
/// to (the `Host` header; a proxy in front must pass it on), or, without an `Origin`, the
/// browser says `Sec-Fetch-Site: same-origin`. Anything else is refused: a browser's
/// cross-site form sends its own origin, and the API, not these forms, is for other clients.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(host) = text(header::HOST) else {
        return false;
    };
    match text(header::ORIGIN) {
        Some(origin) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host)),
        None => text(axum::http::HeaderName::from_static("sec-fetch-site"))
            .is_some_and(|s| s == "same-origin"),
    }
}

/// A `303` to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// In front of every page but the login form: without the cookie, to the login form; a POST
/// from another origin is `403`.
pub(crate) async fn require_session(
    State(app): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if !signed_in(&app, req.headers()) {
        return see_other("/ui/login");
    }
    if req.method() == Method::POST && !same_origin(req.headers()) {
        return super::layout::problem(
            StatusCode::FORBIDDEN,
            "this action did not come from a page of this server (its Origin header names another site, or none): it was not done",
        );
    }
    next.run(req).await
}

fn login_page(status: StatusCode, problem: Option<&str>) -> Response {
    let body = html! {
        h1 { "Log in" }
        @if let Some(p) = problem { p.problem { (p) } }
        p { "The runs page takes the server's API token (" code { "FLOWSTEP_API_TOKEN" } ")." }
        form method="post" action="/ui/login" {
            label for="token" { "API token " }
            input type="password" id="token" name="token" autocomplete="current-password" required;
            " "
            button type="submit" id="login" { "Log in" }
        }
    };
    respond(status, frame("Log in", false, body))
}

/// `GET /ui/login`.
pub(crate) async fn login_form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if signed_in(&app, &headers) {
        return see_other("/ui");
    }
    login_page(StatusCode::OK, None)
}

/// `POST /ui/login`: `token=...` as a form.
pub(crate) async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !same_origin(&headers) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("this login did not come from this server's login form"),
        );
    }
    let token = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !app.0.token.matches(token.trim().as_bytes()) {
        tracing::warn!("runs page: a login with a wrong token was refused");
        return login_page(
            StatusCode::UNAUTHORIZED,
            Some("that is not this server's API token"),
        );
    }
    let mut response = see_other("/ui");
    let cookie = format!(
        "{COOKIE}={}; Path=/ui; HttpOnly; SameSite=Strict",
        app.0.token.session_value()
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `POST /ui/logout`: the cookie is cleared.
pub(crate) async fn logout() -> Response {
    let mut response = see_other("/ui/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "flowstep_session=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_a_post_from_this_origin_is_same_origin() {
        let here = "127.0.0.1:8080";
        assert!(same_origin(&headers(&[
            ("host", here),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("host", here),
            ("sec-fetch-site", "same-origin")
        ])));
        for refused in [
            headers(&[("host", here), ("origin", "http://evil.example")]),
            headers(&[("host", here), ("origin", "http://127.0.0.1:8081")]),
            headers(&[("host", here), ("origin", "null")]),
            headers(&[("host", here), ("sec-fetch-site", "cross-site")]),
            headers(&[("host", here)]),
            headers(&[("origin", "http://127.0.0.1:8080")]),
        ] {
            assert!(!same_origin(&refused), "{refused:?}");
        }
    }
}

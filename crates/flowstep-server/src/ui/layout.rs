//! The frame every page of `/ui` is drawn in, its style sheet, and the headers every page is
//! answered with (a Content-Security-Policy that allows no script, no framing and forms only
//! to this origin: a second wall behind the escaping).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// No `>` and no quotes, so that maud's escaping leaves it as it is.
const STYLE: &str = "
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #1d232a; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: center; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header form { margin-left: auto; }
main { padding: 16px 24px; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
th { background: #eef0f3; font-weight: 600; }
pre { background: #fff; border: 1px solid #e3e6ea; padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e3e6ea; }
.status-succeeded { background: #d3f2dc; color: #155724; }
.status-failed { background: #f8d7da; color: #721c24; }
.status-waiting { background: #fff3cd; color: #856404; }
.status-running, .status-queued { background: #d6e9f8; color: #0b4f8a; }
.status-cancelled { background: #e2e3e5; color: #383d41; }
.notice { padding: 8px 12px; background: #d6e9f8; border-radius: 4px; margin: 8px 0; }
.problem { padding: 8px 12px; background: #f8d7da; border-radius: 4px; margin: 8px 0; }
.filters { display: flex; gap: 12px; align-items: end; margin: 8px 0 16px; }
.actions { display: flex; gap: 8px; margin: 12px 0; }
button { padding: 5px 12px; cursor: pointer; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; padding: 10px; border: 1px solid #e3e6ea; }
dt { font-weight: 600; }
dd { margin: 0; }
";

/// A whole page: `title`, the navigation (with a logout button when `signed_in`), `body`.
pub(crate) fn frame(title: &str, signed_in: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · flowstep" }
                style { (STYLE) }
            }
            body {
                header {
                    a href="/ui" { "flowstep runs" }
                    @if signed_in {
                        form method="post" action="/ui/logout" {
                            button type="submit" id="logout" { "Log out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A run status as a coloured badge.
pub(crate) fn status_badge(status: &str) -> Markup {
    html! { span class={ "status status-" (status) } { (status) } }
}

/// `markup` answered with `status` and the page headers.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not `no-referrer`: under it a browser sends `Origin: null` with the page's own forms,
        // which the cross-site check must then refuse.
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A page that says what went wrong, with `status`.
pub(crate) fn problem(status: StatusCode, message: &str) -> Response {
    let body = html! {
        h1 { (status.canonical_reason().unwrap_or("Error")) }
        p.problem { (message) }
        p { a href="/ui" { "Back to the runs" } }
    };
    respond(status, frame("Error", true, body))
}

/// `value` as indented JSON, for a `<pre>` (escaped by the caller's template).
pub(crate) fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

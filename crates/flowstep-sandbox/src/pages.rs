//! The sandbox's hosted pages, where a person plays the customer: Stripe's checkout page at a
//! session's `url` (`/c/pay/{id}`) and Razorpay's page at a link's `short_url`
//! (`/rzp/i/{code}`, standing in for `https://rzp.io/i/{code}`). Each says plainly it is the
//! flowstep sandbox, and its "Pay (sandbox)" button completes the payment as if the
//! customer had paid.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use axum::routing::any;

use crate::api::{RawId, answer, lock, now};
use crate::events::Outbox;
use crate::razorpay::RazorpayState;
use crate::razorpay::events::link_paid;
use crate::razorpay::payment_link::{PAGE as LINK_PAGE, PaymentLink};
use crate::stripe::StripeState;
use crate::stripe::checkout::{PAGE as CHECKOUT_PAGE, Session};
use crate::stripe::currency;
use crate::stripe::events::session_event;

/// Every path under a page's prefix is the page's (an unknown id gets its 404 page); the
/// handlers answer each method themselves.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<StripeState>: FromRef<S>,
    Arc<RazorpayState>: FromRef<S>,
    Arc<Outbox>: FromRef<S>,
{
    Router::new()
        .route("/c/pay/", any(checkout))
        .route("/c/pay/{*id}", any(checkout))
        .route("/c/success", any(success))
        .route("/c/cancel", any(cancel))
        .route("/rzp/i/", any(payment_link))
        .route("/rzp/i/{*code}", any(payment_link))
}

/// GET and HEAD show a page, POST pays first (did it change anything?); others get `None`.
fn pay_on_post(method: &Method, pay: impl FnOnce() -> bool) -> Option<bool> {
    match *method {
        Method::POST => Some(pay()),
        Method::GET | Method::HEAD => Some(false),
        _ => None,
    }
}

const NOT_ALLOWED: &str = "<p>Use GET to view or POST to pay.</p>";

/// Escapes text for HTML element content and quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with `status`, headed by `banner` (HTML, already escaped) and `title`.
fn shell(status: u16, banner: &str, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · flowstep sandbox</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}}\
.banner{{background:#fff3cd;border:1px solid #e0c060;padding:.6rem .8rem;border-radius:6px}}\
table{{width:100%;border-collapse:collapse;margin:1rem 0}}td{{padding:.3rem 0;border-bottom:1px solid #eee}}\
td.r{{text-align:right}}.total{{font-weight:bold}}.amount{{font-size:1.6rem;font-weight:bold}}\
button{{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}}</style>\
</head><body>\n<p class=\"banner\">{banner}</p>\n<h1>{title}</h1>\n{body}\n</body></html>\n"
    );
    let mut resp = answer(status, html);
    let html = HeaderValue::from_static("text/html; charset=utf-8");
    resp.headers_mut().insert(CONTENT_TYPE, html);
    resp
}

const CHECKOUT_BANNER: &str = "<strong>flowstep sandbox checkout — no real payment.</strong> \
This page is served by the local Stripe stand-in; nothing is charged.";

fn checkout_page(status: u16, title: &str, body: &str) -> Response {
    shell(status, CHECKOUT_BANNER, title, body)
}

fn session_summary(s: &Session) -> String {
    let cur = s.currency();
    let mut rows = String::new();
    for item in &s.line_items {
        rows.push_str(&format!(
            "<tr><td>{} × {}</td><td class=\"r\">{}</td></tr>",
            escape(&item.name),
            item.quantity,
            escape(&currency::display_amount(item.amount_total, cur))
        ));
    }
    format!(
        "<table>{rows}<tr class=\"total\"><td>Total</td><td class=\"r\" id=\"amount\">{}</td></tr></table>\
<p>Session <code>{}</code> — status: <strong id=\"status\">{}</strong></p>",
        escape(&currency::display_amount(s.amount_total(), cur)),
        escape(s.id()),
        escape(s.status())
    )
}

/// `GET /c/success`: the page `run --sandbox` gives the Stripe preset as `success_url` (the
/// shop's own page in real use), where the "Stripe would now redirect" link leads.
async fn success(uri: axum::http::Uri) -> Response {
    let session = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("session_id="))
        .map(|id| format!(" for <code>{}</code>", escape(id)))
        .unwrap_or_default();
    checkout_page(
        200,
        "Back at the shop: payment complete",
        &format!(
            "<p>The sandbox's stand-in for your own success page: Checkout sends the customer here after paying{session}. Give the preset your page with <code>--var success_url=https://...</code>.</p>"
        ),
    )
}

/// `GET /c/cancel`: the page `run --sandbox` gives the Stripe preset as `cancel_url`.
async fn cancel() -> Response {
    checkout_page(
        200,
        "Back at the shop: not paid",
        "<p>The sandbox's stand-in for your own cancel page: Checkout's back link leads here when the customer leaves without paying. Give the preset your page with <code>--var cancel_url=https://...</code>.</p>",
    )
}

/// `GET /c/pay/{id}` shows the session; `POST /c/pay/{id}` pays it and sends
/// `checkout.session.completed`.
async fn checkout(
    State(stripe): State<Arc<StripeState>>,
    State(outbox): State<Arc<Outbox>>,
    method: Method,
    RawId(id): RawId,
) -> Response {
    let now = now();
    let mut sessions = lock(&stripe.sessions);
    let Some(session) = sessions.get_mut(&id) else {
        return checkout_page(
            404,
            "Checkout session not found",
            &format!(
                "<p>There is no checkout session <code>{}</code> in this sandbox. \
Sessions live only as long as the sandbox process that created them.</p>",
                escape(&id)
            ),
        );
    };
    session.refresh(now);
    let Some(paid_now) = pay_on_post(&method, || session.pay(now)) else {
        return checkout_page(405, "Method not allowed", NOT_ALLOWED);
    };
    if paid_now {
        outbox.emit(session_event("completed", session, now, None));
    }
    match session.status() {
        "open" => {
            let form = format!(
                "<form method=\"post\" action=\"{CHECKOUT_PAGE}{}\"><button type=\"submit\">Pay (sandbox)</button></form>",
                escape(session.id())
            );
            checkout_page(
                200,
                "Checkout",
                &format!("{}{form}", session_summary(session)),
            )
        }
        "complete" => {
            let head = if paid_now {
                "<p><strong>Payment complete.</strong> The session is now <code>complete</code> and \
<code>paid</code>, as after a real payment.</p>"
            } else {
                "<p>This session has already been paid.</p>"
            };
            // Stripe fills the session id into `{CHECKOUT_SESSION_ID}` when it redirects.
            let link = session
                .success_url()
                .map(|u| u.replace("{CHECKOUT_SESSION_ID}", session.id()))
                .map(|u| {
                    format!(
                        "<p>Stripe would now redirect to <a href=\"{0}\">{0}</a>.</p>",
                        escape(&u)
                    )
                })
                .unwrap_or_default();
            checkout_page(
                200,
                "Payment complete",
                &format!("{head}{}{link}", session_summary(session)),
            )
        }
        _ => checkout_page(
            410,
            "Checkout session expired",
            &format!(
                "<p>This checkout session has expired and can no longer be paid.</p>{}",
                session_summary(session)
            ),
        ),
    }
}

const LINK_BANNER: &str = "<strong>flowstep sandbox — Razorpay payment link, no real payment.</strong> \
This page is served by the local Razorpay stand-in; nothing is charged.";

fn link_page(status: u16, title: &str, body: &str) -> Response {
    shell(status, LINK_BANNER, title, body)
}

fn link_summary(link: &PaymentLink) -> String {
    let description = if link.description().is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", escape(link.description()))
    };
    format!(
        "{description}<p class=\"amount\" id=\"amount\">{}</p>\
<p>Payment link <code>{}</code> — status: <strong id=\"status\">{}</strong></p>",
        escape(&currency::display_amount(
            link.amount() as i128,
            &link.currency().to_ascii_lowercase()
        )),
        escape(link.id()),
        escape(link.status())
    )
}

/// `GET /rzp/i/{code}` shows the link; `POST /rzp/i/{code}` pays it and sends
/// `payment_link.paid`.
async fn payment_link(
    State(razorpay): State<Arc<RazorpayState>>,
    State(outbox): State<Arc<Outbox>>,
    method: Method,
    RawId(code): RawId,
) -> Response {
    let now = now();
    let mut store = lock(&razorpay.links);
    let Some(link) = store.by_code_mut(&code) else {
        return link_page(
            404,
            "Payment link not found",
            &format!(
                "<p>There is no payment link <code>{}</code> in this sandbox. \
Links live only as long as the sandbox process that created them.</p>",
                escape(&code)
            ),
        );
    };
    link.refresh(now);
    let Some(paid_now) = pay_on_post(&method, || link.pay(now)) else {
        return link_page(405, "Method not allowed", NOT_ALLOWED);
    };
    if paid_now {
        outbox.emit(link_paid(link, now));
    }
    match link.status() {
        "created" => {
            let form = format!(
                "<form method=\"post\" action=\"{LINK_PAGE}{}\"><button type=\"submit\">Pay (sandbox)</button></form>",
                escape(&link.short_code)
            );
            link_page(
                200,
                "Payment request",
                &format!("{}{form}", link_summary(link)),
            )
        }
        "paid" => {
            let head = if paid_now {
                "<p><strong>Payment successful.</strong> The link is now <code>paid</code>, \
as after a real payment.</p>"
            } else {
                "<p>This payment link has already been paid.</p>"
            };
            // Razorpay's redirect: callback_url with the razorpay_* parameters and their
            // signature (facts file; flowstep_webhook_signature::razorpay_callback).
            let callback = link
                .callback_url()
                .map(|u| {
                    let target = link.callback_redirect(u, &link.key_secret);
                    format!(
                        "<p>Razorpay redirects to <a id=\"callback\" href=\"{0}\">{1}</a> with the \
razorpay_* query parameters and razorpay_signature.</p>",
                        escape(&target),
                        escape(u)
                    )
                })
                .unwrap_or_default();
            link_page(
                200,
                "Payment successful",
                &format!("{head}{}{callback}", link_summary(link)),
            )
        }
        other => {
            let title = if other == "cancelled" {
                "Payment link cancelled"
            } else {
                "Payment link expired"
            };
            link_page(
                410,
                title,
                &format!(
                    "<p>This payment link is {} and can no longer be paid.</p>{}",
                    escape(other),
                    link_summary(link)
                ),
            )
        }
    }
}

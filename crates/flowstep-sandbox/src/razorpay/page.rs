//! The hosted page at a payment link's `short_url` (`/rzp/i/{code}`, standing in for
//! `https://rzp.io/i/{code}`): a small HTML page that says plainly it is the flowstep
//! sandbox, and a "Pay (sandbox)" button that marks the link `paid` as if the customer had
//! paid it in full.

use std::sync::Arc;

use bytes::Bytes;
use hyper::Method;

use crate::checkout_page::escape;
use crate::state::{State, lock};
use crate::stripe::{ApiResponse, currency, now};

use super::payment_link::PaymentLink;

/// Where short urls point: `<base>/rzp/i/<code>`.
pub(crate) const PREFIX: &str = "/rzp/i/";

fn page(status: u16, title: &str, body: &str) -> ApiResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · flowstep sandbox</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}}\
.banner{{background:#fff3cd;border:1px solid #e0c060;padding:.6rem .8rem;border-radius:6px}}\
.amount{{font-size:1.6rem;font-weight:bold}}button{{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}}</style>\
</head><body>\n<p class=\"banner\"><strong>flowstep sandbox — Razorpay payment link, no real payment.</strong> \
This page is served by the local Razorpay stand-in; nothing is charged.</p>\n<h1>{title}</h1>\n{body}\n</body></html>\n"
    );
    ApiResponse {
        status,
        body: Bytes::from(html),
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
    }
}

fn summary(link: &PaymentLink) -> String {
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

/// `GET /rzp/i/{code}` shows the link; `POST /rzp/i/{code}` pays it.
pub(crate) fn handle(state: &Arc<State>, method: &Method, path: &str) -> ApiResponse {
    let code = path.strip_prefix(PREFIX).unwrap_or("");
    let now = now();
    let mut store = lock(&state.payment_links);
    let Some(link) = store.by_code_mut(code) else {
        return page(
            404,
            "Payment link not found",
            &format!(
                "<p>There is no payment link <code>{}</code> in this sandbox. \
Links live only as long as the sandbox process that created them.</p>",
                escape(code)
            ),
        );
    };
    link.refresh(now);
    let paid_now = match *method {
        Method::POST => link.pay(now),
        Method::GET | Method::HEAD => false,
        _ => {
            return page(
                405,
                "Method not allowed",
                "<p>Use GET to view or POST to pay.</p>",
            );
        }
    };
    match link.status() {
        "created" => {
            let form = format!(
                "<form method=\"post\" action=\"{PREFIX}{}\"><button type=\"submit\">Pay (sandbox)</button></form>",
                escape(&link.short_code)
            );
            page(200, "Payment request", &format!("{}{form}", summary(link)))
        }
        "paid" => {
            let head = if paid_now {
                "<p><strong>Payment successful.</strong> The link is now <code>paid</code>, \
as after a real payment.</p>"
            } else {
                "<p>This payment link has already been paid.</p>"
            };
            let callback = link
                .callback_url()
                .map(|u| {
                    format!(
                        "<p>Razorpay would now redirect to <a href=\"{0}\">{0}</a> with the \
razorpay_payment_link_* query parameters.</p>",
                        escape(u)
                    )
                })
                .unwrap_or_default();
            page(
                200,
                "Payment successful",
                &format!("{head}{}{callback}", summary(link)),
            )
        }
        other => {
            let title = if other == "cancelled" {
                "Payment link cancelled"
            } else {
                "Payment link expired"
            };
            page(
                410,
                title,
                &format!(
                    "<p>This payment link is {} and can no longer be paid.</p>{}",
                    escape(other),
                    summary(link)
                ),
            )
        }
    }
}

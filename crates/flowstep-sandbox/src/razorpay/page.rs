//! The hosted page at a payment link's `short_url` (`/rzp/i/{code}`, standing in for
//! `https://rzp.io/i/{code}`): a small HTML page that says plainly it is the flowstep
//! sandbox, and a "Pay (sandbox)" button that marks the link `paid` as if the customer had
//! paid it in full.

use std::sync::Arc;

use hyper::Method;

use crate::html_page::{self, escape};
use crate::state::{State, lock};
use crate::stripe::{ApiResponse, currency, now};

use super::payment_link::PaymentLink;

/// Where short urls point: `<base>/rzp/i/<code>`.
pub(crate) const PREFIX: &str = "/rzp/i/";

const BANNER: &str = "<strong>flowstep sandbox — Razorpay payment link, no real payment.</strong> \
This page is served by the local Razorpay stand-in; nothing is charged.";

fn page(status: u16, title: &str, body: &str) -> ApiResponse {
    html_page::page(status, BANNER, title, body)
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

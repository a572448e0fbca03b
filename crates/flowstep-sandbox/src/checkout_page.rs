//! The hosted checkout page at a session's `url` (`/c/pay/{id}`): a small HTML page that
//! says plainly it is the flowstep sandbox, and a "Pay (sandbox)" button that completes
//! the session as if the customer had paid.

use std::sync::Arc;

use hyper::Method;

use crate::html_page::{self, escape};
use crate::state::{State, lock};
use crate::stripe::checkout::Session;
use crate::stripe::{ApiResponse, currency, now};

pub(crate) const PREFIX: &str = "/c/pay/";

const BANNER: &str = "<strong>flowstep sandbox checkout — no real payment.</strong> \
This page is served by the local Stripe stand-in; nothing is charged.";

fn page(status: u16, title: &str, body: &str) -> ApiResponse {
    html_page::page(status, BANNER, title, body)
}

fn summary(s: &Session) -> String {
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

/// `GET /c/pay/{id}` shows the session; `POST /c/pay/{id}` pays it.
pub(crate) fn handle(state: &Arc<State>, method: &Method, path: &str) -> ApiResponse {
    let id = path.strip_prefix(PREFIX).unwrap_or("");
    let now = now();
    let mut sessions = lock(&state.sessions);
    let Some(session) = sessions.get_mut(id) else {
        return page(
            404,
            "Checkout session not found",
            &format!(
                "<p>There is no checkout session <code>{}</code> in this sandbox. \
Sessions live only as long as the sandbox process that created them.</p>",
                escape(id)
            ),
        );
    };
    session.refresh(now);
    let paid_now = match *method {
        Method::POST => session.pay(now),
        Method::GET | Method::HEAD => false,
        _ => {
            return page(
                405,
                "Method not allowed",
                "<p>Use GET to view or POST to pay.</p>",
            );
        }
    };
    match session.status() {
        "open" => {
            let form = format!(
                "<form method=\"post\" action=\"{PREFIX}{}\"><button type=\"submit\">Pay (sandbox)</button></form>",
                escape(session.id())
            );
            page(200, "Checkout", &format!("{}{form}", summary(session)))
        }
        "complete" => {
            let head = if paid_now {
                "<p><strong>Payment complete.</strong> The session is now <code>complete</code> and \
<code>paid</code>, as after a real payment.</p>"
            } else {
                "<p>This session has already been paid.</p>"
            };
            let link = session
                .success_url()
                .map(|u| {
                    format!(
                        "<p>Stripe would now redirect to <a href=\"{0}\">{0}</a>.</p>",
                        escape(u)
                    )
                })
                .unwrap_or_default();
            page(
                200,
                "Payment complete",
                &format!("{head}{}{link}", summary(session)),
            )
        }
        _ => page(
            410,
            "Checkout session expired",
            &format!(
                "<p>This checkout session has expired and can no longer be paid.</p>{}",
                summary(session)
            ),
        ),
    }
}
